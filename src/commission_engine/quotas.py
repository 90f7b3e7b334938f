"""Measure quotas: each payee's measure in a period, its target and the attainment.

A quota counts or totals the records credited to a payee whose governing
date falls in a period (a calendar month in the payee's zone). The target of
that payee and period comes from a ``target`` record of the quota's metric or
from a constant in the plan. Attainment is the measure divided by the target.
When a quota takes its targets from records and a payee has no target record
for a period, that period has no attainment (``None``): nothing is guessed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import periods
from .compile import CompiledQuota
from .context import Context
from .records import Contract, RecordSet

__all__ = ["Attainment", "QuotaBook", "measure_quotas"]


@dataclass(frozen=True, slots=True)
class Attainment:
    """One quota's measure, target and attainment for one payee and period.

    ``unit`` is ``money`` for a total and ``count`` for a count. ``attainment``
    is ``measure / target`` as a fraction (1 is 100%), or None when the period
    has no target. ``sources`` lists the ids of the records measured.
    """

    quota: str
    payee: str
    period: str
    unit: str
    measure: Decimal
    target: Decimal | None
    attainment: Decimal | None
    sources: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        """Return the attainment as JSON data, every number an exact decimal string."""
        return {
            "quota": self.quota, "payee": self.payee, "period": self.period,
            "unit": self.unit, "measure": format(self.measure, "f"),
            "target": None if self.target is None else format(self.target, "f"),
            "attainment": None if self.attainment is None else format(self.attainment, "f"),
            "sources": list(self.sources),
        }


class QuotaBook:
    """The attainments of one evaluation, looked up by quota, payee and period."""

    def __init__(self, attainments: Iterable[Attainment],
                 constants: dict[str, tuple[str, Decimal]] | None = None):
        self._by_key = {(item.quota, item.payee, item.period): item for item in attainments}
        # (unit, target) of each quota with a constant target.
        self._constants = constants or {}

    def get(self, quota: str, payee: str, period: str) -> Attainment | None:
        """Return the attainment, or None when the period has no target.

        A period with nothing measured still has attainment 0 under a
        constant target.
        """
        found = self._by_key.get((quota, payee, period))
        if found is None and quota in self._constants:
            unit, target = self._constants[quota]
            return Attainment(quota, payee, period, unit, Decimal(0), target, Decimal(0), ())
        return found

    def __iter__(self) -> Iterator[Attainment]:
        return iter(sorted(self._by_key.values(),
                           key=lambda item: (item.quota, item.payee, item.period)))


CommissionOf = Callable[[str, Contract], Decimal | None]


def measure_quotas(quotas: Iterable[CompiledQuota], records: RecordSet, as_of: datetime,
                   commission_of: CommissionOf | None = None) -> QuotaBook:
    """Measure every quota over records already cut to those visible at ``as_of``.

    The caller runs this inside ``money.EVALUATION_CONTEXT``, which makes the
    division exact to 60 significant digits.
    """
    found: list[Attainment] = []
    constants: dict[str, tuple[str, Decimal]] = {}
    for quota in quotas:
        found.extend(_attainments_of(quota, records, as_of, commission_of))
        if quota.target_value is not None:
            constants[quota.name] = (quota.unit, quota.target_value)
    return QuotaBook(found, constants)


def _attainments_of(quota: CompiledQuota, records: RecordSet, as_of: datetime,
                    commission_of: CommissionOf | None) -> list[Attainment]:
    measured, sources = _measure(quota, records, as_of, commission_of)
    targets = _targets(quota, records)
    keys = set(measured) | set(targets)
    out = []
    for payee_id, period in sorted(keys):
        measure = measured.get((payee_id, period), Decimal(0))
        target = targets.get((payee_id, period), quota.target_value)
        attainment = None if target is None else _ratio(measure, target)
        out.append(Attainment(quota.name, payee_id, period, quota.unit, measure, target,
                              attainment, tuple(sorted(sources.get((payee_id, period), ())))))
    return out


def _ratio(measure: Decimal, target: Decimal) -> Decimal:
    # 0 / 4000.00 is Decimal('0E+2'): write a zero attainment as plain 0.
    ratio = measure / target
    return ratio if ratio != 0 else Decimal(0)


def _subjects(quota: CompiledQuota, records: RecordSet) -> Iterator[tuple[Contract, Any]]:
    """Yield (contract, subject record) for every record the quota may measure, by id."""
    for contract_id in sorted(records.contracts):
        contract = records.contracts[contract_id]
        if quota.subject == "payment":
            for payment in records.payments_of.get(contract_id, ()):
                yield contract, payment
        else:
            yield contract, contract


def _measure(quota: CompiledQuota, records: RecordSet, as_of: datetime,
             commission_of: CommissionOf | None
             ) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], list[str]]]:
    """Total (or count) the quota's records by credited payee and period."""
    measured: dict[tuple[str, str], Decimal] = {}
    sources: dict[tuple[str, str], list[str]] = {}
    for contract, subject in _subjects(quota, records):
        ctx = Context(records, contract, "UTC", as_of, commission_of)
        ctx.subject = subject
        payee = quota.credited(ctx)
        if payee is None:
            continue
        ctx.zone = payee.timezone
        if quota.condition is not None and quota.condition(ctx) is not True:
            continue
        moment = quota.governing(ctx)
        value = Decimal(1) if quota.base is None else quota.base(ctx)
        if moment is None or value is None:
            continue
        key = (payee.id, periods.period_of(moment, payee.timezone))
        measured[key] = measured.get(key, Decimal(0)) + value
        sources.setdefault(key, []).append(subject.id)
    return measured, sources


def _targets(quota: CompiledQuota, records: RecordSet) -> dict[tuple[str, str], Decimal]:
    """Return the target records of the quota's metric, by rep and period.

    Record validation rejects a target value of 0 or below. Before quotas are
    measured, evaluation also rejects a value that a target in the plan could
    not have: too many decimals for money, or not whole for a count. So the
    division by a target is always defined and meaningful.
    """
    if quota.metric is None:
        return {}
    targets = {}
    for target in records.targets:
        if target.metric == quota.metric:
            targets[(target.rep, target.period)] = target.value
    return targets

"""Convert contracts in other currencies into the plan's, at the plan's dated exchange rates.

A contract in another currency is converted at the rate in force on its
signing date, a local date in the zone of the contract's rep. Its payments
and refunds use the same rate, so a refund reverses exactly what its payment
added. Converted amounts stay exact: each line rounds once, as always.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from . import periods
from .errors import Problem
from .records import Contract, RecordSet

__all__ = ["Conversion", "convert", "convert_contract", "convert_event", "find_conversions"]

Rates = Mapping[str, tuple[tuple[date, Decimal], ...]]


@dataclass(frozen=True, slots=True)
class Conversion:
    """The rate a contract was converted at: one ``currency`` is ``rate`` of the plan's."""

    contract: str
    currency: str
    rate: Decimal
    start: date


def find_conversions(records: RecordSet, rates: Rates, plan_currency: str
                     ) -> tuple[dict[str, Conversion], list[Problem]]:
    """Return the conversion of every contract in another currency, or the problems."""
    found: dict[str, Conversion] = {}
    problems = []
    for contract_id in sorted(records.contracts):
        contract = records.contracts[contract_id]
        if contract.currency == plan_currency:
            continue
        position = records.positions.get(("contract", contract_id), f"contract {contract_id}")
        pairs = rates.get(contract.currency, ())
        if not pairs:
            problems.append(Problem(
                position, f"contract {contract_id}", "currency",
                f"currency {contract.currency} differs from the plan's currency {plan_currency}",
                f"evaluate it under a plan in {contract.currency}, or declare the rate in the"
                f" plan, as in 'exchange rate {contract.currency} 7.25 from 2025-01-01'",
            ))
            continue
        day = _signing_day(contract, records)
        in_force = [pair for pair in pairs if pair[0] <= day]
        if not in_force:
            problems.append(Problem(
                position, f"contract {contract_id}", "currency",
                f"no exchange rate of {contract.currency} is in force on {day}, its signing"
                f" date (the first is from {pairs[0][0]})",
                f"declare a rate of {contract.currency} from {day} or earlier",
            ))
            continue
        start, rate = in_force[-1]
        found[contract_id] = Conversion(contract_id, contract.currency, rate, start)
    return found, problems


_Copied = TypeVar("_Copied")


def _signing_day(contract: Contract, records: RecordSet) -> date:
    rep = records.reps.get(contract.rep)
    zone = rep.timezone if rep is not None else "UTC"
    return periods.local_date(contract.signed_at, zone)


def convert_contract(contract: Contract, conversion: Conversion, plan_currency: str
                     ) -> Contract:
    """Return a copy of one contract with its amount in the plan's currency."""
    return _copy_of(contract, amount=contract.amount * conversion.rate,
                    currency=plan_currency)


def convert_event(record: Any, conversion: Conversion) -> Any:
    """Return a copy of a payment or refund of a converted contract, at the contract's rate."""
    return _copy_of(record, amount=record.amount * conversion.rate)


def _copy_of(record: _Copied, **changes: Any) -> _Copied:
    """Copy a record with some fields changed, without validating it again.

    The converted amount may have more decimals than the currency's minor
    unit; the lines round it, as they round any product of a rate.
    """
    copied = copy.copy(record)
    for name, value in changes.items():
        # The record is frozen; the copy is new and not yet shared.
        object.__setattr__(copied, name, value)
    return copied


def convert(records: RecordSet, conversions: Mapping[str, Conversion],
            plan_currency: str) -> RecordSet:
    """Return the records with each converted contract, payment and refund in the plan's currency.

    The copies skip validation on purpose: their amounts are exact products
    that may have more decimals than the plan's currency, and are rounded
    only when a line is made.
    """
    if not conversions:
        return records

    # Conversions cover every contract, and these records may be those seen
    # at an as-of time, which leave out a contract signed later.
    conversions = {contract_id: conversion for contract_id, conversion in conversions.items()
                   if contract_id in records.contracts}
    contracts = dict(records.contracts)
    for contract_id, conversion in conversions.items():
        contracts[contract_id] = convert_contract(contracts[contract_id], conversion,
                                                  plan_currency)
    payments_of = dict(records.payments_of)
    refunds_of = dict(records.refunds_of)
    payments = dict(records.payments)
    refunds = dict(records.refunds)
    for contract_id, conversion in conversions.items():
        if contract_id in payments_of:
            payments_of[contract_id] = tuple(convert_event(p, conversion)
                                             for p in payments_of[contract_id])
            payments.update((p.id, p) for p in payments_of[contract_id])
        if contract_id in refunds_of:
            refunds_of[contract_id] = tuple(convert_event(r, conversion)
                                            for r in refunds_of[contract_id])
            refunds.update((r.id, r) for r in refunds_of[contract_id])
    contracts_of_customer = {
        customer: tuple(contracts[c.id] for c in items)
        for customer, items in records.contracts_of_customer.items()
    }
    return dataclasses.replace(records, contracts=contracts, payments=payments, refunds=refunds,
                               payments_of=payments_of, refunds_of=refunds_of,
                               contracts_of_customer=contracts_of_customer)

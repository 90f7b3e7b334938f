"""Compile a checked plan into plain Python closures: the runnable ``Plan``.

Closures are built only from the checked syntax tree, never from raw text, so
a plan cannot reach anything but the record fields the schema names.
"""

from __future__ import annotations

import dataclasses
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from . import periods, schema
from . import tree as t
from .check import CheckedPlan, Resolution
from .context import Context, Fn
from .limits import Limits
from .syntax import plan_lines

if TYPE_CHECKING:
    from .closing import ClosedPeriods
    from .quotas import Attainment
    from .records import RecordSet
    from .results import Result

__all__ = [
    "CompiledCohort",
    "CompiledCommission",
    "CompiledDraw",
    "CompiledInvariant",
    "CompiledOneTime",
    "CompiledOverride",
    "CompiledPlan",
    "CompiledQuota",
    "CompiledRow",
    "compile_plan",
]

_HUNDRED = Decimal(100)

_TABLE_OF: dict[str, str] = {
    "rep": "reps",
    "customer": "customers",
    "contract": "contracts",
    "payment": "payments",
    "refund": "refunds",
}


@dataclass(frozen=True, slots=True)
class CompiledRow:
    rate: Decimal
    percent_text: str
    condition: Fn | None
    label: str | None
    start: date | None
    end: date | None


@dataclass(frozen=True, slots=True)
class CompiledLimits:
    """A rule's caps and floors, by scope; None where the plan sets none."""

    cap_line: Decimal | None = None
    floor_line: Decimal | None = None
    cap_contract: Decimal | None = None
    floor_contract: Decimal | None = None
    cap_period: Decimal | None = None
    floor_period: Decimal | None = None

    @property
    def has_period_limit(self) -> bool:
        return self.cap_period is not None or self.floor_period is not None

    @property
    def has_amount_limit(self) -> bool:
        """Tell whether a cap or floor applies per line or per contract."""
        return (self.cap_line is not None or self.floor_line is not None
                or self.cap_contract is not None or self.floor_contract is not None)

    def clamp(self, amount: Decimal, scope: str) -> Decimal:
        """Return ``amount`` raised to the scope's floor and lowered to its cap."""
        floor = getattr(self, f"floor_{scope}")
        cap = getattr(self, f"cap_{scope}")
        if floor is not None and amount < floor:
            amount = floor
        if cap is not None and amount > cap:
            amount = cap
        return amount


NO_LIMITS = CompiledLimits()


@dataclass(frozen=True, slots=True)
class CompiledCommission:
    name: str
    index: int
    payee: Fn
    governing: Fn
    # The rule's effective range, cut to the dates of its plan version.
    start: date | None
    end: date | None
    base: Fn
    base_label: str
    subject: str
    rows: tuple[CompiledRow, ...]
    installments: Fn | None
    refund_action: str
    clawback: str
    clawback_days: int | None
    # Split credit: (payee, share as a fraction, the payee's text); empty when
    # the whole commission goes to ``payee``.
    split: tuple[tuple[Fn, Decimal, str], ...] = ()
    tiers: CompiledTiers | None = None
    accelerator: CompiledAccelerator | None = None
    limits: CompiledLimits = NO_LIMITS
    # The plan version the rule belongs to, when the plan has several.
    version_name: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledTier:
    rate: Decimal
    percent_text: str
    bound: Decimal | None
    inclusive: bool


@dataclass(frozen=True, slots=True)
class CompiledTiers:
    """Tiers over a period total; ``commission_on`` prices a total exactly."""

    mode: str
    tiers: tuple[CompiledTier, ...]
    by_count: bool = False

    def tier_of(self, total: Decimal) -> CompiledTier:
        """Return the tier a total falls in; edges follow each tier's inclusiveness."""
        for tier in self.tiers:
            if tier.bound is None or total < tier.bound or (tier.inclusive and total == tier.bound):
                return tier
        return self.tiers[-1]

    def commission_on(self, total: Decimal) -> Decimal:
        """Price a total: the reached rate on all of it (flat) or band by band (marginal)."""
        if self.mode == "flat" or total <= 0:
            tier = self.tier_of(total) if self.mode == "flat" else self.tiers[0]
            return tier.rate * total
        commission = Decimal(0)
        lower = Decimal(0)
        for tier in self.tiers:
            upper = total if tier.bound is None else min(total, tier.bound)
            if upper > lower:
                commission += tier.rate * (upper - lower)
            if tier.bound is None or total <= tier.bound:
                break
            lower = tier.bound
        return commission


@dataclass(frozen=True, slots=True)
class CompiledBand:
    """An attainment band; ``bound`` is a fraction (1 for 100%), None for the last band."""

    multiplier: Decimal
    bound: Decimal | None
    inclusive: bool
    label: str


@dataclass(frozen=True, slots=True)
class CompiledAccelerator:
    quota: str
    bands: tuple[CompiledBand, ...]

    def band_of(self, attainment: Decimal) -> CompiledBand:
        """Return the band an attainment falls in; edges follow each band's inclusiveness."""
        for band in self.bands:
            if (band.bound is None or attainment < band.bound
                    or (band.inclusive and attainment == band.bound)):
                return band
        return self.bands[-1]


@dataclass(frozen=True, slots=True)
class CompiledOneTime:
    kind: str
    name: str
    index: int
    payee: Fn
    governing: Fn
    start: date | None
    end: date | None
    condition: Fn | None
    condition_label: str | None
    amount: Fn
    amount_label: str
    describe_amount: Fn
    version_name: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledCohort:
    name: str
    index: int
    payee: Fn
    governing: Fn
    start: date | None
    end: date | None
    members: Fn | None
    retained: Fn
    retained_label: str
    condition: Fn | None
    condition_label: str | None
    amount: Fn
    amount_label: str
    describe_amount: Fn
    payout_offset_months: int
    windows: tuple[tuple[int, str], ...]
    version_name: str | None = None


@dataclass(frozen=True, slots=True)
class CompiledOverride:
    name: str
    index: int
    of: str
    rates: tuple[tuple[Decimal, str], ...]


@dataclass(frozen=True, slots=True)
class CompiledDraw:
    """A draw against rule ``of``: ``amount`` per period from ``start`` through ``end``.

    ``condition`` reads a rep's fields from the context's metrics.
    """

    name: str
    index: int
    of: str
    amount: Decimal
    recoverable: bool
    recover_limit: Decimal | None
    condition: Fn | None
    start: str
    end: str | None


CompiledRule = (CompiledCommission | CompiledOneTime | CompiledCohort | CompiledOverride
                | CompiledDraw)


@dataclass(frozen=True, slots=True)
class CompiledQuota:
    """A quota ready to measure: ``base`` is None for a count.

    The target is ``target`` records of ``metric``, or the constant ``target_value``.
    """

    name: str
    subject: str
    credited: Fn
    governing: Fn
    condition: Fn | None
    unit: str
    base: Fn | None
    metric: str | None
    target_value: Decimal | None


@dataclass(frozen=True, slots=True)
class CompiledInvariant:
    name: str
    scope: str
    condition: Fn
    label: str
    line: int


@dataclass(frozen=True)
class CompiledPlan:
    """The runnable form of a plan; ``evaluate`` in ``evaluate`` runs it."""

    name: str
    version: str
    currency: str
    rounding: str
    source: str
    rules: tuple[CompiledRule, ...]
    checked: CheckedPlan
    invariants: tuple[CompiledInvariant, ...] = ()
    quotas: tuple[CompiledQuota, ...] = ()
    alerts: tuple[CompiledAlert, ...] = ()
    # For each other currency, its (start date, rate) pairs from the oldest.
    exchange_rates: dict[str, tuple[tuple[date, Decimal], ...]] = field(default_factory=dict)

    @property
    def limits(self) -> Limits:
        """The bounds the plan was loaded with; evaluation applies the same ones."""
        return self.checked.limits

    def evaluate(self, records: RecordSet, as_of: datetime, rounding: str | None = None,
                 closed: ClosedPeriods | None = None) -> Result:
        """Evaluate the plan over validated records as seen at ``as_of``.

        ``closed`` keeps the lines of periods already paid; see ``closing``.
        """
        from .evaluate import evaluate

        return evaluate(self, records, as_of, rounding, closed)

    def attainments(self, records: RecordSet, as_of: datetime) -> tuple[Attainment, ...]:
        """Measure every quota of the plan per payee and period; see ``quotas``."""
        from .evaluate import attainments

        return attainments(self, records, as_of)


@dataclass(frozen=True, slots=True)
class CompiledAlert:
    """An alert on a quota; ``fraction`` is the percentage as a fraction (20% is 0.2)."""

    name: str
    kind: str
    quota: str
    fraction: Decimal
    percent_text: str


def compile_plan(checked: CheckedPlan) -> CompiledPlan:
    """Build closures for every rule of a checked plan."""
    compiler = _Compiler(checked)
    rules = tuple(compiler.versioned(compiler.rule(rule, index), rule)
                  for index, rule in enumerate(checked.tree.rules))
    tree = checked.tree
    invariants = tuple(
        CompiledInvariant(item.name, item.scope, compiler.expr(item.condition),
                          compiler.label(item.condition), item.pos.line)
        for item in tree.invariants
    )
    quotas = tuple(compiler.quota(quota) for quota in tree.quotas)
    alerts = tuple(CompiledAlert(alert.name, alert.kind, alert.quota, alert.percent.value / 100,
                                 f"{_plain(alert.percent.value)}%")
                   for alert in tree.alerts)
    rates: dict[str, list[tuple[date, Decimal]]] = {}
    for rate in tree.exchange_rates:
        rates.setdefault(rate.currency, []).append((rate.start, rate.rate))
    exchange_rates = {code: tuple(sorted(pairs)) for code, pairs in sorted(rates.items())}
    return CompiledPlan(tree.name, tree.version, checked.currency, checked.rounding,
                        checked.source, rules, checked, invariants, quotas, alerts,
                        exchange_rates)


def _signed_at(ctx: Context) -> Any:
    assert ctx.contract is not None
    return ctx.contract.signed_at


def _paid_at(ctx: Context) -> Any:
    return ctx.subject.paid_at


def _contract_rep(ctx: Context) -> Any:
    assert ctx.contract is not None
    return ctx.records.reps.get(ctx.contract.rep)


class _Compiler:
    def __init__(self, checked: CheckedPlan):
        self.checked = checked
        self.lines = plan_lines(checked.source)
        # One closure per distinct resolution: a path's closure reads only
        # its resolution, and plans repeat a few paths many times.
        self.paths: dict[Resolution, Fn] = {}

    def label(self, node: Any) -> str:
        pos: t.Pos = node.pos
        line = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
        if pos.end_line == pos.line:
            return line[pos.column - 1 : pos.end_column - 1].strip()
        return line[pos.column - 1 :].strip()

    # ---- rules

    def rule(self, rule: t.Rule, index: int) -> CompiledRule:
        if isinstance(rule, t.DrawRule):
            assert rule.amount is not None and rule.start is not None
            return CompiledDraw(rule.name, index, rule.of, rule.amount, rule.recoverable,
                                rule.recover_limit, self.optional(rule.condition), rule.start,
                                rule.end)
        if isinstance(rule, t.OverrideRule):
            return CompiledOverride(rule.name, index, rule.of, tuple(
                (level.rate.value / _HUNDRED, f"{_plain(level.rate.value)}%")
                for level in rule.levels))
        if isinstance(rule, t.CommissionRule) and rule.split:
            # Dates and periods of a split rule follow its first payee's zone.
            payee = self.expr(rule.split[0].payee)
        else:
            assert rule.payee is not None
            payee = self.expr(rule.payee)
        governing = self.expr(rule.dated_by) if rule.dated_by is not None else _signed_at
        start, end = self.in_version(rule)
        if isinstance(rule, t.CommissionRule):
            return self.commission(rule, index, payee, governing, start, end)
        if isinstance(rule, t.OneTimeRule):
            assert rule.amount is not None
            return CompiledOneTime(
                rule.kind, rule.name, index, payee, governing, start, end,
                self.optional(rule.condition),
                self.label(rule.condition) if rule.condition is not None else None,
                self.expr(rule.amount), self.label(rule.amount), self.describe(rule.amount),
            )
        assert rule.retained is not None and rule.amount is not None
        return CompiledCohort(
            rule.name, index, payee, governing, start, end, self.optional(rule.members),
            self.expr(rule.retained), self.label(rule.retained),
            self.optional(rule.condition),
            self.label(rule.condition) if rule.condition is not None else None,
            self.expr(rule.amount), self.label(rule.amount), self.describe(rule.amount),
            rule.payout_offset_months or 0,
            tuple(sorted(set(_windows(rule.retained)))),
        )

    def versioned(self, compiled: CompiledRule, rule: t.Rule) -> CompiledRule:
        """Name the rule's plan version on it, when the plan has more than one."""
        tree = self.checked.tree
        if not tree.versions or not hasattr(compiled, "version_name"):
            return compiled
        name = tree.version if rule.version == 0 else tree.versions[rule.version - 1].name
        return dataclasses.replace(compiled, version_name=name)  # type: ignore[type-var]

    def in_version(self, rule: t.Rule) -> tuple[date | None, date | None]:
        """Return the rule's own effective range cut to the dates of its plan version.

        Version k (0 for the header's) is in force from its start date until
        the day before the next version starts.
        """
        start = rule.effective.start if rule.effective else None
        end = rule.effective.end if rule.effective else None
        versions = self.checked.tree.versions
        if rule.version > 0:
            opens = versions[rule.version - 1].start
            start = opens if start is None else max(start, opens)
        if rule.version < len(versions):
            closes = versions[rule.version].start - timedelta(days=1)
            end = closes if end is None else min(end, closes)
        return start, end

    def quota(self, quota: t.Quota) -> CompiledQuota:
        assert quota.measure is not None and quota.target is not None
        if quota.dated_by is not None:
            governing = self.expr(quota.dated_by)
        else:
            governing = _paid_at if quota.subject == "payment" else _signed_at
        measure = quota.measure
        metric = quota.target.metric
        if quota.target.value is None and metric is None:
            metric = quota.name
        return CompiledQuota(
            quota.name, quota.subject,
            self.expr(quota.credited) if quota.credited is not None else _contract_rep,
            governing, self.optional(quota.condition),
            "money" if measure.kind == "total" else "count",
            self.expr(measure.base) if measure.base is not None else None,
            metric, quota.target.value,
        )

    def commission(self, rule: t.CommissionRule, index: int, payee: Fn, governing: Fn,
                   start: date | None, end: date | None) -> CompiledCommission:
        assert rule.base is not None
        rows = tuple(
            CompiledRow(
                row.rate.value / _HUNDRED,
                f"{_plain(row.rate.value)}%",
                self.optional(row.condition),
                self.label(row.condition) if row.condition is not None else None,
                row.effective.start if row.effective else None,
                row.effective.end if row.effective else None,
            )
            for row in rule.rows
        )
        policy = rule.refund
        if rule.subject == "payment" and rule.dated_by is None:
            governing = _paid_at
        return CompiledCommission(
            rule.name, index, payee, governing, start, end, self.expr(rule.base),
            self.label(rule.base), rule.subject, rows, self.optional(rule.installments),
            policy.action if policy else "stop",
            policy.clawback if policy else "never",
            policy.clawback_days if policy else None,
            tuple((self.expr(share.payee), share.share.value / _HUNDRED,
                   self.label(share.payee)) for share in rule.split),
            _tiers(rule.tiers), _accelerator(rule.accelerator),
            CompiledLimits(**{f"{limit.kind}_{limit.scope}": limit.amount
                              for limit in rule.limits}),
        )

    def optional(self, expr: t.Expr | None) -> Fn | None:
        return None if expr is None else self.expr(expr)

    # ---- explanations

    def describe(self, expr: t.Expr) -> Fn:
        """Build a closure that lists an amount's formula as pieces, with its values filled in.

        ``10% of commission base`` gives ``("10%", " of ", (Decimal("96.00"),
        "commission base"))``: text, and each money value with its label.
        ``explain.formula_text`` writes the pieces only when a step is read.
        """
        if isinstance(expr, t.Binary) and expr.op in ("of", "*", "/", "+", "-"):
            left, right = self.describe(expr.left), self.describe(expr.right)
            word = f" {expr.op if expr.op != '*' else 'x'} "
            return lambda ctx: (*left(ctx), word, *right(ctx))
        if isinstance(expr, t.Percent):
            constant = (f"{_plain(expr.value)}%",)
            return lambda ctx: constant
        if isinstance(expr, t.Number):
            number = (_plain(expr.value),)
            return lambda ctx: number
        value = self.expr(expr)
        label = self.label(expr)
        is_money = self.type_of(expr) == "money"

        def show(ctx: Context) -> tuple[Any, ...]:
            result = value(ctx)
            if result is None:
                return (f"({label})",)
            if is_money and isinstance(result, Decimal):
                return ((result, label),)
            return (f"{result} ({label})",)

        return show

    # ---- expressions

    def type_of(self, expr: t.Expr) -> str:
        return self.checked.types.get(id(expr), "unknown")

    def expr(self, expr: t.Expr) -> Fn:  # noqa: PLR0911, PLR0912
        if type(expr) is t.Binary:
            return self.binary(expr)
        if type(expr) is t.Path:
            resolution = self.checked.resolutions[id(expr)]
            found = self.paths.get(resolution)
            if found is None:
                found = self.paths[resolution] = self.path(resolution)
            return found
        if isinstance(expr, t.Number):
            value = expr.value
            return lambda ctx: value
        if isinstance(expr, t.Percent):
            fraction = expr.value / _HUNDRED
            return lambda ctx: fraction
        if isinstance(expr, (t.Text, t.DateLiteral, t.Boolean)):
            constant = expr.value
            return lambda ctx: constant
        if isinstance(expr, t.Duration):
            duration = (expr.amount, expr.unit)
            return lambda ctx: duration
        if isinstance(expr, t.Path):
            return self.path(self.checked.resolutions[id(expr)])
        if isinstance(expr, t.CustomerStatus):
            return self.customer_status(expr.new)
        if isinstance(expr, t.FullyRefunded):
            return self.fully_refunded(expr.within)
        if isinstance(expr, t.Aggregate):
            return self.aggregate(expr)
        if isinstance(expr, t.Count):
            return self.count(expr)
        if isinstance(expr, t.CommissionRef):
            rule_name = expr.rule

            def commission_ref(ctx: Context) -> Any:
                assert ctx.commission_of is not None and ctx.contract is not None
                return ctx.commission_of(rule_name, ctx.contract)

            return commission_ref
        if isinstance(expr, t.Unary):
            return self.unary(expr)
        if isinstance(expr, t.IsSet):
            operand = self.expr(expr.operand)
            if expr.negated:
                return lambda ctx: operand(ctx) is None
            return lambda ctx: operand(ctx) is not None
        if isinstance(expr, t.InList):
            return self.in_list(expr)
        if isinstance(expr, t.Binary):
            return self.binary(expr)
        raise TypeError(f"cannot compile {expr!r}")  # pragma: no cover

    def path(self, resolution: Resolution) -> Fn:
        if resolution.root == "metric":
            name = resolution.steps[0]
            return lambda ctx: ctx.metrics.get(name)
        steps = tuple((name, _REFERENCE_FIELDS.get(name)) for name in resolution.steps)
        element = resolution.root == "element"
        if len(steps) == 1 and not element:
            # One field of the subject, such as contract.amount or contract.rep
            # (a reference, looked up in its table): the commonest paths, read
            # without the loop.
            field_name, table_name = steps[0]
            if table_name is None:
                def field(ctx: Context) -> Any:
                    subject = ctx.subject
                    return None if subject is None else getattr(subject, field_name)

                return field

            def reference(ctx: Context) -> Any:
                subject = ctx.subject
                key = None if subject is None else getattr(subject, field_name)
                return None if key is None else getattr(ctx.records, table_name).get(key)

            return reference

        def walk(ctx: Context) -> Any:
            value: Any = ctx.element if element else ctx.subject
            for name, table_name in steps:
                if value is None:
                    return None
                value = getattr(value, name)
                if table_name is not None and value is not None:
                    value = getattr(ctx.records, table_name).get(value)
            return value

        return walk

    def customer_status(self, new: bool) -> Fn:
        def status(ctx: Context) -> bool:
            assert ctx.contract is not None
            return ctx.records.is_new_customer(ctx.contract) is new

        return status

    def fully_refunded(self, within: t.Duration | None) -> Fn:
        def refunded(ctx: Context) -> bool:
            contract = ctx.contract
            assert contract is not None
            refunds = ctx.records.refunds_of.get(contract.id, ())
            if not refunds:
                return False
            if within is None:
                limit = None
            else:
                signed = periods.local_date(contract.signed_at, ctx.zone)
                if within.unit == "months":
                    end_day = periods.add_months(signed, within.amount)
                else:
                    end_day = date.fromordinal(signed.toordinal() + within.amount)
                limit = periods.start_of_day(end_day, ctx.zone)
            total = Decimal(0)
            for refund in refunds:
                if limit is not None and refund.refunded_at >= limit:
                    break
                total += refund.amount
                if total >= contract.amount:
                    ctx.sources.add(refund.id)
                    return True
            return False

        return refunded

    def aggregate(self, expr: t.Aggregate) -> Fn:
        member_type = self._collection_type(expr.collection)
        name, field_name, function = expr.collection, expr.field, expr.function
        time_field = schema.EVENT_TIME[member_type]
        return _AGGREGATES[function](member_type, name, field_name, time_field)

    def _collection_type(self, name: str) -> str:
        if name in ("members", "retained"):
            return "contract"
        return schema.COLLECTIONS[name]

    def count(self, expr: t.Count) -> Fn:
        member_type = self._collection_type(expr.collection)
        name = expr.collection
        time_field = schema.EVENT_TIME[member_type]
        where = self.optional(expr.where)

        def count(ctx: Context) -> int:
            total = 0
            saved = ctx.element
            try:
                for member in ctx.collection(member_type, name):
                    if where is not None:
                        ctx.element = member
                        if where(ctx) is not True:
                            continue
                    total += 1
                    ctx.touch(getattr(member, time_field), member.id)
            finally:
                ctx.element = saved
            return total

        return count

    def unary(self, expr: t.Unary) -> Fn:
        operand = self.expr(expr.operand)
        if expr.op == "not":
            return lambda ctx: _not(operand(ctx))

        def negate(ctx: Context) -> Any:
            value = operand(ctx)
            return None if value is None else -value

        return negate

    def in_list(self, expr: t.InList) -> Fn:
        operand = self.expr(expr.operand)
        items = tuple(self.expr(item) for item in expr.items)
        as_text = schema.record_type_of(self.type_of(expr.operand)) is not None
        negated = expr.negated

        def contains(ctx: Context) -> bool | None:
            value = operand(ctx)
            if value is None:
                return None
            if as_text:
                value = value.id
            found = any(value == item(ctx) for item in items)
            return found is not negated

        return contains

    def binary(self, expr: t.Binary) -> Fn:
        op = expr.op
        left = self.expr(expr.left)
        right = self.expr(expr.right)
        if op == "and":
            return lambda ctx: _and(left(ctx), right(ctx))
        if op == "or":
            return lambda ctx: _or(left(ctx), right(ctx))
        left_type, right_type = self.type_of(expr.left), self.type_of(expr.right)
        if op in _COMPARISONS:
            return _comparison(_COMPARISONS[op], left, right, left_type, right_type)
        return _absent_if_either(_ARITHMETIC[op], left, right)


# ---------------------------------------------------------------- helpers


def _tiers(table: t.TierTable | None) -> CompiledTiers | None:
    if table is None:
        return None
    return CompiledTiers(table.mode, tuple(
        CompiledTier(row.rate.value / _HUNDRED, f"{_plain(row.rate.value)}%", row.bound,
                     row.inclusive)
        for row in table.rows), table.by_count)


def _accelerator(accelerator: t.Accelerator | None) -> CompiledAccelerator | None:
    if accelerator is None:
        return None
    bands = []
    previous: Decimal | None = None
    for band in accelerator.bands:
        if band.bound is None and previous is None:
            label = "of every attainment"
        elif band.bound is None:
            label = f"{'above' if bands[-1].inclusive else 'from'} {_plain(previous)}%"
        else:
            label = f"{'up to' if band.inclusive else 'below'} {_plain(band.bound)}%"
        bound = None if band.bound is None else band.bound / _HUNDRED
        bands.append(CompiledBand(band.multiplier, bound, band.inclusive, label))
        previous = band.bound
    return CompiledAccelerator(accelerator.quota, tuple(bands))


def _windows(expr: Any) -> list[tuple[int, str]]:
    """Collect the ``fully refunded within`` windows an expression reads."""
    found: list[tuple[int, str]] = []
    if isinstance(expr, t.FullyRefunded) and expr.within is not None:
        found.append((expr.within.amount, expr.within.unit))
    for name in getattr(expr, "__slots__", ()):
        child = getattr(expr, name)
        if isinstance(child, tuple):
            for item in child:
                found += _windows(item)
        elif hasattr(child, "pos") and not isinstance(child, t.Pos):
            found += _windows(child)
    return found


# Conditions use three-valued logic: a comparison that reads an absent value
# (an empty collection, a missing reference) is unknown (None), "not unknown"
# is still unknown, and a rule pays only when its condition is true.
def _not(value: Any) -> bool | None:
    return None if value is None else not value


def _and(left: Any, right: Any) -> bool | None:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: Any, right: Any) -> bool | None:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def _plain(value: Decimal) -> str:
    """Write a literal exactly as a plain decimal, without trailing zeros."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


# Fields whose value is the id of another record, and the table it lives in.
_REFERENCE_FIELDS: dict[str, str] = {
    name: _TABLE_OF[schema.record_type_of(field.type) or ""]
    for fields in schema.FIELDS.values()
    for name, field in fields.items()
    if schema.record_type_of(field.type) is not None
}


def _local_if_timestamp(value: Any, type_name: str, other_type: str, zone: str) -> Any:
    if type_name == "timestamp" and other_type == "date" and value is not None:
        return periods.local_date(value, zone)
    return value


def _absent_if_either(operation: Callable[[Any, Any], Any], left: Fn, right: Fn) -> Fn:
    """Build a closure that applies ``operation`` to both sides, or gives None when either is absent."""

    def apply(ctx: Context) -> Any:
        a = left(ctx)
        b = right(ctx)
        if a is None or b is None:
            return None
        return operation(a, b)

    return apply


def _comparison(compare: Callable[[Any, Any], bool], left: Fn, right: Fn,
                left_type: str, right_type: str) -> Fn:
    left_record = schema.record_type_of(left_type) is not None
    right_record = schema.record_type_of(right_type) is not None
    if not (left_record or right_record or "timestamp" in (left_type, right_type)):
        # Neither side is a record or a timestamp to convert, which is the
        # usual case of a rate row, so the test skips those steps.
        return _absent_if_either(compare, left, right)

    def test(ctx: Context) -> bool | None:
        a = left(ctx)
        b = right(ctx)
        if a is None or b is None:
            return None
        a = _local_if_timestamp(a, left_type, right_type, ctx.zone)
        b = _local_if_timestamp(b, right_type, left_type, ctx.zone)
        if left_record:
            a = a.id
        if right_record:
            b = b.id
        return compare(a, b)

    return test


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "is": operator.eq,
    "=": operator.eq,
    "is not": operator.ne,
    "!=": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}

_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "of": operator.mul,
    "/": lambda a, b: _divide(a, b),
}


class DivisionByZeroError(ArithmeticError):
    """A plan divided by a value that is zero for some record."""


def _divide(a: Any, b: Any) -> Decimal:
    if b == 0:
        raise DivisionByZeroError("division by zero")
    return Decimal(a) / Decimal(b)


def _member_at(position: int) -> Callable[[str, str, str, str], Fn]:
    """Build the aggregate that reads one member by position: 0 is first, -1 latest."""

    def build(member_type: str, name: str, field_name: str, time_field: str) -> Fn:
        def pick(ctx: Context) -> Any:
            members = ctx.collection(member_type, name)
            if not members:
                return None
            member = members[position]
            ctx.touch(getattr(member, time_field), member.id)
            return getattr(member, field_name)

        return pick

    return build


def _extreme(pick_max: bool) -> Callable[[str, str, str, str], Fn]:
    def build(member_type: str, name: str, field_name: str, time_field: str) -> Fn:
        def extreme(ctx: Context) -> Any:
            best: Any = None
            for member in ctx.collection(member_type, name):
                value = getattr(member, field_name)
                # Ties keep the earliest member, which is the record that set the value.
                if best is None or (value > getattr(best, field_name) if pick_max
                                    else value < getattr(best, field_name)):
                    best = member
            if best is None:
                return None
            ctx.touch(getattr(best, time_field), best.id)
            return getattr(best, field_name)

        return extreme

    return build


def _summing(average: bool) -> Callable[[str, str, str, str], Fn]:
    def build(member_type: str, name: str, field_name: str, time_field: str) -> Fn:
        def summary(ctx: Context) -> Any:
            members = ctx.collection(member_type, name)
            if not members:
                return None if average else Decimal(0)
            total = Decimal(0)
            for member in members:
                total += getattr(member, field_name)
                ctx.touch(getattr(member, time_field), member.id)
            # Exact: the average is never rounded before it is compared.
            return total / len(members) if average else total

        return summary

    return build


_AGGREGATES: dict[str, Callable[[str, str, str, str], Fn]] = {
    "first": _member_at(0),
    "latest": _member_at(-1),
    "minimum": _extreme(False),
    "maximum": _extreme(True),
    "average": _summing(True),
    "total": _summing(False),
}

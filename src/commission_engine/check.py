"""Check a parsed plan: resolve every name, infer every type, report every error.

The checker never reads records. It returns a ``CheckedPlan`` that records the
type of each expression and how each name resolves, or raises ``PlanError``
with all diagnostics of the file at once.
"""

from __future__ import annotations

import difflib
import heapq
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from . import money, schema
from . import tree as t
from .errors import Diagnostic, PlanError
from .limits import DEFAULT_LIMITS, Limits, raise_hint

__all__ = ["CheckedPlan", "Resolution", "check_plan"]

SUBJECTS = ("contract", "payment")
DEFAULT_ROUNDING = "half-up"
# The largest accelerator multiplier a plan may write; a larger one is almost
# always a misplaced decimal point (15x for 1.5x).
MAX_MULTIPLIER = 10

# Roots a rule on a contract may start a path from, besides the contract's own
# fields, which may be named bare (``product`` is ``contract.product``).
_CONTRACT_ROOTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "contract": ("record:contract", ()),
    "customer": ("record:customer", ("customer",)),
    "rep": ("record:rep", ("rep",)),
}
# A rule on payments reads its payment, and the payment's contract as above.
_PAYMENT_ROOTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "payment": ("record:payment", ()),
    "contract": ("record:contract", ("contract",)),
    "customer": ("record:customer", ("contract", "customer")),
    "rep": ("record:rep", ("contract", "rep")),
}
_ROOTS = {"contract": _CONTRACT_ROOTS, "payment": _PAYMENT_ROOTS}


# The fields of a rep that a draw's condition may read, bare or as ``rep.kind``.
DRAW_REP_FIELDS: dict[str, str] = {"id": "text", "name": "text", "kind": "text", "team": "text",
                                   "region": "text", "timezone": "text"}

# The values an invariant may read in each scope it ranges over.
INVARIANT_SCOPES: dict[str, dict[str, str]] = {
    "line": {"amount": "money", "kind": "text", "payee": "text", "period": "text",
             "rule": "text"},
    "statement": {"payout": "money", "signed": "money", "payee": "text", "period": "text"},
    "period": {"payout": "money", "signed": "money", "period": "text"},
    "payee": {"payout": "money", "signed": "money", "payee": "text"},
}


@dataclass(frozen=True, slots=True)
class Resolution:
    """The way a path reads its value: its root, then the fields it follows in turn.

    ``root`` is ``subject`` (the rule's record), ``element`` (the member of a
    ``count ... where``) or ``metric`` (a cohort metric such as ``retention``).
    """

    root: str
    steps: tuple[str, ...]
    type: str


@dataclass
class CheckedPlan:
    """A plan that parsed and type-checked, ready to compile."""

    tree: t.PlanTree
    source: str
    currency: str
    rounding: str
    types: dict[int, str] = field(repr=False)
    resolutions: dict[int, Resolution] = field(repr=False)
    labels: dict[int, str] = field(repr=False)
    warnings: tuple[Diagnostic, ...] = ()
    limits: Limits = DEFAULT_LIMITS


@dataclass
class _Scope:
    subject: str
    collections: dict[str, str]
    element: tuple[str, str] | None = None  # (name, record type) inside ``where``
    metrics: dict[str, str] = field(default_factory=dict)
    # A detached scope has no subject record: a cohort's condition and amount,
    # or an invariant. ``place`` names it in messages; an invariant's metrics
    # may also be written after its scope's name (``line.amount``).
    cohort: bool = False
    place: str = "a cohort's condition or amount"
    prefix: str | None = None


class _Checker:
    def __init__(self, plan: t.PlanTree, source: str,
                 prior: tuple[Diagnostic, ...] = (), unparsed: frozenset[str] = frozenset(),
                 incomplete: frozenset[str] = frozenset(), limits: Limits = DEFAULT_LIMITS,
                 nesting_bound: int | None = None, has_commission_refs: bool = True):
        self.plan = plan
        self.limits = limits
        self.nesting_bound = nesting_bound
        self.has_commission_refs = has_commission_refs
        self.lines = source.split("\n")
        self.source = source
        self.diagnostics: list[Diagnostic] = list(prior)
        self.unparsed = unparsed
        self.incomplete = incomplete
        self.types: dict[int, str] = {}
        self.resolutions: dict[int, Resolution] = {}
        self.labels: dict[int, str] = {}
        self.commission_rules = {
            rule.name: rule for rule in plan.rules if isinstance(rule, t.CommissionRule)
        }
        # The plan keeps every rule alive, so id() keys stay valid while checking.
        self.refs_by_rule: dict[int, list[t.CommissionRef]] = {}
        # Resolutions in a rule's own scope, by subject and dotted name.
        self.plain_resolutions: dict[tuple[str, tuple[str, ...]], Resolution] = {}

    # ---- reporting

    def error(self, message: str, pos: t.Pos, hint: str | None = None,
              severity: str = "error") -> None:
        source = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else None
        end = pos.end_column if pos.end_line == pos.line else None
        if end is None and source is not None:
            end = len(source) + 1
        self.diagnostics.append(Diagnostic(message, pos.line, pos.column, end, hint, severity, source))

    def text_of(self, pos: t.Pos) -> str:
        if pos.line != pos.end_line or not (0 < pos.line <= len(self.lines)):
            line = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else ""
            return line[pos.column - 1 :].strip()
        return self.lines[pos.line - 1][pos.column - 1 : pos.end_column - 1].strip()

    # ---- plan

    def run(self) -> CheckedPlan:
        too_deep = None
        if self.nesting_bound is None or self.nesting_bound > self.limits.max_nesting:
            too_deep = _deepest(self.plan, self.limits.max_nesting)
        if too_deep is not None:
            self.error(f"this expression nests more than {self.limits.max_nesting} levels deep"
                       " (max_nesting)", too_deep,
                       "split the formula into simpler ones; " + raise_hint("max_nesting"))
            raise PlanError(tuple(sorted(self.diagnostics, key=lambda d: (d.line, d.column))))
        if len(self.plan.rules) > self.limits.max_rules:
            extra = self.plan.rules[self.limits.max_rules]
            self.error(f"the plan has {len(self.plan.rules)} rules, more than the limit of"
                       f" {self.limits.max_rules} (max_rules)", extra.pos,
                       "split the plan into smaller plans; " + raise_hint("max_rules"))
            raise PlanError(tuple(sorted(self.diagnostics, key=lambda d: (d.line, d.column))))
        self.check_reserved_names()
        currency = self.check_settings()
        self.check_exchange_rates(currency)
        rounding = self.plan.rounding or DEFAULT_ROUNDING
        self.check_versions()
        seen: dict[tuple[str, int], t.Rule] = {}
        for rule in self.plan.rules:
            key = (rule.name, rule.version)
            if key in seen:
                other = seen[key]
                self.error(f"rule name {rule.name!r} is used twice (also on line {other.pos.line})",
                           rule.name_pos, "give every rule its own name")
            else:
                seen[key] = rule
                self.check_version_of(rule, seen)
            self.check_rule(rule)
        seen_invariants: dict[str, int] = {}
        for invariant in self.plan.invariants:
            if invariant.name in seen_invariants:
                self.error(f'invariant name "{invariant.name}" is used twice (also on line'
                           f" {seen_invariants[invariant.name]})", invariant.pos,
                           "give every invariant its own name")
            seen_invariants.setdefault(invariant.name, invariant.pos.line)
            self.check_invariant(invariant)
        self.check_quotas(currency)
        self.check_alerts()
        self.check_commission_cycles()
        self.check_quota_cycles()
        errors = [d for d in self.diagnostics if d.severity == "error"]
        if errors:
            raise PlanError(tuple(sorted(self.diagnostics, key=lambda d: (d.line, d.column))))
        return CheckedPlan(
            self.plan, self.source, currency, rounding, self.types, self.resolutions,
            self.labels, tuple(self.diagnostics), self.limits,
        )

    def check_settings(self) -> str:
        positions = dict(self.plan.settings_positions)
        if self.plan.currency is None:
            self.error("the plan has no currency", self.plan.pos,
                       "add a line such as 'currency CNY' after the plan line")
            return "XXX"
        if not money.is_known_currency(self.plan.currency):
            suggestion = _suggest(self.plan.currency.upper(), money.known_currencies())
            if self.plan.currency.upper() == "RMB":
                suggestion = "the ISO 4217 code of the renminbi is CNY"
            self.error(f"unknown currency {self.plan.currency!r}", positions["currency"],
                       suggestion or "write an ISO 4217 code such as CNY, USD or JPY")
        if self.plan.rounding is not None and self.plan.rounding not in money.ROUNDING_MODES:
            self.error(f"unknown rounding mode {self.plan.rounding!r}", positions["rounding"],
                       "write 'rounding half-up' or 'rounding half-even'")
        return self.plan.currency

    # ---- rules

    def missing(self, rule: t.Rule, message: str, hint: str) -> None:
        """Report a missing clause, unless the clause was lost to a syntax error."""
        if rule.name not in self.incomplete:
            self.error(message, rule.name_pos, hint)

    def check_override(self, rule: t.OverrideRule) -> None:
        """Check the overridden rule and that the levels run 1, 2, 3 ..."""
        if rule.of not in self.commission_rules:
            suggestion = _suggest(rule.of, self.commission_rules)
            self.error(f"no commission rule is named {rule.of!r}", rule.of_pos,
                       suggestion or "name a commission rule of this plan after 'of'")
        for expected, level in enumerate(rule.levels, start=1):
            self.check_rate(level.rate)
            if level.level != expected:
                self.error(f"level {level.level} should be level {expected}", level.pos,
                           "number the levels 1, 2, 3 ... from the payee's own manager up")
                break

    def check_rule(self, rule: t.Rule) -> None:
        if isinstance(rule, t.OverrideRule):
            self.check_override(rule)
            return
        if isinstance(rule, t.DrawRule):
            self.check_draw(rule)
            return
        if rule.subject not in SUBJECTS:
            suggestion = _suggest(rule.subject, SUBJECTS)
            self.error(f"rules on {rule.subject!r} records are not supported", rule.pos,
                       suggestion or "write 'on contract'")
            return
        if rule.subject == "payment" and not isinstance(rule, t.CommissionRule):
            self.error(f"a {_kind_word(rule)} rule runs on contracts, not on payments", rule.pos,
                       "write 'on contract'; only commission rules may run on payments")
            return
        scope = _Scope(rule.subject, dict(schema.COLLECTIONS))
        self.check_common(rule, scope)
        if isinstance(rule, t.CommissionRule):
            self.check_commission(rule, scope)
        elif isinstance(rule, t.OneTimeRule):
            self.check_onetime(rule, scope)
        else:
            self.check_cohort(rule, scope)

    def check_common(self, rule: t.Rule, scope: _Scope) -> None:
        if isinstance(rule, t.CommissionRule) and rule.split:
            self.check_split(rule, scope)
        elif rule.payee is None:
            self.missing(rule, f"rule {rule.name!r} does not say who is paid",
                         "add a line such as 'paid to contract.rep'")
        else:
            self.expect(rule.payee, scope, "record:rep", "the payee ('paid to')")
        if rule.dated_by is not None:
            self.expect(rule.dated_by, scope, "timestamp", "the governing date ('dated by')")
        if rule.effective is not None:
            self.check_effective(rule.effective)

    def check_split(self, rule: t.CommissionRule, scope: _Scope) -> None:
        """Check that every share names a rep and that the shares make 100%."""
        total = sum((share.share.value for share in rule.split), start=0)
        for share in rule.split:
            self.expect(share.payee, scope, "record:rep", "a share's payee")
            if share.share.value <= 0:
                self.error(f"a share of {share.share.value}% pays nothing", share.share.pos,
                           "remove the share or give it more than 0%")
        if total != 100:
            self.error(f"the shares add up to {total}%, not 100%", rule.split[0].pos,
                       "make the shares of 'split between' add up to exactly 100%")

    def check_effective(self, effective: t.Effective) -> None:
        if effective.start and effective.end and effective.end < effective.start:
            self.error(
                f"the range ends ({effective.end}) before it starts ({effective.start})",
                effective.pos, "swap the dates or correct one of them")

    def check_payment_rule(self, rule: t.CommissionRule) -> None:
        """Reject the clauses that mean nothing for a commission on payments."""
        positions = dict(rule.clause_positions)
        if rule.installments is not None:
            self.error("a rule on payments pays each payment when it arrives, so it has no"
                       " installments", positions["installments"],
                       "remove the 'pay in ... monthly installments' line")
        if rule.refund is not None and (rule.refund.action != "ignore"
                                        or rule.refund.clawback != "never"):
            self.error("a rule on payments reverses each refund at its payment's rate",
                       rule.refund.pos,
                       "remove the 'on refund' block, or write only 'ignore refunds'")

    def check_tiers(self, rule: t.CommissionRule, tiers: t.TierTable) -> None:
        """Check that the tiers rise without gaps or overlaps and end with 'above'."""
        previous = None
        for index, row in enumerate(tiers.rows):
            self.check_rate(row.rate)
            last = index == len(tiers.rows) - 1
            if row.bound is None and not last:
                self.error("only the last tier can be 'above'", row.pos,
                           "give this tier an upper bound with 'up to' or 'below'")
            if row.bound is not None and previous is not None and row.bound <= previous:
                self.error(f"the tiers overlap: {row.bound} is not above the tier before"
                           f" ({previous})", row.pos, "list the tiers from the lowest bound up")
            if row.bound is not None:
                previous = row.bound
            if tiers.by_count and row.bound is not None and (
                    row.bound < 1 or row.bound != row.bound.to_integral_value()):
                self.error(f"a tier by count needs a whole number of records, not {row.bound}",
                           row.pos, "write a count such as 'up to 5'")
            elif not tiers.by_count and row.bound is not None:
                self.check_tier_amount(row)
        if tiers.rows and tiers.rows[-1].bound is not None:
            self.error(f"no tier covers totals above {tiers.rows[-1].bound}", tiers.rows[-1].pos,
                       "end the tiers with a row such as '10% above'")
        if rule.split:
            self.error("a tiered rule prices each payee's own total, so it cannot split credit",
                       rule.split[0].pos, "write 'paid to' with one payee")
        if rule.installments is not None:
            self.error("a tiered rule pays as totals grow, so it has no installments",
                       dict(rule.clause_positions)["installments"],
                       "remove the 'pay in ... monthly installments' line")
        if rule.refund is not None and rule.refund.clawback != "never":
            self.error("a tiered rule always claws a refund back from the period its"
                       " record was credited in",
                       rule.refund.pos, "remove the clawback line")

    def check_tier_amount(self, row: t.TierRow) -> None:
        """Check a money tier's bound: above 0, and no finer than the currency's minor unit."""
        currency = self.plan.currency or ""
        assert row.bound is not None  # the caller checks only bounded tiers
        if row.bound <= 0:
            self.error(f"a tier up to {row.bound} is reached only by a period total of"
                       f" {row.bound} or less", row.pos,
                       "start the tiers above 0, such as 'up to 50,000.00'")
        elif money.finer_than_minor_unit(row.bound, currency):
            self.error(f"a tier bound of {row.bound} has more decimals than {currency} allows"
                       f" ({money.minor_digits(currency)})", row.pos,
                       f"round the bound to the minor unit of {currency}")

    def check_accelerator(self, rule: t.CommissionRule, accelerator: t.Accelerator) -> None:
        """Check the quota named and that the bands rise without gaps or overlaps."""
        quotas = [quota.name for quota in self.plan.quotas]
        if accelerator.quota not in quotas:
            suggestion = _suggest(accelerator.quota, quotas)
            self.error(f"no quota is named {accelerator.quota!r}", accelerator.quota_pos,
                       suggestion or "declare the quota with 'quota NAME on contract:', or name"
                       " one of this plan's quotas")
        if rule.tiers is not None:
            self.error("a tiered rule cannot also have accelerators", accelerator.pos,
                       "keep the tiers or the accelerator, or put them in two rules")
        previous = None
        for index, band in enumerate(accelerator.bands):
            if band.multiplier > MAX_MULTIPLIER:
                self.error(f"a multiplier of {band.multiplier}x is above {MAX_MULTIPLIER}x",
                           band.pos, "check for a missing decimal point, such as 1.5x")
            last = index == len(accelerator.bands) - 1
            if band.bound is None and not last:
                self.error("only the last band can be 'above'", band.pos,
                           "give this band an upper bound with 'up to' or 'below'")
            if band.bound is not None and previous is not None and band.bound <= previous:
                self.error(f"the bands overlap: {band.bound}% is not above the band before"
                           f" ({previous}%)", band.pos, "list the bands from the lowest bound up")
            if band.bound is not None:
                previous = band.bound
        last_band = accelerator.bands[-1] if accelerator.bands else None
        if last_band is not None and last_band.bound is not None:
            self.error(f"no band covers attainments above {last_band.bound}%", last_band.pos,
                       "end the bands with a row such as '1.5x above'")

    def check_limits(self, rule: t.CommissionRule) -> None:
        """Check each cap and floor: a positive amount, a scope the rule has, floor <= cap."""
        currency = self.plan.currency or ""
        by_key = {(limit.kind, limit.scope): limit for limit in rule.limits}
        for limit in rule.limits:
            words = f"{limit.kind} per {limit.scope}"
            if limit.amount <= 0:
                self.error(f"a {words} of {limit.amount} pays nothing", limit.pos,
                           f"write a {limit.kind} above 0, or remove the line")
            elif money.finer_than_minor_unit(limit.amount, currency):
                self.error(f"a {words} of {limit.amount} has more decimals than {currency}"
                           f" allows ({money.minor_digits(currency)})", limit.pos,
                           f"round the {limit.kind} to the minor unit of {currency}")
            if rule.tiers is not None and limit.scope != "period":
                self.error(f"a tiered rule pays period totals, so it takes no {words}",
                           limit.pos, f"write '{limit.kind} ... per period'")
            if rule.installments is not None and limit.scope == "line":
                self.error(f"an installment rule spreads one commission, so it takes no {words}",
                           limit.pos, f"write '{limit.kind} ... per contract' to limit the"
                           " commission that the installments spread")
            if rule.subject == "payment" and limit.kind == "floor" and limit.scope == "contract":
                self.error("a rule on payments cannot have a floor per contract: the contract's"
                           " total is known only after its last payment", limit.pos,
                           "write 'floor ... per line' or 'floor ... per period'")
        for scope_name in ("line", "contract", "period"):
            cap, floor = by_key.get(("cap", scope_name)), by_key.get(("floor", scope_name))
            if cap is not None and floor is not None and floor.amount > cap.amount:
                self.error(f"the floor per {scope_name} ({floor.amount}) is above the cap per"
                           f" {scope_name} ({cap.amount})", floor.pos,
                           "lower the floor or raise the cap")

    def check_commission(self, rule: t.CommissionRule, scope: _Scope) -> None:
        if rule.limits:
            self.check_limits(rule)
        if rule.accelerator is not None:
            self.check_accelerator(rule, rule.accelerator)
        if rule.tiers is not None:
            self.check_tiers(rule, rule.tiers)
        elif rule.subject == "payment":
            self.check_payment_rule(rule)
        if rule.base is None:
            self.missing(rule, f"commission rule {rule.name!r} has no rate",
                         "add 'rate 8% of contract.amount' or a rate table")
            return
        what = "the tiered base ('tiers of ...')" if rule.tiers else "the commission base ('rate of ...')"
        self.expect(rule.base, scope, "money", what)
        self.check_row_reach(rule.rows)
        for row in rule.rows:
            self.check_rate(row.rate)
            if row.condition is not None:
                self.expect(row.condition, scope, "boolean", "a rate row's condition")
                self.labels[id(row)] = self.text_of(row.condition.pos)
            if row.effective is not None:
                self.check_effective(row.effective)
        if rule.installments is not None:
            self.expect(rule.installments, scope, "count", "the number of installments")
            count = rule.installments
            if isinstance(count, t.Number) and count.value < 1:
                self.error("the number of installments must be at least 1",
                           count.pos, "write 'pay in 1 monthly installments' or more")
            elif isinstance(count, t.Number) and (
                count.value != count.value.to_integral_value()
                or count.value > self.limits.max_installments
            ):
                self.error(f"{count.value} is not a whole number of installments from 1 to"
                           f" {self.limits.max_installments} (max_installments)", count.pos,
                           "write a whole number, such as 'pay in 12 monthly installments'; "
                           + raise_hint("max_installments"))

    def check_row_reach(self, rows: tuple[t.RateRow, ...]) -> None:
        """Warn about rows that an earlier row always shadows, and about overlaps.

        Only an earlier 'otherwise' row or an earlier row with the same
        condition can shadow a row. So rows are grouped by the shape of their
        condition, computed once, and each row is compared with its group and
        the 'otherwise' rows only. A table of distinct conditions takes linear
        time.
        """
        groups: dict[object, list[int]] = {}
        otherwise: list[int] = []
        for index, row in enumerate(rows):
            group = groups.setdefault(_shape(row.condition), [])
            # Both lists are in row order, and they are disjoint unless this
            # row is an 'otherwise' row, whose group is the 'otherwise' rows.
            if row.condition is None or not otherwise:
                candidates: Iterable[int] = group
            elif not group:
                candidates = otherwise
            else:
                candidates = heapq.merge(otherwise, group)
            for earlier_index in candidates:
                earlier = rows[earlier_index]
                same = earlier.condition is not None or row.condition is None
                if self.shadowing_warning(earlier, row, same):
                    break
            group.append(index)
            if row.condition is None:
                otherwise.append(index)

    def shadowing_warning(self, earlier: t.RateRow, row: t.RateRow, same_condition: bool) -> bool:
        """Warn when ``earlier`` shadows ``row`` or overlaps its dates; return whether it warned."""
        covers = _range_covers(earlier.effective, row.effective)
        if earlier.condition is None and covers:
            self.error(
                "this row can never match: the 'otherwise' row on line"
                f" {earlier.pos.line} matches every contract first",
                row.pos, "move this row above the 'otherwise' row, or remove it",
                severity="warning")
            return True
        if not same_condition:
            return False
        if covers:
            self.error(
                "this row can never match: the row on line"
                f" {earlier.pos.line} has the same condition, comes first, and its dates cover this row's",
                row.pos, "remove one of the two rows", severity="warning")
            return True
        overlap = _range_overlap(earlier.effective, row.effective)
        if overlap is None:
            return False
        start, end = overlap
        self.error(
            f"the dates of this row overlap the row on line {earlier.pos.line},"
            f" which has the same condition: from {start or 'the start'}"
            f" until {end or 'the end'} the earlier row wins",
            row.pos, "make the date ranges meet without overlapping",
            severity="warning")
        return True

    def check_rate(self, rate: t.Percent) -> None:
        if rate.value > 100:
            self.error(f"rate {rate.value}% is above 100%", rate.pos,
                       "a commission rate is a share of the base; check for a missing decimal point")

    def check_onetime(self, rule: t.OneTimeRule, scope: _Scope) -> None:
        if rule.condition is not None:
            self.expect(rule.condition, scope, "boolean", "the condition ('when')")
        if rule.amount is None:
            self.missing(rule, f"{rule.kind} rule {rule.name!r} has no amount",
                         "add a line such as 'amount 2% of contract.amount'")
        else:
            self.expect(rule.amount, scope, "money", "the amount")

    def check_cohort(self, rule: t.CohortRule, scope: _Scope) -> None:
        if rule.members is not None:
            self.expect(rule.members, scope, "boolean", "the cohort's members ('members when')")
        if rule.retained is None:
            self.missing(rule, f"cohort rule {rule.name!r} does not say which members are retained",
                         "add a line such as 'retained when not fully refunded within 3 months'")
        else:
            self.expect(rule.retained, scope, "boolean", "the retention test ('retained when')")
        cohort_scope = _Scope(
            rule.subject,
            {"members": "contract", "retained": "contract"},
            metrics={"retention": "percentage"},
            cohort=True,
        )
        if rule.condition is not None:
            self.expect(rule.condition, cohort_scope, "boolean", "the condition ('when')")
        if rule.amount is None:
            self.missing(rule, f"cohort rule {rule.name!r} has no amount",
                         "add a line such as 'amount 1% of total retained.amount'")
        else:
            self.expect(rule.amount, cohort_scope, "money", "the amount")

    # ---- exchange rates

    def check_exchange_rates(self, currency: str) -> None:
        """Check each rate's currency, value and date, once per currency and date."""
        seen: dict[tuple[str, object], int] = {}
        for rate in self.plan.exchange_rates:
            if not money.is_known_currency(rate.currency):
                suggestion = _suggest(rate.currency.upper(), money.known_currencies())
                self.error(f"unknown currency {rate.currency!r}", rate.pos,
                           suggestion or "write an ISO 4217 code such as USD, JPY or KWD")
            elif rate.currency == currency:
                self.error(f"an exchange rate of {currency} into itself is always 1", rate.pos,
                           "remove the line; exchange rates are for other currencies")
            if rate.rate <= 0:
                self.error(f"an exchange rate of {rate.rate} is not a price", rate.pos,
                           f"write how many {currency} one {rate.currency} is worth, above 0")
            key = (rate.currency, rate.start)
            if key in seen:
                self.error(f"the rate of {rate.currency} from {rate.start} is given twice (also"
                           f" on line {seen[key]})", rate.pos, "keep one of the two rates")
            seen.setdefault(key, rate.pos.line)

    # ---- versions

    def check_versions(self) -> None:
        """Check that the versions start on rising dates and have their own names."""
        names = {self.plan.version: self.plan.pos.line}
        previous = None
        for version in self.plan.versions:
            if version.name in names:
                self.error(f"version {version.name!r} is used twice (also on line"
                           f" {names[version.name]})", version.pos,
                           "give every version its own name")
            names.setdefault(version.name, version.pos.line)
            if previous is not None and version.start <= previous.start:
                self.error(f"version {version.name!r} starts on {version.start}, not after"
                           f" version {previous.name!r} ({previous.start})", version.pos,
                           "list the versions in the order they take effect")
            previous = version

    def check_version_of(self, rule: t.Rule, seen: dict[tuple[str, int], t.Rule]) -> None:
        """Check that a rule of a later version replaces one of the same kind, if any."""
        if rule.version == 0:
            return
        if isinstance(rule, t.OverrideRule | t.DrawRule):
            word = "draw" if isinstance(rule, t.DrawRule) else "override"
            self.error(f"{word} {rule.name!r} applies to the whole plan, so it cannot be in a"
                       " later version", rule.name_pos, "move it above the first 'version' line")
            return
        for version in range(rule.version):
            other = seen.get((rule.name, version))
            if other is not None and _kind_word(other) != _kind_word(rule):
                self.error(f"rule {rule.name!r} is a {_kind_word(rule)} rule here but a"
                           f" {_kind_word(other)} rule on line {other.pos.line}", rule.name_pos,
                           "give the new rule another name, or keep its kind")
                return

    # ---- draws

    def check_draw(self, rule: t.DrawRule) -> None:
        """Check the rule drawn against, the amounts, the periods and the reps' condition."""
        if rule.of not in self.commission_rules:
            suggestion = _suggest(rule.of, self.commission_rules)
            self.error(f"no commission rule is named {rule.of!r}", rule.of_pos,
                       suggestion or "name a commission rule of this plan after 'of'")
        positions = dict(rule.clause_positions)
        if rule.amount is None:
            self.missing(rule, f"draw {rule.name!r} does not say how much it pays",
                         "add a line such as 'recoverable 1,000.00 per period' or"
                         " 'guaranteed 1,000.00 per period'")
        else:
            self.check_draw_amount(rule.amount, positions["draw_amount"], "draw")
        if rule.recover_limit is not None:
            self.check_draw_amount(rule.recover_limit, positions["draw_recover"], "limit")
            if not rule.recoverable:
                self.error("a guaranteed draw is never recovered", positions["draw_recover"],
                           "remove the 'recover at most' line, or make the draw recoverable")
        if rule.start is None:
            self.missing(rule, f"draw {rule.name!r} does not say when it starts",
                         "add a line such as 'from 2025-01' or 'from 2025-01 until 2025-06'")
        else:
            for period in (rule.start, rule.end):
                if period is not None and not 1 <= int(period[5:]) <= 12:
                    self.error(f"{period} is not a month", positions["draw_window"],
                               "write the period as YYYY-MM, such as 2025-01")
            if rule.end is not None and rule.end < rule.start:
                self.error(f"the draw ends ({rule.end}) before it starts ({rule.start})",
                           positions["draw_window"], "swap the periods or correct one of them")
        if rule.condition is not None:
            scope = _Scope("contract", {}, metrics=dict(DRAW_REP_FIELDS), cohort=True,
                           place="a draw's condition", prefix="rep")
            self.expect(rule.condition, scope, "boolean", "the draw's condition ('for')")

    def check_draw_amount(self, amount: Decimal, pos: t.Pos, what: str) -> None:
        currency = self.plan.currency or ""
        if amount <= 0:
            self.error(f"a {what} of {amount} per period pays nothing", pos,
                       f"write a {what} above 0, or remove the line")
        elif money.finer_than_minor_unit(amount, currency):
            self.error(f"a {what} of {amount} has more decimals than {currency} allows"
                       f" ({money.minor_digits(currency)})", pos,
                       f"round the amount to the minor unit of {currency}")

    def check_reserved_names(self) -> None:
        """Reject rule, quota and alert names that start with two underscores."""
        named = [*((_kind_word(rule), rule) for rule in self.plan.rules),
                 *(("quota", quota) for quota in self.plan.quotas),
                 *(("alert", alert) for alert in self.plan.alerts)]
        for kind, node in named:
            if node.name.startswith("__"):
                plain = node.name.strip("_") or kind
                self.error(f"{kind} name {node.name!r} starts with two underscores, which are"
                           " reserved", node.name_pos,
                           f"rename it without the leading underscores, such as {plain!r}")

    # ---- quotas

    def check_quotas(self, currency: str) -> None:
        seen: dict[str, int] = {}
        for quota in self.plan.quotas:
            if quota.name in seen:
                self.error(f"quota name {quota.name!r} is used twice (also on line"
                           f" {seen[quota.name]})", quota.name_pos, "give every quota its own name")
            seen.setdefault(quota.name, quota.pos.line)
            self.check_quota(quota, currency)

    def check_quota(self, quota: t.Quota, currency: str) -> None:
        """Check a quota's subject, credited payee, filter, measure and target."""
        if quota.subject not in SUBJECTS:
            suggestion = _suggest(quota.subject, SUBJECTS)
            self.error(f"quotas on {quota.subject!r} records are not supported", quota.pos,
                       suggestion or "write 'on contract' or 'on payment'")
            return
        scope = _Scope(quota.subject, dict(schema.COLLECTIONS))
        if quota.credited is not None:
            self.expect(quota.credited, scope, "record:rep", "the credited payee ('credited to')")
        if quota.dated_by is not None:
            self.expect(quota.dated_by, scope, "timestamp", "the governing date ('dated by')")
        if quota.condition is not None:
            self.expect(quota.condition, scope, "boolean", "the quota's condition ('when')")
        measure = quota.measure
        if measure is None:
            self.error(f"quota {quota.name!r} does not say what it measures", quota.name_pos,
                       f"add a line such as 'measure total of {quota.subject}.amount' or"
                       f" 'measure count of {quota.subject}s'")
        elif measure.kind == "total":
            assert measure.base is not None
            self.expect(measure.base, scope, "money", "the quota's measure ('measure total of')")
        elif measure.collection not in (quota.subject, f"{quota.subject}s"):
            suggestion = _suggest(str(measure.collection), (f"{quota.subject}s",))
            self.error(f"a quota on {quota.subject} records counts {quota.subject}s, not"
                       f" {measure.collection!r}", measure.pos,
                       suggestion or f"write 'measure count of {quota.subject}s', and a 'when'"
                       " line to count only some of them")
        if quota.target is None:
            self.error(f"quota {quota.name!r} has no target", quota.name_pos,
                       "add 'target from records' (target records of the quota's metric) or"
                       " a constant such as 'target 100,000.00'")
        elif quota.target.value is not None:
            self.check_quota_constant(quota.target, measure, currency)

    def check_alerts(self) -> None:
        """Check that alert names are unique, each names a quota, and its percentage fits."""
        quotas = [quota.name for quota in self.plan.quotas]
        seen: dict[str, int] = {}
        for alert in self.plan.alerts:
            if alert.name in seen:
                self.error(f"alert name {alert.name!r} is used twice (also on line"
                           f" {seen[alert.name]})", alert.name_pos, "give every alert its own name")
            seen.setdefault(alert.name, alert.pos.line)
            if alert.quota not in quotas:
                suggestion = _suggest(alert.quota, quotas)
                self.error(f"no quota is named {alert.quota!r}", alert.quota_pos,
                           suggestion or "declare the quota with 'quota NAME on contract:', or"
                           " name one of this plan's quotas")
            value = alert.percent.value
            if alert.kind == "behind" and not 0 < value < 100:
                self.error(f"an alert at {value}% behind pace can never fire", alert.percent.pos,
                           "write a percentage above 0% and below 100%, such as 20%")
            elif alert.kind == "below" and value <= 0:
                self.error(f"an alert below {value}% of target can never fire",
                           alert.percent.pos, "write a percentage above 0%, such as 50%")

    def check_quota_constant(self, target: t.QuotaTarget, measure: t.QuotaMeasure | None,
                             currency: str) -> None:
        value = target.value
        assert value is not None
        if value <= 0:
            self.error(f"a target of {value} makes attainment undefined", target.pos,
                       "write a target above 0")
        elif measure is not None and measure.kind == "count" and value != value.to_integral_value():
            self.error(f"a target of {value} is not a whole number of records", target.pos,
                       "write a whole number, such as 'target 10'")
        elif (measure is not None and measure.kind == "total"
              and money.finer_than_minor_unit(value, currency)):
            self.error(f"a target of {value} has more decimals than {currency} allows"
                       f" ({money.minor_digits(currency)})", target.pos,
                       f"round the target to the minor unit of {currency}")

    def rule_refs(self, rule: t.CommissionRule) -> list[t.CommissionRef]:
        """Return the ``commission RULE`` references in a rule's base and rates, computed once."""
        found = self.refs_by_rule.get(id(rule))
        if found is None:
            found = (_commission_refs((rule.base, *(row.condition for row in rule.rows)))
                     if self.has_commission_refs else [])
            self.refs_by_rule[id(rule)] = found
        return found

    def check_commission_cycles(self) -> None:
        """Reject commission rules whose rate or base refers back to themselves."""
        refers: dict[str, list[t.CommissionRef]] = {}
        # Every version of a rule counts, so a cycle through any of them is found.
        for rule in self.plan.rules:
            if not isinstance(rule, t.CommissionRule):
                continue
            refers.setdefault(rule.name, []).extend(self.rule_refs(rule))
        for name in refers:
            path = [name]
            stack = [(name, iter(refers[name]))]
            seen = {name}
            while stack:
                current, children = stack[-1]
                ref = next(children, None)
                if ref is None:
                    stack.pop()
                    path.pop()
                    continue
                if ref.rule == name:
                    loop = " -> ".join([*path, name])
                    self.error(f"commission {name} refers to itself: {loop}", ref.pos,
                               "compute the rate and base without this rule's own commission")
                    stack.clear()
                    break
                if ref.rule in refers and ref.rule not in seen:
                    seen.add(ref.rule)
                    path.append(ref.rule)
                    stack.append((ref.rule, iter(refers[ref.rule])))

    def check_quota_cycles(self) -> None:
        """Reject an accelerator whose quota reads, at any remove, its own rule's commission."""
        reads: dict[str, set[str]] = {}
        for rule in self.plan.rules:
            if isinstance(rule, t.CommissionRule):
                found = reads.setdefault(f"rule {rule.name}", set())
                found.update(f"rule {ref.rule}" for ref in self.rule_refs(rule))
                if rule.accelerator is not None:
                    found.add(f"quota {rule.accelerator.quota}")
        for quota in self.plan.quotas:
            measure = quota.measure.base if quota.measure is not None else None
            reads.setdefault(f"quota {quota.name}", set()).update(
                f"rule {ref.rule}" for ref in _commission_refs((measure, quota.condition)))
        for rule in self.plan.rules:
            if not isinstance(rule, t.CommissionRule) or rule.accelerator is None:
                continue
            start = f"rule {rule.name}"
            loop = _path_back(reads, f"quota {rule.accelerator.quota}", start)
            if loop is not None:
                shown = " -> ".join([start, *loop])
                self.error(f"the accelerator of {rule.name} reads its own commission: {shown}",
                           rule.accelerator.quota_pos,
                           "measure the quota without this rule's commission")

    def check_invariant(self, invariant: t.Invariant) -> None:
        metrics = INVARIANT_SCOPES.get(invariant.scope)
        if metrics is None:
            suggestion = _suggest(invariant.scope, INVARIANT_SCOPES)
            self.error(f"an invariant cannot range over {invariant.scope!r}", invariant.scope_pos,
                       suggestion or f"write 'for every' one of {', '.join(INVARIANT_SCOPES)}")
            return
        scope = _Scope("contract", {}, metrics=dict(metrics), cohort=True,
                       place="an invariant", prefix=invariant.scope)
        self.expect(invariant.condition, scope, "boolean", "an invariant")

    # ---- expressions

    def expect(self, expr: t.Expr, scope: _Scope, wanted: str, what: str) -> None:
        found = self.infer(expr, scope)
        if found is None:
            return
        if found == wanted or (found == "number" and wanted in ("count", "money")
                               and _constant_number(expr)):
            return
        self.error(f"{what} must be {_article(wanted)}, but this is {_article(found)}",
                   expr.pos, _conversion_hint(found, wanted))

    def infer(self, expr: t.Expr, scope: _Scope) -> str | None:
        by_class = _INFER_BY_CLASS.get(type(expr))
        found = self._infer(expr, scope) if by_class is None else by_class(self, expr, scope)
        if found is not None:
            self.types[id(expr)] = found
        return found

    def _infer(self, expr: t.Expr, scope: _Scope) -> str | None:  # noqa: PLR0911, PLR0912
        if isinstance(expr, t.Number):
            return "number"
        if isinstance(expr, t.Percent):
            return "percentage"
        if isinstance(expr, t.Text):
            return "text"
        if isinstance(expr, t.DateLiteral):
            return "date"
        if isinstance(expr, t.Boolean):
            return "boolean"
        if isinstance(expr, t.Duration):
            return "duration"
        if isinstance(expr, t.Path):
            return self.resolve(expr, scope)
        if isinstance(expr, t.CustomerStatus):
            if scope.cohort:
                phrase = "new customer" if expr.new else "returning customer"
                self.error(f"'{phrase}' cannot be used in {scope.place}", expr.pos,
                           None if scope.prefix else "put it in the 'members when' line")
                return None
            return "boolean"
        if isinstance(expr, t.FullyRefunded):
            if scope.cohort:
                self.error(f"'fully refunded' cannot be used in {scope.place}", expr.pos,
                           None if scope.prefix else "put it in the 'retained when' line")
                return None
            if expr.within is not None and expr.within.amount < 0:
                self.error("the window must not be negative", expr.within.pos)
            return "boolean"
        if isinstance(expr, t.Aggregate):
            return self.infer_aggregate(expr, scope)
        if isinstance(expr, t.Count):
            return self.infer_count(expr, scope)
        if isinstance(expr, t.CommissionRef):
            return self.infer_commission_ref(expr, scope)
        if isinstance(expr, t.Unary):
            return self.infer_unary(expr, scope)
        if isinstance(expr, t.IsSet):
            self.infer(expr.operand, scope)
            return "boolean"
        if isinstance(expr, t.InList):
            return self.infer_in(expr, scope)
        if isinstance(expr, t.Binary):
            return self.infer_binary(expr, scope)
        raise TypeError(f"unknown expression node {expr!r}")  # pragma: no cover

    def resolve(self, path: t.Path, scope: _Scope) -> str | None:
        # A rule's own scope reads only its subject, so a name that resolved
        # once in such a scope resolves the same way again, without errors.
        plain = (scope.element is None and not scope.metrics and not scope.cohort
                 and scope.prefix is None)
        if plain:
            known = self.plain_resolutions.get((scope.subject, path.names))
            if known is not None:
                self.resolutions[id(path)] = known
                return known.type
        found = self._resolve(path, scope)
        if plain and found is not None:
            self.plain_resolutions[(scope.subject, path.names)] = self.resolutions[id(path)]
        return found

    def _resolve(self, path: t.Path, scope: _Scope) -> str | None:
        first, *rest = path.names
        if first.startswith("__"):
            self.error(f"name {first!r} is not allowed", path.pos,
                       "names starting with two underscores are reserved")
            return None
        root: str
        steps: tuple[str, ...]
        if scope.element is not None and first == scope.element[0]:
            root, current, steps = "element", f"record:{scope.element[1]}", ()
        elif scope.element is not None and first in schema.FIELDS[scope.element[1]]:
            root, current, steps = "element", f"record:{scope.element[1]}", ()
            rest = [first, *rest]
        elif first in scope.metrics and not rest:
            self.resolutions[id(path)] = Resolution("metric", (first,), scope.metrics[first])
            return scope.metrics[first]
        elif scope.prefix is not None and first == scope.prefix and len(rest) == 1:
            if rest[0] not in scope.metrics:
                suggestion = _suggest(rest[0], scope.metrics)
                self.error(f"{scope.prefix} has no value {rest[0]!r}", _name_pos(path, rest[0]),
                           suggestion or f"the values of a {scope.prefix} are"
                           f" {', '.join(sorted(scope.metrics))}")
                return None
            self.resolutions[id(path)] = Resolution("metric", (rest[0],), scope.metrics[rest[0]])
            return scope.metrics[rest[0]]
        elif not scope.cohort and first in _ROOTS[scope.subject]:
            current, steps = _ROOTS[scope.subject][first]
            root = "subject"
        elif not scope.cohort and first in schema.FIELDS[scope.subject]:
            root, current, steps = "subject", f"record:{scope.subject}", ()
            rest = [first, *rest]
        else:
            self.error_unknown_name(first, path, scope)
            return None
        for name in rest:
            record_type = schema.record_type_of(current)
            if record_type is None:
                self.error(f"{'.'.join(path.names)}: {_article(current)} has no field {name!r}",
                           _name_pos(path, name), "remove the last part of the name")
                return None
            fields = schema.FIELDS[record_type]
            if name not in fields:
                suggestion = _suggest(name, fields)
                self.error(f"a {record_type} has no field {name!r}", _name_pos(path, name),
                           suggestion or f"the fields of a {record_type} are {', '.join(fields)}")
                return None
            current = fields[name].type
            steps = (*steps, name)
        self.resolutions[id(path)] = Resolution(root, steps, current)
        return current

    def error_unknown_name(self, name: str, path: t.Path, scope: _Scope) -> None:
        candidates: list[str] = list(scope.metrics)
        if not scope.cohort:
            candidates += list(_ROOTS[scope.subject]) + list(schema.FIELDS[scope.subject])
        if scope.element is not None:
            candidates += [scope.element[0], *schema.FIELDS[scope.element[1]]]
        suggestion = _suggest(name, candidates)
        where = f"in {scope.place}" if scope.cohort else "here"
        self.error(f"unknown name {name!r} {where}", path.pos,
                   suggestion or f"the names in scope are {', '.join(sorted(set(candidates)))}")

    def collection_type(self, name: str, pos: t.Pos, scope: _Scope) -> str | None:
        if name in scope.collections:
            return scope.collections[name]
        suggestion = _suggest(name, scope.collections)
        self.error(f"unknown collection {name!r}", pos,
                   suggestion or f"the collections here are {', '.join(sorted(scope.collections))}")
        return None

    def infer_aggregate(self, expr: t.Aggregate, scope: _Scope) -> str | None:
        member = self.collection_type(expr.collection, expr.pos, scope)
        if member is None:
            return None
        fields = schema.FIELDS[member]
        if expr.field not in fields:
            suggestion = _suggest(expr.field, fields)
            pos = expr.pos
            if pos.line == pos.end_line:
                pos = t.Pos(pos.line, pos.end_column - len(expr.field), pos.line, pos.end_column)
            self.error(f"a {member} has no field {expr.field!r}", pos,
                       suggestion or f"the fields of a {member} are {', '.join(fields)}")
            return None
        field_type = fields[expr.field].type
        if expr.function in ("first", "latest"):
            return field_type
        if expr.function in ("minimum", "maximum"):
            if field_type in schema.NUMERIC_TYPES or field_type == "timestamp":
                return field_type
        elif field_type in schema.NUMERIC_TYPES:
            if expr.function == "average" and field_type == "count":
                return "number"
            return field_type
        self.error(f"cannot take the {expr.function} of {_article(field_type)}", expr.pos,
                   "use first or latest, or a numeric field")
        return None

    def infer_count(self, expr: t.Count, scope: _Scope) -> str | None:
        member = self.collection_type(expr.collection, expr.pos, scope)
        if member is None:
            return None
        if expr.where is not None:
            singular = expr.collection.rstrip("s") if expr.collection != "members" else "member"
            element = _Scope(scope.subject, scope.collections, (singular, member),
                             scope.metrics, scope.cohort)
            if scope.cohort:
                element = _Scope("contract", {}, (singular, member), {}, True)
            found = self.infer(expr.where, element)
            if found is not None and found != "boolean":
                self.error(f"the 'where' condition must be a boolean, but this is {_article(found)}",
                           expr.where.pos,
                           "put the whole condition in parentheses: where (score >= 90)")
        return "count"

    def infer_commission_ref(self, expr: t.CommissionRef, scope: _Scope) -> str | None:
        referenced = self.commission_rules.get(expr.rule)
        if referenced is not None and referenced.subject != "contract":
            self.error(f"commission {expr.rule} is paid on payments, so it has no single"
                       " amount per contract", expr.pos, "refer to a commission rule on contracts")
            return None
        if referenced is not None and referenced.tiers is not None:
            self.error(f"commission {expr.rule} is tiered over a period total, so it has no"
                       " single amount per contract", expr.pos,
                       "refer to a commission rule with a rate")
            return None
        if scope.cohort:
            self.error(f"{scope.place} cannot refer to a commission", expr.pos)
            return None
        if expr.rule in self.unparsed:
            return None
        if expr.rule not in self.commission_rules:
            suggestion = _suggest(expr.rule, self.commission_rules)
            self.error(f"no commission rule is named {expr.rule!r}", expr.pos,
                       suggestion or "name a commission rule of this plan")
            return None
        return "money"

    def infer_unary(self, expr: t.Unary, scope: _Scope) -> str | None:
        operand = self.infer(expr.operand, scope)
        if operand is None:
            return None
        if expr.op == "not":
            if operand != "boolean":
                self.error(f"'not' needs a condition, but this is {_article(operand)}",
                           expr.operand.pos)
                return None
            return "boolean"
        if operand in schema.NUMERIC_TYPES or operand == "percentage":
            return operand
        self.error(f"cannot negate {_article(operand)}", expr.pos)
        return None

    def infer_in(self, expr: t.InList, scope: _Scope) -> str | None:
        operand = self.infer(expr.operand, scope)
        for item in expr.items:
            item_type = self.infer(item, scope)
            if operand is None or item_type is None:
                continue
            if _equality_type(operand, item_type, item) is None:
                self.error(f"cannot compare {operand} with {item_type}", item.pos,
                           "make every listed value the same type as the value tested")
        return "boolean"

    def infer_binary(self, expr: t.Binary, scope: _Scope) -> str | None:  # noqa: PLR0911
        left = self.infer(expr.left, scope)
        right = self.infer(expr.right, scope)
        if left is None or right is None:
            return None
        op = expr.op
        if op in ("and", "or"):
            for side, side_type in ((expr.left, left), (expr.right, right)):
                if side_type != "boolean":
                    self.error(f"'{op}' joins conditions, but this is {_article(side_type)}",
                               side.pos)
                    return None
            return "boolean"
        if op in ("is", "is not", "=", "!="):
            if _equality_type(left, right, expr.right) is None:
                self.error(f"cannot compare {_article(left)} with {_article(right)}"
                           f" ({_type_word(left)} {op} {_type_word(right)})", expr.pos,
                           _comparison_hint(left, right))
                return None
            return "boolean"
        if op in ("<", "<=", ">", ">="):
            if left == right == "text":
                self.error(f"text cannot be ordered with {op!r}", expr.pos,
                           "compare text with 'is', 'is not' or 'in [...]'")
                return None
            if _order_type(left, right, expr.left, expr.right) is None:
                self.error(f"cannot compare {_article(left)} with {_article(right)}"
                           f" ({_type_word(left)} {op} {_type_word(right)})", expr.pos,
                           _comparison_hint(left, right))
                return None
            return "boolean"
        if op == "/" and isinstance(expr.right, t.Number) and expr.right.value == 0:
            self.error("division by zero", expr.right.pos, "divide by a number other than 0")
            return None
        result = _arithmetic_type(op, left, right, expr.left, expr.right)
        if result is None:
            word = "of" if op == "of" else op
            self.error(f"cannot compute {left} {word} {right}", expr.pos,
                       _arithmetic_hint(expr, left, right))
        return result


# Inference for the commonest node classes, found by exact class before
# _infer's chain of isinstance tests. Each returns what the chain returns.
_INFER_BY_CLASS: dict[type, Callable[[_Checker, Any, _Scope], str | None]] = {
    t.Binary: _Checker.infer_binary,
    t.Path: _Checker.resolve,
    t.Text: lambda checker, expr, scope: "text",
    t.Number: lambda checker, expr, scope: "number",
    t.Percent: lambda checker, expr, scope: "percentage",
    t.Unary: _Checker.infer_unary,
    t.InList: _Checker.infer_in,
}


# ---------------------------------------------------------------- type rules


def _commission_refs(roots: Iterable[object]) -> list[t.CommissionRef]:
    """Collect the ``commission RULE`` references under some expressions."""
    found = []
    nodes = list(roots)
    known = _WALK_SLOTS
    while nodes:
        node = nodes.pop()
        if isinstance(node, t.CommissionRef):
            found.append(node)
        kind = type(node)
        slots = known.get(kind)
        if slots is None:
            slots = _walk_slots(kind)
        for slot in slots:
            child = getattr(node, slot)
            if isinstance(child, tuple):
                nodes.extend(child)
            else:
                nodes.append(child)
    return found


# The slots a walk of the syntax tree reads, by node class. A position contains
# only numbers, so walks skip it.
_WALK_SLOTS: dict[type, tuple[str, ...]] = {t.Pos: ()}


def _walk_slots(kind: type) -> tuple[str, ...]:
    slots = _WALK_SLOTS.get(kind)
    if slots is None:
        slots = _WALK_SLOTS[kind] = tuple(getattr(kind, "__slots__", ()))
    return slots


def _path_back(reads: dict[str, set[str]], start: str, goal: str) -> list[str] | None:
    """Return the nodes from ``start`` to ``goal`` along ``reads``, or None (breadth first)."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal:
            path = [node]
            while previous[path[-1]] is not None:
                path.append(previous[path[-1]])  # type: ignore[arg-type]
            return path[::-1]
        for following in sorted(reads.get(node, ())):
            if following not in previous:
                previous[following] = node
                queue.append(following)
    return None


def _shape(node: object) -> object:
    """Return a node's structure without positions, to compare two conditions."""
    if isinstance(node, tuple):
        return tuple([_shape(item) for item in node])
    kind = type(node)
    layout = _SHAPE_LAYOUTS.get(kind, _UNKNOWN)
    if layout is _UNKNOWN:
        slots = getattr(kind, "__slots__", None)
        if slots is None or issubclass(kind, t.Pos):
            layout = None
        else:
            compared = tuple(name for name in slots if name != "pos")
            read: Callable[[Any], tuple[Any, ...]]
            if len(compared) == 1:
                single = operator.attrgetter(compared[0])
                read = lambda node: (single(node),)
            elif compared:
                read = operator.attrgetter(*compared)
            else:
                read = lambda node: ()
            layout = (kind.__name__, read)
        _SHAPE_LAYOUTS[kind] = layout
    if layout is None:
        return node
    name, read = layout
    shape = [name]
    for value in read(node):
        # A value of a _KEPT_WHOLE class is its own shape, so it needs no call.
        shape.append(value if type(value) in _KEPT_WHOLE else _shape(value))
    return tuple(shape)


# By class: None for a value _shape keeps whole, else the class name and a
# function that reads the slots it compares, in order.
_SHAPE_LAYOUTS: dict[type, tuple[str, Callable[[Any], tuple[Any, ...]]] | None] = {}
_UNKNOWN = object()
# Classes without slots, which _shape returns unchanged.
_KEPT_WHOLE = frozenset({str, int, bool, Decimal, type(None), date, datetime})


def _bounds(effective: t.Effective | None) -> tuple[object, object]:
    if effective is None:
        return None, None
    return effective.start, effective.end


def _range_covers(outer: t.Effective | None, inner: t.Effective | None) -> bool:
    """Tell whether every date of ``inner`` lies in ``outer`` (None is unbounded)."""
    outer_start, outer_end = _bounds(outer)
    inner_start, inner_end = _bounds(inner)
    starts_before = outer_start is None or (inner_start is not None and outer_start <= inner_start)
    ends_after = outer_end is None or (inner_end is not None and inner_end <= outer_end)
    return starts_before and ends_after


def _range_overlap(first: t.Effective | None,
                   second: t.Effective | None) -> tuple[object, object] | None:
    """Return the shared part of two date ranges, or None when they are disjoint."""
    a_start, a_end = _bounds(first)
    b_start, b_end = _bounds(second)
    starts = [d for d in (a_start, b_start) if d is not None]
    ends = [d for d in (a_end, b_end) if d is not None]
    start = max(starts) if starts else None  # type: ignore[type-var]
    end = min(ends) if ends else None  # type: ignore[type-var]
    if start is not None and end is not None and start > end:  # type: ignore[operator]
        return None
    return start, end


# The expression nodes that are a level of nesting: a sign or not, an
# operator or comparison, "is set", "in", and "count of ... where".
_LEVELS = (t.Unary, t.Binary, t.IsSet, t.InList, t.Count)


def _deepest(plan: t.PlanTree, max_nesting: int) -> t.Pos | None:
    """Return the outermost expression that nests past ``max_nesting`` levels, without recursion.

    Only the nodes in ``_LEVELS`` count, so ``-1`` is one level and an
    expression of exactly ``max_nesting`` levels is allowed.
    """
    stack: list[tuple[object, int, t.Pos | None]] = [
        (item, 0, None) for item in (*plan.rules, *plan.invariants, *plan.quotas)]
    walked = _DEEPEST_WALKED
    known = _WALK_SLOTS
    while stack:
        node, depth, outermost = stack.pop()
        if isinstance(node, _LEVELS):
            depth += 1
            if outermost is None:
                outermost = node.pos
            if depth > max_nesting:
                return outermost
        kind = type(node)
        slots = known.get(kind)
        if slots is None:
            slots = _walk_slots(kind)
        for name in slots:
            child = getattr(node, name)
            children = child if isinstance(child, tuple) else (child,)
            for item in children:
                kind = type(item)
                walk = walked.get(kind)
                if walk is None:
                    walk = walked[kind] = (hasattr(kind, "__slots__")
                                           and not issubclass(kind, (t.Pos, str)))
                if walk:
                    stack.append((item, depth, outermost))
    return None


# Whether _deepest descends into a value, by class: syntax nodes but not
# positions or text.
_DEEPEST_WALKED: dict[type, bool] = {}


def _kind_word(rule: t.Rule) -> str:
    if isinstance(rule, t.DrawRule):
        return "draw"
    if isinstance(rule, t.OneTimeRule):
        return rule.kind
    return "cohort" if isinstance(rule, t.CohortRule) else "commission"


def _constant_number(node: t.Expr) -> bool:
    """Tell whether an expression is made of number literals only, such as ``100 + 50``."""
    if isinstance(node, t.Number):
        return True
    if isinstance(node, t.Unary) and node.op == "-":
        return _constant_number(node.operand)
    if isinstance(node, t.Binary) and node.op in ("+", "-", "*", "/"):
        return _constant_number(node.left) and _constant_number(node.right)
    return False


def _literal_adapts(node: t.Expr) -> bool:
    return isinstance(node, t.Number) or (
        isinstance(node, t.Unary) and node.op == "-" and isinstance(node.operand, t.Number)
    )


def _equality_type(left: str, right: str, right_node: t.Expr) -> str | None:
    if left == right:
        return left
    numeric = schema.NUMERIC_TYPES
    if left in numeric and right in numeric and ("number" in (left, right) or _literal_adapts(right_node)):
        return left
    if schema.record_type_of(left) and right == "text":
        return "text"
    if left == "timestamp" and right == "date":
        return "date"
    return None


def _order_type(left: str, right: str, left_node: t.Expr, right_node: t.Expr) -> str | None:
    if left in ("boolean", "text") or schema.record_type_of(left):
        return None
    if left == right:
        return left
    numeric = schema.NUMERIC_TYPES
    if left in numeric and right in numeric:
        if "number" in (left, right) or _literal_adapts(left_node) or _literal_adapts(right_node):
            return left
        if {left, right} == {"count", "number"}:
            return "number"
        return None
    if {left, right} == {"timestamp", "date"}:
        return "date"
    return None


def _arithmetic_type(op: str, left: str, right: str, left_node: t.Expr,
                     right_node: t.Expr) -> str | None:
    numeric = schema.NUMERIC_TYPES
    if op == "of":
        if left == "percentage" and right in numeric:
            return right if right == "money" else "number"
        return None
    if op in ("+", "-"):
        if left == right and left in (*numeric, "percentage"):
            return left
        if left in numeric and right in numeric:
            if _literal_adapts(right_node):
                return left
            if _literal_adapts(left_node):
                return right
            if {left, right} == {"count", "number"}:
                return "number"
        return None
    if op == "*":
        if "money" in (left, right):
            other = right if left == "money" else left
            return "money" if other in ("number", "count", "percentage") else None
        if left in numeric and right in numeric:
            if left == right == "count":
                return "count"
            if "count" in (left, right) and (_literal_adapts(left_node) or _literal_adapts(right_node)):
                return "count"
            return "number"
        if "percentage" in (left, right):
            other = right if left == "percentage" else left
            return "number" if other in ("number", "count") else None
        return None
    if op == "/":
        if left == "money" and right == "money":
            return "number"
        if left == "money" and right in ("number", "count"):
            return "money"
        if left in numeric and right in numeric and "money" not in (left, right):
            return "number"
        return None
    return None


def _article(type_name: str) -> str:
    record_type = schema.record_type_of(type_name)
    if record_type is not None:
        return f"a {record_type} record"
    if type_name in ("money", "text"):
        return f"{type_name}"
    return f"a {type_name}" if type_name[0] not in "aeiou" else f"an {type_name}"


def _type_word(type_name: str) -> str:
    record_type = schema.record_type_of(type_name)
    return record_type if record_type is not None else type_name


def _comparison_hint(left: str, right: str) -> str:
    if "timestamp" in (left, right):
        return "compare a timestamp with a date, such as 2025-01-01"
    if schema.record_type_of(left) or schema.record_type_of(right):
        return "compare a record with its id as text, such as contract.rep is \"R1\""
    return "compare values of the same kind: money with money, a date with a date"


def _conversion_hint(found: str, wanted: str) -> str | None:
    if wanted == "money" and found == "percentage":
        return "a percentage needs a base: write '8% of contract.amount'"
    if wanted == "boolean":
        return "write a condition, such as 'contract.amount >= 10000'"
    if wanted == "record:rep":
        return "name a rep, such as contract.rep or customer.owner"
    if wanted == "timestamp":
        return "name a timestamp field, such as contract.signed_at"
    if found == "text" and wanted not in ("text",):
        return "text compares only with text"
    return None


def _arithmetic_hint(expr: t.Binary, left: str, right: str) -> str:
    if expr.op in ("+", "-") and {left, right} == {"percentage", "money"}:
        rate, amount = (expr.left, expr.right) if left == "percentage" else (expr.right, expr.left)
        rate_text = f"{rate.value.normalize():f}%" if isinstance(rate, t.Percent) else "2%"
        amount_text = ".".join(amount.names) if isinstance(amount, t.Path) else "contract.amount"
        return f"a percentage needs a base: write '{rate_text} of {amount_text}' to get money"
    if expr.op == "of":
        return "write a percentage before 'of' and an amount after it, as in '8% of contract.amount'"
    if expr.op == "*" and left == right == "money":
        return "money can be multiplied only by a number, a count or a percentage"
    if expr.op in ("+", "-"):
        return "add and subtract values of the same kind: money with money, counts with counts"
    return "divide money by money, a count or a number"


def _name_pos(path: t.Path, name: str) -> t.Pos:
    """Return the span of one name inside a dotted path, for the caret."""
    if path.pos.line != path.pos.end_line:
        return path.pos
    index = path.names.index(name)
    column = path.pos.column + sum(len(part) + 1 for part in path.names[:index])
    return t.Pos(path.pos.line, column, path.pos.line, column + len(name))


def _suggest(name: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean {matches[0]!r}?" if matches else None


def check_plan(
    plan: t.PlanTree,
    source: str,
    filename: str = "<plan>",
    prior: tuple[Diagnostic, ...] = (),
    unparsed: frozenset[str] = frozenset(),
    incomplete: frozenset[str] = frozenset(),
    limits: Limits = DEFAULT_LIMITS,
    *,
    nesting_bound: int | None = None,
    has_commission_refs: bool = True,
) -> CheckedPlan:
    """Type-check a parsed plan; raise ``PlanError`` listing every error in it.

    ``prior`` contains the parser's diagnostics, which are reported together
    with the checker's. ``unparsed`` names rules whose text did not parse.
    ``nesting_bound`` and ``has_commission_refs`` pass on what the parser
    knows of the tree (``ParseOutcome``): a depth no expression nests past,
    and whether any commission reference exists. They only spare walks of
    the tree; the defaults make the checker find both out itself.
    """
    try:
        return _Checker(plan, source, prior, unparsed, incomplete, limits,
                        nesting_bound, has_commission_refs).run()
    except PlanError as exc:
        raise PlanError(exc.diagnostics, filename) from None


"""The plan's syntax tree: immutable nodes, each with its place in the source.

Nothing outside ``syntax`` sees Lark objects; everything downstream works on
these nodes, which are plain frozen dataclasses and pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Pos:
    """A span of source text: 1-based line and columns, end column exclusive."""

    line: int
    column: int
    end_line: int
    end_column: int


# ---------------------------------------------------------------- expressions


@dataclass(frozen=True, slots=True)
class Number:
    value: Decimal
    pos: Pos


@dataclass(frozen=True, slots=True)
class Percent:
    """A percentage literal; ``value`` is the number before ``%`` (8 for 8%)."""

    value: Decimal
    pos: Pos


@dataclass(frozen=True, slots=True)
class Text:
    value: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class DateLiteral:
    value: date
    pos: Pos


@dataclass(frozen=True, slots=True)
class Boolean:
    value: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class Duration:
    """A length of time in whole ``days`` or ``months``."""

    amount: int
    unit: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Path:
    """A dotted name such as ``contract.customer.owner``."""

    names: tuple[str, ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class CustomerStatus:
    """``new customer`` or ``returning customer``."""

    new: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class FullyRefunded:
    """``fully refunded`` (by the as-of time) or ``fully refunded within 3 months`` of signing."""

    within: Duration | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Aggregate:
    """``first survey.score``: a function over one of the subject's collections."""

    function: str
    collection: str
    field: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Count:
    """``count of complaints where upheld``."""

    collection: str
    where: Expr | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class CommissionRef:
    """``commission base``: the named rule's commission on the subject, as signed."""

    rule: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class Binary:
    """Arithmetic, ``and``/``or``, comparison and ``is``; ``op`` is the operator's text."""

    op: str
    left: Expr
    right: Expr
    pos: Pos


@dataclass(frozen=True, slots=True)
class IsSet:
    operand: Expr
    negated: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class InList:
    operand: Expr
    items: tuple[Expr, ...]
    negated: bool
    pos: Pos


Expr = (
    Number
    | Percent
    | Text
    | DateLiteral
    | Boolean
    | Duration
    | Path
    | CustomerStatus
    | FullyRefunded
    | Aggregate
    | Count
    | CommissionRef
    | Unary
    | Binary
    | IsSet
    | InList
)


# ---------------------------------------------------------------- rules


@dataclass(frozen=True, slots=True)
class Effective:
    """An inclusive range of local dates; either end may be open."""

    start: date | None
    end: date | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class RateRow:
    """One row of a first-match rate table; ``condition`` None means otherwise."""

    rate: Percent
    condition: Expr | None
    effective: Effective | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    """The effect of a refund: ``stop`` re-spreads the entitlement, ``ignore`` keeps all.

    ``clawback`` is ``always``, ``never`` or ``within`` ``clawback_days`` of signing.
    """

    action: str
    clawback: str
    clawback_days: int | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class TierRow:
    """One tier: its rate up to ``bound`` (None for the last, open tier).

    ``inclusive`` is true when a total equal to the bound is still in this tier.
    """

    rate: Percent
    bound: Decimal | None
    inclusive: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class TierTable:
    """Tiers over a period total; with ``by_count`` the bounds count records."""

    mode: str
    rows: tuple[TierRow, ...]
    pos: Pos
    by_count: bool = False


@dataclass(frozen=True, slots=True)
class Band:
    """One attainment band: its multiplier up to ``bound`` (None for the last band).

    ``bound`` is the attainment as a percentage (100 for 100%). ``inclusive``
    is true when an attainment equal to the bound is still in this band.
    """

    multiplier: Decimal
    bound: Decimal | None
    inclusive: bool
    pos: Pos


@dataclass(frozen=True, slots=True)
class Accelerator:
    """Multipliers of a commission by the payee's attainment of ``quota``."""

    quota: str
    bands: tuple[Band, ...]
    pos: Pos
    quota_pos: Pos


@dataclass(frozen=True, slots=True)
class Limit:
    """``cap`` or ``floor`` ``amount`` on each ``line``, ``contract`` or ``period``."""

    kind: str
    amount: Decimal
    scope: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class CommissionRule:
    name: str
    subject: str
    payee: Path | None
    dated_by: Path | None
    effective: Effective | None
    base: Expr | None
    rows: tuple[RateRow, ...]
    installments: Expr | None
    refund: RefundPolicy | None
    pos: Pos
    name_pos: Pos
    clause_positions: tuple[tuple[str, Pos], ...] = ()
    split: tuple[SplitShare, ...] = ()
    tiers: TierTable | None = None
    accelerator: Accelerator | None = None
    limits: tuple[Limit, ...] = ()
    version: int = 0


@dataclass(frozen=True, slots=True)
class SplitShare:
    """One payee's share of a split credit."""

    payee: Path
    share: Percent
    pos: Pos


@dataclass(frozen=True, slots=True)
class OneTimeRule:
    """A bonus, penalty or referral line paid once per subject when a condition holds."""

    kind: str
    name: str
    subject: str
    payee: Path | None
    dated_by: Path | None
    effective: Effective | None
    condition: Expr | None
    amount: Expr | None
    pos: Pos
    name_pos: Pos
    clause_positions: tuple[tuple[str, Pos], ...] = ()
    version: int = 0


@dataclass(frozen=True, slots=True)
class CohortRule:
    """A bonus decided over a payee's cohort of subjects from one period."""

    name: str
    subject: str
    payee: Path | None
    dated_by: Path | None
    effective: Effective | None
    members: Expr | None
    retained: Expr | None
    condition: Expr | None
    amount: Expr | None
    payout_offset_months: int | None
    pos: Pos
    name_pos: Pos
    clause_positions: tuple[tuple[str, Pos], ...] = ()
    version: int = 0


@dataclass(frozen=True, slots=True)
class OverrideLevel:
    level: int
    rate: Percent
    pos: Pos


@dataclass(frozen=True, slots=True)
class OverrideRule:
    """Shares of another rule's lines for the managers up each payee's chain."""

    name: str
    of: str
    levels: tuple[OverrideLevel, ...]
    pos: Pos
    name_pos: Pos
    of_pos: Pos
    subject: str = "contract"
    payee: Path | None = None
    dated_by: Path | None = None
    effective: Effective | None = None
    version: int = 0


@dataclass(frozen=True, slots=True)
class DrawRule:
    """An amount per period advanced (``recoverable``) or guaranteed against another rule's lines.

    ``start`` and ``end`` are periods (``YYYY-MM``); ``condition`` selects the
    reps that get the draw, reading the rep's fields.
    """

    name: str
    of: str
    amount: Decimal | None
    recoverable: bool
    recover_limit: Decimal | None
    condition: Expr | None
    start: str | None
    end: str | None
    pos: Pos
    name_pos: Pos
    of_pos: Pos
    clause_positions: tuple[tuple[str, Pos], ...] = ()
    subject: str = "rep"
    payee: Path | None = None
    dated_by: Path | None = None
    effective: Effective | None = None
    version: int = 0


Rule = CommissionRule | OneTimeRule | CohortRule | OverrideRule | DrawRule


@dataclass(frozen=True, slots=True)
class QuotaMeasure:
    """The measure of a quota: ``total`` of ``base``, or ``count`` of the subject records.

    ``collection`` is the word written after ``count of`` (``contracts``).
    """

    kind: str
    base: Expr | None
    collection: str | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class QuotaTarget:
    """The source of a quota's target: ``target`` records of ``metric``, or ``value``."""

    metric: str | None
    value: Decimal | None
    pos: Pos


@dataclass(frozen=True, slots=True)
class Quota:
    """A measure of each payee's period, and the target it is compared with."""

    name: str
    subject: str
    credited: Path | None
    dated_by: Path | None
    condition: Expr | None
    measure: QuotaMeasure | None
    target: QuotaTarget | None
    pos: Pos
    name_pos: Pos


# ---------------------------------------------------------------- examples


@dataclass(frozen=True, slots=True)
class FieldValue:
    """A value in an example record, kept as its literal kind and text."""

    kind: str
    text: str
    pos: Pos


@dataclass(frozen=True, slots=True)
class RecordLiteral:
    record_type: str
    fields: tuple[tuple[str, FieldValue], ...]
    pos: Pos


@dataclass(frozen=True, slots=True)
class ExpectedLine:
    payee: str
    period: str
    kind: str
    amount: Decimal
    pos: Pos


@dataclass(frozen=True, slots=True)
class Example:
    name: str
    as_of: datetime
    rounding: str | None
    records: tuple[RecordLiteral, ...]
    expected: tuple[ExpectedLine, ...]
    pos: Pos
    # A fragment of the error the records must raise, instead of expected lines.
    invalid: str | None = None
    # Periods through ``closed_through`` were paid before the records of
    # ``closed_before`` arrived.
    closed_through: str | None = None
    closed_before: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Invariant:
    """A property every evaluation must satisfy, for every line, statement, period or payee."""

    name: str
    scope: str
    condition: Expr
    pos: Pos
    scope_pos: Pos


@dataclass(frozen=True, slots=True)
class Alert:
    """A warning on a quota: ``behind`` pace by more than ``percent``, or ``below`` a share of target."""

    name: str
    kind: str
    quota: str
    percent: Percent
    pos: Pos
    name_pos: Pos
    quota_pos: Pos


# ---------------------------------------------------------------- plan


@dataclass(frozen=True, slots=True)
class ExchangeRate:
    """One unit of ``currency`` is ``rate`` units of the plan's currency from ``start`` on."""

    currency: str
    rate: Decimal
    start: date
    pos: Pos


@dataclass(frozen=True, slots=True)
class PlanVersion:
    """A later version of a plan: its rules price events governed on or after ``start``."""

    name: str
    start: date
    pos: Pos


@dataclass(frozen=True, slots=True)
class PlanTree:
    name: str
    version: str
    currency: str | None
    rounding: str | None
    rules: tuple[Rule, ...]
    examples: tuple[Example, ...]
    pos: Pos
    settings_positions: tuple[tuple[str, Pos], ...] = ()
    invariants: tuple[Invariant, ...] = ()
    quotas: tuple[Quota, ...] = ()
    alerts: tuple[Alert, ...] = ()
    # The versions after the header's; a rule's ``version`` is 0 for the
    # header's, or 1 + its index here.
    versions: tuple[PlanVersion, ...] = ()
    exchange_rates: tuple[ExchangeRate, ...] = ()

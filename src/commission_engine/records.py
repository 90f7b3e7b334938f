"""Typed customer-lifecycle records, their validation, and the indexed ``RecordSet``.

Records arrive as dictionaries (or JSON Lines read by the CLI with JSON numbers
as ``Decimal``). Each is a frozen pydantic dataclass with slots.
``load_records`` validates a whole batch, checks every reference and
cross-record rule, and raises one ``RecordError`` that lists every problem;
nothing half-validated is returned.
"""

from __future__ import annotations

import bisect
import dataclasses
import difflib
import functools
import io
import itertools
import json
import math
import numbers
import operator
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, localcontext
from typing import Annotated, Any, Literal, Union, overload
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
)
from pydantic import dataclasses as pydantic_dataclasses

from . import collector, money
from .errors import EvaluationError, Problem, RecordError, escape_value, shorten
from .limits import DEFAULT_LIMITS, Limits, raise_hint
from .revisions import apply_revisions

__all__ = [
    "Complaint",
    "Contract",
    "Customer",
    "Payment",
    "Record",
    "RecordSet",
    "Refund",
    "Rep",
    "Satisfaction",
    "Session",
    "Target",
    "load_records",
]

# Amount texts longer than this are rejected before Decimal parses them.
MAX_AMOUNT_TEXT = 40

_MONEY_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
# Amount text that passes every check under the default limits: at most
# max_amount_digits digits before the point, and at most MAX_AMOUNT_TEXT
# characters with the sign and the point.
_COMMON_INTEGER_DIGITS = DEFAULT_LIMITS.max_amount_digits
_COMMON_MONEY_TEXT = re.compile(
    f"-?[0-9]{{1,{_COMMON_INTEGER_DIGITS}}}"
    f"(?:\\.[0-9]{{1,{MAX_AMOUNT_TEXT - _COMMON_INTEGER_DIGITS - 2}}})?")
_PERIOD_TEXT = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
# The timestamp forms the records accept, a subset of what
# datetime.fromisoformat reads: calendar dates, T or a space before the time,
# at most microseconds, and Z or a numeric offset. The JSON Schema uses the
# same pattern.
_DATE_TEXT = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_TIME_TEXT = r"[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]{1,6})?)?"
_OFFSET_TEXT = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)"
_TIMESTAMP_TEXT = re.compile(_DATE_TEXT + _TIME_TEXT + _OFFSET_TEXT)
_LOCAL_TIME_TEXT = re.compile(_DATE_TEXT + f"(?P<time>{_TIME_TEXT})?")
# The usual timestamp form, a subset of _TIMESTAMP_TEXT: T, seconds, an
# optional fraction after a point, and Z or +HH:MM. Its years, 1900 to 2199,
# are within MIN_YEAR and MAX_YEAR.
_COMMON_TIMESTAMP_TEXT = re.compile(
    r"(?:19|2[01])[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?"
    r"(?:[+-][0-9]{2}:[0-9]{2}|Z)")


def is_accepted_timestamp(text: str) -> bool:
    """Tell whether text is a timestamp in the form records take, such as 2025-06-30T00:00:00Z."""
    return _TIMESTAMP_TEXT.fullmatch(text) is not None
# Timestamps outside these years are typing mistakes, and calendar arithmetic
# near year 1 or 9999 overflows Python's datetime.
MIN_YEAR = 1900
MAX_YEAR = 2200
_AS_OF_EXAMPLE = "datetime.fromisoformat('2025-06-30T00:00:00+08:00')"


def check_as_of(as_of: Any) -> None:
    """Check an as-of time passed to the Python API: an aware datetime in the years allowed.

    Raise ``TypeError`` for a value that is not a datetime, and
    ``EvaluationError`` for a naive one or one outside the years 1900 to 2200,
    the bound the command line and the records use.
    """
    if not isinstance(as_of, datetime):
        msg = f"as_of must be a datetime, not {type(as_of).__name__}; use {_AS_OF_EXAMPLE}"
        raise TypeError(msg)
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        msg = f"as_of {as_of.isoformat()} has no UTC offset; pass an aware datetime"
        raise EvaluationError(msg)
    if not MIN_YEAR <= as_of.year <= MAX_YEAR:
        msg = (f"as_of {as_of.isoformat()} is out of range: the year must be from {MIN_YEAR}"
               f" to {MAX_YEAR}; pass a time within those years, such as {_AS_OF_EXAMPLE}")
        raise EvaluationError(msg)


class FieldError(ValueError):
    """A field value that failed validation, with the fix kept apart from the message."""

    def __init__(self, message: str, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.fix = fix


def _limits(info: ValidationInfo) -> Limits:
    """Return the limits ``load_records`` passed as validation context, or the defaults."""
    context = info.context
    if isinstance(context, dict):
        limits = context.get("limits")
        if isinstance(limits, Limits):
            return limits
    return DEFAULT_LIMITS


def _check_exponent(value: Decimal, field_name: str, limits: Limits) -> None:
    if not limits.exponent_fits(value):
        exponent = value.as_tuple().exponent
        raise FieldError(
            f"{field_name} {value} has the exponent {exponent}, outside the limit of"
            f" -{limits.max_exponent} to {limits.max_exponent} (max_exponent)",
            "write the number in plain digits; " + raise_hint("max_exponent"))


def _parse_money(value: Any, info: ValidationInfo) -> Decimal:
    # Plain digits under the default limits pass every check (see
    # _COMMON_MONEY_TEXT). Any other value takes _read_money, which writes
    # every message.
    if type(value) is str and _COMMON_MONEY_TEXT.fullmatch(value) and info.context is None:
        return Decimal(value)
    return _read_money(value, info)


def _read_money(value: Any, info: ValidationInfo) -> Decimal:
    limits = _limits(info)
    max_digits = limits.max_amount_digits
    if type(value) is str and len(value) <= MAX_AMOUNT_TEXT and _MONEY_TEXT.fullmatch(value):
        # The usual form, plain digits in a JSON string, skips the type tests
        # below, which it would pass.
        amount = Decimal(value)
    elif isinstance(value, bool):
        raise FieldError(f"amount {value!r} is a boolean, not a number",
                         'write the amount as a string such as "12000.00"')
    elif isinstance(value, float):
        example = f"{value:.2f}" if math.isfinite(value) else "12000.00"
        raise FieldError(
            f"amount {value!r} is a float, which cannot hold cents exactly",
            f'pass it as a string such as "{example}" or as a Decimal',
        )
    elif isinstance(value, numbers.Integral):
        # An int, or an integer type of numpy or pandas, which HR data often has.
        whole = operator.index(value)
        if abs(whole) >= 10**max_digits:
            # Checked before Decimal(), which is slow on a huge int:
            # 10**1_000_000 took 12.5 s to convert (CPython 3.11).
            raise _too_large(whole, max_digits)
        amount = Decimal(whole)
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise FieldError(f"amount {value} is not a finite number",
                             'write a number such as "12000.00"')
        _check_exponent(value, "amount", limits)
        amount = value
    elif isinstance(value, str):
        if len(value) > MAX_AMOUNT_TEXT:
            raise FieldError(
                f"amount {value[:20]!r}... is {len(value)} characters long,"
                f" more than the {MAX_AMOUNT_TEXT} allowed",
                f"amounts must be below 10**{max_digits}",
            )
        if not _MONEY_TEXT.fullmatch(value):
            raise FieldError(f"amount {value!r} is not a decimal number",
                             'write it like "12000.00", with a point and no separators')
        amount = Decimal(value)
    else:
        raise FieldError(f"amount {value!r} is not a number",
                         'write it as a string such as "12000.00"')
    if amount and amount.adjusted() >= max_digits:
        raise _too_large(amount, max_digits)
    return amount


def _too_large(amount: int | Decimal, max_digits: int) -> FieldError:
    return FieldError(
        f"amount {_short_number(amount)} is too large: it has more than {max_digits} digits"
        " before the point (max_amount_digits)",
        f"amounts must be below 10**{max_digits}; " + raise_hint("max_amount_digits"))


def _check_target_value(value: Decimal) -> Decimal:
    # A quota divides its measure by the target, so a zero or negative target
    # has no attainment; rejecting it here makes every command agree.
    if value <= 0:
        raise FieldError(f"target value {value} is not positive",
                         "set a target above 0, or remove the target record")
    return value


def _parse_timestamp(value: Any) -> datetime:
    # Text in the usual form, with an offset that an earlier timestamp has
    # registered, skips the checks of _read_timestamp, because the pattern
    # keeps the year in range. Any other value, and a date that does not
    # exist, takes _read_timestamp, which writes every message.
    if type(value) is str and _COMMON_TIMESTAMP_TEXT.fullmatch(value):
        cut = -1 if value[-1] == "Z" else -6
        shared = _SHARED_OFFSET_TEXTS.get(value[cut:])
        if shared is not None:
            try:
                parsed = datetime.fromisoformat(value[:cut])
            except ValueError:
                pass
            else:
                # combine attaches the tzinfo in about 0.1 us, and
                # replace(tzinfo=...) takes 0.5 us (timeit, CPython 3.11).
                return datetime.combine(parsed, parsed.time(), shared)
    return _read_timestamp(value)


def _offset_of(value: datetime) -> timedelta | None:
    """Return a datetime's UTC offset, or raise ``FieldError`` when its tzinfo fails to give one."""
    fix = "attach a fixed offset, such as timezone(timedelta(hours=8)), or pass text"
    try:
        offset = value.utcoffset()
    except (TypeError, ValueError, ArithmeticError, RuntimeError) as exc:
        # A broken tzinfo, an offset of a day or more, or pandas' NaT.
        raise FieldError(f"the time zone of timestamp {value!r} failed to give a UTC offset"
                         f" ({exc})", fix) from None
    if offset is not None and not isinstance(offset, timedelta):
        raise FieldError(f"the time zone of timestamp {value!r} gave {offset!r} as its UTC"
                         " offset, not a timedelta", fix)
    return offset


def _plain_datetime(value: datetime) -> datetime:
    """Return a datetime subclass, such as pandas' Timestamp, as a plain ``datetime``.

    A subclass writes its own ``isoformat``, which the canonical records and
    the digest would then contain.
    """
    if getattr(value, "nanosecond", 0):
        raise FieldError(f"timestamp {value!r} has nanoseconds, which record text cannot carry",
                         "round it to whole microseconds first")
    return datetime(value.year, value.month, value.day, value.hour, value.minute, value.second,
                    value.microsecond, value.tzinfo, fold=value.fold)


def _read_timestamp(value: Any) -> datetime:
    example = "2025-03-01T10:00:00+08:00"
    if isinstance(value, datetime):
        offset = _offset_of(value)
        if value.tzinfo is None or offset is None:
            raise FieldError(f"timestamp {value.isoformat()} has no UTC offset",
                             "attach a time zone to the datetime")
        if offset % _MINUTE:
            # JSON Lines text, and so the canonical records that the digest
            # covers, accept only offsets in whole minutes.
            raise FieldError(
                f"timestamp {value.isoformat()} has a UTC offset with seconds,"
                " which record text cannot carry",
                "convert it to UTC first, with .astimezone(timezone.utc)")
        if type(value.tzinfo) is not timezone:
            # In the hour a clock is set back, a zone such as ZoneInfo gives two
            # instants one wall time, distinguished only by fold, and Python
            # compares two datetimes of one tzinfo by wall time alone. A fixed
            # offset, as text gives, keeps the instant and the same text.
            value = value.replace(tzinfo=timezone(offset), fold=0)
        if type(value) is not datetime:
            value = _plain_datetime(value)
        return _in_range(_share_offset(value), value.isoformat())
    if not isinstance(value, str):
        raise FieldError(f"timestamp {value!r} is not text",
                         f'write it as ISO 8601 with an offset, such as "{example}"')
    if _TIMESTAMP_TEXT.fullmatch(value):
        # For a +HH:MM offset already read, parse the rest and attach the
        # offset's shared tzinfo, the one _share_offset would return.
        shared = _SHARED_OFFSET_TEXTS.get(value[-6:])
        try:
            if shared is not None:
                parsed = datetime.fromisoformat(value[:-6])
            else:
                parsed = datetime.fromisoformat(value)
        except ValueError:
            raise FieldError(f"timestamp {value!r} is not a valid date and time",
                             f'write it like "{example}"') from None
        if shared is not None:
            return _in_range(parsed.replace(tzinfo=shared), value)
        result = _share_offset(parsed)
        _remember_offset_text(value, result)
        return _in_range(result, value)
    local = _LOCAL_TIME_TEXT.fullmatch(value)
    if local:
        _check_local_time(value, example)
        # A date alone gets a midnight; a written time keeps its separator.
        written = value if local.group("time") else f"{value}T00:00:00"
        raise FieldError(
            f"timestamp {value!r} has no UTC offset, so the time it names is ambiguous",
            f'add one, such as "{written}+08:00" or "{written}Z"',
        )
    raise FieldError(f"timestamp {value!r} is not ISO 8601 in the accepted form",
                     _timestamp_form_fix(value, example))


def _check_local_time(value: str, example: str) -> None:
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(f"timestamp {value!r} is not a valid date and time",
                         f'write it like "{example}"') from None


def _timestamp_form_fix(value: str, example: str) -> str:
    """Return the fix for a timestamp that Python may read but the records do not accept."""
    form = f'write it as YYYY-MM-DDTHH:MM:SS with an offset, like "{example}"'
    if re.match(r"[0-9]{4}-?W", value):
        return "an ISO week date is not accepted; " + form
    if re.match(r"[0-9]{4}-[0-9]{2}-[0-9]{2}t", value):
        return "write the T between date and time in upper case"
    return form


# One tzinfo object per UTC offset read from text. fromisoformat makes a new
# timezone for every timestamp, and CPython compares two aware datetimes
# without computing their offsets only when they share one tzinfo object
# (0.14 us against 3.6 us a comparison, timeit, CPython 3.11). Bounded,
# because hostile input may write many distinct offsets.
_SHARED_OFFSETS: dict[timedelta | None, tzinfo] = {}
_MINUTE = timedelta(minutes=1)
_MAX_SHARED_OFFSETS = 1024


def _share_offset(parsed: datetime) -> datetime:
    """Give a parsed timestamp the shared tzinfo of its offset; the time and text stay the same."""
    zone = parsed.tzinfo
    assert zone is not None
    offset = parsed.utcoffset()
    shared = _SHARED_OFFSETS.get(offset)
    if shared is None:
        if len(_SHARED_OFFSETS) < _MAX_SHARED_OFFSETS:
            _SHARED_OFFSETS[offset] = zone
        return parsed
    return parsed if shared is zone else parsed.replace(tzinfo=shared)


# The shared tzinfo of each offset text such as "+08:00" or "Z", filled from
# timestamps that parsed whole. Bounded like _SHARED_OFFSETS.
_SHARED_OFFSET_TEXTS: dict[str, tzinfo] = {}


def _remember_offset_text(value: str, parsed: datetime) -> None:
    text = "Z" if value[-1] == "Z" else value[-6:]
    # Only Z and the +HH:MM form: in the accepted timestamps, no other
    # offset puts a sign six characters from the end.
    if text in _SHARED_OFFSET_TEXTS or (
            text != "Z" and (text[0] not in "+-" or text[3] != ":")):
        return
    if len(_SHARED_OFFSET_TEXTS) >= _MAX_SHARED_OFFSETS:
        return
    if _SHARED_OFFSETS.get(parsed.utcoffset()) is parsed.tzinfo:
        _SHARED_OFFSET_TEXTS[text] = parsed.tzinfo


def _in_range(parsed: datetime, value: object) -> datetime:
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise FieldError(f"timestamp {value} is out of range",
                         f"use a year from {MIN_YEAR} to {MAX_YEAR}")
    return parsed


@functools.cache
def _known_zones() -> frozenset[str]:
    # Checking a name against the list first means a record never makes
    # ZoneInfo open a path of its choosing: "Asia" is a folder, and a name
    # of 5,000 characters is too long for the file system.
    return frozenset(available_timezones())


def _parse_timezone(value: Any) -> str:
    fix = 'write an IANA name such as "Asia/Shanghai"'
    if not isinstance(value, str):
        raise FieldError(f"time zone {value!r} is not text", fix)
    shown = value if len(value) <= 60 else value[:60] + "..."
    if value not in _known_zones():
        raise FieldError(f"time zone {shown!r} is unknown", fix)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise FieldError(f"time zone {shown!r} cannot be loaded", fix) from None
    return value


def _parse_period(value: Any) -> str:
    if not isinstance(value, str) or not _PERIOD_TEXT.fullmatch(value):
        raise FieldError(f"period {value!r} is not a month",
                         'write it as YYYY-MM, such as "2025-03"')
    return value


def _parse_currency(value: Any) -> str:
    if not isinstance(value, str) or not money.is_known_currency(value):
        raise FieldError(f"currency {value!r} is not a known ISO 4217 code",
                         'write one such as "CNY", "USD" or "JPY"')
    return value


def _whole_number(field_name: str, low: int, high: int | str, unit: str) -> Any:
    """Build a validator of a whole number from ``low`` to ``high``.

    ``high`` is a number, or the name of the ``Limits`` field that contains it.
    """
    default_top = getattr(DEFAULT_LIMITS, high) if isinstance(high, str) else high

    def parse(value: Any, info: ValidationInfo) -> int:
        # An int in range under the default limits passes every check below.
        if type(value) is int and low <= value <= default_top and info.context is None:
            return value
        limits = _limits(info)
        top = getattr(limits, high) if isinstance(high, str) else high
        fix = f"write a whole number of {unit} from {low} to {top}"
        if isinstance(high, str):
            fix += "; " + raise_hint(high)
        if isinstance(value, Decimal) and value.is_finite():
            _check_exponent(value, field_name, limits)
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            # An integer type of numpy or pandas, which HR data often has.
            value = operator.index(value)
        if isinstance(value, numbers.Number) and not isinstance(value, (bool, int, Decimal)):
            raise FieldError(f"{field_name} {_show(value)} is a {type(value).__name__}, not an"
                             " integer", fix)
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)) or (
            isinstance(value, Decimal)
            and (not value.is_finite() or value != value.to_integral_value())
        ):
            raise FieldError(f"{field_name} {_show(value)} is not a whole number", fix)
        # The range is checked before int(), which is slow on a huge exponent.
        if not low <= value <= top:
            raise FieldError(f"{field_name} {_short_number(value)} is out of range", fix)
        return int(value)

    return BeforeValidator(parse)


def _short_number(value: int | Decimal) -> str:
    # Python refuses to print an int of more than 4300 digits, and a message
    # needs no more than the magnitude.
    if isinstance(value, int) and abs(value) >= 10**30:
        sign = "-" if value < 0 else ""
        return f"{sign}(a number of more than 30 digits)"
    text = str(value)
    if len(text) > 40:
        # A Decimal with thousands of digits: six of them show its size.
        return f"{value:.6E}"
    return text



def _whole_number_schema(low: int, high: int) -> WithJsonSchema:
    return WithJsonSchema({"type": "integer", "minimum": low, "maximum": high})


# The JSON Schema of each field type describes what the validators accept from
# JSON. Money may be a JSON number with decimals, because the command line
# reads JSON numbers as Decimal. A caller whose JSON reader turns them into
# floats should send decimal strings instead.
_MONEY_SCHEMA = WithJsonSchema({
    "anyOf": [
        {"type": "string", "pattern": _MONEY_TEXT.pattern.join("^$"),
         "maxLength": MAX_AMOUNT_TEXT},
        {"type": "number"},
    ],
    "description": f"an exact amount below 10**{DEFAULT_LIMITS.max_amount_digits}, such as \"12000.00\","
                   " with no more decimals than the currency's minor unit. A JSON number"
                   " is read exactly only by a reader that keeps decimals (Python's json"
                   " with parse_float=Decimal, as the command line does); prefer a string.",
})
_TIMESTAMP_SCHEMA = WithJsonSchema({
    "type": "string",
    "format": "date-time",
    # ISO 8601 with a UTC offset, in exactly the forms the loader accepts.
    "pattern": _TIMESTAMP_TEXT.pattern.join("^$"),
    "description": f"ISO 8601 with a UTC offset, years {MIN_YEAR} to {MAX_YEAR}",
})

Money = Annotated[Decimal, BeforeValidator(_parse_money), _MONEY_SCHEMA]
TargetValue = Annotated[Decimal, BeforeValidator(_parse_money),
                        AfterValidator(_check_target_value), _MONEY_SCHEMA]
Timestamp = Annotated[datetime, BeforeValidator(_parse_timestamp), _TIMESTAMP_SCHEMA]
# Every text field is strict: pydantic's lax mode would turn bytes into text.
# Names, teams, regions and products are printed in progress tables and
# payslips. So they exclude the characters that drive a terminal or reorder
# the text after them, listed below. The right-to-left marks stay allowed,
# as right-to-left names use them. A refund's reason may also hold tabs and
# line breaks, as CRM notes do.
_TEXT_FORBIDDEN = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_NOTE_FORBIDDEN = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
MAX_TEXT_CHARS = 1000
Text = Annotated[str, Strict(), Field(max_length=MAX_TEXT_CHARS,
                                      pattern=f"^[^{_TEXT_FORBIDDEN}]*$")]
NoteText = Annotated[str, Strict(), Field(max_length=MAX_TEXT_CHARS,
                                          pattern=f"^[^{_NOTE_FORBIDDEN}]*$")]
Flag = Annotated[bool, Strict()]
TimeZoneName = Annotated[str, Strict(), BeforeValidator(_parse_timezone), WithJsonSchema(
    {"type": "string", "description": "an IANA time zone name, such as Asia/Shanghai"})]
PeriodText = Annotated[str, Strict(), BeforeValidator(_parse_period), WithJsonSchema(
    {"type": "string", "pattern": _PERIOD_TEXT.pattern.join("^$")})]
CurrencyCode = Annotated[str, Strict(), BeforeValidator(_parse_currency), WithJsonSchema(
    {"type": "string", "enum": list(money.known_currencies())})]
# Ids are printed in statements and terminals: no control characters.
# Ids exclude the characters of Unicode category Cc (C0, DEL and C1 controls),
# the line and paragraph separators, and the bidirectional marks and
# controls, which would reorder the text printed after them. The pattern is
# written so that pydantic, Python and JSON Schema read it alike, and it is
# the set that errors.escape_value writes as \uXXXX in messages.
_ID_FORBIDDEN = r"\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ID_FORBIDDEN_TEXT = re.compile(f"[{_ID_FORBIDDEN}]")
MAX_ID_CHARS = 200
Identifier = Annotated[str, Strict(), Field(min_length=1, max_length=MAX_ID_CHARS,
                                  pattern=f"^[^{_ID_FORBIDDEN}]+$")]


class _Record:
    """The base of every record type, for ``isinstance`` tests."""

    __slots__ = ()


# A record is a frozen dataclass with slots, not a pydantic BaseModel. A
# BaseModel instance keeps a __dict__ and a set of the fields it was given:
# 1,215 bytes a payment against 294 (tracemalloc, 751,567 payments), and
# 2.15 s against 1.77 s to validate them from JSON. A strict dataclass
# rejects a dict from Python, so the dataclass is lax and each field type is
# strict instead (Text, Flag and the Strict() in the others).
_record = pydantic_dataclasses.dataclass(
    frozen=True, slots=True, kw_only=True, config=ConfigDict(extra="forbid"))


@_record
class Rep(_Record):
    """A payee: a member of staff or an agent, in one IANA time zone."""

    type: Literal["rep"] = "rep"
    id: Identifier
    name: Text
    timezone: TimeZoneName
    kind: Literal["staff", "agent"]
    team: Text
    region: Text
    manager: Identifier | None = None


@_record
class Customer(_Record):
    type: Literal["customer"] = "customer"
    id: Identifier
    owner: Identifier
    referred_by: Identifier | None = None
    created_at: Timestamp


@_record
class Contract(_Record):
    type: Literal["contract"] = "contract"
    id: Identifier
    customer: Identifier
    rep: Identifier
    product: Text
    amount: Money
    currency: CurrencyCode
    signed_at: Timestamp
    term_months: Annotated[int, _whole_number("term_months", 1, "max_term_months", "months"),
                           _whole_number_schema(1, DEFAULT_LIMITS.max_term_months)]


@_record
class Payment(_Record):
    type: Literal["payment"] = "payment"
    id: Identifier
    contract: Identifier
    amount: Money
    paid_at: Timestamp


@_record
class Refund(_Record):
    type: Literal["refund"] = "refund"
    id: Identifier
    contract: Identifier
    amount: Money
    refunded_at: Timestamp
    reason: NoteText
    payment: Identifier | None = None


@_record
class Session(_Record):
    type: Literal["session"] = "session"
    id: Identifier
    contract: Identifier
    held_at: Timestamp
    minutes: Annotated[int, _whole_number("minutes", 0, 24 * 60, "minutes"),
                       _whole_number_schema(0, 24 * 60)]


@_record
class Satisfaction(_Record):
    """A satisfaction survey of a contract's customer, scored 0 to 100."""

    type: Literal["satisfaction"] = "satisfaction"
    id: Identifier
    contract: Identifier
    score: Annotated[int, _whole_number("score", 0, 100, "points"),
                     _whole_number_schema(0, 100)]
    surveyed_at: Timestamp


@_record
class Complaint(_Record):
    type: Literal["complaint"] = "complaint"
    id: Identifier
    contract: Identifier
    filed_at: Timestamp
    upheld: Flag


@_record
class Target(_Record):
    """A payee's target for one metric in one period (``YYYY-MM``)."""

    type: Literal["target"] = "target"
    rep: Identifier
    period: PeriodText
    metric: Identifier
    value: TargetValue


Record = Annotated[
    Union[Rep, Customer, Contract, Payment, Refund, Session, Satisfaction, Complaint, Target],
    Field(discriminator="type"),
]

RECORD_TYPES: dict[str, type[_Record]] = {
    "rep": Rep,
    "customer": Customer,
    "contract": Contract,
    "payment": Payment,
    "refund": Refund,
    "session": Session,
    "satisfaction": Satisfaction,
    "complaint": Complaint,
    "target": Target,
}

def _fields_of(cls: type[_Record]) -> tuple[dataclasses.Field[Any], ...]:
    # The _record decorator makes every record type a dataclass, which mypy
    # cannot see through pydantic's decorator.
    return dataclasses.fields(cls)  # type: ignore[arg-type]


# The field names of each record type, in declaration order: the order of
# a record's canonical JSON, which the digest covers.
FIELD_NAMES: dict[type[_Record], tuple[str, ...]] = {
    cls: tuple(item.name for item in _fields_of(cls)) for cls in RECORD_TYPES.values()
}


# The fields each record type may leave out, which then hold None.
OPTIONAL_FIELDS: dict[type[_Record], tuple[str, ...]] = {
    cls: optional for cls in RECORD_TYPES.values()
    if (optional := tuple(item.name for item in _fields_of(cls) if item.default is None))
}


def field_names(record: _Record) -> tuple[str, ...]:
    """Return the field names of a record's type, in declaration order.

    A subclass of a record type has the fields of the type it extends.
    """
    names = FIELD_NAMES.get(type(record))
    if names is None:
        names = FIELD_NAMES[RECORD_TYPES[record.type]]  # type: ignore[attr-defined]
    return names


def record_data(record: _Record) -> dict[str, Any]:
    """Return a record's fields as a dict of its own values, in declaration order."""
    return {name: getattr(record, name) for name in field_names(record)}


# The time each kind of record happens at; a record is seen by an evaluation
# only when this time is at or before the as-of time.
EVENT_TIME_FIELD: dict[str, str] = {
    "customer": "created_at",
    "contract": "signed_at",
    "payment": "paid_at",
    "refund": "refunded_at",
    "session": "held_at",
    "satisfaction": "surveyed_at",
    "complaint": "filed_at",
}

# Built once: building adapters repeatedly leaks memory in pydantic 2.
_RECORD_LIST = TypeAdapter(list[Record])
_RECORD = TypeAdapter(Record)


# ---------------------------------------------------------------- the record set


@dataclass(frozen=True)
class RecordSet:
    """Validated records, indexed by id and by contract.

    Each per-contract tuple is sorted by event time, then id, which is the
    order "first survey" and "earlier contract" refer to.
    """

    reps: Mapping[str, Rep]
    customers: Mapping[str, Customer]
    contracts: Mapping[str, Contract]
    payments: Mapping[str, Payment]
    refunds: Mapping[str, Refund]
    sessions: Mapping[str, Session]
    surveys: Mapping[str, Satisfaction]
    complaints: Mapping[str, Complaint]
    targets: tuple[Target, ...]
    contracts_of_customer: Mapping[str, tuple[Contract, ...]] = field(repr=False)
    payments_of: Mapping[str, tuple[Payment, ...]] = field(repr=False)
    refunds_of: Mapping[str, tuple[Refund, ...]] = field(repr=False)
    sessions_of: Mapping[str, tuple[Session, ...]] = field(repr=False)
    surveys_of: Mapping[str, tuple[Satisfaction, ...]] = field(repr=False)
    complaints_of: Mapping[str, tuple[Complaint, ...]] = field(repr=False)
    positions: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def all_records(self) -> Iterable[_Record]:
        """Yield every record in a canonical order: by type, then by id."""
        for group in (
            self.reps, self.customers, self.contracts, self.payments, self.refunds,
            self.sessions, self.surveys, self.complaints,
        ):
            for key in sorted(group):
                yield group[key]
        yield from sorted(self.targets, key=lambda r: (r.rep, r.period, r.metric))

    def visible_at(self, as_of: datetime) -> RecordSet:
        """Return the records dated at or before ``as_of``.

        Reps, customers and targets are reference data and always visible: a
        customer's ``created_at`` is an attribute, since a CRM may record it
        after the customer's first contract.
        """
        contracts = _visible_contracts(self.contracts, as_of)
        payments_of, payments_cut = _visible_prefixes(self.payments_of, "paid_at", as_of)
        refunds_of, refunds_cut = _visible_prefixes(self.refunds_of, "refunded_at", as_of)
        sessions_of, sessions_cut = _visible_prefixes(self.sessions_of, "held_at", as_of)
        surveys_of, surveys_cut = _visible_prefixes(self.surveys_of, "surveyed_at", as_of)
        complaints_of, complaints_cut = _visible_prefixes(self.complaints_of, "filed_at", as_of)

        every_contract = len(contracts) == len(self.contracts)

        def of_visible_contracts(index: Mapping[str, tuple[Any, ...]]) -> Mapping[str, Any]:
            # Every key of an index is a contract id, so when no contract is
            # hidden, the index keeps all of its keys.
            if every_contract:
                return index
            return {key: kept for key, kept in index.items() if key in contracts}

        return RecordSet(
            reps=self.reps,
            customers=self.customers,
            contracts=contracts,
            payments=_visible_table(self.payments, self.payments_of, payments_of, payments_cut),
            refunds=_visible_table(self.refunds, self.refunds_of, refunds_of, refunds_cut),
            sessions=_visible_table(self.sessions, self.sessions_of, sessions_of, sessions_cut),
            surveys=_visible_table(self.surveys, self.surveys_of, surveys_of, surveys_cut),
            complaints=_visible_table(self.complaints, self.complaints_of, complaints_of,
                                      complaints_cut),
            targets=self.targets,
            contracts_of_customer=self._visible_contracts_of_customer(contracts),
            payments_of=of_visible_contracts(payments_of),
            refunds_of=of_visible_contracts(refunds_of),
            sessions_of=of_visible_contracts(sessions_of),
            surveys_of=of_visible_contracts(surveys_of),
            complaints_of=of_visible_contracts(complaints_of),
            positions=self.positions,
        )

    def _visible_contracts_of_customer(self, contracts: Mapping[str, Contract]
                                       ) -> Mapping[str, tuple[Contract, ...]]:
        """Keep each customer's visible contracts, dropping customers left with none."""
        if len(contracts) == len(self.contracts):
            return self.contracts_of_customer
        return {
            key: kept
            for key, items in self.contracts_of_customer.items()
            if (kept := tuple(c for c in items if c.id in contracts))
        }

    def canonical(self) -> list[dict[str, Any]]:
        """Return every record as plain JSON data, in the canonical order."""
        return [_canonical_record(record) for record in self.all_records()]

    @functools.cached_property
    def canonical_lines(self) -> tuple[str, ...]:
        """Return every record as one line of ASCII JSON, in the canonical order (cached)."""
        return tuple(
            json.dumps(_canonical_record(record), separators=(",", ":"), ensure_ascii=True)
            for record in self.all_records()
        )

    def is_new_customer(self, contract: Contract) -> bool:
        """Tell whether ``contract`` is its customer's first (by signing time, then id)."""
        first = self.contracts_of_customer[contract.customer][0]
        return first.id == contract.id


def _canonical_record(record: _Record) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in FIELD_NAMES.get(type(record)) or field_names(record):
        value = getattr(record, name)
        if isinstance(value, Decimal):
            value = canonical_amount(value)
        elif isinstance(value, datetime):
            value = value.isoformat()
        data[name] = value
    return data


def canonical_amount(value: Decimal) -> str:
    """Write an amount in plain digits without trailing fraction zeros.

    12000, "12000.00" and 1.2E+4 are one amount, so they must give one
    digest. Quantizing to the minor unit would need the contract's currency,
    which a payment's or target's canonical line is written without.
    """
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _visible_contracts(contracts: Mapping[str, Contract], as_of: datetime
                       ) -> Mapping[str, Contract]:
    """Keep the contracts signed at or before ``as_of``, in the table's order."""
    # The comparisons run in C, through map, because most as-of times hide
    # no contract and the table is then returned as it is.
    signed = list(map(as_of.__ge__, map(_SIGNED_AT, contracts.values())))
    if all(signed):
        return contracts
    return dict(itertools.compress(contracts.items(), signed))


def _visible_prefixes(index: Mapping[str, tuple[Any, ...]], time_field: str, as_of: datetime
                      ) -> tuple[Mapping[str, tuple[Any, ...]], list[str]]:
    """Keep, for every contract, its events at or before ``as_of``, dropping empty ones.

    Return the kept index and the contracts whose events were cut. Each
    tuple is sorted by event time, so the visible events are a prefix: a
    tuple whose last event is visible stays whole, and a bisection cuts the
    others. The last events are compared in C, through map: at 1,000,007
    records, a loop in Python took 0.16 s for the five indexes.
    """
    moment = _MOMENT_OF[time_field]
    whole = list(map(as_of.__ge__, map(moment, map(_LAST, index.values()))))
    if all(whole):
        return index, []
    cut = list(itertools.compress(index, map(operator.not_, whole)))
    # Deleting and replacing keys keeps the order of the others.
    visible = dict(index)
    for key in cut:
        count = bisect.bisect_right(index[key], as_of, key=moment)
        if count:
            visible[key] = index[key][:count]
        else:
            del visible[key]
    return visible, cut


def _visible_table(table: Mapping[str, Any], index: Mapping[str, tuple[Any, ...]],
                   visible_of: Mapping[str, tuple[Any, ...]], cut: list[str]) -> Mapping[str, Any]:
    """Keep the records of ``table`` that appear in a visible prefix, in the table's order.

    Every event record is in its contract's ``index``, so the records cut from
    the prefixes of the contracts in ``cut`` are exactly those after the
    as-of time. With an as-of time after most events they are few, so the
    table is filtered by them.
    """
    hidden = {record.id for key in cut for record in index[key][len(visible_of.get(key, ())):]}
    if not hidden:
        return table
    # Copying the table in C and deleting the few hidden records costs less
    # than rebuilding it record by record. The other records keep their order.
    visible = dict(table)
    for key in hidden:
        del visible[key]
    return visible


def _instant_key(moment: datetime, record_id: str) -> tuple[datetime, str]:
    return (moment, record_id)


def _by_contract(records: Iterable[Any], time_field: str) -> dict[str, tuple[Any, ...]]:
    grouped: dict[str, list[Any]] = defaultdict(list)
    for record in records:
        grouped[record.contract].append(record)
    return {key: _in_time_order(items, time_field) for key, items in grouped.items()}


def _in_time_order(items: list[Any], time_field: str) -> tuple[Any, ...]:
    """Return the records as a tuple sorted by time, then id.

    Records mostly arrive in time order, so a check that each time is
    earlier than the next often shows that no sort is needed. The check
    makes one datetime comparison a pair, in C. A sort makes two, because
    it compares (time, id) tuples. Two datetimes with different UTC offsets
    take about 0.5 us to compare (timeit, CPython 3.11), and the events of
    a contract often change offset with daylight saving time.
    """
    if len(items) > 1:
        moments = list(map(_MOMENT_OF[time_field], items))
        if not all(map(operator.lt, moments, moments[1:])):
            return tuple(sorted(items, key=_INSTANT_OF[time_field]))
    return tuple(items)


_MOMENT_OF = {name: operator.attrgetter(name) for name in EVENT_TIME_FIELD.values()}
# The same key as _instant_key, built by attrgetter in C.
_INSTANT_OF = {name: operator.attrgetter(name, "id") for name in EVENT_TIME_FIELD.values()}


# ---------------------------------------------------------------- loading


@dataclass
class _Collector:
    positions: Sequence[str]
    limit: int = DEFAULT_LIMITS.max_reported_errors
    problems: list[Problem] = field(default_factory=list)
    omitted: int = 0

    def add(self, position: str, record_id: str | None, field_name: str | None,
            message: str, fix: str | None = None) -> None:
        if len(self.problems) >= self.limit:
            self.omitted += 1
            return
        self.problems.append(Problem(position, record_id, field_name, message, fix))

    def raise_if_any(self) -> None:
        if self.problems:
            order = {position: index for index, position in enumerate(self.positions)}
            ordered = sorted(self.problems, key=lambda p: order.get(p.position, len(order)))
            raise RecordError(tuple(ordered), self.omitted)


def load_records(
    raw: Sequence[Mapping[str, Any]] | Sequence[_Record],
    positions: Sequence[str] | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> RecordSet:
    """Validate records and index them; raise ``RecordError`` listing every problem.

    ``positions`` names where each record came from (``"line 3"``); by default
    a record is named by its 1-based place in the sequence (``"record 3"``).
    A record with ``"revision": N`` above 1 replaces the lower revisions of
    the same record; see ``revisions``.
    """
    if isinstance(raw, (str, bytes, bytearray, memoryview, Mapping, io.IOBase)) or not isinstance(
            raw, Iterable):
        # A text or one record would otherwise be read as a sequence of
        # characters or keys, each reported as a record that is not an object.
        msg = (f"load_records takes a list of records, not {type(raw).__name__}; pass one"
               " record as a one-item list, and JSON Lines text or a file's text to load_jsonl")
        raise TypeError(msg)
    if not isinstance(raw, Sequence):
        # A generator or another iterable that has no length.
        raw = list(raw)
    if positions is not None:
        if isinstance(positions, str):
            msg = "positions must be a sequence of texts, one per record, not one text"
            raise ValueError(msg)
        # A copy, because the record set keeps the positions and the caller
        # may reuse its list.
        positions = list(positions)
        _check_positions(positions, len(raw))
    # Loading allocates an object or more per field: bulk work, with the
    # cyclic collector paused (see collector.py).
    with collector.paused():
        return _load_records(raw, positions, limits)


def _check_positions(positions: list[Any], count: int) -> None:
    """Raise ``ValueError`` unless there is one distinct text position per record."""
    if len(positions) != count:
        entries = "entry" if len(positions) == 1 else "entries"
        records = "record" if count == 1 else "records"
        msg = (f"positions has {len(positions):,} {entries} for {count:,} {records};"
               " give one position per record, in the same order")
        raise ValueError(msg)
    # The type test runs in C over every position. The loop only finds the first
    # position that is not text.
    if not set(map(type, positions)) <= {str}:
        for index, position in enumerate(positions):
            if type(position) is not str:
                msg = (f"position {index + 1} is {type(position).__name__}, not text;"
                       " name each record with text such as \"line 3\"")
                raise ValueError(msg)
    if len(set(positions)) == count:
        return
    # Validation matches problems to records by position, so a repeated one
    # would hide some.
    seen: set[str] = set()
    for position in positions:
        if position in seen:
            msg = (f"position {position!r} names more than one record;"
                   " give each record its own position, such as a row number")
            raise ValueError(msg)
        seen.add(position)


def _load_records(raw: Sequence[Any], positions: Sequence[str] | None,
                  limits: Limits) -> RecordSet:
    record_set = _load_clean(raw, positions, limits)
    if record_set is not None:
        return record_set
    return _load_reporting(raw, positions, limits)


def _load_clean(raw: Sequence[Any], positions: Sequence[str] | None,
                limits: Limits) -> RecordSet | None:
    """Load a batch with no problem in fewer passes, or return None to load it the full way.

    This is the usual batch: plain dicts without revisions, every record
    valid, every cross-record rule kept. It builds the same ``RecordSet`` as
    ``_load_reporting``. At the first sign of a problem it returns None, and
    ``_load_reporting`` finds and reports every problem.
    """
    count = len(raw)
    # The test runs in C, over every record. A record with a revision field
    # fails validation below, because no record type has the field and all
    # forbid extra fields.
    if not set(map(type, raw)) <= {dict}:
        return None
    items = raw if type(raw) is list else list(raw)
    try:
        models = _RECORD_LIST.validate_python(items, context=_validation_context(limits))
    except (ValidationError, UnicodeEncodeError):
        return None
    if positions is None:
        positions = NumberedPositions("record", range(1, count + 1))
    return index_valid(models, positions)


def record_validators(limits: Limits = DEFAULT_LIMITS
                      ) -> tuple[Callable[[str], _Record], Callable[[Any], _Record]]:
    """Return the validators of one record: from its JSON text, and from its parsed value.

    Both raise ``ValueError`` for anything but a valid record. The first lets
    pydantic read the JSON itself, without building a dict first. Numbers
    then reach the validators as ``int`` or ``float``, and no field accepts
    a float, so an amount written as a JSON number with decimals is invalid
    there. A field given twice keeps its last value there; the caller must
    check for that.
    """
    context = _validation_context(limits)
    # Call pydantic-core's validator directly. TypeAdapter.validate_json only
    # checks its by_alias and by_name arguments and passes the rest on, and
    # that costs about 0.2 us a call (timeit, pydantic 2.14).
    validator = _RECORD.validator
    if context is None:
        # A partial costs about 0.4 us a call more than the bound method.
        return validator.validate_json, validator.validate_python
    return (functools.partial(validator.validate_json, context=context),
            functools.partial(validator.validate_python, context=context))


def index_valid(models: Sequence[_Record], positions: Sequence[str]) -> RecordSet | None:
    """Index records that passed validation, or return None if any cross-record rule is broken.

    ``positions`` names where each model came from. The result is the
    ``RecordSet`` that ``load_records`` builds from the same records in the
    same order. None means only that a problem exists: ``load_records`` of
    the same records then reports it.
    """
    # One pass over the new models, which are no longer in the CPU cache;
    # three passes in C took longer.
    tables: dict[str, dict[str, Any]] = {name: {} for name in RECORD_TYPES}
    targets: list[Target] = []
    # Every record type has a type, and every one but Target an id.
    model: Any
    for model in models:
        kind = model.type
        if kind == "target":
            targets.append(model)
        else:
            tables[kind][model.id] = model
    if sum(map(len, tables.values())) + len(targets) != len(models):
        # An id is used twice within a type.
        return None
    try:
        return _index_clean(tables, targets, RecordPositions(models, positions))
    except _ProblemFound:
        return None


class NumberedPositions(Sequence[str]):
    """Positions such as ``"line 3"``: a word and a number, written when read.

    A million position strings took 68 MB (tracemalloc) and 0.10 s to build,
    and a load without a problem reads none of them.
    """

    __slots__ = ("_word", "_numbers")

    def __init__(self, word: str, numbers: Sequence[int]) -> None:
        self._word = word
        self._numbers = numbers

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...

    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        if isinstance(index, slice):
            return [f"{self._word} {number}" for number in self._numbers[index]]
        return f"{self._word} {self._numbers[index]}"

    def __len__(self) -> int:
        return len(self._numbers)

    def __iter__(self) -> Iterator[str]:
        return (f"{self._word} {number}" for number in self._numbers)


class RecordPositions(Mapping[tuple[str, str], str]):
    """The position of each record, by (type, id), built on first use.

    The key of a target is ``("target", "rep/period/metric")``. Records
    without a problem rarely need their positions, and building the keys of
    1,000,007 records took about 0.15 s, so a clean load keeps the models and
    their positions and builds the mapping only when a caller reads it.

    NOTE: a rep or metric id that contains "/" can give two targets one key,
    and so one position. The reporting path and the engine use the same key.
    """

    __slots__ = ("_source", "_built")

    def __init__(self, models: Sequence[_Record], positions: Sequence[str]) -> None:
        # Neither sequence changes afterwards: load_records copies a caller's
        # positions, and the loaders own the rest.
        self._source: tuple[Sequence[_Record], Sequence[str]] | None = (models, positions)
        self._built: dict[tuple[str, str], str] | None = None

    def _mapping(self) -> dict[tuple[str, str], str]:
        built = self._built
        if built is not None:
            return built
        source = self._source
        if source is None:
            # Another thread built the mapping between the two reads. It sets
            # _built before it clears _source.
            return self._built  # type: ignore[return-value]
        built = {}
        targets = []
        model: Any
        for model, position in zip(*source):
            if model.type == "target":
                targets.append((model, position))
            else:
                built[(model.type, model.id)] = position
        # After the other records, as _index adds them.
        for target, position in targets:
            built[("target", "/".join(_TARGET_KEY(target)))] = position
        self._built = built
        self._source = None
        return built

    def __getitem__(self, key: tuple[str, str]) -> str:
        return self._mapping()[key]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self._mapping())

    def __len__(self) -> int:
        return len(self._mapping())

    def __repr__(self) -> str:
        return repr(self._mapping())

    def copy(self) -> dict[tuple[str, str], str]:
        """Return the positions as a new dict."""
        return dict(self._mapping())

    def __or__(self, other: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
        return {**self._mapping(), **other}

    def __ror__(self, other: Mapping[tuple[str, str], str]) -> dict[tuple[str, str], str]:
        return {**other, **self._mapping()}

    def __reduce__(self) -> tuple[Any, ...]:
        # A pickle contains the built dict, not the models.
        return (dict, (self._mapping(),))


class _ProblemFound(Exception):
    """The signal that the clean load met a problem, which the full load then reports."""


def _stop(*_: Any) -> None:
    raise _ProblemFound


_AMOUNT = operator.attrgetter("amount")
_TARGET_KEY = operator.attrgetter("rep", "period", "metric")
_FIRST = operator.itemgetter(0)
_LAST = operator.itemgetter(-1)
_SIGNED_AT = operator.attrgetter("signed_at")
_CURRENCY = operator.attrgetter("currency")
_ZERO = Decimal(0)


def _index_clean(tables: dict[str, dict[str, Any]], targets: list[Target],
                 where: Mapping[tuple[str, str], str]) -> RecordSet:
    """Index valid records with unique ids into the ``RecordSet`` that ``_index`` builds.

    ``tables`` maps each record type to its records by id, in record order,
    and ``where`` each (type, id) to its position. Raise ``_ProblemFound``
    if any cross-record rule that ``_check_references`` checks is broken.
    """
    reps = tables["rep"]
    if targets:
        keys = list(map(_TARGET_KEY, targets))
        if len(set(keys)) != len(keys) or not {key[0] for key in keys} <= reps.keys():
            raise _ProblemFound
    record_set = _record_set(tables, targets, where)
    _check_clean(record_set)
    return record_set


def _record_set(tables: dict[str, dict[str, Any]], targets: list[Target],
                where: Mapping[tuple[str, str], str]) -> RecordSet:
    """Build the ``RecordSet`` of indexed records, with the per-customer and per-contract indexes."""
    contracts_of_customer: dict[str, list[Contract]] = defaultdict(list)
    for contract in tables["contract"].values():
        contracts_of_customer[contract.customer].append(contract)
    return RecordSet(
        reps=tables["rep"],
        customers=tables["customer"],
        contracts=tables["contract"],
        payments=tables["payment"],
        refunds=tables["refund"],
        sessions=tables["session"],
        surveys=tables["satisfaction"],
        complaints=tables["complaint"],
        targets=tuple(targets),
        contracts_of_customer={
            key: _in_time_order(items, "signed_at")
            for key, items in contracts_of_customer.items()
        },
        payments_of=_by_contract(tables["payment"].values(), "paid_at"),
        refunds_of=_by_contract(tables["refund"].values(), "refunded_at"),
        sessions_of=_by_contract(tables["session"].values(), "held_at"),
        surveys_of=_by_contract(tables["satisfaction"].values(), "surveyed_at"),
        complaints_of=_by_contract(tables["complaint"].values(), "filed_at"),
        positions=where,
    )


def _check_clean(records: RecordSet) -> None:
    """Raise ``_ProblemFound`` if ``_check_references`` would report anything."""
    reps = records.reps
    managers = set(map(operator.attrgetter("manager"), reps.values()))
    managers.discard(None)
    if not managers <= reps.keys():
        raise _ProblemFound
    _check_manager_cycles(records, _stop)
    customers = records.customers
    if not set(map(operator.attrgetter("owner"), customers.values())) <= reps.keys():
        raise _ProblemFound
    tied = False
    for customer in customers.values():
        referrer_id = customer.referred_by
        if referrer_id is not None:
            referrer = customers.get(referrer_id)
            if (referrer_id == customer.id or referrer is None
                    or referrer.created_at > customer.created_at):
                raise _ProblemFound
            tied = tied or referrer.created_at == customer.created_at
    # Along a loop of referrals no referrer is created later than the
    # customer it refers, so all are created at one instant.
    if tied:
        _check_referral_cycles(records, _stop)
    contracts = records.contracts
    if not (set(map(operator.attrgetter("customer"), contracts.values())) <= customers.keys()
            and set(map(operator.attrgetter("rep"), contracts.values())) <= reps.keys()):
        raise _ProblemFound
    _check_amounts_clean(list(map(_AMOUNT, contracts.values())),
                         list(map(_CURRENCY, contracts.values())))
    for time_field, index, has_amount in (
        ("paid_at", records.payments_of, True),
        ("refunded_at", records.refunds_of, True),
        ("held_at", records.sessions_of, False),
        ("surveyed_at", records.surveys_of, False),
        ("filed_at", records.complaints_of, False),
    ):
        if not index:
            continue
        if not index.keys() <= contracts.keys():
            raise _ProblemFound
        owners = list(map(contracts.__getitem__, index))
        # Each tuple is sorted by time, so its first event is the earliest.
        firsts = map(_MOMENT_OF[time_field], map(_FIRST, index.values()))
        if any(map(operator.lt, firsts, map(_SIGNED_AT, owners))):
            raise _ProblemFound
        if not has_amount:
            continue
        amounts_of = [list(map(_AMOUNT, items)) for items in index.values()]
        if any(map(operator.gt, _totals(amounts_of), map(_AMOUNT, owners))):
            raise _ProblemFound
        # Each event is in the currency of its contract.
        amounts = list(itertools.chain.from_iterable(amounts_of))
        owner_currencies = set(map(_CURRENCY, owners))
        if len(owner_currencies) == 1:
            _check_amounts_in(amounts, owner_currencies.pop())
        else:
            currencies = itertools.chain.from_iterable(
                map(itertools.repeat, map(_CURRENCY, owners), map(len, amounts_of)))
            _check_amounts_clean(amounts, list(currencies))
    if records.refunds_of:
        _check_refund_totals(records, _stop, _stop)


def _totals(groups: list[list[Decimal]]) -> list[Decimal]:
    """Return the sum of each group of amounts, exactly as ``money.total`` adds them."""
    with localcontext(money.EVALUATION_CONTEXT):
        # sum adds in the context in force: the same additions as
        # money.total's, at half the cost (0.23 against 0.50 ms for the
        # payments of 10,005 records).
        return list(map(sum, groups, itertools.repeat(_ZERO)))


def _check_amounts_clean(amounts: list[Decimal], currencies: list[str]) -> None:
    """Raise ``_ProblemFound`` if an amount is not positive or has too many decimals.

    ``currencies`` gives the currency of each amount.
    """
    if not amounts:
        return
    if min(amounts) <= _ZERO:
        raise _ProblemFound
    if not all(map(Decimal.same_quantum, amounts, map(money.MINOR_UNITS.__getitem__, currencies))):
        # Fewer decimals than the currency's are allowed: 12000 in CNY.
        for amount, currency in zip(amounts, currencies):
            if money.finer_than_minor_unit(amount, currency):
                raise _ProblemFound


def _check_amounts_in(amounts: list[Decimal], currency: str) -> None:
    """Check amounts in one currency as ``_check_amounts_clean`` does, with one minor unit."""
    if not all(map(money.MINOR_UNITS[currency].same_quantum, amounts)):
        _check_amounts_clean(amounts, [currency] * len(amounts))
    elif amounts and min(amounts) <= _ZERO:
        raise _ProblemFound


def _load_reporting(raw: Sequence[Any], positions: Sequence[str] | None,
                    limits: Limits) -> RecordSet:
    if positions is None:
        positions = [f"record {index + 1}" for index in range(len(raw))]
    collector = _Collector(positions, limits.max_reported_errors)
    # Each record model instance becomes its dict, so that revisions, duplicate
    # ids and references find it by its type and id, as they find a dict.
    raw = [item if type(item) is dict or not isinstance(item, _Record) else record_data(item)
           for item in raw]
    revised = apply_revisions(raw, positions, RECORD_TYPES)
    for position, label, message, fix in revised.problems:
        collector.add(position, label, "revision", message, fix)
    with_revision_problem = {problem[0] for problem in revised.problems}
    unresolved = {key for key, position in zip(_raw_keys(raw), positions)
                  if position in with_revision_problem}
    raw, positions = revised.items, revised.positions
    models, valid_positions, invalid = _validate_valid(raw, positions, collector, limits)
    invalid = _of_any_type(invalid | unresolved)
    if models is None:
        collector.raise_if_any()
        models = []
    # Duplicates are checked over every record, valid or not, so one report
    # lists them with the field problems.
    where = _check_duplicate_ids(_raw_keys(raw), positions, collector)
    record_set = _index(models, valid_positions, collector, where, invalid)
    _check_references(record_set, where, collector, invalid)
    collector.raise_if_any()
    return record_set


def _of_any_type(keys: frozenset[tuple[Any, Any]] | set[tuple[Any, Any]]
                 ) -> frozenset[tuple[Any, Any]]:
    """Return the (type, id) keys, with a key of every type for an id whose type is unknown.

    A record whose type is missing or misspelt is reported once. Records that
    refer to its id would otherwise each report the id as missing too.
    """
    out = set()
    for record_type, record_id in keys:
        if record_type in RECORD_TYPES or record_id is None:
            out.add((record_type, record_id))
            continue
        # A misspelt type ("contracts") stands for the nearest known type. A
        # type that is not text, or near none, may be any.
        near = (difflib.get_close_matches(record_type, RECORD_TYPES, n=1)
                if isinstance(record_type, str) else [])
        out.update((name, record_id) for name in near or RECORD_TYPES)
    return frozenset(out)


def _validate_valid(
    raw: Sequence[Any], positions: Sequence[str], collector: _Collector, limits: Limits
) -> tuple[list[_Record] | None, list[str], frozenset[tuple[Any, Any]]]:
    """Validate every record and keep the valid ones for the cross-record checks.

    Returns the valid models, their positions and the (type, id) keys of the
    invalid records, whose references are then not reported as missing. The
    models are None when the valid records cannot be distinguished, which
    happens only when more problems were found than are reported.
    """
    failed: set[str] = set()
    while True:
        kept = [index for index, position in enumerate(positions) if position not in failed]
        kept_positions = [positions[index] for index in kept]
        known = len(collector.problems)
        models = _validate_models([raw[index] for index in kept], kept_positions,
                                  collector, limits)
        found = {problem.position for problem in collector.problems[known:]}
        if not found and not collector.omitted:
            break
        # Each pass drops the records it found invalid; a pass that finds no
        # new one, or problems past the reporting limit, ends the search.
        if collector.omitted or not found - failed:
            return None, [], frozenset()
        failed |= found
    if not failed:
        return models, kept_positions, frozenset()
    keys = _raw_keys(raw)
    invalid = frozenset(keys[index] for index, position in enumerate(positions)
                        if position in failed)
    return models, kept_positions, invalid


def _validation_context(limits: Limits) -> dict[str, Limits] | None:
    # Without a context the validators use the default limits, and each
    # skips a dict lookup and a type test (_limits).
    return None if limits is DEFAULT_LIMITS else {"limits": limits}


def _validate_models(
    raw: Sequence[Any], positions: Sequence[str], collector: _Collector, limits: Limits
) -> list[_Record]:
    # Test for a plain dict first, the usual record, because the Mapping test is slow.
    items = [item if type(item) is dict or not isinstance(item, _Record) else record_data(item)
             for item in raw]
    known = len(collector.problems)
    for index, item in enumerate(items):
        if type(item) is not dict and not isinstance(item, Mapping):
            collector.add(positions[index], None, None,
                          f"a record must be an object, not {_json_kind(item)}",
                          "write each record as one JSON object with a 'type' field")
    if len(collector.problems) > known:
        return []
    try:
        return list(_RECORD_LIST.validate_python(items, context=_validation_context(limits)))
    except ValidationError as exc:
        _translate(exc, items, positions, collector)
        return []
    except UnicodeEncodeError:
        # pydantic-core cannot match a pattern (the ids) against a str
        # holding a lone surrogate, which Python allows; only then are the
        # strings searched for one.
        # NOTE: free text such as a name, with no pattern, keeps a lone
        # surrogate on both load paths, while the escape \ud800 in JSON
        # Lines is rejected.
        if not _report_surrogates(items, positions, collector):
            raise
        return []


def _report_surrogates(items: Sequence[Any], positions: Sequence[str],
                       collector: _Collector) -> bool:
    """Report each field whose text contains a lone surrogate; return whether any did."""
    found = False
    for item, position in zip(items, positions):
        if not isinstance(item, Mapping):
            continue
        # A label or field name holding the surrogate could not be printed.
        label = None if _has_surrogate(item.get("id")) else record_label(item)
        for key, value in item.items():
            if not (_has_surrogate(key) or _has_surrogate(value)):
                continue
            found = True
            field_name = None if _has_surrogate(key) else key
            collector.add(position, label, field_name,
                          "the text holds a lone UTF-16 surrogate (\\ud800 to \\udfff),"
                          " which is not a character",
                          "decode the source text as UTF-8, or join surrogate pairs")
    return found


def _has_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, Mapping):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_surrogate(item) for item in value)
    return False


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (list, tuple)):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (int, float, Decimal)):
        return "a number"
    return type(value).__name__


def record_label(item: Mapping[str, Any]) -> str | None:
    """Name a record's dict in messages ("contract K1"), or return None without a readable name."""
    record_type = item.get("type")
    record_id = item.get("id")
    if isinstance(record_type, str) and record_type and isinstance(record_id, str):
        return escape_value(f"{record_type} {shorten(record_id, _MAX_SHOWN_CHARS)}")
    if isinstance(record_type, str) and record_type == "target":
        return f"target of {item.get('rep')} for {item.get('period')}"
    return None


def _translate(exc: ValidationError, items: Sequence[Any], positions: Sequence[str],
               collector: _Collector) -> None:
    for error in exc.errors(include_url=False):
        location = error["loc"]
        index = int(location[0])
        item = items[index]
        label = record_label(item)
        kind = error["type"]
        # A key may contain control characters, which a terminal would hide.
        field_path = escape_value(".".join(str(part) for part in location[2:]))
        if kind == "union_tag_not_found":
            collector.add(positions[index], label, "type", "the record has no 'type' field",
                          f"add \"type\": one of {', '.join(RECORD_TYPES)}")
        elif kind == "union_tag_invalid" and not isinstance(item.get("type"), str):
            written = item.get("type")
            problem = ("the type is null, not text" if written is None
                       else f"{json_repr(written)} is {_json_kind(written)}, not text")
            collector.add(positions[index], label, "type", problem,
                          f"write the type as one quoted word: one of {', '.join(RECORD_TYPES)}")
        elif kind == "union_tag_invalid":
            collector.add(positions[index], label, "type",
                          f"unknown record type {item.get('type')!r}",
                          f"use one of {', '.join(RECORD_TYPES)}")
        elif kind == "missing":
            collector.add(positions[index], label, field_path, "the field is missing",
                          f"add it; a {item.get('type')} record requires it")
        elif kind == "unexpected_keyword_argument":
            known = ", ".join(FIELD_NAMES[RECORD_TYPES[item["type"]]])
            problem = "unknown field" if field_path else 'unknown field "", a key with no name'
            collector.add(positions[index], label, field_path, problem,
                          f"remove it or check its spelling; the fields are {known}")
        elif kind == "value_error":
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, FieldError):
                collector.add(positions[index], label, field_path, cause.message, cause.fix)
            else:
                collector.add(positions[index], label, field_path, str(cause or error["msg"]))
        else:
            collector.add(positions[index], label, field_path,
                          _describe_invalid(error), _fix_for(error))


def _raw_keys(raw: Sequence[Any]) -> list[tuple[Any, Any]]:
    keys: list[tuple[Any, Any]] = []
    for item in raw:
        if type(item) is dict or isinstance(item, Mapping):
            # Only text can be a type or id; a list or object in either field
            # is reported by validation and must not be hashed here.
            keys.append((_text_or_none(item.get("type")), _text_or_none(item.get("id"))))
        else:
            keys.append((None, None))
    return keys


def _text_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _check_duplicate_ids(
    keys: Sequence[tuple[Any, Any]], positions: Sequence[str], collector: _Collector
) -> dict[tuple[str, str], str]:
    """Report every id used twice within a record type; return where each id first appears."""
    first_seen: dict[tuple[str, str], str] = {}
    for (record_type, record_id), position in zip(keys, positions):
        if not isinstance(record_type, str) or not isinstance(record_id, str):
            continue
        key = (record_type, record_id)
        if key in first_seen:
            collector.add(position, f"{record_type} {record_id}", "id",
                          f"duplicate id {record_id!r}, also at {first_seen[key]}",
                          "give each record its own id, or remove the copy")
            continue
        first_seen[key] = position
    return first_seen


def _show(value: Any) -> str:
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        # A numpy scalar reads as the Python value it holds.
        value = value.item()
    if isinstance(value, numbers.Number) and not isinstance(value, bool):
        return str(value)
    return json_repr(value)


def json_repr(value: Any) -> str:
    """Write a value the way it looks in JSON, for messages about JSON input.

    A long value is cut to its start and its length, so one bad field cannot
    fill a terminal or a log.
    """
    import json

    length = None
    if isinstance(value, str) and len(value) > _MAX_SHOWN_CHARS:
        # Only the start of a long text is written, and its length is given.
        length, value = len(value), value[:_MAX_SHOWN_CHARS]
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except RecursionError:
        return "(a value nested too deeply to show)"
    except (TypeError, ValueError):
        try:
            text = repr(value)
        except RecursionError:
            return "(a value nested too deeply to show)"
    # Escaped before it is cut, so the escapes cannot push the message's
    # own words past the length a problem is shortened to.
    text = escape_value(text)
    if length is None and len(text) <= _MAX_SHOWN_CHARS:
        return text
    return f"{text[:_MAX_SHOWN_CHARS]}... ({length or len(text):,} characters)"


# The maximum number of characters of a value that a message quotes.
_MAX_SHOWN_CHARS = 80


def _describe_invalid(error: Any) -> str:
    value = _show(error.get("input"))
    kind = error["type"]
    context = error.get("ctx") or {}
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        low = context.get("ge", context.get("gt"))
        high = context.get("le", context.get("lt"))
        return f"{value} is out of range" + (f" (at least {low})" if low is not None else "") + (
            f" (at most {high})" if high is not None else "")
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"{value} is not a whole number"
    if kind in ("string_type",):
        return f"{value} is not text"
    if kind in ("bool_type", "bool_parsing"):
        return f"{value} is not true or false"
    if kind == "literal_error":
        return f"{value} is not one of the allowed values ({context.get('expected', '')})"
    if kind == "string_too_long":
        # The value can be long, and the record's label already shows it.
        return (f"the text is {len(error.get('input', '')):,} characters long, more than the"
                f" limit of {context.get('max_length', MAX_ID_CHARS):,}")
    if kind == "string_too_short":
        return f"{value} is empty"
    if kind == "string_pattern_mismatch":
        field_name = _field_of(error)
        forbidden = _FORBIDDEN_IN.get(field_name, _ID_FORBIDDEN_TEXT)
        found = forbidden.search(str(error.get("input", "")))
        code = f"U+{ord(found.group()):04X}" if found else "a control character"
        holder = "ids" if field_name not in _FORBIDDEN_IN else f"the {field_name} field"
        return (f"{escape_value(value)} contains {code}, a control character or"
                f" bidirectional control, which {holder} cannot contain")
    return f"{value} is invalid: {error['msg'].lower()}"


def _field_of(error: Any) -> str | None:
    """Return the name of the field a validation error is about, or None for the record."""
    location = error["loc"]
    return str(location[-1]) if len(location) > 2 else None


# The characters each text field excludes; every other string field is an id.
_FORBIDDEN_IN = {
    **{name: re.compile(f"[{_TEXT_FORBIDDEN}]") for name in ("name", "team", "region", "product")},
    "reason": re.compile(f"[{_NOTE_FORBIDDEN}]"),
}


def _fix_for(error: Any) -> str | None:
    kind = error["type"]
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return "write a whole number without quotes, such as 12"
    if kind in ("string_type",) and isinstance(error.get("input"), (list, tuple, Mapping)):
        return "write one value in quotes, such as \"R1\", not a list or an object"
    if kind in ("string_type",):
        return "write it in quotes"
    if kind in ("bool_type", "bool_parsing"):
        return "write true or false without quotes"
    if kind == "literal_error":
        return "use one of the listed values"
    if kind == "string_pattern_mismatch":
        holder = "text" if _field_of(error) in _FORBIDDEN_IN else "id"
        return f"remove the control characters from the {holder}"
    if kind == "string_too_long" and _field_of(error) in _FORBIDDEN_IN:
        return f"shorten it to {MAX_TEXT_CHARS:,} characters or fewer"
    if kind == "string_too_long":
        return (f"shorten it to {error.get('ctx', {}).get('max_length', MAX_ID_CHARS)} characters"
                " or fewer, such as a short code, and keep longer text in a field such as name")
    if kind == "string_too_short":
        return "write at least one character"
    if kind == "invalid_key":
        return "write every key as text, one of the record type's field names"
    return None


_SIGNING_KEY = operator.attrgetter("signed_at", "id")


def _index(models: list[_Record], positions: Sequence[str], collector: _Collector,
           where: dict[tuple[str, str], str],
           invalid: frozenset[tuple[Any, Any]] = frozenset()) -> RecordSet:
    tables: dict[str, dict[str, Any]] = {name: {} for name in RECORD_TYPES if name != "target"}
    targets: list[Target] = []
    target_keys: dict[tuple[str, str, str], str] = {}
    for model, position in zip(models, positions):
        if isinstance(model, Target):
            key = (model.rep, model.period, model.metric)
            if key in target_keys:
                collector.add(position, f"target of {model.rep} for {model.period}", "metric",
                              f"duplicate target {model.metric!r}, first given at {target_keys[key]}",
                              "keep one target per rep, period and metric")
                continue
            target_keys[key] = position
            # The same key as the incremental engine's, so messages can name the line.
            where[("target", "/".join(key))] = position
            targets.append(model)
            continue
        # The first record with an id wins; the duplicate was already reported.
        tables[model.type].setdefault(model.id, model)  # type: ignore[attr-defined]
    for target, position in zip(targets, target_keys.values()):
        if target.rep not in tables["rep"] and ("rep", target.rep) not in invalid:
            collector.add(position, f"target of {target.rep} for {target.period}", "rep",
                          f"rep {target.rep!r} is not in the records",
                          "add the rep record or correct the id")
    return _record_set(tables, targets, where)


def _check_references(
    records: RecordSet, where: dict[tuple[str, str], str], collector: _Collector,
    invalid: frozenset[tuple[Any, Any]] = frozenset(),
) -> None:
    """Check that every reference resolves and every cross-record rule holds.

    A reference to a record in ``invalid`` (type, id) is not reported as
    missing, because that record's own problems are already reported.
    """

    def report(record_type: str, record_id: str, field_name: str, message: str,
               fix: str | None = None) -> None:
        collector.add(where[(record_type, record_id)], f"{record_type} {record_id}",
                      field_name, message, fix)

    def missing(record_type: str, record_id: str, field_name: str, target: str,
                value: str) -> None:
        if (target, value) in invalid:
            return
        report(record_type, record_id, field_name, f"{target} {value!r} is not in the records",
               f"add the {target} record or correct the id")

    for rep in records.reps.values():
        if rep.manager is not None and rep.manager not in records.reps:
            missing("rep", rep.id, "manager", "rep", rep.manager)
    _check_manager_cycles(records, report)
    _check_referral_cycles(records, report)

    for customer in records.customers.values():
        if customer.owner not in records.reps:
            missing("customer", customer.id, "owner", "rep", customer.owner)
        if customer.referred_by is not None:
            if customer.referred_by == customer.id:
                report("customer", customer.id, "referred_by", "a customer cannot refer itself",
                       "set referred_by to the referring customer's id or null")
            elif customer.referred_by not in records.customers:
                missing("customer", customer.id, "referred_by", "customer", customer.referred_by)
            elif records.customers[customer.referred_by].created_at > customer.created_at:
                referrer = records.customers[customer.referred_by]
                report("customer", customer.id, "referred_by",
                       f"customer {referrer.id} was created ({referrer.created_at.isoformat()})"
                       f" after the customer it referred ({customer.created_at.isoformat()})",
                       "a referrer must exist before the customer it refers")

    for contract in records.contracts.values():
        # A customer's created_at may follow its first contract (a CRM entry
        # made late), so it is not checked against signing times.
        if contract.customer not in records.customers:
            missing("contract", contract.id, "customer", "customer", contract.customer)
        if contract.rep not in records.reps:
            missing("contract", contract.id, "rep", "rep", contract.rep)
        _check_decimals("contract", contract.id, "amount", contract.amount, contract.currency, report)
        if contract.amount <= 0:
            report("contract", contract.id, "amount",
                   f"amount {contract.amount} is not positive", "a contract amount must be above zero")

    _check_events(records, report, missing)


def _check_manager_cycles(records: RecordSet, report: Any) -> None:
    reported: set[str] = set()
    for start in sorted(records.reps):
        chain: list[str] = []
        current: str | None = start
        while current is not None and current in records.reps and current not in chain:
            chain.append(current)
            current = records.reps[current].manager
        if current is not None and current in chain and current not in reported:
            cycle = chain[chain.index(current):]
            reported.update(cycle)
            loop = " -> ".join(cycle + [current])
            report("rep", current, "manager", f"the manager chain is a cycle: {loop}",
                   "break the cycle: someone at the top has manager null")


def _check_referral_cycles(records: RecordSet, report: Any) -> None:
    """Report each loop of referred_by links, which would pay both owners for one referral.

    Referrers created later are reported on their own, so only loops of
    customers created at the same instant reach this check with no other
    problem. A customer referring itself is reported elsewhere.
    """
    reported: set[str] = set()
    for start in sorted(records.customers):
        chain: list[str] = []
        current: str | None = start
        while current is not None and current in records.customers and current not in chain:
            chain.append(current)
            current = records.customers[current].referred_by
        if current is None or current not in chain or current in reported:
            continue
        cycle = chain[chain.index(current):]
        reported.update(cycle)
        if len(cycle) > 1:
            loop = " -> ".join([*cycle, current])
            report("customer", current, "referred_by", f"the referral chain is a cycle: {loop}",
                   "break the cycle: the first customer of the chain has referred_by null")


def _check_decimals(record_type: str, record_id: str, field_name: str, amount: Decimal,
                    currency: str, report: Any) -> None:
    # An amount with exactly the currency's decimals, the usual case, passes.
    # same_quantum compares exponents without building the digit tuple.
    if amount.same_quantum(money.MINOR_UNITS[currency]):
        return
    if money.finer_than_minor_unit(amount, currency):
        digits = money.minor_digits(currency)
        report(record_type, record_id, field_name,
               f"amount {amount} has more decimals than {currency} allows ({digits})",
               _decimals_fix(amount, digits))


def _decimals_fix(amount: Decimal, digits: int) -> str:
    # 1.2000500e4 arrives as 12000.500: name the exact value it can be written as.
    with localcontext(money.EVALUATION_CONTEXT):
        exact = amount.quantize(Decimal(1).scaleb(-digits))
    if exact == amount:
        return f"write it with {digits} decimals, as {format(exact, 'f')}"
    return f"round it to {digits} decimals before sending it"


def _check_events(records: RecordSet, report: Any, missing: Any) -> None:
    event_tables: tuple[tuple[str, Mapping[str, Any], str], ...] = (
        ("payment", records.payments, "paid_at"),
        ("refund", records.refunds, "refunded_at"),
        ("session", records.sessions, "held_at"),
        ("satisfaction", records.surveys, "surveyed_at"),
        ("complaint", records.complaints, "filed_at"),
    )
    contracts = records.contracts
    for record_type, table, time_field in event_tables:
        moment_of = operator.attrgetter(time_field)
        has_amount = record_type in ("payment", "refund")
        for record in table.values():
            contract = contracts.get(record.contract)
            if contract is None:
                missing(record_type, record.id, "contract", "contract", record.contract)
                continue
            moment = moment_of(record)
            if moment < contract.signed_at:
                report(record_type, record.id, time_field,
                       f"{moment.isoformat()} is before contract {contract.id} was signed"
                       f" ({contract.signed_at.isoformat()})",
                       "correct the timestamp or the contract")
            if has_amount:
                amount = record.amount
                _check_decimals(record_type, record.id, "amount", amount, contract.currency,
                                report)
                if amount <= 0:
                    report(record_type, record.id, "amount",
                           f"amount {amount} is not positive",
                           f"a {record_type} amount must be above zero")
    _check_refund_totals(records, report, missing)
    _check_payment_totals(records, report)


def _check_within_amount(records: RecordSet, record_type: str,
                         index: Mapping[str, tuple[Any, ...]], report: Any) -> None:
    """Report a contract whose payments or refunds add up to more than its amount."""
    for contract_id, items in index.items():
        contract = records.contracts.get(contract_id)
        if contract is None:
            continue
        total = money.total(item.amount for item in items)
        if total > contract.amount:
            report(record_type, items[-1].id, "amount",
                   f"the {record_type}s of contract {contract_id} sum to {total},"
                   f" more than its amount {contract.amount}",
                   f"check for a duplicated or mistyped {record_type}")


def _check_payment_totals(records: RecordSet, report: Any) -> None:
    _check_within_amount(records, "payment", records.payments_of, report)


def _check_refund_totals(records: RecordSet, report: Any, missing: Any) -> None:
    _check_within_amount(records, "refund", records.refunds_of, report)
    for contract_id, refunds in records.refunds_of.items():
        if contract_id not in records.contracts:
            continue
        per_payment: dict[str, Decimal] = defaultdict(Decimal)
        for refund in refunds:
            if refund.payment is None:
                continue
            payment = records.payments.get(refund.payment)
            if payment is None:
                missing("refund", refund.id, "payment", "payment", refund.payment)
                continue
            if payment.contract != contract_id:
                report("refund", refund.id, "payment",
                       f"payment {payment.id} belongs to contract {payment.contract},"
                       f" not to {contract_id}", "name a payment of the refunded contract")
                continue
            if refund.refunded_at < payment.paid_at:
                report("refund", refund.id, "refunded_at",
                       f"refund {refund.id} at {refund.refunded_at.isoformat()} is earlier"
                       f" than its payment {payment.id}, paid at"
                       f" {payment.paid_at.isoformat()}",
                       "correct either time, or name the payment that was refunded")
                continue
            per_payment[payment.id] = money.total((per_payment[payment.id], refund.amount))
            if per_payment[payment.id] > payment.amount:
                report("refund", refund.id, "amount",
                       f"the refunds of payment {payment.id} sum to {per_payment[payment.id]},"
                       f" more than the payment's {payment.amount}",
                       "check for a duplicated or mistyped refund")

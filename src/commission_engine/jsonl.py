"""Read records from JSON Lines text: numbers as Decimal, never through float.

Each line is one JSON object. Lines that are not valid JSON, give a field
twice, nest too deeply or are longer than ``Limits.max_record_line_chars``
are all reported at once in one ``RecordError``, before any record is
validated. The caller reads the file; this module only parses text.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any, NoReturn

from . import collector
from .errors import Problem, RecordError
from .limits import DEFAULT_LIMITS, Limits, raise_hint
from .records import (FIELD_NAMES, OPTIONAL_FIELDS, NumberedPositions, RecordSet, index_valid,
                      load_records, record_label, record_validators)

__all__ = ["load_jsonl", "parse_jsonl", "reject_constant"]


class _DuplicateKeyError(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise _DuplicateKeyError(key)
        data[key] = value
    return data


def reject_constant(name: str) -> NoReturn:
    msg = f"{name} is not a number a record may hold"
    raise ValueError(msg)


def load_jsonl(text: str, limits: Limits = DEFAULT_LIMITS) -> RecordSet:
    """Parse JSON Lines text and validate the records; raise ``RecordError`` listing every problem.

    Each record is named by its line number (``"line 3"``) in every message.
    """
    # Loading allocates an object or more per field: bulk work, with the
    # cyclic collector paused (see collector.py).
    with collector.paused():
        record_set = _load_clean(text, limits)
    if record_set is not None:
        return record_set
    rows, positions = parse_jsonl(text, limits)
    return load_records(rows, positions, limits)


# The end of a key: a quote, JSON whitespace, a colon. In a line that is
# valid JSON, a quote inside a string is escaped, so a line contains at
# least as many of these as it has keys.
_KEY_END = re.compile(r'"[ \t\r\n]*:')
_SPACED_KEY_END = re.compile(r'"[ \t\r\n]+:')
# A key with the letters of a field name, and the colon after it.
_KEY_NAME = re.compile(r'"([A-Za-z_]+)"[ \t\r\n]*:')
_FIELD_COUNT = {kind: len(names) for kind, names in FIELD_NAMES.items()}


def _load_clean(text: str, limits: Limits) -> RecordSet | None:
    """Load text with no problem in it without building dicts, or return None.

    pydantic reads each line's JSON and validates it in one step: 57 ms
    against 96 ms for ``json.loads`` and then validation of the dicts, for
    10,005 records (CPython 3.11, pydantic-core 2.50). On None, the caller
    loads the text through the reporting path, which reports every problem.
    So this path only has to find that a problem exists, never to describe
    it. A line
    that pydantic's reader may read differently (a surrogate escape, a key
    given twice, an amount written as a JSON number with decimals) is read
    again alone, as the reporting path reads it.
    """
    if not isinstance(text, str):
        return None
    lines, positions = _numbered_lines(text)
    if not lines or max(map(len, lines)) > limits.max_record_line_chars:
        return None
    from_json, from_value = record_validators(limits)
    # The reporting path reports a lone surrogate escape in its own words.
    # On 100,002 records the search for a backslash took 0.13 ms, and the
    # two searches after it 14 ms.
    escapes = "\\" in text and ("\\ud" in text or "\\uD" in text)
    models: list[Any] = []
    for line in lines:
        if escapes and ("\\ud" in line or "\\uD" in line):
            model = _load_line(line, from_value, limits)
        else:
            try:
                model = from_json(line)
            except (ValueError, RecursionError):
                model = _load_line(line, from_value, limits)
        if model is None:
            return None
        models.append(model)
    if _repeats_a_key(text, lines, models, from_value, limits):
        return None
    return index_valid(models, positions)


def _repeats_a_key(text: str, lines: list[str], models: list[Any],
                   from_value: Callable[[Any], Any], limits: Limits) -> bool:
    """Tell whether a line gives a key twice, or may: then it is read again alone.

    A key given twice keeps its last value in pydantic's reader, and the
    reporting path reports it. Every key of a valid record names one of its
    fields, and a line has at least as many key ends as keys. So a line that
    gives every field of its record repeats no key when its key ends number
    its fields. A record with an optional field at None may have left that
    field out, so its line is checked on its own.
    """
    kinds = list(map(type, models))
    uncertain = [
        index for index in itertools.compress(range(len(models)),
                                              map(OPTIONAL_FIELDS.__contains__, kinds))
        if None in map(models[index].__getattribute__, OPTIONAL_FIELDS[kinds[index]])
    ]
    for index in uncertain:
        if not _gives_each_key_once(lines[index], from_value, limits):
            return True
    certain_ends = _key_ends(text) - sum(_key_ends(lines[index]) for index in uncertain)
    certain_fields = sum(map(_FIELD_COUNT.__getitem__, kinds)) - sum(
        _FIELD_COUNT[kinds[index]] for index in uncertain)
    if certain_ends == certain_fields:
        return False
    skip = set(uncertain)
    return any(
        index not in skip and _key_ends(line) != _FIELD_COUNT[kind]
        and _load_line(line, from_value, limits) is None
        for index, (line, kind) in enumerate(zip(lines, kinds)))


def _gives_each_key_once(line: str, from_value: Callable[[Any], Any], limits: Limits) -> bool:
    """Tell whether one line of a valid record gives no key twice."""
    if "\\" in line:
        return _load_line(line, from_value, limits) is not None
    # With no backslash, no string contains a quote, so a quoted name followed
    # by a colon is always a key: a value's closing quote is followed by a
    # comma, a brace or whitespace.
    keys = _KEY_NAME.findall(line)
    return len(keys) == len(set(keys))


def _key_ends(text: str) -> int:
    """Count the places in the text where a key may end (see ``_KEY_END``)."""
    if _SPACED_KEY_END.search(text) is None:
        return text.count('":')
    return len(_KEY_END.findall(text))


def _load_line(line: str, from_value: Callable[[Any], Any], limits: Limits) -> Any:
    """Read and validate one line as the reporting path does; return None on a problem."""
    value = _parse_line(line, 0, limits)
    if isinstance(value, Problem) or type(value) is not dict or "revision" in value:
        return None
    try:
        return from_value(value)
    except (ValueError, RecursionError):
        # ValidationError and UnicodeEncodeError are both ValueErrors.
        return None


def parse_jsonl(text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[list[Any], list[str]]:
    """Parse JSON Lines text with numbers as Decimal; return the values and their positions.

    The values are not validated as records. Every line that is not one JSON
    value is reported at once in a ``RecordError``.
    """
    if not isinstance(text, str):
        msg = f"JSON Lines text must be str, not {type(text).__name__}; decode the file first"
        raise TypeError(msg)
    rows: list[Any] = []
    positions: list[str] = []
    problems: list[Problem] = []
    omitted = 0
    for number, line in _record_lines(text):
        outcome = _parse_line(line, number, limits)
        if isinstance(outcome, Problem):
            if len(problems) < limits.max_reported_errors:
                problems.append(outcome)
            else:
                omitted += 1
            continue
        rows.append(outcome)
        positions.append(f"line {number}")
    if problems:
        raise RecordError(tuple(problems), omitted)
    return rows, positions


def _numbered_lines(text: str) -> tuple[list[str], NumberedPositions]:
    """Return the lines of ``_record_lines`` and their positions (``"line 3"``)."""
    lines = text.removeprefix("\ufeff").split("\n")
    # In the usual text no line has a CR and only the last line is blank.
    # Then the lines need no loop in Python.
    if "\r" not in text and all(map(str.strip, lines[:-1])):
        if not lines[-1].strip():
            lines.pop()
        return lines, NumberedPositions("line", range(1, len(lines) + 1))
    numbered = list(_record_lines(text))
    return ([line for _number, line in numbered],
            NumberedPositions("line", [number for number, _line in numbered]))


def _record_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield each line that is not blank, without its CR, with its number from 1.

    A byte order mark at the start is harmless and dropped.
    """
    text = text.removeprefix("\ufeff")
    # Split only at newlines, because str.splitlines also breaks at U+2028
    # and others, which JSON strings may contain.
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def _parse_line(line: str, number: int, limits: Limits) -> Any:
    """Return the JSON value of one line, or the ``Problem`` that stops it."""
    position = f"line {number}"
    if len(line) > limits.max_record_line_chars:
        return Problem(position, None, None,
                       f"the line is {len(line):,} characters long, more than the limit of"
                       f" {limits.max_record_line_chars:,} (max_record_line_chars)",
                       "write one record per line; " + raise_hint("max_record_line_chars"))
    try:
        value = json.loads(line, parse_float=Decimal, parse_constant=reject_constant,
                           object_pairs_hook=_object_without_duplicates)
    except _DuplicateKeyError as exc:
        # A repeated type or id has two values, so it cannot name the record.
        label = None if str(exc) in ("type", "id") else _label_of(line)
        return Problem(position, label, str(exc), "the field is given twice in one record",
                       "keep one value; JSON readers disagree on which one wins")
    except RecursionError:
        return Problem(position, None, None, "the JSON nests too deeply to be a record",
                       "write one flat JSON object per line")
    except json.JSONDecodeError as exc:
        detail = exc.msg[0].lower() + exc.msg[1:]
        detail += f" column {exc.colno}" if detail.endswith(" at") else f" at column {exc.colno}"
        fix = "write one JSON object per line"
        if "\r" in line:
            # A file whose lines end with a CR alone reads as one long line,
            # because JSON takes a CR as whitespace.
            fix += ("; this line contains a CR that is not before an LF, so save the file"
                    " with LF or CRLF line ends")
        return Problem(position, None, None, f"not valid JSON: {detail}", fix)
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            # Python refuses to read integers of more than 4,300 digits; no
            # amount, score or count of a record comes near that.
            return Problem(position, None, None,
                           "not valid JSON: a number on this line has more than 4,300 digits",
                           "check the line for a pasted or corrupted number; amounts have at"
                           f" most {limits.max_amount_digits} digits before the point")
        return Problem(position, None, None, f"not valid JSON: {exc}",
                       "write one JSON object per line, with numbers as digits")
    if "\\ud" in line.lower() and _has_lone_surrogate(value):
        return Problem(position, None, None,
                       "a string holds a lone UTF-16 surrogate escape (\\ud800 to \\udfff)",
                       "escape characters outside the basic plane as a surrogate pair")
    return value


def _label_of(line: str) -> str | None:
    """Name the record of a line with a repeated key ("contract K1"), or return None."""
    try:
        # Without the hook that rejects a repeated key, the last value wins.
        value = json.loads(line, parse_float=Decimal, parse_constant=reject_constant)
    except (ValueError, RecursionError):
        # The rest of the line may be invalid too. Its problem is reported
        # once the repeated key is fixed.
        return None
    label = record_label(value) if type(value) is dict else None
    if label is None or _has_lone_surrogate(label):
        return None
    return label


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(item) for item in value)
    return False

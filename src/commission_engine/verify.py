"""Check a stored result against the plan and records it claims to come from.

A stored result (the JSON of ``run --format json``, or a payslip from
``statement --format json``) is a snapshot: the digests of the plan text and
of the records, the as-of time and the rounding mode, and every output. To
verify it, the plan is evaluated again over the records with the stored
as-of time and rounding, and the stored document is compared with the new
one, field by field, in document order. The first difference is reported.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .compile import CompiledPlan
from .localize import LANGUAGES
from .records import MAX_YEAR, MIN_YEAR, RecordSet, is_accepted_timestamp
from .results import plan_digest, records_digest

__all__ = ["StoredResultError", "Verification", "verify"]


class StoredResultError(ValueError):
    """A stored result that is not a document ``verify`` can check."""


@dataclass(frozen=True, slots=True)
class Verification:
    """The outcome of checking a stored result.

    ``input_difference`` describes how the given plan or records differ from the
    ones the result was computed from. ``output_difference`` is the first
    stored value that the new evaluation does not reproduce, as a path and
    both values.
    """

    input_difference: str | None
    output_difference: str | None

    @property
    def matches(self) -> bool:
        """True when the inputs and every output are reproduced exactly."""
        return self.input_difference is None and self.output_difference is None


def verify(stored: Any, plan: CompiledPlan, records: RecordSet) -> Verification:
    """Evaluate ``plan`` over ``records`` with the stored as-of time and rounding, and compare.

    Raises ``StoredResultError`` when ``stored`` lacks the snapshot of its
    inputs, and the usual evaluation errors when the records cannot be
    evaluated.
    """
    # NOTE: the snapshot has no closed periods, so a result computed with
    # ``closed=`` is evaluated here without them and does not match.
    inputs, as_of = _stored_inputs(stored)
    input_difference = _compare_inputs(inputs, plan, records)
    result = plan.evaluate(records, as_of, inputs["rounding"])
    if _is_payslip(stored):
        from .evaluate import attainments
        from .payslip import build_payslip

        payslip = build_payslip(result, stored["payee"], stored["period"], stored["lang"],
                                attainments(plan, records, as_of))
        fresh: Any = None if payslip is None else payslip.to_dict()
    else:
        fresh = result.to_dict()
    if isinstance(fresh, dict):
        # The inputs were compared above, with a clearer message, so they
        # are left out of the field-by-field comparison.
        fresh["inputs"] = stored["inputs"]
    return Verification(input_difference, _first_difference(stored, fresh, ""))


# The keys of the inputs snapshot that run and statement write.
_INPUT_KEYS = ("plan_sha256", "records_sha256", "as_of", "rounding")


def _stored_inputs(stored: Any) -> tuple[dict[str, str], datetime]:
    """Return the stored inputs snapshot and its as-of time, or raise ``StoredResultError``."""
    fix = "pass the JSON that run --format json or statement --format json wrote"
    if not isinstance(stored, dict):
        msg = f"the stored result is a JSON {type(stored).__name__}, not an object; {fix}"
        raise StoredResultError(msg)
    inputs = stored.get("inputs")
    if not isinstance(inputs, dict):
        msg = f"the stored result has no \"inputs\" snapshot; {fix}"
        raise StoredResultError(msg)
    for key in _INPUT_KEYS:
        if not isinstance(inputs.get(key), str):
            msg = f"the stored result's inputs lack {key!r}; {fix}"
            raise StoredResultError(msg)
    unknown = sorted(map(str, inputs.keys() - set(_INPUT_KEYS)))
    if unknown:
        names = ", ".join(map(repr, unknown))
        msg = f"the stored result's inputs contain unknown keys {names}; {fix}"
        raise StoredResultError(msg)
    try:
        moment = datetime.fromisoformat(inputs["as_of"])
    except ValueError:
        msg = f"the stored as_of {inputs['as_of']!r} is not an ISO 8601 timestamp; {fix}"
        raise StoredResultError(msg) from None
    if moment.tzinfo is None:
        msg = f"the stored as_of {inputs['as_of']!r} has no UTC offset; {fix}"
        raise StoredResultError(msg)
    # The same form and years as run --as-of, so that a stored result
    # verifies only when run could have written it.
    if not is_accepted_timestamp(inputs["as_of"]):
        msg = (f"the stored as_of {inputs['as_of']!r} is not in the accepted ISO 8601 form"
               f" (a calendar date, T, the time and an offset); {fix}")
        raise StoredResultError(msg)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        msg = (f"the stored as_of {inputs['as_of']!r} is out of range: the year must be from"
               f" {MIN_YEAR} to {MAX_YEAR}; {fix}")
        raise StoredResultError(msg)
    if _is_payslip(stored) and not all(isinstance(stored.get(key), str)
                                       for key in ("payee", "period", "lang")):
        msg = f"the stored payslip lacks its payee, period or lang; {fix}"
        raise StoredResultError(msg)
    if _is_payslip(stored) and stored["lang"] not in LANGUAGES:
        known = ", ".join(LANGUAGES)
        msg = f"the stored payslip's lang {stored['lang']!r} is not one of {known}; {fix}"
        raise StoredResultError(msg)
    return inputs, moment


def _is_payslip(stored: dict[str, Any]) -> bool:
    return "payee" in stored and "statements" not in stored


def _compare_inputs(inputs: dict[str, str], plan: CompiledPlan,
                    records: RecordSet) -> str | None:
    given_plan = plan_digest(plan.source)
    if given_plan != inputs["plan_sha256"]:
        return (f"the plan text differs: the result was computed from {inputs['plan_sha256']},"
                f" the given plan is {given_plan}")
    given_records = records_digest(records.canonical_lines)
    if given_records != inputs["records_sha256"]:
        return (f"the records differ: the result was computed from {inputs['records_sha256']},"
                f" the given records are {given_records}")
    return None


def _first_difference(stored: Any, fresh: Any, path: str) -> str | None:
    """Return the first path where two JSON values differ, with both values, or None."""
    if isinstance(stored, dict) and isinstance(fresh, dict):
        for key in list(fresh) + [key for key in stored if key not in fresh]:
            where = f"{path}.{key}" if path else key
            if key not in stored:
                return f"{where}: missing from the stored result"
            if key not in fresh:
                return f"{where}: not in the recomputed result"
            found = _first_difference(stored[key], fresh[key], where)
            if found is not None:
                return found
        return None
    if isinstance(stored, list) and isinstance(fresh, list):
        for index, (old, new) in enumerate(zip(stored, fresh, strict=False)):
            found = _first_difference(old, new, f"{path}[{index}]")
            if found is not None:
                return found
        if len(stored) != len(fresh):
            return (f"{path}: {len(stored)} items stored, {len(fresh)} recomputed")
        return None
    if type(stored) is not type(fresh) or stored != fresh:
        return f"{path or 'the document'}: stored {_show(stored)}, recomputed {_show(fresh)}"
    return None


def _show(value: Any) -> str:
    import json

    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 80 else text[:77] + "..."

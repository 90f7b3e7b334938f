"""Corrected records: a later revision of a record replaces the earlier ones in a batch.

A record may carry ``"revision": N``, a whole number from 1; a record
without the field is revision 1, the original. Records of the same type and
id are versions of one record (a target's key is its rep, period and
metric). The highest revision is the one validated and evaluated, wherever
it sits in the batch, so the outcome does not depend on record order.
A batch must hold the original of every correction: a revision above 1
whose original is missing, or two versions with the same revision, are
invalid input. The ``revision`` field is removed before validation, so a
corrected record and a record that was right the first time have the same
canonical form and digest.
"""

from __future__ import annotations

import numbers
import operator
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["MAX_REVISION", "Superseded", "apply_revisions", "revision_of"]

MAX_REVISION = 1_000_000_000
_FIELD = "revision"


@dataclass(frozen=True, slots=True)
class Superseded:
    """The outcome of resolving revisions: the records kept, and the problems found.

    Each problem is (position, label, message, fix), as ``records`` reports them.
    """

    items: list[Any]
    positions: list[str]
    problems: list[tuple[str, str | None, str, str]]


def apply_revisions(raw: Sequence[Any], positions: Sequence[str],
                    known_types: Collection[str] | None = None) -> Superseded:
    """Keep the highest revision of each record and drop the versions it replaces.

    A correction of a type outside ``known_types`` is not reported as missing
    its original, because validation reports its type, and one fault gets
    one message. None means every type is known.
    """
    # Test for a plain dict first, the usual record, because the Mapping test is slow.
    if not any((type(item) is dict or isinstance(item, Mapping)) and _FIELD in item
               for item in raw):
        return Superseded(list(raw), list(positions), [])
    problems: list[tuple[str, str | None, str, str]] = []
    revisions: list[int | None] = []
    groups: dict[tuple[str, ...], list[int]] = defaultdict(list)
    for index, item in enumerate(raw):
        revision = _revision(item, positions[index], problems)
        revisions.append(revision)
        key = _key(item)
        if key is not None and revision is not None:
            groups[key].append(index)
    # A version whose revision is invalid is reported and left out, so it is
    # not reported again as a duplicate id.
    dropped = {index for index, revision in enumerate(revisions) if revision is None}
    for key, members in groups.items():
        if known_types is None or key[0] in known_types:
            dropped.update(_resolve(key, members, revisions, positions, problems))
    kept = [index for index in range(len(raw)) if index not in dropped]
    items = [_without_revision(raw[index]) for index in kept]
    return Superseded(items, [positions[index] for index in kept], problems)


def revision_of(item: Any, position: str,
                problems: list[tuple[str, str | None, str, str]]) -> int | None:
    """Return a record's revision (1 without the field), or None after reporting it invalid."""
    return _revision(item, position, problems)


def _revision(item: Any, position: str,
              problems: list[tuple[str, str | None, str, str]]) -> int | None:
    if not isinstance(item, Mapping) or _FIELD not in item:
        return 1
    value = item[_FIELD]
    fix = f"write the revision as a whole number from 1 to {MAX_REVISION}, 1 for the original"
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        # An integer type of numpy or pandas, which a data frame's column has.
        value = operator.index(value)
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        problems.append((position, _label(item), f"revision {value!r} is not a whole number", fix))
        return None
    # The range is checked before int(), which is slow on a huge exponent.
    if isinstance(value, Decimal) and (not value.is_finite() or value != value.to_integral_value()):
        problems.append((position, _label(item), f"revision {value} is not a whole number", fix))
        return None
    if not 1 <= value <= MAX_REVISION:
        shown = value if isinstance(value, Decimal) or abs(value) < 10**30 else "(huge)"
        problems.append((position, _label(item), f"revision {shown} is out of range", fix))
        return None
    return int(value)


def _key(item: Any) -> tuple[str, ...] | None:
    if not isinstance(item, Mapping):
        return None
    record_type = item.get("type")
    if record_type == "target":
        parts = (item.get("rep"), item.get("period"), item.get("metric"))
    else:
        parts = (item.get("id"),)
    if not isinstance(record_type, str) or not all(isinstance(part, str) for part in parts):
        return None
    return (record_type, *parts)  # type: ignore[arg-type]


def _resolve(key: tuple[str, ...], members: list[int], revisions: list[int | None],
             positions: Sequence[str], problems: list[tuple[str, str | None, str, str]]) -> set[int]:
    """Return the versions the highest revision replaces; report a missing original or a tie."""
    label = _key_label(key)
    by_revision: dict[int, list[int]] = defaultdict(list)
    for index in members:
        revision = revisions[index]
        assert revision is not None
        by_revision[revision].append(index)
    top = max(by_revision)
    if top == 1:
        # Two originals are duplicate ids, which the record checks report.
        return set()
    if 1 not in by_revision:
        for index in members:
            problems.append((
                positions[index], label,
                f"revision {revisions[index]} corrects a {key[0]} that is not in the records",
                f"send the original (without a revision field) in the same batch, or remove"
                f" the {_FIELD} field if this is the original"))
        return set()
    replaced = {index for revision, indexes in by_revision.items() if revision < top
                for index in indexes}
    for revision, indexes in sorted(by_revision.items()):
        for index in indexes[1:]:
            if revision > 1:
                problems.append((
                    positions[index], label,
                    f"revision {revision} is given twice, also at {positions[indexes[0]]}",
                    "give each correction the next revision number, or remove the copy"))
                # Reported here, so the duplicate-id check does not see it again.
                replaced.add(index)
    return replaced


def _label(item: Mapping[str, Any]) -> str | None:
    key = _key(item)
    return None if key is None else _key_label(key)


def _key_label(key: tuple[str, ...]) -> str:
    if key[0] == "target":
        return f"target of {key[1]} for {key[2]}"
    return f"{key[0]} {key[1]}"


def _without_revision(item: Any) -> Any:
    if isinstance(item, Mapping) and _FIELD in item:
        return {name: value for name, value in item.items() if name != _FIELD}
    return item

"""What a compiled expression reads at run time: the evaluation context.

A context belongs to one evaluation of one rule on one subject record; it is
never shared between evaluations, so compiled plans stay free of state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType
from decimal import Decimal
from typing import Any

from .records import Contract, RecordSet

__all__ = ["Context", "Fn"]

# Collections of a contract, by the record type of their members.
_CONTRACT_COLLECTIONS: dict[str, str] = {
    "satisfaction": "surveys_of",
    "complaint": "complaints_of",
    "session": "sessions_of",
    "payment": "payments_of",
    "refund": "refunds_of",
}


# The empty mapping a context starts with; read-only, so every context can share it.
_EMPTY: Mapping[str, Any] = MappingProxyType({})


class Context:
    """The records an expression may read, and what it has read so far.

    ``trigger`` is the latest event time an aggregate read; a one-time line
    falls due at that time. ``zone`` is the payee's IANA zone, in which
    timestamps become local dates.
    """

    __slots__ = (
        "records", "contract", "subject", "zone", "as_of", "element", "metrics",
        "cohort_collections", "trigger", "sources", "commission_of",
    )

    def __init__(
        self,
        records: RecordSet,
        contract: Contract | None,
        zone: str,
        as_of: datetime,
        commission_of: Callable[[str, Contract], Decimal | None] | None = None,
    ):
        self.records = records
        self.contract = contract
        # The record a rule runs on: the contract, or a payment of it.
        self.subject: Any = contract
        self.zone = zone
        self.as_of = as_of
        self.element: Any = None
        self.metrics: Mapping[str, Any] = _EMPTY
        self.cohort_collections: Mapping[str, tuple[Any, ...]] = _EMPTY
        self.trigger: datetime | None = None
        self.sources: set[str] = set()
        self.commission_of = commission_of

    def collection(self, record_type: str, name: str) -> tuple[Any, ...]:
        """Return the members of a collection, sorted by event time, then id."""
        if name in self.cohort_collections:
            return self.cohort_collections[name]
        assert self.contract is not None
        index: Mapping[str, tuple[Any, ...]] = getattr(
            self.records, _CONTRACT_COLLECTIONS[record_type]
        )
        return index.get(self.contract.id, ())

    def touch(self, moment: datetime, record_id: str) -> None:
        """Note that an aggregate read a record of this time."""
        if self.trigger is None or moment > self.trigger:
            self.trigger = moment
        self.sources.add(record_id)


Fn = Callable[[Context], Any]

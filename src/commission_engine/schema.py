"""The record schema as the plan language sees it: field types and collections.

A field's type is a scalar type name or ``record:<type>`` for a reference that
can be followed with a dot (``contract.customer.owner``). Optional references
may be absent; a condition that reads an absent value is false.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "COLLECTIONS",
    "FIELDS",
    "SCALAR_TYPES",
    "Field",
    "record_type_of",
]

SCALAR_TYPES = (
    "money",
    "percentage",
    "count",
    "number",
    "date",
    "timestamp",
    "duration",
    "boolean",
    "text",
)

NUMERIC_TYPES = frozenset({"money", "count", "number"})


@dataclass(frozen=True, slots=True)
class Field:
    type: str
    optional: bool = False


FIELDS: dict[str, dict[str, Field]] = {
    "rep": {
        "id": Field("text"),
        "name": Field("text"),
        "timezone": Field("text"),
        "kind": Field("text"),
        "team": Field("text"),
        "region": Field("text"),
        "manager": Field("record:rep", optional=True),
    },
    "customer": {
        "id": Field("text"),
        "owner": Field("record:rep"),
        "referred_by": Field("record:customer", optional=True),
        "created_at": Field("timestamp"),
    },
    "contract": {
        "id": Field("text"),
        "customer": Field("record:customer"),
        "rep": Field("record:rep"),
        "product": Field("text"),
        "amount": Field("money"),
        "currency": Field("text"),
        "signed_at": Field("timestamp"),
        "term_months": Field("count"),
    },
    "payment": {
        "id": Field("text"),
        "contract": Field("record:contract"),
        "amount": Field("money"),
        "paid_at": Field("timestamp"),
    },
    "refund": {
        "id": Field("text"),
        "contract": Field("record:contract"),
        "amount": Field("money"),
        "refunded_at": Field("timestamp"),
        "reason": Field("text"),
        "payment": Field("record:payment", optional=True),
    },
    "session": {
        "id": Field("text"),
        "contract": Field("record:contract"),
        "held_at": Field("timestamp"),
        "minutes": Field("count"),
    },
    "satisfaction": {
        "id": Field("text"),
        "contract": Field("record:contract"),
        "score": Field("number"),
        "surveyed_at": Field("timestamp"),
    },
    "complaint": {
        "id": Field("text"),
        "contract": Field("record:contract"),
        "filed_at": Field("timestamp"),
        "upheld": Field("boolean"),
    },
}

# Collections a contract owns, by the names a plan may use (singular or plural),
# mapped to the record type of their members.
COLLECTIONS: dict[str, str] = {
    "surveys": "satisfaction",
    "survey": "satisfaction",
    "complaints": "complaint",
    "complaint": "complaint",
    "sessions": "session",
    "session": "session",
    "payments": "payment",
    "payment": "payment",
    "refunds": "refund",
    "refund": "refund",
}

# The time at which a member of each collection happens.
EVENT_TIME: dict[str, str] = {
    "satisfaction": "surveyed_at",
    "complaint": "filed_at",
    "session": "held_at",
    "payment": "paid_at",
    "refund": "refunded_at",
    "contract": "signed_at",
    "customer": "created_at",
}


def record_type_of(type_name: str) -> str | None:
    """Return ``contract`` for ``record:contract`` and None for a scalar type."""
    if type_name.startswith("record:"):
        return type_name[len("record:"):]
    return None

"""JSON Schema (draft 2020-12) for every record type, for results and for payslips.

Record schemas come from the pydantic dataclasses
(``TypeAdapter.json_schema``), with ``type`` required as it is in JSON
Lines. The result and payslip schemas are written by hand from
``Result.to_dict`` and ``Payslip.to_dict``, and a test checks them against
real output. Integrators can validate at their edge with
any JSON Schema validator. ``load_records`` stays the authority, because
references between records and the currency's minor digits are beyond what a
schema can express.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import TypeAdapter

from . import explain, money
from .records import RECORD_TYPES
from .revisions import MAX_REVISION
from .results import LINE_KINDS

__all__ = ["SCHEMA_TYPES", "schema_document", "schema_of"]

DIALECT = "https://json-schema.org/draft/2020-12/schema"

_TEXT: dict[str, Any] = {"type": "string"}
_EXACT_DECIMAL: dict[str, Any] = {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]+)?$"}
_PERIOD: dict[str, Any] = {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"}
_INSTANT: dict[str, Any] = {"type": "string", "format": "date-time"}
_DIGEST: dict[str, Any] = {"type": "string", "pattern": r"^sha256:[0-9a-f]{64}$"}
_CURRENCY: dict[str, Any] = {"type": "string", "enum": list(money.known_currencies())}
_ROUNDING: dict[str, Any] = {"type": "string", "enum": list(money.ROUNDING_MODES)}


def _object(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def _step() -> dict[str, Any]:
    return _object({
        "step": {"type": "string", "enum": sorted(explain._PARTS)},
        "text": _TEXT,
        "values": {"type": "object", "additionalProperties": _TEXT},
    })


def _line() -> dict[str, Any]:
    return _object({
        "payee": _TEXT,
        "period": _PERIOD,
        "kind": {"type": "string", "enum": list(LINE_KINDS)},
        "rule": _TEXT,
        "amount": _EXACT_DECIMAL,
        "currency": _CURRENCY,
        "due": _INSTANT,
        "sources": {"type": "array", "items": _TEXT},
        "explanation": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "text": _TEXT,
    })


def _inputs() -> dict[str, Any]:
    return _object({
        "plan_sha256": _DIGEST,
        "records_sha256": _DIGEST,
        "as_of": _INSTANT,
        "rounding": _ROUNDING,
    })


def _plan_name() -> dict[str, Any]:
    return _object({"name": _TEXT, "version": _TEXT})


def _result() -> dict[str, Any]:
    statement = _object({
        "payee": _TEXT,
        "period": _PERIOD,
        "currency": _CURRENCY,
        "total": _EXACT_DECIMAL,
        # Indices into the result's "lines".
        "lines": {"type": "array", "items": {"type": "integer", "minimum": 0}},
    })
    return _object({
        "plan": _plan_name(),
        "as_of": _INSTANT,
        "currency": _CURRENCY,
        "rounding": _ROUNDING,
        "lines": {"type": "array", "items": {"$ref": "#/$defs/line"}},
        "statements": {"type": "array", "items": statement},
        "schedule": {"type": "array", "items": {"$ref": "#/$defs/line"}},
        "inputs": {"$ref": "#/$defs/inputs"},
        "digest": _DIGEST,
    })


def _payslip() -> dict[str, Any]:
    line = copy.deepcopy(_line())
    line["properties"]["kind_name"] = _TEXT
    line["properties"]["amount_text"] = _TEXT
    line["required"] += ["kind_name", "amount_text"]
    return _object({
        "payee": _TEXT,
        "period": _PERIOD,
        "lang": {"type": "string", "enum": ["en", "zh-CN"]},
        "plan": _plan_name(),
        "as_of": _INSTANT,
        "currency": _CURRENCY,
        "total": _EXACT_DECIMAL,
        "total_text": _TEXT,
        "lines": {"type": "array", "items": line},
        "history": {"type": "array", "items": _object({"period": _PERIOD,
                                                        "total": _EXACT_DECIMAL})},
        "draw_balance": {"anyOf": [_EXACT_DECIMAL, {"type": "null"}]},
        "progress": {"type": "array", "items": _object({
            "metric": _TEXT,
            "unit": {"type": "string", "enum": ["money", "count"]},
            "target": _EXACT_DECIMAL,
            "achieved": _EXACT_DECIMAL,
        })},
        "inputs": {"$ref": "#/$defs/inputs"},
        "digest": _DIGEST,
    })


def _record(name: str) -> dict[str, Any]:
    schema = TypeAdapter(RECORD_TYPES[name]).json_schema()
    # In JSON Lines the type is what tells records apart, so it is required.
    schema["properties"]["type"].pop("default", None)
    schema["required"] = ["type", *schema["required"]]
    # load_records removes the revision before the model validates the record.
    schema["properties"]["revision"] = {
        "type": "integer", "minimum": 1, "maximum": MAX_REVISION,
        "description": "the version of a corrected record; the highest revision of the same"
                       " type and id (for a target: rep, period and metric) replaces the"
                       " others, and a record without it is revision 1",
    }
    return schema


def _any_record() -> dict[str, Any]:
    return {"oneOf": [{"$ref": f"#/$defs/{name}"} for name in RECORD_TYPES]}


# Every type ``schema_of`` accepts: the record types, ``record`` (any one
# record), ``result`` and ``payslip``.
SCHEMA_TYPES = (*RECORD_TYPES, "record", "result", "payslip")


def _definitions() -> dict[str, Any]:
    definitions: dict[str, Any] = {name: _record(name) for name in RECORD_TYPES}
    definitions.update({
        "record": _any_record(),
        "step": _step(),
        "line": _line(),
        "inputs": _inputs(),
        "result": _result(),
        "payslip": _payslip(),
    })
    return definitions


def schema_of(type_name: str) -> dict[str, Any]:
    """Return the self-contained JSON Schema of one type in ``SCHEMA_TYPES``.

    Raises ``ValueError`` naming the known types for any other name.
    """
    if type_name not in SCHEMA_TYPES:
        known = ", ".join(SCHEMA_TYPES)
        msg = f"no schema for {type_name!r}; use one of {known}"
        raise ValueError(msg)
    definitions = _definitions()
    root = definitions.pop(type_name)
    return {"$schema": DIALECT, "$id": f"commission-engine:{type_name}", **root,
            "$defs": definitions}


def schema_document() -> dict[str, Any]:
    """Return one JSON Schema whose ``$defs`` contain every type, validating any one record."""
    return {"$schema": DIALECT, "$id": "commission-engine", "$ref": "#/$defs/record",
            "$defs": _definitions()}

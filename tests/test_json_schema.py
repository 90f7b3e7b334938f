"""JSON Schema of records, results and payslips, checked against real data."""

from __future__ import annotations

import dataclasses

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from helpers import REFERENCE_PLAN, ROOT, WORKED, read_jsonl, run_cli
from hypothesis import given, settings

from commission_engine import RecordError, cli, load_plan, load_records
from commission_engine.json_schema import SCHEMA_TYPES, schema_document, schema_of
from commission_engine.payslip import build_payslip
from commission_engine.records import RECORD_TYPES
from commission_engine.results import PayoutLine
from commission_engine.strategies import record_sets

PLAN = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
AS_OF = "2025-12-31T00:00:00+08:00"

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, Decimal)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def errors(value: Any, schema: dict[str, Any], root: dict[str, Any], path: str = "$") -> list[str]:
    """Validate with the keywords these schemas use; return every violation found."""
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        found = errors(value, root["$defs"][name], root, path)
        if found:
            return found

    found: list[str] = []
    if "type" in schema and not _TYPES[schema["type"]](value):
        return [f"{path}: {value!r} is not of type {schema['type']}"]
    if "const" in schema and value != schema["const"]:
        found.append(f"{path}: {value!r} is not {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        found.append(f"{path}: {value!r} is not one of the enum")

    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            found.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            found.append(f"{path}: {value!r} is too short")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            found.append(f"{path}: {value!r} is too long")

    if _TYPES["number"](value):
        if "minimum" in schema and value < schema["minimum"]:
            found.append(f"{path}: {value} is below {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            found.append(f"{path}: {value} is above {schema['maximum']}")

    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                found.append(f"{path}: {name!r} is required")
        for name, item in value.items():
            if name in properties:
                found += errors(item, properties[name], root, f"{path}.{name}")
            elif schema.get("additionalProperties") is False:
                found.append(f"{path}: {name!r} is not allowed")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += errors(item, schema["additionalProperties"], root, f"{path}.{name}")

    if isinstance(value, list) and "items" in schema:
        for index, item in enumerate(value):
            found += errors(item, schema["items"], root, f"{path}[{index}]")

    if "anyOf" in schema and all(errors(value, option, root, path)
                                 for option in schema["anyOf"]):
        found.append(f"{path}: {value!r} matches none of anyOf")
    if "oneOf" in schema:
        matches = sum(not errors(value, option, root, path) for option in schema["oneOf"])
        if matches != 1:
            found.append(f"{path}: {value!r} matches {matches} of oneOf, not exactly 1")
    return found


DOCUMENT = schema_document()


def test_cli_lists_every_schema_type() -> None:
    assert cli._SCHEMA_TYPES == SCHEMA_TYPES


# The counselling data contains every record type; the worked cases add edge cases.
@pytest.mark.parametrize("path", [
    ROOT / "examples" / "counselling" / "records.jsonl",
    *sorted(WORKED.glob("*.jsonl")),
], ids=lambda path: path.name)
def test_real_records_validate(path: Any) -> None:
    rows = read_jsonl(path)
    load_records(rows)  # the library accepts them
    for number, row in enumerate(rows, start=1):
        assert errors(row, DOCUMENT, DOCUMENT) == [], f"line {number}"


@pytest.mark.parametrize("name", sorted(RECORD_TYPES))
def test_required_fields_match_models(name: str) -> None:
    schema = schema_of(name)
    model = RECORD_TYPES[name]
    fields = dataclasses.fields(model)
    required = [field.name for field in fields if field.default is dataclasses.MISSING]
    assert schema["required"] == ["type", *required]
    # revision is read by load_records before the model validates the record.
    assert set(schema["properties"]) == {field.name for field in fields} | {"revision"}
    assert schema["additionalProperties"] is False
    assert schema["properties"]["type"]["const"] == name


CONTRACT = {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "p",
            "amount": "12000.00", "currency": "CNY",
            "signed_at": "2025-01-15T10:00:00+08:00", "term_months": 12}


@pytest.mark.parametrize(("field", "value"), [
    ("signed_at", "2025-01-15T10:00:00"),
    ("signed_at", 20250115),
    ("amount", "12,000.00"),
    ("amount", True),
    ("currency", "XXX"),
    ("term_months", 0),
    ("term_months", 601),
    ("id", ""),
    ("id", "K\u0085"),
    ("id", "K\x9f"),
    ("id", "K\u202e1"),
    ("id", "K\u2066"),
    ("customer", "C\u200f"),
    ("extra", "x"),
])
def test_schema_rejects_what_models_reject(field: str, value: Any) -> None:
    row = dict(CONTRACT, **{field: value})
    rows = read_jsonl(WORKED / "E1.jsonl")[:2] + [row]
    assert errors(row, DOCUMENT, DOCUMENT) != []
    with pytest.raises(RecordError):
        load_records(rows)


def test_schema_requires_type() -> None:
    row = {key: value for key, value in CONTRACT.items() if key != "type"}
    assert errors(row, schema_of("contract"), schema_of("contract")) == [
        "$: 'type' is required"]


@settings(max_examples=40, deadline=None)
@given(record_sets(max_reps=3, max_contracts=6))
def test_generated_records_validate(rows: list[dict[str, Any]]) -> None:
    """Every record set that load_records accepts also passes the schema."""
    load_records(rows)
    for row in rows:
        data = json.loads(json.dumps(row, default=str), parse_float=Decimal)
        assert errors(data, DOCUMENT, DOCUMENT) == []


def test_real_result_validates() -> None:
    completed = run_cli("run", str(REFERENCE_PLAN), str(WORKED / "E12.jsonl"),
                        "--as-of", AS_OF, "--format", "json")
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout, parse_float=Decimal)
    schema = schema_of("result")

    assert errors(result, schema, schema) == []
    assert schema["required"] == list(result)
    line_schema = schema["$defs"]["line"]
    assert line_schema["required"] == list(result["lines"][0])

    result["lines"][0]["amount"] = 40
    assert errors(result, schema, schema) == ["$.lines[0].amount: 40 is not of type string"]


def test_real_payslip_validates() -> None:
    records = load_records(read_jsonl(WORKED / "E7.jsonl"))
    result = PLAN.evaluate(records, datetime.fromisoformat(AS_OF))
    payslip = build_payslip(result, "R1", "2025-03", "zh-CN")
    assert payslip is not None
    data = json.loads(json.dumps(payslip.to_dict()))
    schema = schema_of("payslip")

    assert errors(data, schema, schema) == []
    assert schema["required"] == list(data)


def test_line_schema_matches_to_dict() -> None:
    properties = schema_of("result")["$defs"]["line"]["properties"]
    assert set(properties) == {*PayoutLine.__slots__, "text"}


# The JSON text of the id pattern: no Cc character, no line or paragraph
# separator, and no bidirectional mark or control.
ID_PATTERN = ("^[^\\x00-\\x1f\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e"
              "\\u2066-\\u2069]+$")


def test_cli_prints_one_type() -> None:
    completed = run_cli("schema", "refund")
    assert completed.returncode == 0, completed.stderr
    schema = json.loads(completed.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["properties"]["payment"] == {
        "anyOf": [{"maxLength": 200, "minLength": 1, "pattern": ID_PATTERN,
                   "type": "string"}, {"type": "null"}],
        "default": None, "title": "Payment"}
    assert "payment" not in schema["required"]

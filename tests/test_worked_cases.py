"""The worked examples of the reference plan give exactly their expected lines."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from commission_engine import load_records

from helpers import REFERENCE_PLAN, WORKED, read_jsonl, run_cli

CASES = sorted(path.name.split(".")[0] for path in WORKED.glob("*.jsonl"))
EXPECTATIONS = sorted(WORKED.glob("*.expected.json"))


def _expected(path: Path) -> tuple[dict[str, str], dict[tuple[str, str, str], Decimal]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = {(l["payee"], l["period"], l["kind"]): Decimal(l["amount"]) for l in data["lines"]}
    return data, lines


def _case_of(expectation: Path) -> str:
    return expectation.name.split(".")[0]


def test_every_case_has_expectations() -> None:
    assert len(CASES) == 13
    assert {_case_of(path) for path in EXPECTATIONS} == set(CASES)


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda p: p.name.removesuffix(".json"))
def test_case_through_api(reference_plan, expectation: Path) -> None:  # type: ignore[no-untyped-def]
    data, expected = _expected(expectation)
    records = load_records(read_jsonl(WORKED / f"{_case_of(expectation)}.jsonl"))

    result = reference_plan.evaluate(records, datetime.fromisoformat(data["as_of"]),
                                     data["rounding"])

    assert result.totals() == expected


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda p: p.name.removesuffix(".json"))
def test_case_through_cli(expectation: Path) -> None:
    data, expected = _expected(expectation)
    case = WORKED / f"{_case_of(expectation)}.jsonl"

    completed = run_cli("run", str(REFERENCE_PLAN), str(case), "--as-of", data["as_of"],
                        "--rounding", data["rounding"], "--format", "json")

    assert completed.returncode == 0, completed.stderr
    output = json.loads(completed.stdout)
    sums: dict[tuple[str, str, str], Decimal] = {}
    for line in output["lines"]:
        key = (line["payee"], line["period"], line["kind"])
        sums[key] = sums.get(key, Decimal(0)) + Decimal(line["amount"])
    assert sums == expected


def test_json_output_shape() -> None:
    completed = run_cli("run", str(REFERENCE_PLAN), str(WORKED / "E5.jsonl"),
                        "--as-of", "2025-06-01T00:00:00+08:00", "--format", "json")

    output = json.loads(completed.stdout)
    assert list(output) == ["plan", "as_of", "currency", "rounding", "lines", "statements",
                            "schedule", "inputs", "digest"]
    assert output["plan"] == {"name": "counselling-2025", "version": "2025.1"}
    assert output["as_of"] == "2025-06-01T00:00:00+08:00"
    assert output["digest"].startswith("sha256:")
    line = output["lines"][0]
    for key in ("payee", "period", "kind", "rule", "amount", "currency", "sources",
                "explanation"):
        assert key in line
    assert line["amount"] == "40.00"
    assert line["sources"] == ["K4"]


def test_clawback_line_of_e5(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(WORKED / "E5.jsonl"))

    result = reference_plan.evaluate(records, datetime.fromisoformat("2026-12-31T00:00:00+08:00"))

    clawbacks = [line for line in result.lines if line.kind == "clawback"]
    assert len(clawbacks) == 1
    assert clawbacks[0].amount == Decimal("-80.00")
    assert clawbacks[0].period == "2025-04"
    assert clawbacks[0].sources == ("K4", "F4")
    assert result.schedule == ()


def test_schedule_after_as_of(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(WORKED / "E1.jsonl"))

    result = reference_plan.evaluate(records, datetime.fromisoformat("2025-03-20T00:00:00+08:00"))

    assert [line.period for line in result.lines] == ["2025-01", "2025-02", "2025-03"]
    assert [line.period for line in result.schedule] == [
        "2025-04", "2025-05", "2025-06", "2025-07", "2025-08", "2025-09", "2025-10",
        "2025-11", "2025-12",
    ]
    assert sum(line.amount for line in result.schedule) == Decimal("720.00")


def test_installment_explanation(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(WORKED / "E1.jsonl"))

    result = reference_plan.evaluate(records, datetime.fromisoformat("2026-12-31T00:00:00+08:00"))

    third = [line for line in result.lines if line.kind == "installment"][2]
    assert third.explain() == (
        "base rate 8% (new customer) x 12,000.00 = 960.00; installment 3 of 12, due 2025-03-15"
    )
    assert third.explanation[0].values == (
        ("rule", "base"), ("rate", "8%"), ("condition", "new customer"),
        ("base", "12000.00"), ("commission", "960.00"),
    )


def test_statements_total_their_lines(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(WORKED / "E7.jsonl"))

    result = reference_plan.evaluate(records, datetime.fromisoformat("2026-12-31T00:00:00+08:00"))

    january = result.statement("R1", "2025-01")
    assert january is not None
    assert january.total == Decimal("480.00")
    march = result.statement("R1", "2025-03")
    assert march is not None
    assert march.total == Decimal("-16.00")

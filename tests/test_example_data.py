"""The bundled data sets are what their scripts write, and they load cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT

from commission_engine.cli import read_jsonl

SCRIPTS = [
    ROOT / "examples" / "counselling" / "generate.py",
    ROOT / "examples" / "superstore" / "convert.py",
]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.parent.name)
def test_records_are_current(script: Path) -> None:
    completed = subprocess.run([sys.executable, str(script), "--check"], capture_output=True,
                               text=True, check=False, timeout=300)

    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_counselling_records_load() -> None:
    text = (ROOT / "examples" / "counselling" / "records.jsonl").read_text(encoding="utf-8")

    records = read_jsonl(text)

    assert len(records.reps) == 30
    assert sum(1 for rep in records.reps.values() if rep.timezone == "Asia/Shanghai") == 20
    assert {rep.kind for rep in records.reps.values()} == {"staff", "agent"}
    assert {c.term_months for c in records.contracts.values()} == {6, 12}
    assert records.refunds
    assert any(customer.referred_by for customer in records.customers.values())


def test_superstore_records_load() -> None:
    text = (ROOT / "examples" / "superstore" / "records.jsonl").read_text(encoding="utf-8")

    records = read_jsonl(text)

    assert sorted(records.reps) == ["Central", "East", "South", "West"]
    assert len(records.customers) == 793
    assert len(records.contracts) == 5009
    assert len(records.complaints) == 1022
    assert str(sum(c.amount for c in records.contracts.values())) == "2297201.13"


def test_superstore_commissions_match_direct_computation() -> None:
    """The engine's commission and penalty lines equal a direct computation of the plan."""
    from datetime import date, datetime
    from decimal import ROUND_HALF_UP, Decimal
    from zoneinfo import ZoneInfo

    from commission_engine import load_plan

    folder = ROOT / "examples" / "superstore"
    records = read_jsonl((folder / "records.jsonl").read_text(encoding="utf-8"))
    plan = load_plan((folder / "superstore.plan").read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat("2018-06-30T00:00:00-07:00")

    result = plan.evaluate(records, as_of)

    cent = Decimal("0.01")
    first_contract: dict[str, tuple[datetime, str]] = {}
    for contract in records.contracts.values():
        key = (contract.signed_at, contract.id)
        if contract.customer not in first_contract or key < first_contract[contract.customer]:
            first_contract[contract.customer] = key
    expected_commission = Decimal(0)
    expected_penalty = Decimal(0)
    complained = {complaint.contract for complaint in records.complaints.values()}
    for contract in records.contracts.values():
        zone = ZoneInfo(records.reps[contract.rep].timezone)
        new = first_contract[contract.customer][1] == contract.id
        signed = contract.signed_at.astimezone(zone).date()
        if new and contract.product == "Technology" and signed >= date(2016, 1, 1):
            rate = Decimal("0.10")
        elif new:
            rate = Decimal("0.08")
        else:
            rate = Decimal("0.12")
        commission = (rate * contract.amount).quantize(cent, rounding=ROUND_HALF_UP)
        expected_commission += commission
        if contract.id in complained:
            expected_penalty -= (commission / 10).quantize(cent, rounding=ROUND_HALF_UP)
    by_kind: dict[str, Decimal] = {}
    for line in result.lines:
        by_kind[line.kind] = by_kind.get(line.kind, Decimal(0)) + line.amount

    assert by_kind["commission"] == expected_commission
    assert by_kind["penalty"] == expected_penalty


def test_readme_shows_real_superstore_output() -> None:
    """The first lines of the Superstore run quoted in the README are what the CLI prints."""
    from helpers import run_cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = readme.split("The first lines of its output:\n\n```\n", 1)[1].split("```", 1)[0]
    folder = ROOT / "examples" / "superstore"

    completed = run_cli("run", str(folder / "superstore.plan"), str(folder / "records.jsonl"),
                        "--as-of", "2018-06-30T00:00:00-07:00")

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith(quoted)

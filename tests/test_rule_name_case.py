"""English explanations show rule names exactly as the plan writes them.

A rule named ``eBay`` must not become ``Ebay``, in the plain table, in
``--lang en``, in CSV and in the HTML payslip, as in zh-CN.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import run_cli

PLAN = """\
plan "case" version "1"
currency JPY

commission eBay on contract:
    paid to contract.rep
    rate 10% of contract.amount
    pay in 3 monthly installments

penalty iPhone_x on contract:
    paid to contract.rep
    when first survey.score < 70
    amount 50% of commission eBay

bonus MixedCase on contract:
    paid to contract.rep
    when first survey.score < 70
    amount 1% of contract.amount

referral REFER_me on contract:
    paid to customer.referred_by.owner
    amount 3% of contract.amount
"""

RECORDS = [
    {"type": "rep", "id": "R1", "name": "T", "timezone": "Asia/Tokyo", "kind": "staff",
     "team": "T", "region": "Tokyo", "manager": None},
    {"type": "customer", "id": "C0", "owner": "R1", "referred_by": None,
     "created_at": "2024-01-01T10:00:00+09:00"},
    {"type": "customer", "id": "C1", "owner": "R1", "referred_by": "C0",
     "created_at": "2025-01-01T10:00:00+09:00"},
    {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "x",
     "amount": "1200000", "currency": "JPY", "signed_at": "2025-01-20T10:00:00+09:00",
     "term_months": 3},
    {"type": "satisfaction", "id": "S1", "contract": "K1", "score": 50,
     "surveyed_at": "2025-02-10T10:00:00+09:00"},
]
NAMES = ["eBay rate", "iPhone_x penalty", "MixedCase bonus", "REFER_me referral"]
CHANGED = ["Ebay", "Iphone_x", "Mixedcase", "Refer_me"]


@pytest.fixture
def files(tmp_path: Path) -> tuple[str, str]:
    plan = tmp_path / "case.plan"
    plan.write_text(PLAN, encoding="utf-8")
    records = tmp_path / "case.jsonl"
    records.write_text("".join(json.dumps(row) + "\n" for row in RECORDS), encoding="utf-8")
    return str(plan), str(records)


@pytest.mark.parametrize("options", [(), ("--lang", "en"), ("--format", "csv"),
                                     ("--format", "csv", "--lang", "en")])
def test_run_keeps_rule_name_case(files: tuple[str, str], options: tuple[str, ...]) -> None:
    completed = run_cli("run", *files, "--as-of", "2025-12-31T00:00:00+09:00", *options)
    assert completed.returncode == 0, completed.stderr
    for name in NAMES:
        assert name in completed.stdout
    for changed in CHANGED:
        assert changed not in completed.stdout


@pytest.mark.parametrize("output", ["html", "json", "csv"])
def test_payslip_keeps_rule_name_case(files: tuple[str, str], output: str) -> None:
    completed = run_cli("statement", *files, "--as-of", "2025-12-31T00:00:00+09:00",
                        "--payee", "R1", "--period", "2025-02", "--lang", "en",
                        "--format", output)
    assert completed.returncode == 0, completed.stderr
    assert "iPhone_x penalty" in completed.stdout
    assert "eBay rate" in completed.stdout
    assert "Iphone_x" not in completed.stdout
    assert "Ebay" not in completed.stdout

"""Explanations cite record ids, never names or free text, in every output form."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from helpers import REFERENCE_PLAN, ROOT
from hypothesis import given, settings

from commission_engine import load_plan, load_records
from commission_engine.payslip import build_payslips, payslip_csv
from commission_engine.payslip_html import payslip_html
from commission_engine.strategies import record_sets

PLANS = [
    load_plan(REFERENCE_PLAN.read_text(encoding="utf-8")),
    load_plan((ROOT / "tests" / "plans" / "overrides.plan").read_text(encoding="utf-8")),
    load_plan((ROOT / "tests" / "plans" / "field-split.plan").read_text(encoding="utf-8")),
    load_plan((ROOT / "tests" / "plans" / "field-payments.plan").read_text(encoding="utf-8")),
]
AS_OF = datetime.fromisoformat("2026-12-31T00:00:00+08:00")
MARKER = "PRIVATE"


def with_private_text(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every rep a name and every refund a reason that must never be shown."""
    marked = []
    for row in rows:
        row = dict(row)
        if row["type"] == "rep":
            row["name"] = f"{MARKER} name of {row['id']} 王芳"
        if row["type"] == "refund":
            row["reason"] = f"{MARKER} reason: the customer said so"
        marked.append(row)
    return marked


def outputs(plan: Any, rows: list[dict[str, Any]]) -> list[str]:
    result = plan.evaluate(load_records(rows), AS_OF)
    texts = [result.to_json()]
    for line in (*result.lines, *result.schedule):
        texts += [line.explain(), line.explain("en"), line.explain("zh-CN")]
    for lang in ("en", "zh-CN"):
        payslips = build_payslips(result, lang)
        texts.append(payslip_csv(payslips))
        texts += [payslip_html(payslip) for payslip in payslips[:3]]
    return texts


@settings(max_examples=20, deadline=None)
@given(record_sets(max_reps=3, max_contracts=6, refund_rate=0.6))
def test_no_names_or_reasons_shown(rows: list[dict[str, Any]]) -> None:
    marked = with_private_text(rows)
    assert any(MARKER in str(row.get("name", "")) for row in marked)
    for plan in PLANS:
        for text in outputs(plan, marked):
            assert MARKER not in text, plan.name


def test_lines_cite_record_ids() -> None:
    """Every line names the ids of the records it came from, and they resolve."""
    rows = with_private_text([
        {"type": "rep", "id": "R1", "name": "", "timezone": "Asia/Shanghai",
         "kind": "staff", "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T10:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "family",
         "amount": "6000.00", "currency": "CNY", "signed_at": "2025-02-10T10:00:00+08:00",
         "term_months": 12},
        {"type": "refund", "id": "F1", "contract": "K1", "amount": "6000.00",
         "refunded_at": "2025-04-01T10:00:00+08:00", "reason": "", "payment": None},
    ])
    result = PLANS[0].evaluate(load_records(rows), AS_OF)
    clawback = [line for line in result.lines if line.kind == "clawback"]
    assert [line.sources for line in clawback] == [("K1", "F1")]
    assert "refund F1" in clawback[0].explain("en")
    assert "退款 F1" in clawback[0].explain("zh-CN")
    for text in outputs(PLANS[0], rows):
        assert MARKER not in text


def test_progress_shows_names_not_reasons(tmp_path) -> None:
    """The progress dashboard names reps by design, and never shows a refund's reason."""
    import json

    from helpers import run_cli

    plan_path = ROOT / "tests" / "plans" / "progress.plan"
    rows = [json.loads(line) for line in
            (ROOT / "tests" / "cases" / "progress" / "records.jsonl").read_text(
                encoding="utf-8").splitlines() if line.strip()]
    contract = next(row for row in rows if row["type"] == "contract")
    rows.append({"type": "refund", "id": "F1", "contract": contract["id"], "amount": "10.00",
                 "refunded_at": "2025-03-10T10:00:00+08:00", "reason": "placeholder"})
    marked = with_private_text(rows)
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in marked),
                       encoding="utf-8")

    for output_format in ("table", "json"):
        completed = run_cli("progress", str(plan_path), str(records), "--as-of",
                            "2025-03-16T12:00:00+08:00", "--format", output_format)
        assert completed.returncode == 0, completed.stderr
        assert f"{MARKER} name of R1" in completed.stdout
        assert f"{MARKER} reason" not in completed.stdout

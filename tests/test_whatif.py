"""What-if: comparing two plans per payee and period, in Python and on the command line."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal

from helpers import REFERENCE_PLAN, WORKED, read_jsonl, run_cli

from commission_engine import load_plan, load_records
from commission_engine.whatif import compare_plans

AS_OF = "2025-06-30T00:00:00+08:00"


def raised_plan(tmp_path):
    """Write the reference plan with new customers at 9% in place of 8%."""
    text = REFERENCE_PLAN.read_text(encoding="utf-8")
    text = text.replace("8% when new customer", "9% when new customer")
    text = text.replace('version "2025.1"', 'version "2025.2"')
    path = tmp_path / "raised.plan"
    path.write_text(text, encoding="utf-8")
    return path


def test_compare_plans_rows(tmp_path):
    plan_a = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    plan_b = load_plan(raised_plan(tmp_path).read_text(encoding="utf-8"))
    records = load_records(read_jsonl(WORKED / "E1.jsonl"))
    diff = compare_plans(plan_a, plan_b, records, datetime.fromisoformat(AS_OF))
    changes = [(row.payee, row.period, row.before, row.after, row.change) for row in diff.owed]
    assert changes[0] == ("R1", "2025-01", Decimal("80.00"), Decimal("90.00"), Decimal("10.00"))
    # The retention bonus (1% of the amount) does not change with the rate.
    assert changes[3] == ("R1", "2025-04", Decimal("200.00"), Decimal("210.00"),
                          Decimal("10.00"))
    assert len(changes) == 6
    assert diff.total().change == Decimal("60.00")
    assert diff.scheduled_total().before == Decimal("480.00")
    assert diff.scheduled_total().after == Decimal("540.00")
    assert [(row.payee, row.change) for row in diff.payee_totals()] == [
        ("R1", Decimal("60.00"))]


def test_diff_command_table(tmp_path):
    completed = run_cli("diff", str(REFERENCE_PLAN), str(raised_plan(tmp_path)),
                        str(WORKED / "E1.jsonl"), "--as-of", AS_OF)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (
        "plan A counselling-2025 version 2025.1\n"
        "plan B counselling-2025 version 2025.2\n"
        "as of 2025-06-30T00:00:00+08:00, currency CNY, amounts owed by then\n"
        "\n"
        "payee        period           plan A         plan B         change\n"
        "R1           2025-01           80.00          90.00         +10.00\n"
        "R1           2025-02           80.00          90.00         +10.00\n"
        "R1           2025-03           80.00          90.00         +10.00\n"
        "R1           2025-04          200.00         210.00         +10.00\n"
        "R1           2025-05           80.00          90.00         +10.00\n"
        "R1           2025-06           80.00          90.00         +10.00\n"
        "\n"
        "R1           total            600.00         660.00         +60.00\n"
        "all payees   total            600.00         660.00         +60.00\n"
        "scheduled    later            480.00         540.00         +60.00\n"
        "\n"
        "6 of 6 payee periods change; owed total +60.00 CNY, scheduled +60.00 CNY\n"
    )


def test_diff_unchanged_periods_hidden(tmp_path):
    """E3: the returning customer's 12% is unchanged, only the new customer's 8% moves."""
    completed = run_cli("diff", str(REFERENCE_PLAN), str(raised_plan(tmp_path)),
                        str(WORKED / "E3.jsonl"), "--as-of", "2026-12-31T00:00:00+08:00")
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[5] == "R1           2024-06           40.00          45.00          +5.00"
    assert "R1           2025-01" not in completed.stdout
    assert lines[-1] == "1 of 5 payee periods change; owed total +5.00 CNY, scheduled +0.00 CNY"
    listed = run_cli("diff", str(REFERENCE_PLAN), str(raised_plan(tmp_path)),
                    str(WORKED / "E3.jsonl"), "--as-of", "2026-12-31T00:00:00+08:00", "--all")
    assert "R1           2025-01          120.00         120.00          +0.00" in listed.stdout


def test_diff_command_json(tmp_path):
    completed = run_cli("diff", str(REFERENCE_PLAN), str(raised_plan(tmp_path)),
                        str(WORKED / "E1.jsonl"), "--as-of", AS_OF, "--format", "json")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["owed"][0] == {"payee": "R1", "period": "2025-01", "before": "80.00",
                               "after": "90.00", "change": "10.00"}
    assert data["total"] == {"payee": "", "period": "", "before": "600.00",
                             "after": "660.00", "change": "60.00"}
    assert data["before"]["digest"].startswith("sha256:")


def test_diff_currency_mismatch(tmp_path):
    other = tmp_path / "usd.plan"
    other.write_text(REFERENCE_PLAN.read_text(encoding="utf-8").replace(
        "currency CNY", "currency USD"), encoding="utf-8")
    completed = run_cli("diff", str(REFERENCE_PLAN), str(other), str(WORKED / "E1.jsonl"),
                        "--as-of", AS_OF)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr


def test_diff_missing_file(tmp_path):
    completed = run_cli("diff", str(REFERENCE_PLAN), str(tmp_path / "none.plan"),
                        str(WORKED / "E1.jsonl"))
    assert completed.returncode == 2
    assert "no such file" in completed.stderr

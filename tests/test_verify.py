"""verify recomputes a stored result and reports a match or the first difference."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from helpers import REFERENCE_PLAN, WORKED, one_contract, read_jsonl, run_cli

from commission_engine import load_plan, load_records
from commission_engine.verify import StoredResultError, verify

AS_OF = "2025-12-31T00:00:00+08:00"
RECORDS = WORKED / "E12.jsonl"
PLAN_TEXT = REFERENCE_PLAN.read_text(encoding="utf-8")
PLAN = load_plan(PLAN_TEXT)


def stored_result() -> dict:  # type: ignore[type-arg]
    result = PLAN.evaluate(load_records(read_jsonl(RECORDS)), datetime.fromisoformat(AS_OF))
    return json.loads(result.to_json())


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_unchanged_result_matches(tmp_path: Path) -> None:
    written = run_cli("run", str(REFERENCE_PLAN), str(RECORDS), "--as-of", AS_OF,
                      "--format", "json")
    result = write(tmp_path / "result.json", written.stdout)

    completed = run_cli("verify", result, str(REFERENCE_PLAN), str(RECORDS))

    assert completed.returncode == 0, completed.stdout + completed.stderr
    digest = json.loads(written.stdout)["digest"]
    assert completed.stdout == f"{result}: match, every output reproduced (digest {digest})\n"


def test_changed_record_detected(tmp_path: Path) -> None:
    result = write(tmp_path / "result.json", json.dumps(stored_result()))
    changed = RECORDS.read_text(encoding="utf-8").replace('"3000.00"', '"2999.00"', 1)
    records = write(tmp_path / "records.jsonl", changed)

    completed = run_cli("verify", result, str(REFERENCE_PLAN), records)

    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert lines[0] == f"{result}: mismatch"
    assert lines[1].startswith("  the records differ: the result was computed from sha256:")
    assert lines[2] == '  first difference: lines[2].amount: stored "16.00", recomputed "16.01"'


def test_changed_plan_detected(tmp_path: Path) -> None:
    result = write(tmp_path / "result.json", json.dumps(stored_result()))
    changed = PLAN_TEXT.replace("8% when new customer", "9% when new customer", 1)
    assert changed != PLAN_TEXT
    plan = write(tmp_path / "changed.plan", changed)

    completed = run_cli("verify", result, plan, str(RECORDS))

    assert completed.returncode == 1
    lines = completed.stdout.splitlines()
    assert lines[1].startswith("  the plan text differs: the result was computed from sha256:")
    assert lines[2] == '  first difference: lines[0].amount: stored "40.00", recomputed "45.00"'


def test_changed_amount_detected(tmp_path: Path) -> None:
    stored = stored_result()
    stored["lines"][2]["amount"] = "16.01"
    result = write(tmp_path / "result.json", json.dumps(stored))

    completed = run_cli("verify", result, str(REFERENCE_PLAN), str(RECORDS))

    assert completed.returncode == 1
    assert completed.stdout.splitlines() == [
        f"{result}: mismatch",
        '  first difference: lines[2].amount: stored "16.01", recomputed "16.00"',
    ]


def test_comment_only_plan_change() -> None:
    """A plan edited only in a comment gives the same lines, but the digest covers its text."""
    edited = load_plan(PLAN_TEXT + "\n# reviewed\n")
    outcome = verify(stored_result(), edited, load_records(read_jsonl(RECORDS)))
    assert outcome.matches is False
    assert outcome.input_difference is not None
    assert outcome.input_difference.startswith("the plan text differs")
    assert outcome.output_difference is not None
    assert outcome.output_difference.startswith("digest: stored")


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["statements"][1].update(total="0.00"),
     'statements[1].total: stored "0.00", recomputed "40.00"'),
    (lambda d: d.update(digest="sha256:00"),
     'digest: stored "sha256:00", recomputed '),
    (lambda d: d["lines"].pop(),
     "lines: 3 items stored, 4 recomputed"),
    (lambda d: d["lines"][0].update(text="paid by hand"),
     'lines[0].text: stored "paid by hand", recomputed "base rate 8%'),
])
def test_first_difference_paths(change, expected: str) -> None:  # type: ignore[no-untyped-def]
    stored = stored_result()
    change(stored)
    outcome = verify(stored, PLAN, load_records(read_jsonl(RECORDS)))
    assert outcome.input_difference is None
    assert outcome.output_difference is not None
    assert outcome.output_difference.startswith(expected)


def test_payslip_verifies() -> None:
    from commission_engine.payslip import build_payslip

    result = PLAN.evaluate(load_records(read_jsonl(RECORDS)), datetime.fromisoformat(AS_OF))
    payslip = build_payslip(result, "R1", "2025-04", "zh-CN")
    assert payslip is not None
    stored = json.loads(json.dumps(payslip.to_dict()))
    records = load_records(read_jsonl(RECORDS))

    assert verify(stored, PLAN, records).matches
    stored["lines"][0]["amount"] = "1.00"
    outcome = verify(stored, PLAN, records)
    assert outcome.output_difference == 'lines[0].amount: stored "1.00", recomputed "16.00"'


@pytest.mark.parametrize(("document", "message"), [
    ([], "the stored result is a JSON list, not an object"),
    ({"lines": []}, 'the stored result has no "inputs" snapshot'),
    ({"inputs": {"plan_sha256": "x", "records_sha256": "y", "as_of": "2025-01-01",
                 "rounding": "half-up"}}, "the stored as_of '2025-01-01' has no UTC offset"),
    ({"payee": "R1", "period": "2025-04", "lang": "fr",
      "inputs": {"plan_sha256": "x", "records_sha256": "y",
                 "as_of": "2025-12-31T00:00:00+08:00", "rounding": "half-up"}},
     "the stored payslip's lang 'fr' is not one of en, zh-CN"),
    ({"inputs": {"plan_sha256": "x", "records_sha256": "y",
                 "as_of": "2025-W27-1T00:00:00+08:00", "rounding": "half-up"}},
     r"the stored as_of '2025-W27-1T00:00:00\+08:00' is not in the accepted ISO 8601 form"),
    ({"inputs": {"plan_sha256": "x", "records_sha256": "y",
                 "as_of": "1899-12-31T00:00:00+08:00", "rounding": "half-up"}},
     "is out of range: the year must be from 1900 to 2200"),
    ({"inputs": {"plan_sha256": "x", "records_sha256": "y", "extra": "z",
                 "as_of": "2025-12-31T00:00:00+08:00", "rounding": "half-up"}},
     "the stored result's inputs contain unknown keys 'extra'"),
])
def test_invalid_stored_result(document: object, message: str) -> None:
    with pytest.raises(StoredResultError, match=message):
        verify(document, PLAN, load_records(read_jsonl(RECORDS)))


def test_cli_rejects_non_json(tmp_path: Path) -> None:
    result = write(tmp_path / "result.json", "not json")
    completed = run_cli("verify", result, str(REFERENCE_PLAN), str(RECORDS))
    assert completed.returncode == 1
    assert completed.stderr.startswith(f"commission-engine: error: cannot read {result}:"
                                       " not valid JSON")
    assert "Traceback" not in completed.stderr


def test_amount_spelling_keeps_digest():
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat("2025-06-30T00:00:00+08:00")
    digests = set()
    for amount in (12000, Decimal("12000"), "12000.00", Decimal("1.2000E4"), "12000.0"):
        rows = one_contract("12000.00", "2025-01-15T10:00:00+08:00", 12)
        rows[2]["amount"] = amount
        records = load_records(rows)
        digests.add((plan.evaluate(records, as_of).digest, records.canonical_lines[2]))

    assert len(digests) == 1
    (_digest, line), = digests
    assert '"amount":"12000"' in line


def test_tampered_values_never_reach_the_terminal(tmp_path: Path) -> None:
    stored = stored_result()
    stored["inputs"]["plan_sha256"] = "\x1b]0;title\x07\x1b[2J\u202e"
    stored["lines"][0]["note\x1b[2J"] = "x" * 5000
    result = write(tmp_path / "result.json", json.dumps(stored))

    completed = run_cli("verify", result, str(REFERENCE_PLAN), str(RECORDS))

    assert completed.returncode == 1
    assert "\x1b" not in completed.stdout
    assert "\u202e" not in completed.stdout
    assert "\\u001b]0;title\\u0007\\u001b[2J\\u202e" in completed.stdout
    assert len(completed.stdout) < 3000

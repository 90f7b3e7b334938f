"""Every error class of the library, raised through the real command line: exit 1, no traceback."""

from __future__ import annotations

import gc
import importlib
import json
import pkgutil
from datetime import datetime
from pathlib import Path

import pytest
from helpers import one_contract, run_cli

import commission_engine
from commission_engine import CommissionError, EvaluationError, PlanError, RecordError
from commission_engine.verify import StoredResultError

HEADER = 'plan "t" version "1"\ncurrency CNY\n\n'
AS_OF = "2026-01-01T00:00:00Z"
GOOD_PLAN = HEADER + "bonus b on contract:\n    paid to contract.rep\n    amount 1.00\n"
GOOD_RECORDS = "".join(
    json.dumps(row) + "\n" for row in one_contract("100.00", "2025-01-15T10:00:00+08:00"))

# For each error class: the plan text, the records, and a line the message must contain.
CASES: dict[type[CommissionError], tuple[str, str, str]] = {
    PlanError: (
        HEADER + "bonus b on contract:\n    paid to contract.rep\n    amount contract.amont\n",
        GOOD_RECORDS,
        "p.plan:6:21: error: a contract has no field 'amont'",
    ),
    RecordError: (
        GOOD_PLAN,
        GOOD_RECORDS.replace('"amount": "100.00"', '"amount": 100.555e0'),
        "line 3 (contract K1), field amount: amount 100.555 has more decimals than CNY allows (2)",
    ),
    EvaluationError: (
        HEADER + "bonus b on contract:\n    paid to contract.rep\n"
        "    amount contract.amount / (contract.term_months - 1)\n",
        GOOD_RECORDS,
        "rule 'b' divides by zero for contract K1",
    ),
}


def library_error_classes() -> set[type[CommissionError]]:
    """Return every concrete error class the library exports, found by walking subclasses."""
    found: set[type[CommissionError]] = set()
    pending = [CommissionError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not CommissionError and cls.__module__.startswith("commission_engine"):
            found.add(cls)
    return found


def public_error_classes() -> set[type[Exception]]:
    """Return every exception class that a module of the package lists in ``__all__``."""
    found: set[type[Exception]] = set()
    for module_info in pkgutil.iter_modules(commission_engine.__path__):
        if module_info.name == "__main__":  # importing it runs the command line
            continue
        try:
            module = importlib.import_module(f"commission_engine.{module_info.name}")
        except ImportError:  # an optional extra, such as dask, that is not installed
            continue
        for name in getattr(module, "__all__", ()):
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, Exception):
                found.add(value)
    return found


def test_every_error_class_has_case() -> None:
    assert library_error_classes() == set(CASES)
    assert public_error_classes() == {CommissionError, *CASES, StoredResultError}


def test_error_classes_exported() -> None:
    for cls in library_error_classes():
        assert getattr(commission_engine, cls.__name__) is cls


@pytest.mark.parametrize("error", list(CASES), ids=lambda cls: cls.__name__)
def test_error_class_from_cli(tmp_path: Path, error: type[CommissionError]) -> None:
    plan_text, records_text, expected = CASES[error]
    plan = tmp_path / "p.plan"
    records = tmp_path / "r.jsonl"
    plan.write_text(plan_text, encoding="utf-8")
    records.write_text(records_text, encoding="utf-8")

    completed = run_cli("run", "p.plan", "r.jsonl", "--as-of", AS_OF, cwd=tmp_path)

    assert completed.returncode == 1
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    assert expected in completed.stderr


@pytest.mark.parametrize("error", list(CASES), ids=lambda cls: cls.__name__)
def test_error_class_in_process(error: type[CommissionError]) -> None:
    """The same inputs raise exactly that class when the library is called directly."""
    plan_text, records_text, expected = CASES[error]

    with pytest.raises(error) as caught:
        plan = commission_engine.load_plan(plan_text, "p.plan")
        records = commission_engine.load_jsonl(records_text)
        plan.evaluate(records, datetime.fromisoformat(AS_OF))

    assert expected in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_plan_error_from_check_and_test(tmp_path: Path) -> None:
    plan = tmp_path / "p.plan"
    plan.write_text(CASES[PlanError][0], encoding="utf-8")

    for command in ("check", "test"):
        completed = run_cli(command, str(plan))

        assert completed.returncode == 1, command
        assert "Traceback" not in completed.stderr
        assert "error: a contract has no field 'amont'" in completed.stderr


def test_stored_result_error_from_cli(tmp_path: Path) -> None:
    """verify raises StoredResultError for a document without the snapshot it needs."""
    (tmp_path / "p.plan").write_text(GOOD_PLAN, encoding="utf-8")
    (tmp_path / "r.jsonl").write_text(GOOD_RECORDS, encoding="utf-8")
    (tmp_path / "result.json").write_text('{"digest": "sha256:0"}', encoding="utf-8")

    completed = run_cli("verify", "result.json", "p.plan", "r.jsonl", cwd=tmp_path)

    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith("commission-engine: error: cannot verify result.json: ")


@pytest.mark.parametrize("enabled", [True, False])
@pytest.mark.parametrize("error", [None, PlanError])
def test_cli_restores_garbage_collector(tmp_path: Path, enabled: bool,
                                        error: type[CommissionError] | None) -> None:
    # The command pauses the cyclic collector while it runs; an in-process
    # caller gets its own setting back, after success and after an error.
    from commission_engine.cli import main

    plan_text, records_text = (GOOD_PLAN, GOOD_RECORDS) if error is None else CASES[error][:2]
    plan = tmp_path / "p.plan"
    plan.write_text(plan_text, encoding="utf-8")
    records = tmp_path / "r.jsonl"
    records.write_text(records_text, encoding="utf-8")
    was_enabled = gc.isenabled()
    try:
        if enabled:
            gc.enable()
        else:
            gc.disable()
        status = main(["run", str(plan), str(records), "--as-of", AS_OF, "--format", "json"])
        assert gc.isenabled() is enabled
    finally:
        if was_enabled:
            gc.enable()
        else:
            gc.disable()
    assert status == (0 if error is None else 1)


@pytest.mark.parametrize("stdin", [False, True], ids=["file", "stdin"])
def test_records_cr_inside_line(tmp_path: Path, stdin: bool) -> None:
    rep, customer, contract = (json.dumps(row) for row in one_contract(
        "1000.00", "2025-01-15T10:00:00+08:00"))
    # A CR alone is JSON whitespace inside a line. The lines end in CRLF.
    customer = customer.replace(', "created_at"', ',\r "created_at"')
    missing = json.dumps(dict(json.loads(contract), id="K2", rep="R9"))
    text = "\r\n".join([rep, customer, contract, missing]) + "\r\n"
    (tmp_path / "p.plan").write_text(GOOD_PLAN, encoding="utf-8")
    (tmp_path / "r.jsonl").write_bytes(text.encode("utf-8"))
    records = "-" if stdin else "r.jsonl"

    completed = run_cli("run", "p.plan", records, "--as-of", AS_OF, cwd=tmp_path,
                        stdin=text if stdin else None)

    assert completed.returncode == 1
    assert "not valid JSON" not in completed.stderr
    assert "line 4 (contract K2), field rep: rep 'R9' is not in the records" in completed.stderr

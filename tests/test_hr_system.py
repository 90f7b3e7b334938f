"""The SQLite HR example: load, evaluate, write back, and re-run idempotently."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from types import ModuleType

import pytest
from helpers import REFERENCE_PLAN, ROOT

from commission_engine import load_plan
from commission_engine.verify import verify

EXAMPLE = ROOT / "examples" / "hr_system"
AS_OF = "2025-06-30T23:59:59+08:00"


def load_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"hr_{name}", EXAMPLE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up by name while the class is built.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True,
                          encoding="utf-8", check=False, timeout=120)


def table_dump(database: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(database) as connection:
        return {table: sorted(connection.execute(f"SELECT * FROM {table}"))
                for table in ("commission_runs", "statements", "payout_lines")}


def test_second_run_writes_nothing(tmp_path: Path) -> None:
    database = tmp_path / "hr.db"
    seeded = run_script(str(EXAMPLE / "seed.py"), str(database))
    assert seeded.returncode == 0, seeded.stderr
    sync = (str(EXAMPLE / "hr_sync.py"), str(database), str(REFERENCE_PLAN), "--as-of", AS_OF)

    first = run_script(*sync)
    after_first = table_dump(database)
    second = run_script(*sync)

    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "commission_runs: 1 inserted, 0 updated, 0 deleted",
        "statements: 22 inserted, 0 updated, 0 deleted",
        "payout_lines: 48 inserted, 0 updated, 0 deleted",
        "71 rows written",
    ]
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines()[-1] == "0 rows written"
    assert table_dump(database) == after_first


def test_tables_match_the_library(tmp_path: Path) -> None:
    seed, hr_sync = load_module("seed"), load_module("hr_sync")
    connection = seed.create_database(str(tmp_path / "hr.db"))
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(AS_OF)
    hr_sync.sync(connection, plan, as_of)

    result = plan.evaluate(hr_sync.read_records(connection), as_of)
    stored = {(payee, period): Decimal(total) for payee, period, total in
              connection.execute("SELECT payee, period, total FROM statements")}
    assert stored == {(s.payee, s.period): s.total for s in result.statements}
    # R1 in March: installments of K1 (80.00), K2 (80.00) and K10 (120.00), the
    # referral for C3's contract K3 (600.00) and the penalty of K1's survey (-96.00).
    assert stored[("R1", "2025-03")] == Decimal("784.00")
    line_total = connection.execute("SELECT group_concat(amount, ' ') FROM payout_lines"
                                    " WHERE payee = 'R4' AND period = '2025-02'").fetchone()[0]
    assert line_total == "-160.00"
    connection.close()


def test_new_refund_updates_rows(tmp_path: Path) -> None:
    seed, hr_sync = load_module("seed"), load_module("hr_sync")
    connection = seed.create_database(str(tmp_path / "hr.db"))
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(AS_OF)
    hr_sync.sync(connection, plan, as_of)

    with connection:
        connection.execute("INSERT INTO refunds VALUES ('F3', 'K1', '12000.00',"
                           " '2025-05-20T09:00:00+08:00', 'full refund', NULL)")
    changed = hr_sync.sync(connection, plan, as_of)
    again = hr_sync.sync(connection, plan, as_of)

    assert changed["commission_runs"].inserted == 1
    assert changed["payout_lines"].deleted == 1  # K1's June installment is cancelled
    assert changed["statements"].updated == 1
    assert sum(change.total for change in again.values()) == 0
    connection.close()


def test_stored_run_verifies(tmp_path: Path) -> None:
    seed, hr_sync = load_module("seed"), load_module("hr_sync")
    connection = seed.create_database(str(tmp_path / "hr.db"))
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    hr_sync.sync(connection, plan, datetime.fromisoformat(AS_OF))

    (stored,) = connection.execute("SELECT result_json FROM commission_runs").fetchone()
    outcome = verify(json.loads(stored), plan, hr_sync.read_records(connection))

    assert outcome.matches, outcome
    connection.close()


def test_personal_data_stays_in_database(tmp_path: Path) -> None:
    """Names, phone numbers, survey comments and refund reasons reach no written row."""
    seed, hr_sync = load_module("seed"), load_module("hr_sync")
    connection = seed.create_database(str(tmp_path / "hr.db"))
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    hr_sync.sync(connection, plan, datetime.fromisoformat(AS_OF))

    private = [name for _, name, *_ in seed.REPS]
    private += [text for _, name, phone, *_ in seed.CUSTOMERS for text in (name, phone)]
    private += [reason for *_, reason, _ in seed.REFUNDS]
    private += [comment for *_, comment in seed.SURVEYS if comment]
    written = json.dumps(table_dump(tmp_path / "hr.db"), ensure_ascii=False)
    for text in private:
        assert text not in written
    connection.close()


def seeded_database(folder: Path) -> Path:
    database = folder / "hr.db"
    seeded = run_script(str(EXAMPLE / "seed.py"), str(database))
    assert seeded.returncode == 0, seeded.stderr
    return database


def sync_failure(database: Path, plan: Path, as_of: str, status: int) -> str:
    """Run hr_sync.py, assert it failed with ``status`` and one message, and return stderr."""
    completed = run_script(str(EXAMPLE / "hr_sync.py"), str(database), str(plan),
                           "--as-of", as_of)
    assert completed.returncode == status, completed.stderr
    assert completed.stdout == ""
    assert "Traceback" not in completed.stderr
    return completed.stderr


@pytest.mark.parametrize(("as_of", "fragment"), [
    ("garbage", "is not an ISO 8601 timestamp"),
    ("2025-W01-1T00:00Z", "not in the accepted ISO 8601 form"),
    ("2025-06-30T00:00:00", "has no UTC offset"),
    ("9999-12-31T23:59:59+00:00", "use a year from 1900 to 2200"),
    ("1899-12-31T00:00:00+00:00", "use a year from 1900 to 2200"),
])
def test_sync_bad_as_of_exits_2(tmp_path: Path, as_of: str, fragment: str) -> None:
    database = seeded_database(tmp_path)
    before = table_dump(database)
    stderr = sync_failure(database, REFERENCE_PLAN, as_of, 2)
    assert fragment in stderr
    assert repr(as_of) in stderr
    assert table_dump(database) == before


@pytest.mark.parametrize("plan_name", ["missing.plan", "."])
def test_sync_unreadable_plan_exits_2(tmp_path: Path, plan_name: str) -> None:
    database = seeded_database(tmp_path)
    stderr = sync_failure(database, tmp_path / plan_name, AS_OF, 2)
    assert "cannot read the plan" in stderr
    assert "check the path" in stderr


def test_sync_plan_not_utf8_exits_1(tmp_path: Path) -> None:
    database = seeded_database(tmp_path)
    plan = tmp_path / "latin1.plan"
    plan.write_bytes("plan \"caf\xe9\" version \"1\"\n".encode("latin-1"))
    stderr = sync_failure(database, plan, AS_OF, 1)
    assert "not UTF-8 text" in stderr


@pytest.mark.parametrize("content", [b"not a database\n" * 100, b""])
def test_sync_not_a_database_exits_1(tmp_path: Path, content: bytes) -> None:
    # An empty file opens as an empty database, which lacks the tables.
    database = tmp_path / "garbage.db"
    database.write_bytes(content)
    stderr = sync_failure(database, REFERENCE_PLAN, AS_OF, 1)
    assert f"cannot read the database {database}" in stderr
    assert "schema.sql" in stderr
    assert len(stderr.strip().splitlines()) == 1

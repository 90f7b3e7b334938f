"""The same inputs give the same bytes whatever the environment says."""

from __future__ import annotations

import decimal
import os
import subprocess
import sys
from datetime import datetime

import pytest
from helpers import REFERENCE_PLAN, ROOT, read_jsonl

from commission_engine import load_plan, load_records

RECORDS = ROOT / "examples" / "counselling" / "records.jsonl"
AS_OF = "2026-01-01T00:00:00+08:00"


def run_json(env: dict[str, str]) -> str:
    completed = subprocess.run(
        [sys.executable, "-m", "commission_engine", "run", str(REFERENCE_PLAN), str(RECORDS),
         "--as-of", AS_OF, "--format", "json"],
        capture_output=True, text=True, encoding="utf-8", check=False, timeout=120,
        env={**os.environ, **env},
    )
    assert completed.returncode == 0, completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def reference_output() -> str:
    return run_json({"TZ": "UTC", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                     "PYTHONHASHSEED": "0"})


@pytest.mark.parametrize(
    "env",
    [
        pytest.param({"TZ": "Asia/Shanghai"}, id="tz-shanghai"),
        pytest.param({"TZ": "America/Los_Angeles"}, id="tz-los-angeles"),
        pytest.param({"TZ": "Pacific/Kiritimati"}, id="tz-kiritimati"),
        pytest.param({"LANG": "tr_TR.UTF-8", "LC_ALL": "tr_TR.UTF-8"}, id="locale-tr"),
        pytest.param({"LANG": "zh_CN.UTF-8", "LC_ALL": "zh_CN.UTF-8"}, id="locale-zh"),
        pytest.param({"PYTHONHASHSEED": "12345"}, id="hash-seed"),
        pytest.param({"PYTHONHASHSEED": "random"}, id="hash-random"),
    ],
)
def test_output_ignores_environment(reference_output: str, env: dict[str, str]) -> None:
    assert run_json(env) == reference_output


def test_result_ignores_caller_decimal_context(reference_plan) -> None:  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(RECORDS))
    as_of = datetime.fromisoformat(AS_OF)
    expected = reference_plan.evaluate(records, as_of).to_json()

    with decimal.localcontext() as context:
        context.prec = 5
        context.rounding = decimal.ROUND_FLOOR
        context.traps[decimal.Inexact] = True
        changed = reference_plan.evaluate(records, as_of).to_json()

    assert changed == expected


def test_plan_text_order_of_records_irrelevant() -> None:
    rows = read_jsonl(RECORDS)
    plan = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))
    as_of = datetime.fromisoformat(AS_OF)

    forward = plan.evaluate(load_records(rows), as_of)
    backward = plan.evaluate(load_records(list(reversed(rows))), as_of)

    assert forward.digest == backward.digest
    assert forward.to_json() == backward.to_json()

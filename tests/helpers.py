"""Helpers for the tests: paths to the bundled plans and worked cases, a CLI runner, record set checks."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from commission_engine import RecordSet

ROOT = Path(__file__).resolve().parents[1]
WORKED = ROOT / "tests" / "cases" / "worked"
REFERENCE_PLAN = ROOT / "examples" / "counselling" / "counselling-2025.plan"


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read JSON Lines the way the CLI does: numbers as Decimal."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line, parse_float=Decimal) for line in handle if line.strip()]


def run_cli(*args: str, stdin: str | None = None,
            cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess, in ``cwd`` when given."""
    return subprocess.run(
        [sys.executable, "-m", "commission_engine", *args],
        input=stdin,
        cwd=cwd,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
        timeout=120,
    )


def one_contract(amount: str, signed_at: str, term_months: int = 1,
                 created_at: str = "2024-01-01T00:00:00+08:00") -> list[dict[str, Any]]:
    """Return rep R1 (Asia/Shanghai), its customer C1 and one contract K1 in CNY."""
    return [
        {"type": "rep", "id": "R1", "name": "R", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "", "region": "", "manager": None},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": created_at},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1", "product": "f",
         "amount": amount, "currency": "CNY", "signed_at": signed_at,
         "term_months": term_months},
    ]


def assert_same_record_set(got: RecordSet, expected: RecordSet) -> None:
    """Check every field, the order of every mapping (evaluation iterates them) and the canonical lines."""
    for item in dataclasses.fields(RecordSet):
        mine, theirs = getattr(got, item.name), getattr(expected, item.name)
        assert mine == theirs, item.name
        if isinstance(mine, Mapping):
            assert list(mine.items()) == list(theirs.items()), item.name
    assert got.canonical_lines == expected.canonical_lines

"""Ids contain no control or bidirectional characters, and a too-long id names the limit."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_invalid_input import base_records, load_error, rejected_stderr, run_records

# Unicode category Cc at both ends of its ranges, and every bidirectional control.
FORBIDDEN = ["\x00", "\x1f", "\x7f", "\x85", "\x9f", "\u200e", "\u200f", "\u202a", "\u202e",
             "\u2066", "\u2069"]


@pytest.mark.parametrize("character", FORBIDDEN)
def test_id_with_control_rejected(character: str) -> None:
    rows = base_records()
    rows[2]["id"] = f"K{character}1"
    error = load_error(rows)
    problem = error.problems[0]
    assert problem.field == "id"
    assert f"U+{ord(character):04X}" in problem.message
    assert character not in str(error)
    assert f"\\u{ord(character):04x}" in str(error)


@pytest.mark.parametrize("character", ["\u200d", "\u00a0", "é", "销"])
def test_id_with_other_character_loads(character: str) -> None:
    from commission_engine import load_records

    rows = base_records()
    rows[2]["id"] = rows[3]["contract"] = f"K{character}1"
    load_records(rows)


def test_cli_names_bidi_control(tmp_path: Path) -> None:
    rows = base_records()
    rows[2]["id"] = rows[3]["contract"] = "K\u202e1gpj.exe"
    stderr = rejected_stderr(run_records(tmp_path, rows))
    assert "contains U+202E" in stderr
    assert "\u202e" not in stderr


def test_long_id_message_gives_limit_and_fix() -> None:
    rows = base_records()
    rows[0]["id"] = "R" * 201
    error = load_error(rows)
    message = str(error)
    assert "201 characters long, more than the limit of 200" in message
    assert "shorten it to 200 characters or fewer" in message
    # The label quotes the start of the id and its length, not the whole id.
    assert f"rep {'R' * 80}... (201 characters)" in message
    assert "R" * 81 not in message

"""No plan can read a file, import a module, run Python or loop without bound.

The language has no calls, no attribute access outside the record schema, no
string formatting and no loops: the attacks below are rejected when the plan
is checked, or stay inert text. The checks that matter for safety run with
``open``, ``eval``, ``exec``, ``compile`` and new imports replaced by traps.
"""

from __future__ import annotations

import builtins
import io
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import json

import pytest
from helpers import REFERENCE_PLAN, WORKED, one_contract, read_jsonl

from commission_engine import PlanError, load_jsonl, load_plan, load_records
from commission_engine.examples import run_examples

AS_OF = datetime.fromisoformat("2026-01-01T00:00:00+00:00")
HEADER = 'plan "t" version "1"\ncurrency CNY\n\n'


def bonus(amount: str = "1.00", when: str | None = None) -> str:
    condition = f"    when {when}\n" if when else ""
    return HEADER + f"bonus b on contract:\n    paid to contract.rep\n{condition}    amount {amount}\n"


def messages(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan(text)
    return [d.message for d in caught.value.diagnostics]


class Trapped(AssertionError):
    """The engine reached for a file, an import or Python evaluation."""


class Traps:
    """Within ``with``, file access, evaluation and new imports fail and are listed."""

    def __init__(self) -> None:
        self.attempts: list[str] = []

    def trap(self, name: str) -> Any:
        def reject(*args: Any, **kwargs: Any) -> Any:
            self.attempts.append(f"{name}{args[:1]!r}")
            raise Trapped(f"the engine called {name}")
        return reject

    @contextmanager
    def active(self) -> Iterator[list[str]]:
        real_import = builtins.__import__

        def guarded_import(name: str, globals: Any = None, locals: Any = None,
                           fromlist: Any = (), level: int = 0) -> Any:
            if level == 0 and name not in sys.modules:
                self.attempts.append(f"import {name}")
                raise Trapped(f"the engine imported {name}")
            return real_import(name, globals, locals, fromlist, level)

        # The patches are undone before pytest reports, which itself opens files.
        with pytest.MonkeyPatch.context() as patch:
            for name in ("open", "eval", "exec", "compile"):
                patch.setattr(builtins, name, self.trap(name))
            patch.setattr(io, "open", self.trap("io.open"))
            patch.setattr(os, "open", self.trap("os.open"))
            patch.setattr(os, "system", self.trap("os.system"))
            patch.setattr(builtins, "__import__", guarded_import)
            yield self.attempts


@pytest.fixture
def traps() -> Traps:
    load_plan(bonus())  # builds the parser, which reads the packaged grammar once
    # Loads the list of time zones and the zone of one_contract's rep, which
    # the library caches. Reading the system's zone files is not an attack,
    # and without this the tests fail when they run first in a process.
    load_records(one_contract("1000.00", "2025-01-15T10:00:00+08:00"))
    return Traps()


# ---------------------------------------------------------------- rejected at check time


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        pytest.param("contract.__class__", "a contract has no field '__class__'",
                     id="dunder-field"),
        pytest.param("contract.__dict__", "a contract has no field '__dict__'", id="dunder-dict"),
        pytest.param("__import__", "name '__import__' is not allowed", id="dunder-import-name"),
        pytest.param("__builtins__", "name '__builtins__' is not allowed", id="builtins"),
        pytest.param("rep.__init__.__globals__", "a rep has no field '__init__'", id="globals"),
        pytest.param("os.environ", "unknown name 'os'", id="environment"),
    ],
)
def test_dunder_names_rejected(expression: str, message: str) -> None:
    found = messages(bonus(expression))

    assert len(found) == 1
    assert found[0].startswith(message), found


@pytest.mark.parametrize(
    "expression",
    [
        pytest.param('__import__("os")', id="import-call"),
        pytest.param('open("/etc/passwd")', id="open-call"),
        pytest.param('eval("1")', id="eval-call"),
        pytest.param("contract.amount.__class__()", id="method-call"),
        pytest.param("[x for x in contract]", id="comprehension"),
        pytest.param("lambda: 1", id="lambda"),
        pytest.param("contract.amount if true else 0", id="python-conditional"),
        pytest.param("contract.amount ** 99999999", id="power"),
    ],
)
def test_python_syntax_rejected(expression: str) -> None:
    found = messages(bonus(expression))

    assert found
    assert all(message.startswith("unexpected") for message in found), found


def test_python_statements_rejected() -> None:
    text = HEADER + "import os\nwhile true:\n    pass\nexec('1')\n"

    found = messages(text)

    assert found == ["unknown word 'import'", "unknown word 'while'", "unknown word 'exec'"]


@pytest.mark.parametrize(
    ("clause", "message"),
    [
        pytest.param("pay in 99999999 monthly installments",
                     "99999999 is not a whole number of installments from 1 to 600"
                     " (max_installments)", id="installments"),
        pytest.param("pay in 1" + "0" * 40 + " monthly installments",
                     "number 10000000000000000000... has 41 digits, more than the limit of 30"
                     " (max_number_digits)", id="installments-digits"),
        pytest.param("on refund:\n        claw back overpayment within 99999999 days of signing",
                     "99999999 days is too long", id="clawback-window"),
    ],
)
def test_huge_repeat_counts_rejected(clause: str, message: str) -> None:
    text = (HEADER + "commission c on contract:\n    paid to contract.rep\n"
            f"    rate 8% of contract.amount\n    {clause}\n")

    assert messages(text) == [message]


def test_huge_override_level_rejected() -> None:
    text = (HEADER + "commission c on contract:\n    paid to contract.rep\n"
            "    rate 8% of contract.amount\n"
            "override m of c:\n    level 99999999 5%\n")

    assert messages(text) == ["99999999 levels is too long"]


def test_huge_cohort_delay_rejected() -> None:
    text = (HEADER + "cohort c on contract:\n    paid to contract.rep\n"
            "    retained when not fully refunded within 3 months\n"
            "    amount 1% of total retained.amount\n"
            "    paid in the cohort month plus 99999999 months\n")

    assert "99999999 months is too long" in messages(text)


# ---------------------------------------------------------------- inert text


HOSTILE_TEXTS = (
    "{__import__('os').system('echo hacked')}",
    "%s%s%s%n",
    "{}",
    "{0.__class__.__mro__}",
    "${HOME}",
    "$(cat /etc/passwd)",
    "/etc/passwd",
    "../../../../etc/shadow",
    "C:\\\\Windows\\\\system32",
    "file:///etc/hosts",
)


@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_hostile_strings_stay_text(traps: Traps, text: str) -> None:
    rows = one_contract("1000.00", "2025-01-15T10:00:00+08:00")
    rows[2]["product"] = text.replace("\\\\", "\\")
    source = bonus("1.00", f'product is "{text}"').replace(
        'plan "t" version "1"', f'plan "{text}" version "{text}"')

    with traps.active() as attempts:
        plan = load_plan(source)
        result = plan.evaluate(load_records(rows), AS_OF)
        output = result.to_json()

    assert attempts == []
    assert plan.name == text.replace("\\\\", "\\")
    assert [line.amount for line in result.lines] == [1]
    assert result.plan_name == plan.name
    assert json.loads(output)["plan"]["name"] == plan.name


def test_hostile_strings_never_match(traps: Traps) -> None:
    records = load_records(one_contract("1000.00", "2025-01-15T10:00:00+08:00"))

    with traps.active() as attempts:
        plan = load_plan(bonus("1.00", 'product is "{}"'))
        lines = plan.evaluate(records, AS_OF).lines

    assert lines == ()
    assert attempts == []


def test_reference_plan_runs_under_traps(traps: Traps) -> None:
    text = REFERENCE_PLAN.read_text(encoding="utf-8")
    rows = read_jsonl(WORKED / "E8.jsonl")

    with traps.active() as attempts:
        plan = load_plan(text)
        outcomes = run_examples(plan)
        result = plan.evaluate(load_jsonl("".join(json.dumps(row) + "\n" for row in rows)),
                               AS_OF)
        output = result.to_json()

    assert attempts == []
    assert all(outcome.passed for outcome in outcomes)
    assert result.lines
    assert output


def test_traps_catch_file_access(traps: Traps) -> None:
    """The traps themselves work: a direct read and a new import are caught and listed."""
    with traps.active() as attempts:
        with pytest.raises(Trapped):
            open("/etc/hostname")  # noqa: SIM115, PTH123 - the call the trap must catch
        with pytest.raises(Trapped):
            import tomllib_not_a_module  # type: ignore[import-not-found]  # noqa: F401

    assert attempts == ["open('/etc/hostname',)", "import tomllib_not_a_module"]

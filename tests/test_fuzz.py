"""Fuzzing: every hostile plan text or record set evaluates or raises a documented error.

A documented error is a ``CommissionError`` (``PlanError``, ``RecordError``,
``EvaluationError``). Any other exception, or an input that runs past
``HANG_SECONDS``, fails the property. CI runs a short derandomized budget.
``pytest tests/test_fuzz.py --fuzz-long`` runs ``--fuzz-examples`` inputs per
property (100,000 by default) from ``--fuzz-seed`` and prints how many inputs
each one saw. It keeps going after a crash: each crash is counted and
written to ``fuzz-crashes.txt`` in pytest's temporary folder, and the test
fails at the end. ``fuzz-progress.txt`` beside it shows the counts so far.
"""

from __future__ import annotations

import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, TypeVar

import pytest
from fuzzing import COUNTS, damaged_jsonl, mutated_record_sets, plan_texts
from helpers import REFERENCE_PLAN, ROOT
from hypothesis import HealthCheck, given, seed, settings

from commission_engine import (
    CommissionError,
    Plan,
    RecordSet,
    load_jsonl,
    load_plan,
    load_records,
)
from commission_engine.examples import run_examples

AS_OF = datetime.fromisoformat("2026-06-30T00:00:00+08:00")
# An input that takes longer than this is a hang, not a slow run: the slowest
# valid input of the suite takes well under a second.
HANG_SECONDS = 60
SHORT_BUDGET = 25

T = TypeVar("T")


class Hang(BaseException):
    """An input ran past ``HANG_SECONDS``; a BaseException, so no handler in the library catches it."""


@contextmanager
def hang_guard(label: str) -> Iterator[None]:
    if not hasattr(signal, "SIGALRM"):
        # NOTE: Windows has no SIGALRM, so there a hang stops the run instead of failing it.
        yield
        return

    def alarm(signum: int, frame: Any) -> None:
        raise Hang(f"{label} ran for more than {HANG_SECONDS} seconds")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def fuzzed(config: pytest.Config) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Apply the budget: short and derandomized in CI, long and seeded with ``--fuzz-long``."""
    long_run = config.getoption("--fuzz-long")
    chosen = settings(
        max_examples=config.getoption("--fuzz-examples") if long_run else SHORT_BUDGET,
        derandomize=not long_run,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much, HealthCheck.large_base_example],
    )

    def apply(test: Callable[..., None]) -> Callable[..., None]:
        test = chosen(test)
        return seed(config.getoption("--fuzz-seed"))(test) if long_run else test

    return apply


class CrashLog:
    """In a long run, keeps each crash and lets the run go on; in CI, lets it fail at once."""

    def __init__(self, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
        self.long_run = request.config.getoption("--fuzz-long")
        self.path = tmp_path_factory.getbasetemp() / "fuzz-crashes.txt"
        self.crashes = 0

    @contextmanager
    def recording(self, kind: str, data: object) -> Iterator[None]:
        if self.long_run and sum(COUNTS.values()) % 1000 == 0:
            progress = ", ".join(f"{name} {number}" for name, number in sorted(COUNTS.items()))
            self.path.with_name("fuzz-progress.txt").write_text(progress + "\n", encoding="utf-8")
        try:
            yield
        except (Exception, Hang) as exc:  # noqa: BLE001 - a crash of any kind is the finding
            if not self.long_run:
                raise
            self.crashes += 1
            COUNTS["crashes"] += 1
            with self.path.open("a", encoding="utf-8") as log:
                log.write(f"==== {kind}: {type(exc).__name__}: {exc}\n{data!r}\n")
                log.write("".join(traceback.format_exception(exc)) + "\n")

    def check(self) -> None:
        assert self.crashes == 0, f"{self.crashes} crashes, written to {self.path}"


@pytest.fixture
def crash_log(request: pytest.FixtureRequest,
              tmp_path_factory: pytest.TempPathFactory) -> CrashLog:
    return CrashLog(request, tmp_path_factory)


def documented(call: Callable[[], T]) -> T | CommissionError:
    """Return what ``call`` returns, or the documented error it raised."""
    try:
        return call()
    except CommissionError as exc:
        # The message must render: a broken one would reach the CLI's stderr.
        assert str(exc)
        return exc


@pytest.fixture(scope="module")
def plans() -> tuple[Plan, ...]:
    texts = [REFERENCE_PLAN, *sorted((ROOT / "tests" / "plans").glob("*.plan"))]
    return tuple(load_plan(path.read_text(encoding="utf-8"), str(path)) for path in texts)


@pytest.fixture(scope="module")
def sample_records() -> RecordSet:
    return load_records([
        {"type": "rep", "id": "R1", "name": "R", "timezone": "Asia/Shanghai", "kind": "staff",
         "team": "HQ", "region": "Beijing", "manager": None},
        {"type": "rep", "id": "R2", "name": "S", "timezone": "America/Los_Angeles",
         "kind": "agent", "team": "West", "region": "LA", "manager": "R1"},
        {"type": "customer", "id": "C1", "owner": "R1", "referred_by": None,
         "created_at": "2024-12-01T10:00:00+08:00"},
        {"type": "customer", "id": "C2", "owner": "R2", "referred_by": "C1",
         "created_at": "2025-01-02T10:00:00+08:00"},
        {"type": "contract", "id": "K1", "customer": "C1", "rep": "R1",
         "product": "marriage-repair", "amount": "12000.00", "currency": "CNY",
         "signed_at": "2025-01-15T10:00:00+08:00", "term_months": 12},
        {"type": "contract", "id": "K2", "customer": "C2", "rep": "R2", "product": "family",
         "amount": "3000.00", "currency": "CNY", "signed_at": "2025-03-01T10:00:00-08:00",
         "term_months": 3},
        {"type": "payment", "id": "P1", "contract": "K1", "amount": "6000.00",
         "paid_at": "2025-01-20T10:00:00+08:00"},
        {"type": "refund", "id": "F1", "contract": "K1", "amount": "1000.00",
         "refunded_at": "2025-02-20T10:00:00+08:00", "reason": "moved", "payment": "P1"},
        {"type": "satisfaction", "id": "Q1", "contract": "K1", "score": 95,
         "surveyed_at": "2025-02-01T10:00:00+08:00"},
        {"type": "session", "id": "S1", "contract": "K2", "held_at": "2025-03-02T10:00:00-08:00",
         "minutes": 50},
        {"type": "complaint", "id": "X1", "contract": "K2", "filed_at": "2025-03-05T10:00:00-08:00",
         "upheld": True},
        {"type": "target", "rep": "R1", "period": "2025-01", "metric": "new_contracts",
         "value": "5"},
    ])


def evaluate_all(plans: tuple[Plan, ...], records: RecordSet) -> None:
    for plan in plans:
        result = documented(lambda plan=plan: plan.evaluate(records, AS_OF))
        if not isinstance(result, CommissionError):
            assert result.digest.startswith("sha256:")
            result.to_json()


def test_plan_texts_fuzzed(request: pytest.FixtureRequest, crash_log: CrashLog,
                           sample_records: RecordSet) -> None:
    @fuzzed(request.config)
    @given(plan_texts())
    def check(text: str) -> None:
        COUNTS["plan texts"] += 1
        with crash_log.recording("plan text", text), hang_guard("a plan text"):
            plan = documented(lambda: load_plan(text, "<fuzz>"))
            if isinstance(plan, CommissionError):
                return
            COUNTS["plan texts that loaded"] += 1
            evaluate_all((plan,), sample_records)
            for outcome in documented(lambda: run_examples(plan, "<fuzz>")) or ():
                outcome.report(plan.currency)

    check()
    crash_log.check()


def test_record_sets_fuzzed(request: pytest.FixtureRequest, crash_log: CrashLog,
                            plans: tuple[Plan, ...]) -> None:
    @fuzzed(request.config)
    @given(mutated_record_sets())
    def check(rows: list[Any]) -> None:
        COUNTS["record sets"] += 1
        COUNTS["records"] += len(rows)
        with crash_log.recording("record set", rows), hang_guard("a record set"):
            records = documented(lambda: load_records(rows))
            if isinstance(records, CommissionError):
                return
            COUNTS["record sets that loaded"] += 1
            evaluate_all(plans, records)

    check()
    crash_log.check()


def test_jsonl_texts_fuzzed(request: pytest.FixtureRequest, crash_log: CrashLog,
                            plans: tuple[Plan, ...]) -> None:
    @fuzzed(request.config)
    @given(damaged_jsonl())
    def check(text: str) -> None:
        COUNTS["JSON Lines texts"] += 1
        COUNTS["JSON lines"] += text.count("\n")
        with crash_log.recording("JSON Lines text", text), hang_guard("a JSON Lines text"):
            records = documented(lambda: load_jsonl(text))
            if isinstance(records, CommissionError):
                return
            COUNTS["JSON Lines texts that loaded"] += 1
            evaluate_all(plans[:1], records)

    check()
    crash_log.check()

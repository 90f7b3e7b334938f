"""The benchmark contenders compute what the library computes, to the cent.

The hand-written baseline and every rule-engine peer of ``benchmarks/`` must
give the library's totals by payee and period on generated records, or their
timings mean nothing. A peer whose package is not installed is skipped: the
project's test extra does not install them.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from commission_engine import load_records

from helpers import ROOT, WORKED

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baseline, peers  # noqa: E402
from benchmarks.generate import generate_records  # noqa: E402
from benchmarks.plan_generator import generate_plan  # noqa: E402

EVENTS = 2_000
SEED = 11
# As-of times that cut through the generated data: during 2025, at its end,
# and after every installment and cohort window has passed.
AS_OF_TIMES = (
    "2025-03-31T23:59:59+08:00",
    "2025-12-31T00:00:00-08:00",
    "2026-06-30T00:00:00+08:00",
    "2027-06-01T00:00:00Z",
)
EXPECTATIONS = sorted(WORKED.glob("*.expected.json"))


@pytest.fixture(scope="module")
def dicts() -> list[dict[str, Any]]:
    """Generated records as the benchmarks read them: JSON text parsed with Decimal."""
    text = "\n".join(json.dumps(record) for record in generate_records(EVENTS, SEED))
    return [json.loads(line, parse_float=Decimal) for line in text.split("\n")]


@pytest.fixture(scope="module")
def records(dicts):  # type: ignore[no-untyped-def]
    return load_records(dicts)


def _library_totals(plan, records, as_of: datetime) -> dict[tuple[str, ...], Decimal]:  # type: ignore[no-untyped-def]
    totals: dict[tuple[str, ...], Decimal] = {}
    for line in plan.evaluate(records, as_of).lines:
        key = (line.payee, line.period)
        totals[key] = totals.get(key, Decimal(0)) + line.amount
    return totals


def _peer(peer_class: type[peers.Peer]) -> peers.Peer:
    pytest.importorskip(peer_class.package)
    return peer_class()


def test_generated_records_are_valid(dicts, records) -> None:  # type: ignore[no-untyped-def]
    assert len(dicts) >= EVENTS
    assert len(records.contracts) > 100
    assert records.refunds
    assert records.surveys


def test_generator_is_deterministic() -> None:
    first = list(generate_records(500, SEED))
    second = list(generate_records(500, SEED))

    assert first == second
    assert first != list(generate_records(500, SEED + 1))


def test_generated_data_covers_the_rules(dicts) -> None:  # type: ignore[no-untyped-def]
    contracts = [d for d in dicts if d["type"] == "contract"]
    customers = [d for d in dicts if d["type"] == "customer"]
    scores = [d["score"] for d in dicts if d["type"] == "satisfaction"]

    assert any(d["product"] == "marriage-repair" for d in contracts)
    assert {d["term_months"] for d in contracts} == {6, 12}
    assert any(d["referred_by"] is not None for d in customers)
    assert any(score >= 90 for score in scores)
    assert any(score < 70 for score in scores)
    assert len({d["timezone"] for d in dicts if d["type"] == "rep"}) == 5


@pytest.mark.parametrize("as_of_text", AS_OF_TIMES)
def test_baseline_agrees_with_library(reference_plan, dicts, records, as_of_text: str) -> None:  # type: ignore[no-untyped-def]
    as_of = datetime.fromisoformat(as_of_text)

    expected = _library_totals(reference_plan, records, as_of)

    assert baseline.compute_totals(dicts, as_of) == expected


@pytest.mark.parametrize("peer_class", peers.PEERS, ids=lambda p: p.name)
@pytest.mark.parametrize("as_of_text", AS_OF_TIMES[1:3])
def test_peer_agrees_with_library(reference_plan, dicts, records, peer_class,  # type: ignore[no-untyped-def]
                                  as_of_text: str) -> None:
    peer = _peer(peer_class)
    as_of = datetime.fromisoformat(as_of_text)

    expected = _library_totals(reference_plan, records, as_of)

    assert peer.totals(dicts, as_of) == expected


@pytest.mark.parametrize("peer_class", peers.PEERS, ids=lambda p: p.name)
def test_peer_rates_match_baseline_rates(dicts, peer_class) -> None:  # type: ignore[no-untyped-def]
    peer = _peer(peer_class)
    prepared = baseline.prepare(dicts, datetime.fromisoformat(AS_OF_TIMES[2]))
    facts = baseline.rate_facts(prepared)
    # Every row of the table is reached, so a peer cannot agree by accident.
    expected = baseline.hand_written_rates(facts)
    assert set(expected) == set(peers.RATES)

    assert peer.rates(facts) == expected


@pytest.mark.parametrize("expectation", EXPECTATIONS, ids=lambda p: p.name.removesuffix(".json"))
def test_baseline_reproduces_worked_case(expectation: Path) -> None:
    data = json.loads(expectation.read_text(encoding="utf-8"))
    case = expectation.name.split(".")[0]
    expected = {(line["payee"], line["period"], line["kind"]): Decimal(line["amount"])
                for line in data["lines"]}

    got = baseline.compute_totals(baseline.read_dicts(WORKED / f"{case}.jsonl"),
                                  datetime.fromisoformat(data["as_of"]), data["rounding"],
                                  by_kind=True)

    assert got == expected


def test_generated_plan_loads() -> None:
    from commission_engine import load_plan

    plan = load_plan(generate_plan(40))

    assert len(plan.rules) == 40

"""Evaluate a plan on a Dask cluster, partitioned by payee, with the single-process result.

The records arrive as a ``dask.bag.Bag``. A first pass brings the reference
records (reps, customers, targets) and the contracts to the client, which
validates them. There the plan's payee paths decide which contracts must be
evaluated together: every contract that feeds a per-payee total (a tiered
period total, a cohort, a cap or floor per period, a quota attainment) goes
with that payee. The payee groups are packed into partitions. A second pass
routes each contract and its events to its partition, and each partition is
validated and evaluated on a worker by the plain library, with the plan sent
as text. The client merges the lines in the library's total order, so the
result, its JSON and its digest are the ones a single process computes.

What crosses partitions, and how (docs/scale.md has the whole list):

- reps are sent to every partition, so manager chains, referral owners and
  split payees resolve anywhere;
- a customer is sent to each partition that contains one of its contracts, or
  a contract of a customer it referred, directly or up the referral chain;
- "new customer" is decided from the customer's first contract among all
  records, which the client has, not among the partition's;
- overrides keep a running total per manager, level and contract, so each
  contract's override lines are computed where the contract is;
- draws and closed periods are applied by the client to the merged lines;
- the digest hashes every record once, in the canonical order.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import uuid
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

import dask
import dask.bag
from dask.bag import Bag
from dask.delayed import Delayed, delayed

from commission_engine import load_plan, money
from commission_engine.closing import ClosedPeriods, apply_closed
from commission_engine.compile import (
    CompiledCohort,
    CompiledCommission,
    CompiledDraw,
    CompiledPlan,
)
from commission_engine.context import Context
from commission_engine.draws import draw_lines
from commission_engine.errors import EvaluationError, Problem, RecordError

# The underscored names are private helpers of the single-process path,
# reused so that lines are ordered, currencies checked and duplicate ids
# reported the same way.
from commission_engine.evaluate import _check_currencies, settle
from commission_engine.evaluate import evaluate as evaluate_in_process
from commission_engine.limits import Limits
from commission_engine.records import (
    Contract,
    RecordSet,
    _canonical_record,
    _check_duplicate_ids,
    _Collector,
    load_records,
)
from commission_engine.results import LINE_ORDER, PayoutLine, Result

__all__ = ["evaluate", "records_bag"]

# Event records, routed to the partition of their contract. Every other
# record (and anything that is not a record) goes to the client.
EVENT_TYPES = ("payment", "refund", "session", "satisfaction", "complaint")

# A row of input: its place in the bag, its position text, the record.
Row = tuple[int, str, Any]


class _Payload:
    """A wrapper that puts data into the task graph as it is: Dask neither walks nor hashes it.

    Dask looks for collections inside every list and dict argument of a task,
    which for the reference records costs more than the task itself.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value


def evaluate(plan: CompiledPlan, records_bag: Bag, as_of: datetime,
             rounding: str | None = None, closed: ClosedPeriods | None = None, *,
             partitions: int | None = None, positioned: bool = False,
             limits: Limits | None = None) -> Result:
    """Evaluate ``plan`` over the records of a Dask bag, partitioned by payee.

    The result equals ``plan.evaluate(load_records(records), as_of, rounding,
    closed)`` byte for byte, digest included. The computation runs on the
    current Dask scheduler: a ``distributed.Client`` when one is active.

    ``records_bag`` contains record mappings, named ``record N`` in errors by
    their place in the bag. With ``positioned=True`` it contains
    ``(position, record)`` pairs instead, such as ``("line 3", {...})``.
    ``partitions`` is the number of evaluation partitions; by default, the
    bag's. ``limits`` bounds the records as in ``load_records``; by default,
    the limits the plan was loaded with. The bag is computed twice, so
    persist it first when it is costly to build.
    """
    if not isinstance(plan, CompiledPlan):
        msg = (f"plan must be a compiled Plan, not {type(plan).__name__};"
               " compile the text first with load_plan(...)")
        raise TypeError(msg)
    if not isinstance(records_bag, Bag):
        msg = (f"records_bag must be a dask.bag.Bag, not {type(records_bag).__name__};"
               " build one with dask.bag.from_sequence(records)")
        raise TypeError(msg)
    if partitions is not None and (not isinstance(partitions, int) or partitions < 1):
        msg = f"partitions must be a whole number of at least 1, not {partitions!r}"
        raise ValueError(msg)
    # The single-process entry point checks as_of, the rounding mode and the
    # closed periods. On an empty record set, that check costs nothing.
    evaluate_in_process(plan, load_records([]), as_of, rounding, closed)
    mode = rounding or plan.rounding
    bounds = plan.limits if limits is None else limits

    inputs = records_bag.to_delayed()
    layout = _first_pass(inputs, positioned)
    headers = _validate_headers(layout, bounds)
    _check_currencies(plan, headers)
    assignment = _assign(plan, headers, as_of, layout.weights, partitions or len(inputs))
    outcomes = _second_pass(plan, inputs, positioned, headers, layout, assignment,
                            as_of, mode, bounds)
    return _merge(plan, headers, as_of, mode, closed, outcomes, bounds)


def records_bag(records: Sequence[Any], partitions: int) -> Bag:
    """Split records held in memory into a bag of ``partitions`` partitions.

    ``dask.bag.from_sequence`` hashes every record to name its tasks, which
    takes longer than evaluating them. This names the partitions with a
    random token instead.
    """
    if not isinstance(partitions, int) or partitions < 1:
        msg = f"partitions must be a whole number of at least 1, not {partitions!r}"
        raise ValueError(msg)
    token = uuid.uuid4().hex
    size = max(1, math.ceil(len(records) / partitions))
    chunks = [list(records[start:start + size]) for start in range(0, len(records), size)]
    parts = [delayed(chunk, name=f"commission-records-{token}-{index}", traverse=False)
             for index, chunk in enumerate(chunks or [[]])]
    return dask.bag.from_delayed(parts)


# ---------------------------------------------------------------- first pass


# An event record that carries a "revision" field: (type, id, revision, contract).
Revision = tuple[str, str, int, Any]


def _header_rows(part: Iterable[Any], positioned: bool
                 ) -> tuple[int, list[tuple[int, Any, Any]], Counter[str], list[Revision]]:
    """Return a bag partition's size, non-event rows, events per contract and event revisions."""
    headers: list[tuple[int, Any, Any]] = []
    events: Counter[str] = Counter()
    revisions: list[Revision] = []
    count = 0
    for index, item in enumerate(part):
        count += 1
        position, record = _unpack(item, positioned)
        if isinstance(record, Mapping) and record.get("type") in EVENT_TYPES:
            contract_id = record.get("contract")
            if isinstance(contract_id, str):
                events[contract_id] += 1
            revision, record_id = record.get("revision"), record.get("id")
            # An invalid revision is reported by the partition that validates it.
            if (isinstance(revision, int) and not isinstance(revision, bool)
                    and isinstance(record_id, str)):
                revisions.append((record["type"], record_id, revision, contract_id))
            continue
        headers.append((index, position, record))
    return count, headers, events, revisions


def _unpack(item: Any, positioned: bool) -> tuple[str | None, Any]:
    if not positioned:
        return None, item
    if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str)):
        msg = ("with positioned=True every item of the bag must be a (position, record)"
               f" pair such as ('line 3', {{...}}), not {type(item).__name__}")
        raise TypeError(msg)
    return item[0], item[1]


def _position(position: str | None, index: int) -> str:
    return position if position is not None else f"record {index + 1}"


@dataclass(frozen=True)
class _Layout:
    """The first pass's result: bag partition offsets, non-event rows, events per contract."""

    offsets: tuple[int, ...]
    headers: tuple[Row, ...]
    weights: Mapping[str, int]
    # The contract of each revised event's highest revision, by type and id.
    revised: Mapping[tuple[str, str], Any]


def _first_pass(inputs: Sequence[Delayed], positioned: bool) -> _Layout:
    summaries = dask.compute(*[delayed(_header_rows)(part, positioned) for part in inputs])
    offsets = []
    rows: list[Row] = []
    weights: Counter[str] = Counter()
    highest: dict[tuple[str, str], tuple[int, Any]] = {}
    total = 0
    for count, headers, events, revisions in summaries:
        offsets.append(total)
        rows += [(total + index, _position(position, total + index), record)
                 for index, position, record in headers]
        weights.update(events)
        for record_type, record_id, revision, contract_id in revisions:
            key = (record_type, record_id)
            if key not in highest or revision > highest[key][0]:
                highest[key] = (revision, contract_id)
        total += count
    revised = {key: contract_id for key, (_revision, contract_id) in highest.items()}
    return _Layout(tuple(offsets), tuple(rows), weights, revised)


def _validate_headers(layout: _Layout, limits: Limits) -> RecordSet:
    """Validate reps, customers, contracts and targets, raising ``RecordError`` on a problem.

    The events are validated later, on the workers. So when one of these
    records is invalid, the error lists the problems of these records only.
    """
    return load_records([row[2] for row in layout.headers],
                        [row[1] for row in layout.headers], limits)


# ---------------------------------------------------------------- partitioning


@dataclass(frozen=True)
class _Assignment:
    """The partition of each contract and rep, and the customers each partition needs."""

    count: int
    partition_of_contract: Mapping[str, int]
    partition_of_rep: Mapping[str, int]
    customers: tuple[frozenset[str], ...]


@dataclass(frozen=True, slots=True)
class _PaymentOf:
    """A stand-in payment: payee paths of a payment rule start at the payment.

    A path to a rep can only leave a payment through its contract, so the
    contract is all a payee path reads.
    """

    contract: str


def _grouping_payees(plan: CompiledPlan, headers: RecordSet, as_of: datetime
                     ) -> dict[str, set[str]]:
    """Return, per contract, the payees whose per-payee totals the contract feeds.

    Those totals are a payee's tiered period total, its cohorts, its period
    caps and floors, and the quota attainment an accelerator reads. This
    over-approximates: a contract counts even when a rule is not in force on
    it, which can only put more contracts together.
    """
    paths = _grouping_paths(plan)
    grouped: dict[str, set[str]] = {}
    for contract_id in sorted(headers.contracts):
        contract = headers.contracts[contract_id]
        payees: set[str] = set()
        for path, subject in paths:
            ctx = Context(headers, contract, "UTC", as_of)
            if subject == "payment":
                ctx.subject = _PaymentOf(contract.id)
            payee = path(ctx)
            if payee is not None:
                payees.add(payee.id)
        grouped[contract_id] = payees
    return grouped


def _grouping_paths(plan: CompiledPlan) -> list[tuple[Any, str]]:
    """Return the payee paths of the plan's per-payee totals, each with its subject type."""
    paths: list[tuple[Any, str]] = []
    accelerated: set[str] = set()
    for rule in plan.rules:
        if isinstance(rule, CompiledCohort):
            paths.append((rule.payee, "contract"))
        if not isinstance(rule, CompiledCommission):
            continue
        if rule.accelerator is not None:
            accelerated.add(rule.accelerator.quota)
        if rule.tiers is not None or rule.accelerator is not None:
            paths.append((rule.payee, rule.subject))
        if rule.limits.has_period_limit and rule.split:
            # Split shares are resolved on the contract, whatever the subject.
            paths += [(payee_of, "contract") for payee_of, _share, _label in rule.split]
        elif rule.limits.has_period_limit:
            paths.append((rule.payee, rule.subject))
    # A quota is measured only for the accelerators that read it.
    paths += [(quota.credited, quota.subject) for quota in plan.quotas
              if quota.name in accelerated]
    return paths


class _Groups:
    """Union-find over rep ids."""

    def __init__(self, members: Iterable[str]):
        self.parent = {member: member for member in members}

    def find(self, member: str) -> str:
        root = member
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[member] != root:
            self.parent[member], member = root, self.parent[member]
        return root

    def union(self, first: str, second: str) -> None:
        a, b = self.find(first), self.find(second)
        if a != b:
            # The smaller id becomes the root, so groups do not depend on order.
            self.parent[max(a, b)] = min(a, b)


def _assign(plan: CompiledPlan, headers: RecordSet, as_of: datetime,
            events_of: Mapping[str, int], count: int) -> _Assignment:
    """Put payee groups into ``count`` partitions, balanced by record count."""
    groups = _Groups(headers.reps)
    home: dict[str, str] = {}
    for contract_id, payees in _grouping_payees(plan, headers, as_of).items():
        ordered = sorted(payees)
        for other in ordered[1:]:
            groups.union(ordered[0], other)
        home[contract_id] = ordered[0] if ordered else headers.contracts[contract_id].rep
    weight: Counter[str] = Counter({groups.find(rep_id): 0 for rep_id in headers.reps})
    for contract_id, rep_id in home.items():
        weight[groups.find(rep_id)] += 1 + events_of.get(contract_id, 0)
    # Heaviest group first, each into the lightest partition so far. Ties
    # fall to the smaller id and the lower partition, so packing is stable.
    loads = [0] * count
    partition_of_group: dict[str, int] = {}
    for group, size in sorted(weight.items(), key=lambda item: (-item[1], item[0])):
        target = min(range(count), key=lambda index: (loads[index], index))
        partition_of_group[group] = target
        loads[target] += size
    partition_of_contract = {contract_id: partition_of_group[groups.find(rep_id)]
                             for contract_id, rep_id in home.items()}
    partition_of_rep = {rep_id: partition_of_group[groups.find(rep_id)]
                        for rep_id in headers.reps}
    customers: list[set[str]] = [set() for _ in range(count)]
    for contract_id, target in partition_of_contract.items():
        customer_id = headers.contracts[contract_id].customer
        customers[target].update(_referral_chain(headers, customer_id))
    return _Assignment(count, partition_of_contract, partition_of_rep,
                       tuple(frozenset(ids) for ids in customers))


def _referral_chain(headers: RecordSet, customer_id: str) -> list[str]:
    """Return a customer and every customer up its ``referred_by`` chain."""
    chain = [customer_id]
    seen = {customer_id}
    current = headers.customers[customer_id].referred_by
    # Referrers may share a created_at, so a chain can loop. It stops at a repeat.
    while current is not None and current not in seen:
        chain.append(current)
        seen.add(current)
        current = headers.customers[current].referred_by
    return chain


# ---------------------------------------------------------------- second pass


def _route(part: Iterable[Any], offset: int, positioned: bool, routing: _Payload, count: int
           ) -> list[list[Row]]:
    """Split a bag partition's contracts and events by the partition that evaluates them.

    Every version of a revised event goes where its highest revision's
    contract goes, so that one partition resolves the revisions.
    """
    partition_of_contract, revised = routing.value
    routed: list[list[Row]] = [[] for _ in range(count)]
    for local, item in enumerate(part):
        position, record = _unpack(item, positioned)
        index = offset + local
        if not isinstance(record, Mapping):
            continue
        record_type = record.get("type")
        if record_type == "contract":
            key = record.get("id")
        elif record_type in EVENT_TYPES:
            key = record.get("contract")
            if revised:
                record_id = record.get("id")
                if isinstance(record_id, str):
                    key = revised.get((record_type, record_id), key)
        else:
            continue
        # An event of an unknown contract goes to partition 0, whose
        # validation reports the missing contract.
        target = partition_of_contract.get(key, 0) if isinstance(key, str) else 0
        routed[target].append((index, _position(position, index), record))
    return routed


def _pick(routed: Sequence[list[Row]], target: int) -> list[Row]:
    return routed[target]


# One event record of a partition: (type, id, index, position, canonical
# JSON). The JSON is None when the partition's records are invalid.
Event = tuple[str, str, int, str, str | None]


@dataclass(frozen=True)
class _Outcome:
    """One partition's result: lines and events, or the problems that stopped it."""

    lines: tuple[PayoutLine, ...] = ()
    events: tuple[Event, ...] = ()
    problems: tuple[tuple[int, Problem], ...] = ()
    omitted: int = 0
    error: str | None = None


@dataclass(frozen=True)
class _PartitionRecords(RecordSet):
    """A partition's records as seen at ``seen_at``, with the new-customer test of all records.

    A partition contains only some contracts of a customer, so the customer's
    first contract is looked up in ``first_contract_of``, built from every
    contract.
    """

    first_contract_of: Mapping[str, str] = field(default_factory=dict, repr=False)
    seen_at: datetime | None = None

    def visible_at(self, as_of: datetime) -> RecordSet:
        if as_of != self.seen_at:
            msg = f"these records were cut at {self.seen_at}, not at {as_of}"
            raise ValueError(msg)
        return self

    def is_new_customer(self, contract: Contract) -> bool:
        return self.first_contract_of[contract.customer] == contract.id


@functools.lru_cache(maxsize=4)
def _compiled(source: str, limits: Limits) -> CompiledPlan:
    """Compile the plan once per worker process, without its draws.

    Parser objects do not pickle, so workers receive the plan text and the
    limits it was loaded with, which evaluation applies too (the number of
    installments, for one). A draw pays every rep of the records, and each
    partition is sent every rep, so the client computes the draws from the
    merged lines instead.
    """
    plan = load_plan(source, limits=limits)
    rules = tuple(rule for rule in plan.rules if not isinstance(rule, CompiledDraw))
    return dataclasses.replace(plan, rules=rules)


def _evaluate_partition(source: str, plan_limits: Limits, payload: _Payload, as_of: datetime,
                        mode: str, *routed: list[Row]) -> _Outcome:
    """Validate and evaluate one partition's records with the plain library."""
    reference, first_contract_of, limits = payload.value
    rows = sorted([*reference, *(row for group in routed for row in group)],
                  key=lambda row: row[0])
    index_of = {row[1]: row[0] for row in rows}
    try:
        records = load_records([row[2] for row in rows], [row[1] for row in rows], limits)
    except RecordError as error:
        problems = tuple((index_of.get(p.position, -1), p) for p in error.problems)
        return _Outcome(events=_event_keys(rows), problems=problems, omitted=error.omitted)
    visible = records.visible_at(as_of)
    part = _PartitionRecords(**{f.name: getattr(visible, f.name) for f in fields(RecordSet)},
                             first_contract_of=first_contract_of, seen_at=as_of)
    try:
        result = evaluate_in_process(_compiled(source, plan_limits), part, as_of, mode)
    except EvaluationError as error:
        # The events still go to the client, whose duplicate-id check must
        # see every partition's.
        return _Outcome(events=_event_keys(rows), error=str(error))
    return _Outcome(lines=(*result.lines, *result.schedule), events=_events(records, index_of))


# The event tables of a RecordSet, in the order of RecordSet.all_records, and
# the record type of each.
_EVENT_TABLES = (("payments", "payment"), ("refunds", "refund"), ("sessions", "session"),
                 ("surveys", "satisfaction"), ("complaints", "complaint"))


def _events(records: RecordSet, index_of: Mapping[str, int]) -> tuple[Event, ...]:
    """Return every event record of a partition with its place and canonical JSON."""
    out = []
    for table, record_type in _EVENT_TABLES:
        for record in getattr(records, table).values():
            position = records.positions[(record_type, record.id)]
            # The same line as RecordSet.canonical_lines writes for the digest.
            line = json.dumps(_canonical_record(record), separators=(",", ":"),
                              ensure_ascii=True)
            out.append((record_type, record.id, index_of[position], position, line))
    return tuple(out)


def _event_keys(rows: Sequence[Row]) -> tuple[Event, ...]:
    """Return the type, id and place of each event row, for the duplicate-id check.

    Only the first row of each id is kept, because the partition's own
    validation reports a repeat within it, and the versions of a revised
    record are no repeat.
    """
    out = []
    seen: set[tuple[str, str]] = set()
    for index, position, record in rows:
        if not isinstance(record, Mapping) or record.get("type") not in EVENT_TYPES:
            continue
        record_id = record.get("id")
        if isinstance(record_id, str) and (record["type"], record_id) not in seen:
            seen.add((record["type"], record_id))
            out.append((record["type"], record_id, index, position, None))
    return tuple(out)


def _second_pass(plan: CompiledPlan, inputs: Sequence[Delayed], positioned: bool,
                 headers: RecordSet, layout: _Layout, assignment: _Assignment, as_of: datetime,
                 mode: str, limits: Limits) -> list[_Outcome]:
    count = assignment.count
    routing = _Payload((assignment.partition_of_contract, layout.revised))
    splits = [delayed(_route)(part, offset, positioned, routing, count)
              for part, offset in zip(inputs, layout.offsets)]
    tasks = []
    for target in range(count):
        reference = _reference_rows(layout, assignment, target)
        first = {customer_id: headers.contracts_of_customer[customer_id][0].id
                 for customer_id in assignment.customers[target]
                 if customer_id in headers.contracts_of_customer}
        routed = [delayed(_pick)(split, target) for split in splits]
        payload = _Payload((reference, first, limits))
        tasks.append(delayed(_evaluate_partition)(plan.source, plan.limits, payload, as_of, mode,
                                                   *routed))
    return list(dask.compute(*tasks))


def _reference_rows(layout: _Layout, assignment: _Assignment, target: int) -> list[Row]:
    """Return the reps, customers and targets partition ``target`` must see.

    A target of 0 or less goes to every partition, because a quota that reads
    it stops the evaluation with an error naming the first such target of all
    records, wherever its rep is evaluated.
    """
    customers = assignment.customers[target]
    rows = []
    for row in layout.headers:
        record = row[2]
        record_type = record["type"]
        if (record_type == "rep"
                or (record_type == "customer" and record["id"] in customers)
                or (record_type == "target"
                    and (assignment.partition_of_rep[record["rep"]] == target
                         or Decimal(str(record["value"])) <= 0))):
            rows.append(row)
    return rows


# ---------------------------------------------------------------- merge


def _merge(plan: CompiledPlan, headers: RecordSet, as_of: datetime, mode: str,
           closed: ClosedPeriods | None, partitions: Sequence[_Outcome], limits: Limits
           ) -> Result:
    events = sorted(event for outcome in partitions for event in outcome.events)
    _raise_problems(partitions, _duplicate_problems(events), limits.max_reported_errors)
    errors = [o.error for o in partitions if o.error is not None]
    if errors:
        # NOTE: when several partitions fail, the first partition's error is
        # raised, which may differ from the first error a single process meets.
        raise EvaluationError(errors[0])
    produced = [line for outcome in partitions for line in outcome.lines]
    with localcontext(money.EVALUATION_CONTEXT):
        produced.sort(key=LINE_ORDER)
        draws = [rule for rule in plan.rules if isinstance(rule, CompiledDraw)]
        # A draw reads only each rep's period totals of its rule and the reps,
        # so the merged lines and the client's reps give the single-process lines.
        for found in [draw_lines(rule, produced, headers, as_of, plan.currency)
                      for rule in draws]:
            produced.extend(found)
        if closed is not None:
            zones = {rep_id: rep.timezone for rep_id, rep in headers.reps.items()}
            produced = apply_closed(produced, closed, plan.currency, zones, as_of)
        recoverable = frozenset(rule.name for rule in draws if rule.recoverable)
        lines, statements, future = settle(produced, as_of, recoverable)
    record_lines = _canonical_lines(headers, events)
    return Result(plan.name, plan.version, as_of, plan.currency, mode, lines, statements,
                  future, plan.source, lambda: record_lines)


def _duplicate_problems(events: Sequence[Event]) -> list[tuple[int, Problem]]:
    """Report every event id used more than once, as ``load_records`` does.

    ``events`` is sorted by type and id, so the copies of an id are adjacent.
    """
    repeated = [event for before, event, after in zip([None, *events], events,
                                                      [*events[1:], None])
                if (before is not None and before[:2] == event[:2])
                or (after is not None and after[:2] == event[:2])]
    repeated.sort(key=lambda event: event[2])
    positions = [event[3] for event in repeated]
    # Every repeat is collected here; the count is cut to the limit later.
    collector = _Collector(positions, len(positions) + 1)
    _check_duplicate_ids([(event[0], event[1]) for event in repeated], positions, collector)
    index_of = {event[3]: event[2] for event in repeated}
    return [(index_of[problem.position], problem) for problem in collector.problems]


def _raise_problems(partitions: Sequence[_Outcome], duplicates: Sequence[tuple[int, Problem]],
                    shown: int) -> None:
    found: dict[tuple[Hashable, ...], tuple[int, Problem]] = {}
    for index, problem in [*(p for o in partitions for p in o.problems), *duplicates]:
        found.setdefault((problem.position, problem.record_id, problem.field,
                          problem.message), (index, problem))
    if not found:
        return
    ordered = [problem for _index, problem in sorted(found.values(), key=lambda e: e[0])]
    omitted = sum(o.omitted for o in partitions) + max(0, len(ordered) - shown)
    raise RecordError(tuple(ordered[:shown]), omitted)


def _canonical_lines(headers: RecordSet, events: Sequence[Event]) -> tuple[str, ...]:
    """Return every record's canonical line in the order of ``RecordSet.all_records``."""
    lines = headers.canonical_lines
    leading = len(headers.reps) + len(headers.customers) + len(headers.contracts)
    group_of = {record_type: index for index, (_table, record_type) in enumerate(_EVENT_TABLES)}
    ordered = sorted(events, key=lambda event: (group_of[event[0]], event[1]))
    return (*lines[:leading], *(event[4] for event in ordered), *lines[leading:])

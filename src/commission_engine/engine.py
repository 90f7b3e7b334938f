"""Incremental evaluation: an ``Engine`` keeps a plan's result up to date as records change.

An engine keeps the records and the lines they produce at one as-of time.
Adding, correcting or removing records recomputes only what the change can
reach and returns a ``Delta``: the lines that appeared and disappeared and
the statements that changed. ``Engine.result()`` is always equal to
``evaluate(plan, records, as_of)`` over the same records, digest included.

What a change reaches, by the kind of record changed:

- an event of a contract (payment, refund, session, survey, complaint): that
  contract's lines, under every rule;
- a contract: every contract of its customer (which one is the customer's
  first may change), under every rule;
- a customer: the contracts of the customer and of every customer it
  referred, directly or not (a referral is paid to the referrer's owner);
- a rep: everything, because a rep's zone, manager or team can reach any
  line through a payee or a manager chain;
- a target: no line (targets are read by progress, not by rules).

From the contracts a change reaches, the lines built over several contracts
follow. The engine recomputes a tiered rule's lines for each payee and period
those contracts feed, and a cohort rule's line for each cohort month they
belong to, before and after the change. It recomputes a rule's cap and floor
adjustments per period for each payee and period whose lines of the rule
moved. It recomputes an override's lines for each contract whose overridden
lines moved, which covers the whole manager chain and every share of a split.
When an accelerator's attainment moves, every contract is recomputed.

Tiers by count are recomputed per payee and period like other tiers. Plan
versions price each contract's events by their governing date, and each
version's period limits hold only its own lines. A contract's exchange rate
is found again with the contract, and its payments and refunds convert at
it. A draw is recomputed whole for each payee whose lines of the drawn rule
moved, and for every rep when a rep changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, localcontext
from typing import Any

from . import collector, explain, money
from .compile import (
    CompiledCohort,
    CompiledCommission,
    CompiledDraw,
    CompiledOneTime,
    CompiledOverride,
    CompiledPlan,
)
from .currency import Conversion, convert_contract, convert_event, find_conversions
from .draws import earned_by_period, rep_draw_lines
from .engine_store import (
    EVENT_TYPES,
    TABLES,
    RecordKey,
    RecordStore,
    _position_key,
    _Undo,
    event_time,
    record_key,
    validate_models,
)
from .errors import EvaluationError, Problem, RecordError
from .evaluate import _check_currencies, _explain_conversions, _guard, _Run, settle
from .progress import PayeeProgress, assemble
from .quotas import QuotaBook, measure_quotas
from .records import (RecordSet, _Collector, _Record, check_as_of, json_repr, load_records,
                      record_data)
from .results import LINE_ORDER, PayoutLine, Result, Statement, build_statements, records_digest
from .revisions import revision_of

__all__ = ["STATE_FORMAT", "Delta", "Engine"]

STATE_FORMAT = "commission-engine-state/1"

# The position that problems give a record stored by an earlier change.
STORED = "stored record"

# A producer is one unit of recomputation and owns the lines it produced:
# ("contract", contract id), ("tiers", rule index, payee, period),
# ("cohort", rule index, payee, period), ("limits", rule index, payee),
# ("override", rule index, contract id) or ("draw", rule index, payee).
ProducerKey = tuple[Any, ...]
# (payee, credited period, (time, record id, change of the base, sources,
# id of the record a refund reverses or None)).
TierEvent = tuple[str, str, tuple[Any, ...]]


@dataclass(frozen=True)
class Delta:
    """The changes that one update of an engine's records made to its result.

    ``added`` and ``removed`` are owed lines (due at or before the as-of
    time); ``scheduled_added`` and ``scheduled_removed`` are lines of the
    future schedule. ``statements`` contains the new form of every statement
    that changed, and ``emptied`` the (payee, period) of each statement left
    with no lines.
    """

    added: tuple[PayoutLine, ...]
    removed: tuple[PayoutLine, ...]
    scheduled_added: tuple[PayoutLine, ...]
    scheduled_removed: tuple[PayoutLine, ...]
    statements: tuple[Statement, ...]
    emptied: tuple[tuple[str, str], ...]

    @property
    def empty(self) -> bool:
        """True when the change moved no line."""
        return not (self.added or self.removed or self.scheduled_added
                    or self.scheduled_removed)

    def to_dict(self) -> dict[str, Any]:
        """Return the delta as JSON-ready data."""
        return {
            "added": [line.to_dict() for line in self.added],
            "removed": [line.to_dict() for line in self.removed],
            "scheduled_added": [line.to_dict() for line in self.scheduled_added],
            "scheduled_removed": [line.to_dict() for line in self.scheduled_removed],
            "statements": [statement.to_dict() for statement in self.statements],
            "emptied": [list(key) for key in self.emptied],
        }


@contextmanager
def _evaluation() -> Iterator[None]:
    # As in a batch evaluation: exact arithmetic in the library's context,
    # and the cyclic collector paused because nothing freed is cyclic.
    with collector.paused(), localcontext(money.EVALUATION_CONTEXT):
        yield


class Engine:
    """A plan's evaluated state at one as-of time, updated record by record.

    ``records`` is a ``RecordSet`` or raw records for ``load_records``.
    Closed periods are not supported: evaluate with ``closed=`` in batch for
    a statement run over paid periods.
    """

    def __init__(self, plan: CompiledPlan, as_of: datetime,
                 records: RecordSet | Sequence[Mapping[str, Any]] | None = None,
                 rounding: str | None = None):
        if not isinstance(plan, CompiledPlan):
            msg = f"plan must be a Plan from load_plan(...), not {type(plan).__name__}"
            raise TypeError(msg)
        check_as_of(as_of)
        self.plan = plan
        self.as_of = as_of
        self.rounding = rounding or plan.rounding
        if self.rounding not in money.ROUNDING_MODES:
            msg = f"unknown rounding mode {self.rounding!r}; use half-up or half-even"
            raise EvaluationError(msg)
        # The revisions held of each record that has more than its original,
        # so later changes follow the batch rules for corrected records.
        self._revisions: dict[RecordKey, tuple[int, ...]] = {}
        if records is None:
            records = load_records([])
        elif not isinstance(records, RecordSet):
            raw = list(records)
            records = load_records(raw)
            self._revisions = _held_revisions(raw)
        # How each contract in another currency converts, for every contract
        # of the store, as a batch evaluation finds them.
        self._conversions: dict[str, Conversion] = _check_currencies(plan, records)
        self._store = RecordStore(records)
        self._visible = _empty_record_set(self._store)
        self._lines: dict[ProducerKey, tuple[PayoutLine, ...]] = {}
        self._tier_events: dict[tuple[int, str], tuple[TierEvent, ...]] = {}
        self._tier_members: dict[tuple[int, str, str], set[str]] = {}
        self._cohort_of: dict[tuple[int, str], tuple[str, str] | None] = {}
        self._cohort_members: dict[tuple[int, str, str], set[str]] = {}
        self._base: dict[tuple[str, str], dict[ProducerKey, tuple[PayoutLine, ...]]] = {}
        # The lines of each statement (payee, period), by the producer that made them.
        self._by_statement: dict[tuple[str, str], dict[ProducerKey, tuple[PayoutLine, ...]]] = {}
        # The periods in which each payee has had lines, emptied ones included.
        self._periods_of: dict[str, set[str]] = {}
        self._draws = tuple(rule for rule in plan.rules if isinstance(rule, CompiledDraw))
        self._recoverable = frozenset(draw.name for draw in self._draws if draw.recoverable)
        self._recoverable_draws = frozenset(draw.index for draw in self._draws
                                            if draw.recoverable)
        self._result: Result | None = None
        self._accelerated = any(getattr(rule, "accelerator", None) is not None
                                for rule in plan.rules)
        contract_ids = set(self._store.tables["contract"])
        self._refresh_visible(contract_ids, set(self._store.contracts_of_customer))
        self._run = _Run(plan, self._visible, as_of, self.rounding)
        if self._accelerated:
            self._measure_quotas()
        self._recompute(contract_ids, every_rep=True)

    # ---- reading

    def result(self) -> Result:
        """Return the whole result, equal to a batch evaluation of the same records."""
        if self._result is None:
            produced = [line for lines in self._lines.values() for line in lines]
            with localcontext(money.EVALUATION_CONTEXT):
                owed, statements, future = settle(produced, self.as_of, self._recoverable)
            record_lines = self._store.canonical_lines()
            self._result = Result(self.plan.name, self.plan.version, self.as_of,
                                  self.plan.currency, self.rounding, owed, statements, future,
                                  self.plan.source, lambda: record_lines)
        return self._result

    def statement(self, payee: str, period: str) -> Statement | None:
        """Return one payee's statement for one period, or None when it has no lines."""
        return self._statement(payee, period)

    def progress(self, period: str | None = None) -> tuple[PayeeProgress, ...]:
        """Compute every rep's progress at the engine's as-of time; see ``progress.progress``."""
        book = self._measure_quotas()
        totals: dict[tuple[str, str, str], Decimal] = {}
        for (index, _contract_id), events in self._tier_events.items():
            name = self.plan.rules[index].name
            for payee, period_of_event, event in events:
                key = (name, payee, period_of_event)
                totals[key] = totals.get(key, Decimal(0)) + event[2]
        return assemble(self.plan, self._store.tables["rep"], self.result(), book, totals,
                        self.as_of, period)

    def records(self) -> RecordSet:
        """Return every record of the engine, validated, as a new ``RecordSet``."""
        return load_records([record_data(record) for record in self._store.records()])

    # ---- changing

    def add(self, *records: Mapping[str, Any] | _Record) -> Delta:
        """Add new records; raise ``RecordError`` and change nothing when any is invalid."""
        return self.apply(add=records)

    def correct(self, *records: Mapping[str, Any] | _Record) -> Delta:
        """Replace records by new versions with the same type and id."""
        return self.apply(correct=records)

    def remove(self, *keys: Mapping[str, Any] | tuple[str, Any]) -> Delta:
        """Remove records named by ``{"type": ..., "id": ...}`` or ``(type, id)``.

        A target is named by its type, rep, period and metric.
        """
        return self.apply(remove=keys)

    def apply(self, add: Iterable[Any] = (), correct: Iterable[Any] = (),
              remove: Iterable[Any] = ()) -> Delta:
        """Add, correct and remove records in one change, all or nothing."""
        added, corrected, removed = list(add), list(correct), list(remove)
        checked = self._validate(added, corrected, removed)
        models = [model for model, _position in checked.models]
        undo = _Undo([])
        old_records = [self._store.get(record_key(m)) for m in models]
        old_records += [self._store.get(_removal_key(k)) for k in removed]
        for model, position in checked.models:
            self._store.put(model, position, undo)
        for key in removed:
            self._store.delete(_removal_key(key), undo)
        changed = [record_key(m) for m in models] + [_removal_key(k) for k in removed]
        collector = _Collector([])
        self._store.check(changed, collector)
        try:
            if collector.problems:
                raise RecordError(tuple(collector.problems), collector.omitted)
            self._check_rates(models, changed)
        except RecordError as exc:
            self._store.revert(undo)
            raise _reworded(exc, checked.positions, checked.removals) from None
        for key in changed:
            if key in self._store.canonical:
                # Later changes name a stored record by its type and id only.
                self._store.positions[_position_key(key)] = STORED
        touched = [record for record in (*models, *old_records) if record is not None]
        if not any(self._seen(record) for record in touched):
            # Records dated after the as-of time change no line, only the digest.
            self._result = None
            self._keep_revisions(checked.revisions)
            return Delta((), (), (), (), (), ())
        contracts, customers = self._reach(touched, changed)
        # A rep's zone and fields decide its draw lines even when it has no line.
        every_rep = any(key[0] == "rep" for key in changed)
        try:
            delta = self._update(contracts, customers, every_rep)
        except Exception:
            # Nothing was committed: putting the records back is enough.
            self._store.revert(undo)
            self._refresh_visible(contracts, customers)
            if self._accelerated:
                self._measure_quotas()
                self._run.selections.clear()
            raise
        # The records changed even when no line moved, and the digest covers them.
        self._result = None
        self._keep_revisions(checked.revisions)
        return delta

    def _keep_revisions(self, revisions: Mapping[RecordKey, tuple[int, ...]]) -> None:
        for key, held in revisions.items():
            if held in ((), (1,)):
                self._revisions.pop(key, None)
            else:
                self._revisions[key] = held

    # ---- state

    def export_state(self) -> dict[str, Any]:
        """Return the engine's state as plain JSON data; ``Engine.restore`` reads it back.

        The state is the records, the as-of time, the rounding mode and the
        digest of the result. Lines are not stored, because the plan and the
        records fix them, and restoring recomputes and checks them.
        """
        return {
            "format": STATE_FORMAT,
            "plan": {"name": self.plan.name, "version": self.plan.version},
            "as_of": self.as_of.isoformat(),
            "rounding": self.rounding,
            "records": self._exported_records(),
            "records_digest": records_digest(self._store.canonical_lines()),
            "digest": self.result().digest,
        }

    def _exported_records(self) -> list[dict[str, Any]]:
        """Return every record, with the revisions a corrected record holds.

        A corrected record is written once per revision held, each with the
        current content, so the batch rules for revisions still apply after
        a restore. A lower revision's content is never read again.
        """
        out = []
        for key, line in self._store.sorted_items():
            record = _json_record(line)
            held = self._revisions.get(key)
            if held is None:
                out.append(record)
                continue
            top = max(held)
            for number in (*sorted(held)[:-1], top):
                out.append(record if number == 1 else {**record, "revision": number})
        return out

    @classmethod
    def restore(cls, plan: CompiledPlan, state: Mapping[str, Any]) -> Engine:
        """Rebuild an engine from ``export_state`` data, under the same plan."""
        if not isinstance(state, Mapping) or state.get("format") != STATE_FORMAT:
            found = state.get("format") if isinstance(state, Mapping) else type(state).__name__
            msg = (f"the state has format {found!r}, not {STATE_FORMAT!r};"
                   " pass the data Engine.export_state() returned")
            raise EvaluationError(msg)

        try:
            as_of = datetime.fromisoformat(state["as_of"])
            records = state["records"]
            rounding = state["rounding"]
            digest = state["digest"]
        except (KeyError, TypeError, ValueError) as exc:
            msg = (f"the state is incomplete or malformed ({exc});"
                   " pass the data Engine.export_state() returned")
            raise EvaluationError(msg) from None
        if not isinstance(records, list):
            msg = (f"the state's records must be a list of records, not"
                   f" {type(records).__name__}; pass the data Engine.export_state() returned")
            raise EvaluationError(msg)

        try:
            loaded = load_records(records, [f"stored record {i + 1}" for i in range(len(records))])
        except RecordError as exc:
            listed = "\n".join(f"  {problem.render()}" for problem in exc.problems)
            more = f"\n  ... and {exc.omitted} more not shown" if exc.omitted else ""
            msg = ("the state's stored records are invalid, so it was changed after"
                   " Engine.export_state() wrote it; restore an unchanged export:\n"
                   f"{listed}{more}")
            raise EvaluationError(msg) from exc
        saved = state.get("records_digest")
        found = records_digest(loaded.canonical_lines)
        if saved is not None and saved != found:
            msg = (f"the state's stored records have digest {found}, but were saved with"
                   f" {saved}, so they were changed after Engine.export_state() wrote them;"
                   " restore an unchanged export")
            raise EvaluationError(msg)

        engine = cls(plan, as_of, loaded, rounding)
        engine._revisions = _held_revisions(records)
        if engine.result().digest != digest:
            msg = (f"the restored result has digest {engine.result().digest}, but the state"
                   f" was saved with {digest}; restore it under the plan text it was saved"
                   f" with (plan {state.get('plan')})")
            raise EvaluationError(msg)
        return engine

    # ---- validation

    def _validate(self, added: list[Any], corrected: list[Any], removed: list[Any]
                  ) -> _Checked:
        """Validate a change as a batch would validate the records it leaves.

        ``add`` puts another version of a record next to those held and
        ``correct`` replaces the version with the same revision (the original
        when there is no ``revision`` field). As in a batch, the highest
        revision is the record's content and is validated. A lower one
        replaces nothing, so only its revision number is kept. A revision
        above 1 needs an original, and each revision above 1 may occur once.
        """
        positions = ([f"added record {i + 1}" for i in range(len(added))]
                     + [f"corrected record {i + 1}" for i in range(len(corrected))])
        removals = [f"removed record {i + 1}" for i in range(len(removed))]
        raw = [*added, *corrected]
        collector = _Collector([*positions, *removals])
        revisions: list[int | None] = []
        for item, position in zip(raw, positions):
            found: list[tuple[str, str | None, str, str]] = []
            revisions.append(revision_of(item, position, found))
            for where, label, message, fix in found:
                collector.add(where, label, "revision", message, fix)
        current = [index for index, item in enumerate(raw) if revisions[index] is not None
                   and not self._superseded(_raw_key(item), revisions[index])]
        try:
            validated = validate_models([raw[i] for i in current], [positions[i] for i in current])
        except RecordError as exc:
            # Reported with the revision problems, as a batch lists them together.
            for problem in exc.problems:
                collector.add(problem.position, problem.record_id, problem.field,
                              problem.message, problem.fix)
            collector.omitted += exc.omitted
            collector.raise_if_any()
            raise
        collector.raise_if_any()
        models = dict(zip(current, validated, strict=True))
        seen: dict[RecordKey, str] = {}
        held_after: dict[RecordKey, tuple[int, ...]] = {}
        for index, position in enumerate(positions):
            model = models.get(index)
            key = record_key(model) if model is not None else _raw_key(raw[index])
            revision = revisions[index]
            assert key is not None and revision is not None
            label = _label(key)
            if key in seen:
                collector.add(position, label, "id", f"{label} is changed twice in one update,"
                              f" also at {seen[key]}", "change each record once per update")
                continue
            seen[key] = position
            held = self._revisions_held(key)
            if index >= len(added):
                if not held:
                    collector.add(position, label, "id", f"{label} is not in the records",
                                  "add it instead of correcting it")
                held_after[key] = tuple(sorted((*(n for n in held if n != revision), revision)))
                continue
            if not held and revision > 1:
                collector.add(position, label, "revision",
                              f"revision {revision} corrects a {key[0]} that is not in the"
                              " records", "add the original (without a revision field) first,"
                              " or remove the revision field if this is the original")
            elif held and revision == 1 and max(held) == 1:
                _report_duplicate(collector, position, key)
            elif revision > 1 and revision in held:
                collector.add(position, label, "revision",
                              f"revision {revision} of {label} is already in the records",
                              "give the correction the next revision number, or correct"
                              " that revision")
            held_after[key] = tuple(sorted((*held, revision)))
        for index, item in enumerate(removed):
            position = removals[index]
            key = _removal_key(item)
            label = _label(key)
            if not isinstance(key[0], str) or key[0] not in (*TABLES, "target"):
                collector.add(position, None, "type", f"cannot remove {item!r}: no such record type",
                              "name it as {'type': 'payment', 'id': 'P1'} or ('payment', 'P1')")
                continue
            part = _non_text_part(key)
            if part is not None:
                # A list or object cannot be looked up; report it instead.
                name, value = part
                collector.add(position, None, name,
                              f"cannot remove {item!r}: the {name} {json_repr(value)} is not text",
                              "name the record by its text fields, such as"
                              " {'type': 'payment', 'id': 'P1'}")
                continue
            if key in seen:
                collector.add(position, label, "id", f"{label} is changed twice in one update,"
                              f" also at {seen[key]}", "change each record once per update")
            elif self._store.get(key) is None:
                collector.add(position, label, "id", f"{label} is not in the records",
                              "check the type and id of the record to remove")
            else:
                held_after[key] = ()
            seen.setdefault(key, position)
        collector.raise_if_any()
        return _Checked([(models[i], positions[i]) for i in sorted(models)], positions,
                        {key: position for key, position in zip(
                            (_removal_key(item) for item in removed), removals)},
                        held_after)

    def _revisions_held(self, key: RecordKey) -> tuple[int, ...]:
        """Return the revision numbers held of a record: () when absent, (1,) for an original."""
        held = self._revisions.get(key)
        if held is not None:
            return held
        return (1,) if self._store.get(key) is not None else ()

    def _superseded(self, key: RecordKey | None, revision: int | None) -> bool:
        """Tell whether a new version is below the highest revision held, so never read."""
        if key is None or revision is None:
            return False
        held = self._revisions_held(key)
        return bool(held) and revision < max(held)

    def _seen(self, record: Any) -> bool:
        """Tell whether a record is visible at the as-of time (reference data always is)."""
        if record.type in EVENT_TYPES or record.type == "contract":
            return event_time(record) <= self.as_of
        return record.type != "target" or self._accelerated

    def _reach(self, records: Iterable[Any], changed: Iterable[RecordKey]
               ) -> tuple[set[str], set[str]]:
        """Return the contracts and customers whose lines a change can move."""
        store = self._store
        contracts: set[str] = set()
        customers: set[str] = set()
        for key in changed:
            if key[0] == "rep":
                customers.update(store.contracts_of_customer)
                contracts.update(store.tables["contract"])
                contracts.update(self._visible.contracts)
                return contracts, customers
        for record in records:
            if record is None:
                continue
            record_type = record.type
            if record_type == "contract":
                contracts.add(record.id)
                customers.add(record.customer)
            elif record_type in EVENT_TYPES:
                contracts.add(record.contract)
            elif record_type == "customer":
                customers.update(store.customer_descendants(record.id))
        for customer_id in customers:
            contracts.update(store.contracts_of_customer.get(customer_id, {}))
            contracts.update(c.id for c in self._visible.contracts_of_customer.get(customer_id, ()))
        return contracts, customers

    def _check_rates(self, models: Iterable[_Record], changed: Iterable[RecordKey]) -> None:
        """Raise ``RecordError`` for a changed contract or target the plan cannot evaluate.

        A contract's exchange rate is the one in force on its signing day in
        its rep's zone, so a rep's change checks every contract it signed.
        """
        models = tuple(models)
        contract_ids = {m.id for m in models if m.type == "contract"}  # type: ignore[attr-defined]
        for record_type, ident in changed:
            if record_type == "rep":
                contract_ids.update(self._store.signed_by.get(ident, ()))
        targets = tuple(m for m in models if m.type == "target")  # type: ignore[attr-defined]
        subset = dataclasses.replace(self._contract_subset(contract_ids), targets=targets)
        _check_currencies(self.plan, subset)

    def _contract_subset(self, contract_ids: Iterable[str]) -> RecordSet:
        """Return the stored contracts among ``contract_ids``, with every rep, as a record set."""
        table = self._store.tables["contract"]
        contracts = {key: table[key] for key in contract_ids if key in table}
        return RecordSet(reps=self._store.tables["rep"], customers={}, contracts=contracts,
                         payments={}, refunds={}, sessions={}, surveys={}, complaints={},
                         targets=(), contracts_of_customer={}, payments_of={}, refunds_of={},
                         sessions_of={}, surveys_of={}, complaints_of={},
                         positions=self._store.positions)

    # ---- recomputation

    def _update(self, contracts: set[str], customers: set[str], every_rep: bool) -> Delta:
        self._refresh_visible(contracts, customers)
        if self._accelerated and self._attainments_moved():
            # NOTE: an attainment that moves reprices every contract of its
            # payee and period, and the engine does not track which contracts
            # read which attainment, so it recomputes all of them.
            contracts = contracts | set(self._store.tables["contract"])
            self._run.selections.clear()
        return self._recompute(contracts, every_rep)

    def _attainments_moved(self) -> bool:
        """Measure the quotas again; tell whether any attainment changed."""
        before = self._run._quota_book
        after = self._measure_quotas()
        return before is None or list(before) != list(after)

    def _measure_quotas(self) -> QuotaBook:
        """Measure every quota over the visible records and the targets, for the run to read."""
        run = self._run
        records = dataclasses.replace(self._visible, targets=tuple(self._store.targets.values()))
        with localcontext(money.EVALUATION_CONTEXT):
            run._quota_book = measure_quotas(self.plan.quotas, records, self.as_of,
                                             run.commission_of)
        return run._quota_book

    def _refresh_visible(self, contracts: set[str], customers: set[str]) -> None:
        """Make the visible records of these contracts and customers match the store."""
        store, visible, as_of = self._store, self._visible, self.as_of
        tables = {t: getattr(visible, TABLES[t]) for t in EVENT_TYPES}
        indexes = {t: getattr(visible, EVENT_TYPES[t]) for t in EVENT_TYPES}
        if self.plan.exchange_rates:
            # A contract's rate depends on the contract and its rep's zone, and a
            # change of either reaches the contract, so it is found again here.
            for contract_id in contracts:
                self._conversions.pop(contract_id, None)
            found, _problems = find_conversions(self._contract_subset(contracts),
                                                self.plan.exchange_rates, self.plan.currency)
            self._conversions.update(found)
        for contract_id in contracts:
            for record_type in EVENT_TYPES:
                for record in indexes[record_type].pop(contract_id, ()):
                    tables[record_type].pop(record.id, None)
            visible.contracts.pop(contract_id, None)  # type: ignore[attr-defined]
            for rule in self.plan.rules:
                self._pop_selection(rule.index, contract_id)
        for contract_id in contracts:
            contract = store.tables["contract"].get(contract_id)
            if contract is None or contract.signed_at > as_of:
                continue
            conversion = self._conversions.get(contract_id)
            if conversion is not None:
                contract = convert_contract(contract, conversion, self.plan.currency)
            visible.contracts[contract_id] = contract  # type: ignore[index]
            for record_type in EVENT_TYPES:
                seen = [r for r in store.events_of[record_type].get(contract_id, {}).values()
                        if event_time(r) <= as_of]
                if not seen:
                    continue
                seen.sort(key=lambda r: (event_time(r), r.id))
                if conversion is not None and record_type in ("payment", "refund"):
                    seen = [convert_event(record, conversion) for record in seen]
                indexes[record_type][contract_id] = tuple(seen)
                for record in seen:
                    tables[record_type][record.id] = record
        for customer_id in customers:
            members = [visible.contracts[c.id]  # type: ignore[index]
                       for c in store.contracts_of_customer.get(customer_id, {}).values()
                       if c.signed_at <= as_of]
            if members:
                members.sort(key=lambda c: (c.signed_at, c.id))
                visible.contracts_of_customer[customer_id] = tuple(members)  # type: ignore[index]
            else:
                visible.contracts_of_customer.pop(customer_id, None)  # type: ignore[attr-defined]

    def _pop_selection(self, rule_index: int, contract_id: str) -> None:
        run = getattr(self, "_run", None)
        if run is not None:
            run.selections.pop((rule_index, contract_id), None)

    def _recompute(self, contracts: set[str], every_rep: bool = False) -> Delta:
        with _evaluation():
            pending = self._compute(contracts, every_rep)
        return self._commit(pending)

    def _compute(self, contracts: set[str], every_rep: bool) -> dict[ProducerKey, Any]:
        """Compute the new lines of every producer the contracts reach, changing no state."""
        pending: dict[ProducerKey, Any] = {}
        ordered = sorted(contracts)
        for contract_id in ordered:
            pending[("contract", contract_id)] = self._contract_lines(contract_id)
        tier_events: dict[tuple[int, str], tuple[TierEvent, ...]] = {}
        cohorts: dict[tuple[int, str], tuple[str, str] | None] = {}
        for index, rule in enumerate(self.plan.rules):
            if isinstance(rule, CompiledCommission) and rule.tiers is not None:
                for contract_id in ordered:
                    tier_events[(index, contract_id)] = self._contract_tier_events(
                        rule, contract_id)
                pending.update(self._tier_groups(index, rule, ordered, tier_events))
            elif isinstance(rule, CompiledCohort):
                for contract_id in ordered:
                    cohorts[(index, contract_id)] = self._contract_cohort(rule, contract_id)
                pending.update(self._cohort_groups(index, rule, ordered, cohorts))
        for index, rule in enumerate(self.plan.rules):
            if isinstance(rule, CompiledCommission) and rule.limits.has_period_limit:
                pending.update(self._period_limits(index, rule, pending))
        for index, rule in enumerate(self.plan.rules):
            if isinstance(rule, CompiledOverride):
                pending.update(self._overrides(index, rule, pending))
        if self._draws:
            pending.update(self._draw_lines(pending, every_rep))
        if self._conversions:
            self._explain_rates(pending)
        pending[("state", "tier_events")] = tier_events
        pending[("state", "cohorts")] = cohorts
        return pending

    def _contract_lines(self, contract_id: str) -> tuple[PayoutLine, ...]:
        contract = self._visible.contracts.get(contract_id)
        if contract is None:
            return ()
        run = self._run
        out: list[PayoutLine] = []
        for rule in self.plan.rules:
            if isinstance(rule, CompiledCommission) and rule.tiers is None:
                lines_of = run.payment_lines if rule.subject == "payment" else run.commission_lines
                with _guard(rule.name, f"contract {contract_id}"):
                    lines = lines_of(rule, contract)
                    if rule.split:
                        lines = run.split_lines(rule, contract, lines)
                out.extend(_stamped(rule, lines))
            elif isinstance(rule, CompiledOneTime):
                with _guard(rule.name, f"contract {contract_id}"):
                    out.extend(_stamped(rule, run.onetime_lines(rule, contract)))
        return tuple(out)

    def _contract_tier_events(self, rule: CompiledCommission, contract_id: str
                              ) -> tuple[TierEvent, ...]:
        contract = self._visible.contracts.get(contract_id)
        if contract is None:
            return ()
        with _guard(rule.name, "a tiered total"):
            events = self._run.tier_events(rule, contract)
            # Only tiers by count read which record a refund reverses.
            assert rule.tiers is not None
            if rule.tiers.by_count:
                reversed_ids = [detail[5] for detail in self._run.tier_event_details(rule, contract)]
            else:
                reversed_ids = [None] * len(events)
        return tuple((payee.id, period, (moment, record_id, change, sources, reversed_id))
                     for (payee, period, moment, record_id, change, sources), reversed_id
                     in zip(events, reversed_ids, strict=True))

    def _tier_groups(self, index: int, rule: CompiledCommission, contracts: list[str],
                     fresh: Mapping[tuple[int, str], tuple[TierEvent, ...]]
                     ) -> dict[ProducerKey, Any]:
        dirty: set[tuple[str, str]] = set()
        for contract_id in contracts:
            for events in (self._tier_events.get((index, contract_id), ()),
                           fresh[(index, contract_id)]):
                dirty.update((payee, period) for payee, period, _event in events)
        out: dict[ProducerKey, Any] = {}
        assert rule.tiers is not None
        changed = set(contracts)
        joined: dict[tuple[str, str], set[str]] = {}
        for contract_id in contracts:
            for payee, period, _event in fresh[(index, contract_id)]:
                joined.setdefault((payee, period), set()).add(contract_id)
        for payee, period in sorted(dirty):
            members = set(self._tier_members.get((index, payee, period), ())) - changed
            members.update(joined.get((payee, period), ()))
            events = []
            for contract_id in sorted(members):
                own = fresh.get((index, contract_id))
                if own is None:
                    own = self._tier_events[(index, contract_id)]
                events.extend(e for p, q, e in own if (p, q) == (payee, period))
            with _guard(rule.name, "a tiered total"):
                if rule.tiers.by_count:
                    lines = self._run.count_tier_lines(rule, rule.tiers,
                                                       {(payee, period): events})
                else:
                    plain = [event[:4] for event in events]
                    lines = self._run.tier_group_lines(rule, rule.tiers, payee, plain)
            out[("tiers", index, payee, period)] = (tuple(_stamped(rule, lines)), members)
        return out

    def _contract_cohort(self, rule: CompiledCohort, contract_id: str) -> tuple[str, str] | None:
        contract = self._visible.contracts.get(contract_id)
        if contract is None:
            return None
        with _guard(rule.name, "a cohort"):
            membership = self._run.cohort_of(rule, contract)
        return None if membership is None else (membership[0].id, membership[1])

    def _cohort_groups(self, index: int, rule: CompiledCohort, contracts: list[str],
                       fresh: Mapping[tuple[int, str], tuple[str, str] | None]
                       ) -> dict[ProducerKey, Any]:
        dirty: set[tuple[str, str]] = set()
        for contract_id in contracts:
            for group in (self._cohort_of.get((index, contract_id)), fresh[(index, contract_id)]):
                if group is not None:
                    dirty.add(group)
        out: dict[ProducerKey, Any] = {}
        changed = set(contracts)
        joined: dict[tuple[str, str], set[str]] = {}
        for contract_id in contracts:
            group = fresh[(index, contract_id)]
            if group is not None:
                joined.setdefault(group, set()).add(contract_id)
        for payee_id, period in sorted(dirty):
            members = set(self._cohort_members.get((index, payee_id, period), ())) - changed
            members.update(joined.get((payee_id, period), ()))
            lines: tuple[PayoutLine, ...] = ()
            if members:
                payee = self._visible.reps[payee_id]
                ordered = [self._visible.contracts[c] for c in sorted(members)]
                with _guard(rule.name, "a cohort"):
                    line = self._run.cohort_line(rule, payee, period, ordered)
                lines = () if line is None else tuple(_stamped(rule, [line]))
            out[("cohort", index, payee_id, period)] = (lines, members)
        return out

    def _period_limits(self, index: int, rule: CompiledCommission,
                       pending: Mapping[ProducerKey, Any]) -> dict[ProducerKey, Any]:
        """Recompute the cap and floor adjustments of every payee whose lines of the rule moved.

        A clawback counts toward the period of the line it reverses, which may
        be months before its own, so a payee's periods are limited together.
        """
        dirty: set[str] = set()
        for key, value in pending.items():
            if key[0] in ("state", "limits", "override"):
                continue
            new = value[0] if key[0] in ("tiers", "cohort") else value
            for line in (*self._lines.get(key, ()), *new):
                if line.rule == rule.name:
                    dirty.add(line.payee)
        fresh: dict[str, set[ProducerKey]] = {}
        for key, value in pending.items():
            if key[0] in ("state", "limits", "override"):
                continue
            new = value[0] if key[0] in ("tiers", "cohort") else value
            for line in new:
                fresh.setdefault(line.payee, set()).add(key)
        out: dict[ProducerKey, Any] = {}
        for payee in sorted(dirty):
            producers = {key for (owner, _period), keys in self._by_statement.items()
                         if owner == payee for key in keys}
            producers.update(fresh.get(payee, ()))
            group: list[PayoutLine] = []
            for key in sorted(producers, key=repr):
                if key[0] == "limits":
                    continue
                value = pending.get(key)
                if value is None:
                    lines = self._lines.get(key, ())
                else:
                    lines = value[0] if key[0] in ("tiers", "cohort") else value
                # Each plan version limits its own lines, as in a batch.
                group.extend(line for line in lines
                             if line.rule == rule.name and line.payee == payee
                             and _version_of(line) == rule.version_name)
            with _guard(rule.name, f"the periods of {payee}"):
                limited = self._run.period_limit_lines(rule, group)
            out[("limits", index, payee)] = tuple(_stamped(rule, limited))
        return out

    def _overrides(self, index: int, rule: CompiledOverride,
                   pending: Mapping[ProducerKey, Any]) -> dict[ProducerKey, Any]:
        """Recompute the override lines of every contract whose overridden lines changed."""
        touched: dict[str, dict[ProducerKey, tuple[PayoutLine, ...]]] = {}
        for key, value in pending.items():
            if key[0] == "state":
                continue
            new = value[0] if key[0] in ("tiers", "cohort") else value
            for line in (*self._lines.get(key, ()), *new):
                if line.rule == rule.of:
                    touched.setdefault(line.sources[0], {})
        out: dict[ProducerKey, Any] = {}
        for source in sorted(touched):
            producers = dict(self._base.get((rule.of, source), {}))
            base: list[PayoutLine] = []
            for key, value in pending.items():
                if key[0] == "state":
                    continue
                new = value[0] if key[0] in ("tiers", "cohort") else value
                producers[key] = tuple(line for line in new
                                       if line.rule == rule.of and line.sources[0] == source)
            for lines in producers.values():
                base.extend(lines)
            out[("override", index, source)] = tuple(self._run.override_lines(rule, base))
        return out

    def _draw_lines(self, pending: Mapping[ProducerKey, Any], every_rep: bool
                    ) -> dict[ProducerKey, Any]:
        """Recompute the draw lines of every payee whose lines of a drawn rule moved.

        ``every_rep`` recomputes every rep's draw, as when the engine starts
        or a rep changes.
        NOTE: a draw walks a payee's periods in order, carrying its balance,
        so a moved line recomputes the payee's whole draw, every period from
        the draw's start through the as-of period, and not only later periods.
        """
        new_lines: dict[ProducerKey, tuple[PayoutLine, ...]] = {}
        fresh: dict[str, set[ProducerKey]] = {}
        drawn = {draw.of for draw in self._draws}
        dirty: dict[str, set[str]] = {}
        for key, value in pending.items():
            if key[0] == "state":
                continue
            new = value[0] if key[0] in ("tiers", "cohort") else value
            new_lines[key] = new
            for line in new:
                fresh.setdefault(line.payee, set()).add(key)
            for line in (*self._lines.get(key, ()), *new):
                if line.rule in drawn:
                    dirty.setdefault(line.rule, set()).add(line.payee)
        out: dict[ProducerKey, Any] = {}
        reps = self._store.tables["rep"]
        for draw in self._draws:
            if every_rep:
                payees = set(reps)
                payees.update(key[2] for key in self._lines
                              if key[0] == "draw" and key[1] == draw.index)
            else:
                payees = dirty.get(draw.of, set())
            for payee in sorted(payees):
                rep = reps.get(payee)
                lines: list[PayoutLine] = []
                if rep is not None:
                    drawn_lines = self._drawn_lines(draw.of, payee, new_lines,
                                                    fresh.get(payee, set()))
                    earned, left_out = earned_by_period(draw, drawn_lines)
                    lines = rep_draw_lines(draw, rep, earned, left_out, self._visible,
                                           self.as_of, self.plan.currency)
                out[("draw", draw.index, payee)] = tuple(lines)
        return out

    def _drawn_lines(self, rule_name: str, payee: str,
                     new_lines: Mapping[ProducerKey, tuple[PayoutLine, ...]],
                     fresh: Iterable[ProducerKey]) -> list[PayoutLine]:
        """Return a payee's lines of one rule, the recomputed lines replacing the stored."""
        producers = set(fresh)
        for period in self._periods_of.get(payee, ()):
            producers.update(self._by_statement.get((payee, period), ()))
        out: list[PayoutLine] = []
        for key in sorted(producers, key=repr):
            if key[0] == "draw":
                continue
            lines = new_lines.get(key)
            if lines is None:
                lines = self._lines.get(key, ())
            out.extend(line for line in lines if line.rule == rule_name and line.payee == payee)
        return out

    def _explain_rates(self, pending: dict[ProducerKey, Any]) -> None:
        """Start the explanation of each new line from a converted contract with its rate."""
        conversions, currency = self._conversions, self.plan.currency
        for key, value in pending.items():
            if key[0] == "state":
                continue
            if key[0] in ("tiers", "cohort"):
                lines, members = value
                pending[key] = (tuple(_explain_conversions(list(lines), conversions, currency)),
                                members)
            else:
                pending[key] = tuple(_explain_conversions(list(value), conversions, currency))

    def _commit(self, pending: dict[ProducerKey, Any]) -> Delta:
        """Store the new lines and membership, and return what moved."""
        tier_events = pending.pop(("state", "tier_events"))
        cohorts = pending.pop(("state", "cohorts"))
        self._tier_events.update(tier_events)
        for key, events in tier_events.items():
            if not events:
                del self._tier_events[key]
        self._cohort_of.update(cohorts)
        added: list[PayoutLine] = []
        removed: list[PayoutLine] = []
        touched: set[tuple[str, str]] = set()
        # Each reached statement as it was, so the delta can leave out the
        # statements whose lines and total came back the same.
        before: dict[tuple[str, str], Statement | None] = {}
        changes: list[tuple[ProducerKey, tuple[PayoutLine, ...], tuple[PayoutLine, ...],
                            list[PayoutLine], list[PayoutLine]]] = []
        for key, value in pending.items():
            if key[0] == "tiers":
                value, members = value
                _store_members(self._tier_members, key[1:], members)
            elif key[0] == "cohort":
                value, members = value
                _store_members(self._cohort_members, key[1:], members)
            old = self._lines.get(key, ())
            if old == value:
                continue
            gone, new = _difference(old, value)
            changes.append((key, old, value, gone, new))
            for line in (*gone, *new):
                reached = (line.payee, line.period)
                if line.due <= self.as_of and reached not in before:
                    before[reached] = self._statement(*reached)
        balances = self._balance_reach(changes)
        for reached in balances:
            if reached not in before:
                before[reached] = self._statement(*reached)
        for key, old, value, gone, new in changes:
            added.extend(new)
            removed.extend(gone)
            self._replace(key, old, value, (*gone, *new), touched)
        touched.update(balances)
        if not (added or removed):
            return Delta((), (), (), (), (), ())
        self._result = None
        statements = []
        emptied = []
        for payee, period in sorted(touched):
            statement = self._statement(payee, period)
            if statement == before.get((payee, period)):
                continue
            if statement is None:
                emptied.append((payee, period))
            else:
                statements.append(statement)
        added.sort(key=LINE_ORDER)
        removed.sort(key=LINE_ORDER)
        as_of = self.as_of
        return Delta(tuple(x for x in added if x.due <= as_of),
                     tuple(x for x in removed if x.due <= as_of),
                     tuple(x for x in added if x.due > as_of),
                     tuple(x for x in removed if x.due > as_of),
                     tuple(statements), tuple(emptied))

    def _replace(self, key: ProducerKey, old: tuple[PayoutLine, ...],
                 new: tuple[PayoutLine, ...], moved: Iterable[PayoutLine],
                 touched: set[tuple[str, str]]) -> None:
        """Store a producer's new lines in every index; note the statements ``moved`` reach."""
        for line in old:
            self._base.get((line.rule, line.sources[0]), {}).pop(key, None)
            producers = self._by_statement.get((line.payee, line.period))
            if producers is not None:
                producers.pop(key, None)
        if new:
            self._lines[key] = new
        else:
            self._lines.pop(key, None)
        by_base: dict[tuple[str, str], list[PayoutLine]] = {}
        by_statement: dict[tuple[str, str], list[PayoutLine]] = {}
        for line in new:
            by_base.setdefault((line.rule, line.sources[0]), []).append(line)
            by_statement.setdefault((line.payee, line.period), []).append(line)
            self._periods_of.setdefault(line.payee, set()).add(line.period)
        for base_key, lines in by_base.items():
            self._base.setdefault(base_key, {})[key] = tuple(lines)
        for statement_key, lines in by_statement.items():
            self._by_statement.setdefault(statement_key, {})[key] = tuple(lines)
        for line in moved:
            if line.due <= self.as_of:
                touched.add((line.payee, line.period))

    def _statement(self, payee: str, period: str) -> Statement | None:
        producers = self._by_statement.get((payee, period), {})
        lines = [line for group in producers.values() for line in group
                 if line.due <= self.as_of]
        if not lines:
            return None
        balances = None
        if self._recoverable:
            balance = self._balance(payee, period)
            if balance is not None:
                balances = {(payee, period): balance}
        return build_statements(lines, balances)[0]

    def _balance(self, payee: str, period: str) -> Decimal | None:
        """Return a payee's recoverable draw balance after a period, as ``draw_balances`` does.

        The balance is the sum of the payee's owed recoverable draw lines up to
        the period, and there is none before the first of them.
        """
        found: list[Decimal] = []
        for index in self._recoverable_draws:
            found.extend(line.amount for line in self._lines.get(("draw", index, payee), ())
                         if line.period <= period and line.due <= self.as_of)
        if not found:
            return None
        with localcontext(money.EVALUATION_CONTEXT):
            return sum(found, Decimal(0))

    def _balance_reach(self, changes: Iterable[tuple[ProducerKey, Any, Any, list[PayoutLine],
                                                     list[PayoutLine]]]
                       ) -> set[tuple[str, str]]:
        """Return the statements whose draw balance a change of recoverable draw lines can move.

        A balance carries forward, so every period of the payee from the
        earliest moved draw line on is reached, with or without lines of its own.
        """
        earliest: dict[str, str] = {}
        for key, _old, _value, gone, new in changes:
            if key[0] != "draw" or key[1] not in self._recoverable_draws:
                continue
            for line in (*gone, *new):
                if line.payee not in earliest or line.period < earliest[line.payee]:
                    earliest[line.payee] = line.period
        reached = set()
        for payee, first in earliest.items():
            periods_of = self._periods_of.get(payee, set())
            reached.update((payee, period) for period in periods_of if period >= first)
        return reached


def _store_members(table: dict[Any, set[str]], key: Any, members: set[str]) -> None:
    if members:
        table[key] = members
    else:
        table.pop(key, None)


def _difference(old: tuple[PayoutLine, ...], new: tuple[PayoutLine, ...]
                ) -> tuple[list[PayoutLine], list[PayoutLine]]:
    """Return the lines only in ``old`` and only in ``new``, counting repeats."""
    remaining = list(new)
    gone = []
    for line in old:
        try:
            remaining.remove(line)
        except ValueError:
            gone.append(line)
    return gone, remaining


def _stamped(rule: Any, lines: Iterable[PayoutLine]) -> list[PayoutLine]:
    """Name the rule's plan version at the end of each line's explanation, as a batch does."""
    version = getattr(rule, "version_name", None)
    if version is None:
        return list(lines)
    step = explain.version_step(version)
    return [dataclasses.replace(line, explanation=(*line.explanation, step)) for line in lines]


def _version_of(line: PayoutLine) -> str | None:
    """Return the plan version a line's explanation names last, or None."""
    if not line.explanation:
        return None
    last = line.explanation[-1]
    if last.code == "version":
        return last.args[0]  # type: ignore[no-any-return]
    return None


def _empty_record_set(store: RecordStore) -> RecordSet:
    # Reps and customers are reference data, always visible, so the visible
    # set shares the store's tables; the rest is filled per contract.
    return RecordSet(
        reps=store.tables["rep"], customers=store.tables["customer"], contracts={},
        payments={}, refunds={}, sessions={}, surveys={}, complaints={}, targets=(),
        contracts_of_customer={}, payments_of={}, refunds_of={}, sessions_of={},
        surveys_of={}, complaints_of={}, positions=store.positions,
    )


def _removal_key(item: Any) -> RecordKey:
    if isinstance(item, tuple) and len(item) == 2:
        return (item[0], item[1])
    if isinstance(item, Mapping):
        return record_key(item)
    if isinstance(item, _Record):
        return record_key(item)
    return ("", repr(item))


@dataclass(frozen=True)
class _Checked:
    """A validated change: the models to store, with the positions naming them."""

    models: list[tuple[_Record, str]]
    positions: list[str]
    removals: dict[RecordKey, str]
    # The revision numbers of each changed record after the change.
    revisions: dict[RecordKey, tuple[int, ...]]


def _raw_key(item: Any) -> RecordKey | None:
    """Return the identity of a record not yet validated, or None when it has none."""
    if isinstance(item, _Record):
        return record_key(item)
    if not isinstance(item, Mapping):
        return None
    record_type = item.get("type")
    if record_type == "target":
        parts: tuple[Any, ...] = (item.get("rep"), item.get("period"), item.get("metric"))
        key: RecordKey = ("target", parts)
    else:
        parts = (item.get("id"),)
        key = (record_type, item.get("id"))
    if not isinstance(record_type, str) or not all(isinstance(part, str) for part in parts):
        return None
    return key


def _held_revisions(raw: Iterable[Any]) -> dict[RecordKey, tuple[int, ...]]:
    """Return the revisions of each record that has a correction, from valid raw records."""
    held: dict[RecordKey, list[int]] = {}
    corrected: set[RecordKey] = set()
    for item in raw:
        key = _raw_key(item)
        if key is None:
            continue
        number = 1
        if isinstance(item, Mapping) and "revision" in item:
            number = int(item["revision"])
        held.setdefault(key, []).append(number)
        if number > 1:
            corrected.add(key)
    return {key: tuple(sorted(held[key])) for key in corrected}


def _report_duplicate(collector: _Collector, position: str, key: RecordKey) -> None:
    label = _label(key)
    if key[0] == "target":
        rep, period, metric = key[1]
        collector.add(position, label, None,
                      f"it duplicates the target of rep {rep} for period {period} and"
                      f" metric {metric!r}, already in the records",
                      "correct the existing target instead, or remove it first")
        return
    collector.add(position, label, "id", f"{label} is already in the records",
                  "give the record its own id, or correct the existing one")


def _reworded(error: RecordError, positions: Sequence[str],
              removals: Mapping[RecordKey, str]) -> RecordError:
    """Name a change's problems by the change, and stored records by type and id.

    A reference left without its record by a removal is reported at the
    removal, with the record that still refers to it.
    """
    missing = {f"{key[0]} {key[1]!r} is not in the records": key
               for key in removals if key[0] != "target"}
    order = {position: index for index, position in enumerate((*positions, *removals.values()))}
    problems = []
    for problem in error.problems:
        removed = missing.get(problem.message)
        if removed is not None:
            referrer = problem.record_id or "a record"
            where = f" (field {problem.field})" if problem.field else ""
            problems.append(Problem(
                removals[removed], _label(removed), None,
                f"{referrer} still refers to it{where}, so the removal would break that"
                " reference", f"remove or re-point {referrer} first"))
        elif problem.position not in order:
            problems.append(dataclasses.replace(problem, position=STORED))
        else:
            problems.append(problem)
    problems.sort(key=lambda p: order.get(p.position, len(order)))
    return RecordError(tuple(problems), error.omitted)


def _non_text_part(key: RecordKey) -> tuple[str, Any] | None:
    """Return the first field of a removal key that is not text, with its value."""
    record_type, ident = key
    if record_type == "target":
        parts = ident if isinstance(ident, tuple) else (ident, None, None)
        named = zip(("rep", "period", "metric"), parts)
    else:
        named = iter((("id", ident),))
    return next(((name, value) for name, value in named if not isinstance(value, str)), None)


def _label(key: RecordKey) -> str:
    record_type, ident = key
    if record_type == "target":
        rep, period, metric = ident
        return f"target {metric!r} of {rep} for {period}"
    return f"{record_type} {ident}"


def _json_record(line: str) -> dict[str, Any]:
    import json

    return json.loads(line)  # type: ignore[no-any-return]


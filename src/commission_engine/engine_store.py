"""The mutable record store behind ``Engine``: indexed records and checks of one change.

``load_records`` validates a whole batch. An engine receives one change at a
time, so the store checks only the records a change can break: the changed
records, the records they reference and, for a correction or a removal, the
records that reference them. The checks are the batch checks of ``records``,
run on that neighbourhood, so a change is rejected with the same problems a
batch validation would list.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .limits import DEFAULT_LIMITS
from .records import (
    EVENT_TIME_FIELD,
    Contract,
    Customer,
    RecordSet,
    Rep,
    Target,
    _by_contract,
    _canonical_record,
    _check_references,
    _Collector,
    _Record,
    _validate_models,
)

__all__ = ["EVENT_TYPES", "RecordKey", "RecordStore", "record_key"]

# A record's identity: (type, id), or ("target", (rep, period, metric)).
RecordKey = tuple[str, Any]

# The tables of a RecordSet by record type, and the per-contract indexes of events.
TABLES: dict[str, str] = {
    "rep": "reps",
    "customer": "customers",
    "contract": "contracts",
    "payment": "payments",
    "refund": "refunds",
    "session": "sessions",
    "satisfaction": "surveys",
    "complaint": "complaints",
}
EVENT_TYPES: dict[str, str] = {
    "payment": "payments_of",
    "refund": "refunds_of",
    "session": "sessions_of",
    "satisfaction": "surveys_of",
    "complaint": "complaints_of",
}
# The order of record types in the canonical record listing the digest covers.
TYPE_ORDER = (*TABLES, "target")


def record_key(record: Any) -> RecordKey:
    """Return the identity of a record model, or of a dict naming one."""
    if isinstance(record, Mapping):
        record_type = record.get("type")
        if record_type == "target":
            return ("target", (record.get("rep"), record.get("period"), record.get("metric")))
        return (record_type, record.get("id"))
    if isinstance(record, Target):
        return ("target", (record.rep, record.period, record.metric))
    return (record.type, record.id)  # type: ignore[attr-defined]


def describe_key(key: RecordKey) -> str:
    record_type, ident = key
    if record_type == "target":
        rep, period, metric = ident
        return f"target {metric!r} of {rep} for {period}"
    return f"{record_type} {ident}"


def validate_models(raw: Sequence[Any], positions: Sequence[str]) -> list[_Record]:
    """Validate records one by one, as ``load_records`` does; raise ``RecordError``.

    A ``revision`` field is dropped: in an engine, the order of the updates
    decides which version is current, and ``correct`` names the new one.
    """
    items = [{k: v for k, v in item.items() if k != "revision"}
             if isinstance(item, Mapping) else item for item in raw]
    collector = _Collector(positions)
    models = _validate_models(items, positions, collector, DEFAULT_LIMITS)
    collector.raise_if_any()
    return models


@dataclass
class _Undo:
    """The previous value of every key a change touched, in the order touched."""

    previous: list[tuple[RecordKey, _Record | None, str | None]]


class RecordStore:
    """Every record of an engine, visible or not, with the indexes its checks need."""

    def __init__(self, records: RecordSet):
        self.tables: dict[str, dict[str, Any]] = {
            record_type: dict(getattr(records, name)) for record_type, name in TABLES.items()
        }
        self.targets: dict[tuple[str, str, str], Target] = {
            (t.rep, t.period, t.metric): t for t in records.targets
        }
        self.events_of: dict[str, defaultdict[str, dict[str, Any]]] = {
            record_type: defaultdict(dict) for record_type in EVENT_TYPES
        }
        self.contracts_of_customer: defaultdict[str, dict[str, Contract]] = defaultdict(dict)
        # Reverse references, so that a correction or removal finds its dependants.
        self.referred: defaultdict[str, set[str]] = defaultdict(set)
        self.owned: defaultdict[str, set[str]] = defaultdict(set)
        self.signed_by: defaultdict[str, set[str]] = defaultdict(set)
        self.reports: defaultdict[str, set[str]] = defaultdict(set)
        self.targets_of: defaultdict[str, set[tuple[str, str, str]]] = defaultdict(set)
        self.positions: dict[tuple[str, str], str] = dict(records.positions)
        self.canonical: dict[RecordKey, str] = {}
        for record_type in TABLES:
            for record in self.tables[record_type].values():
                self._link(record)
        for target in self.targets.values():
            self._link(target)

    # ---- reading

    def get(self, key: RecordKey) -> Any:
        record_type, ident = key
        if record_type == "target":
            return self.targets.get(ident)
        table = self.tables.get(record_type)
        return None if table is None else table.get(ident)

    def canonical_lines(self) -> list[str]:
        """Return every record as canonical JSON, in the order a batch digest uses."""
        return [line for _key, line in self.sorted_items()]

    def sorted_items(self) -> list[tuple[RecordKey, str]]:
        """Return each record's key and canonical JSON, in the order a batch digest uses."""
        order = {name: index for index, name in enumerate(TYPE_ORDER)}
        keys = sorted(self.canonical, key=lambda key: (order[key[0]], key[1]))
        return [(key, self.canonical[key]) for key in keys]

    def records(self) -> list[_Record]:
        """Return every record, in the canonical order."""
        out: list[_Record] = []
        for record_type in TABLES:
            table = self.tables[record_type]
            out.extend(table[key] for key in sorted(table))
        out.extend(self.targets[key] for key in sorted(self.targets))
        return out

    def customer_descendants(self, customer_id: str) -> set[str]:
        """Return the customer and every customer referred by it, directly or not."""
        seen = {customer_id}
        pending = [customer_id]
        while pending:
            for child in self.referred.get(pending.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    pending.append(child)
        return seen

    # ---- changing

    def put(self, record: _Record, position: str | None, undo: _Undo) -> None:
        key = record_key(record)
        old = self.get(key)
        undo.previous.append((key, old, self.positions.get(_position_key(key))))
        if old is not None:
            self._unlink(old)
        self._link(record)
        if position is not None:
            self.positions[_position_key(key)] = position

    def delete(self, key: RecordKey, undo: _Undo) -> None:
        old = self.get(key)
        undo.previous.append((key, old, self.positions.get(_position_key(key))))
        if old is not None:
            self._unlink(old)

    def revert(self, undo: _Undo) -> None:
        """Undo a change, newest step first."""
        for key, old, position in reversed(undo.previous):
            current = self.get(key)
            if current is not None:
                self._unlink(current)
            if old is not None:
                self._link(old)
            if position is None:
                self.positions.pop(_position_key(key), None)
            else:
                self.positions[_position_key(key)] = position

    def _link(self, record: Any) -> None:
        key = record_key(record)
        self.canonical[key] = _canonical_line(record)
        if isinstance(record, Target):
            self.targets[key[1]] = record
            self.targets_of[record.rep].add(key[1])
            return
        self.tables[record.type][record.id] = record
        if isinstance(record, Rep):
            if record.manager is not None:
                self.reports[record.manager].add(record.id)
        elif isinstance(record, Customer):
            self.owned[record.owner].add(record.id)
            if record.referred_by is not None:
                self.referred[record.referred_by].add(record.id)
        elif isinstance(record, Contract):
            self.contracts_of_customer[record.customer][record.id] = record
            self.signed_by[record.rep].add(record.id)
        else:
            self.events_of[record.type][record.contract][record.id] = record

    def _unlink(self, record: Any) -> None:
        key = record_key(record)
        self.canonical.pop(key, None)
        if isinstance(record, Target):
            self.targets.pop(key[1], None)
            self.targets_of[record.rep].discard(key[1])
            return
        self.tables[record.type].pop(record.id, None)
        if isinstance(record, Rep):
            if record.manager is not None:
                self.reports[record.manager].discard(record.id)
        elif isinstance(record, Customer):
            self.owned[record.owner].discard(record.id)
            if record.referred_by is not None:
                self.referred[record.referred_by].discard(record.id)
        elif isinstance(record, Contract):
            self.contracts_of_customer[record.customer].pop(record.id, None)
            self.signed_by[record.rep].discard(record.id)
        else:
            self.events_of[record.type][record.contract].pop(record.id, None)

    # ---- checking

    def check(self, changed: Iterable[RecordKey], problems: _Collector) -> None:
        """Run the batch reference checks on the neighbourhood of the changed keys."""
        neighbourhood = _Neighbourhood(self)
        for key in changed:
            neighbourhood.add_changed(key)
        mini = neighbourhood.record_set()
        # Read only: the checks look up the position of each record they report.
        where = self.positions
        _check_references(mini, where, problems)
        for rep_id, period, metric in sorted(neighbourhood.targets):
            if rep_id not in self.tables["rep"]:
                position = where.get(("target", f"{rep_id}/{period}/{metric}"), "update")
                problems.add(position, f"target of {rep_id} for {period}", "rep",
                             f"rep {rep_id!r} is not in the records",
                             "add the rep record or correct the id")


def _position_key(key: RecordKey) -> tuple[str, str]:
    record_type, ident = key
    if record_type == "target":
        return ("target", "/".join(ident))
    return (record_type, ident)


def _canonical_line(record: Any) -> str:
    import json

    return json.dumps(_canonical_record(record), separators=(",", ":"), ensure_ascii=True)


class _Neighbourhood:
    """The records a change can make invalid, closed over the references they follow."""

    def __init__(self, store: RecordStore):
        self.store = store
        self.reps: dict[str, Rep] = {}
        self.customers: dict[str, Customer] = {}
        self.contracts: dict[str, Contract] = {}
        self.events: dict[str, dict[str, Any]] = {t: {} for t in EVENT_TYPES}
        self.targets: set[tuple[str, str, str]] = set()
        self.all_reps = False

    def add_changed(self, key: RecordKey) -> None:
        record_type, ident = key
        store = self.store
        if record_type == "target":
            self.targets.add(ident)
        elif record_type == "rep":
            # A rep change can close a manager cycle anywhere above it, and
            # reps are reference data, so every rep is checked.
            self.all_reps = True
            for customer_id in store.owned.get(ident, ()):
                self.add_customer(customer_id)
            for contract_id in store.signed_by.get(ident, ()):
                self.add_contract(contract_id)
            self.targets.update(store.targets_of.get(ident, ()))
        elif record_type == "customer":
            self.add_customer(ident)
            for child in store.referred.get(ident, ()):
                self.add_customer(child)
            for contract_id in store.contracts_of_customer.get(ident, {}):
                self.add_contract(contract_id)
        elif record_type == "contract":
            self.add_contract(ident, with_events=True)
        else:
            record = store.tables[record_type].get(ident)
            if record is not None:
                self.add_contract(record.contract, with_events=True)

    def add_rep(self, rep_id: str | None) -> None:
        while rep_id is not None and rep_id not in self.reps:
            rep = self.store.tables["rep"].get(rep_id)
            if rep is None:
                return
            self.reps[rep_id] = rep
            rep_id = rep.manager

    def add_customer(self, customer_id: str | None) -> None:
        while customer_id is not None and customer_id not in self.customers:
            customer = self.store.tables["customer"].get(customer_id)
            if customer is None:
                return
            self.customers[customer_id] = customer
            self.add_rep(customer.owner)
            customer_id = customer.referred_by

    def add_contract(self, contract_id: str, with_events: bool = False) -> None:
        store = self.store
        contract = store.tables["contract"].get(contract_id)
        if contract is not None:
            self.contracts[contract_id] = contract
            self.add_customer(contract.customer)
            self.add_rep(contract.rep)
        if with_events or contract is None:
            for record_type in EVENT_TYPES:
                self.events[record_type].update(store.events_of[record_type].get(contract_id, {}))
            for refund in self.events["refund"].values():
                payment = store.tables["payment"].get(refund.payment) if refund.payment else None
                if payment is not None:
                    self.events["payment"].setdefault(payment.id, payment)
                    self.add_contract_only(payment.contract)

    def add_contract_only(self, contract_id: str) -> None:
        contract = self.store.tables["contract"].get(contract_id)
        if contract is not None and contract_id not in self.contracts:
            self.contracts[contract_id] = contract
            self.add_customer(contract.customer)
            self.add_rep(contract.rep)

    def record_set(self) -> RecordSet:
        if self.all_reps:
            self.reps = dict(self.store.tables["rep"])
        # Events of contracts outside the neighbourhood would read as missing
        # references, so each event's contract comes along.
        for table in self.events.values():
            for record in list(table.values()):
                self.add_contract_only(record.contract)
        grouped = {record_type: _by_contract(table.values(), EVENT_TIME_FIELD[record_type])
                   for record_type, table in self.events.items()}
        by_customer: defaultdict[str, list[Contract]] = defaultdict(list)
        for contract in self.contracts.values():
            by_customer[contract.customer].append(contract)
        return RecordSet(
            reps=self.reps,
            customers=self.customers,
            contracts=self.contracts,
            payments=self.events["payment"],
            refunds=self.events["refund"],
            sessions=self.events["session"],
            surveys=self.events["satisfaction"],
            complaints=self.events["complaint"],
            targets=(),
            contracts_of_customer={
                key: tuple(sorted(items, key=lambda c: (c.signed_at, c.id)))
                for key, items in by_customer.items()
            },
            payments_of=grouped["payment"],
            refunds_of=grouped["refund"],
            sessions_of=grouped["session"],
            surveys_of=grouped["satisfaction"],
            complaints_of=grouped["complaint"],
        )


def event_time(record: Any) -> datetime:
    """Return the time a contract or an event of a contract happens at."""
    return getattr(record, EVENT_TIME_FIELD[record.type])  # type: ignore[no-any-return]

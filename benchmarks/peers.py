"""Rule engines that compute the base rate table of "counselling-2025", for the benchmarks.

Each peer states the rate table in its own language:

- GoRules zen-engine: a JDM decision table with the "first" hit policy,
  evaluated once per contract (``ZenEngine.evaluate``) or in one batch
  (``ZenEngine.evaluate_batch``).
- rule-engine: one rule expression per row, tried in order until one matches.
- cel-python: one CEL expression per row, tried in order, with the
  interpreting runner and with the runner that compiles CEL to Python.
- openfisca-core: a vectorised simulation over an entity of contracts, whose
  variable ``base_rate_basis_points`` picks the first matching row with numpy.

Every peer reads the same inputs per contract (product, new customer or
not, signing date in the rep's zone as the integer YYYYMMDD) and returns one
rate per contract. The rest of the plan (rounding, installments, refunds,
surveys, cohorts, referrals and the totals) is the shared plain Python of
``baseline.prepare`` and ``baseline.finish``, the same code for every peer and
for the hand-written baseline. So the difference between a peer's time and
the baseline's is what its rate table costs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from . import baseline
from .baseline import RateFacts, Totals

__all__ = ["PEERS", "Peer", "available_peers"]

# The rows of the base rate table, first match wins. Each peer below writes
# the same three conditions in its own language.
RATES = (Decimal("0.10"), Decimal("0.08"), Decimal("0.12"))
MARRIAGE_REPAIR_FROM = 20250301


class Peer:
    """A rule engine that computes the base rate of each contract."""

    name = ""
    package = ""

    def rates(self, facts: Sequence[RateFacts]) -> list[Decimal | None]:
        raise NotImplementedError

    def totals(self, rows: Iterable[Mapping[str, Any]], as_of: datetime,
               rounding: str = "half-up") -> Totals:
        """Compute the plan's totals by payee and period, with this peer's rate table."""
        prepared = baseline.prepare(rows, as_of)
        return baseline.finish(prepared, self.rates(baseline.rate_facts(prepared)), rounding)


# ---------------------------------------------------------------- GoRules zen-engine

ZEN_DECISION_KEY = "base-rate"
ZEN_DECISION: dict[str, Any] = {
    "nodes": [
        {"id": "request", "type": "inputNode", "name": "contract",
         "position": {"x": 0, "y": 0}, "content": {}},
        {"id": "table", "type": "decisionTableNode", "name": "base rate",
         "position": {"x": 250, "y": 0},
         "content": {
             "hitPolicy": "first",
             "inputs": [
                 {"id": "product", "name": "product", "field": "product"},
                 {"id": "new", "name": "new customer", "field": "new_customer"},
                 {"id": "day", "name": "signing date", "field": "signing_day"},
             ],
             "outputs": [{"id": "rate", "name": "rate", "field": "rate"}],
             # Rates are text so that they reach Python as exact decimals.
             "rules": [
                 {"_id": "ten", "product": "'marriage-repair'", "new": "true",
                  "day": f">= {MARRIAGE_REPAIR_FROM}", "rate": "'0.10'"},
                 {"_id": "eight", "product": "", "new": "true", "day": "", "rate": "'0.08'"},
                 {"_id": "twelve", "product": "", "new": "false", "day": "", "rate": "'0.12'"},
             ],
         }},
        {"id": "response", "type": "outputNode", "name": "rate",
         "position": {"x": 500, "y": 0}, "content": {}},
    ],
    "edges": [
        {"id": "in", "sourceId": "request", "targetId": "table", "type": "edge"},
        {"id": "out", "sourceId": "table", "targetId": "response", "type": "edge"},
    ],
}


def _zen_context(fact: RateFacts) -> dict[str, Any]:
    product, new_customer, signing_day = fact
    return {"product": product, "new_customer": new_customer, "signing_day": signing_day}


def _zen_rate(result: Mapping[str, Any]) -> Decimal | None:
    rate = result.get("rate")
    return None if rate is None else Decimal(rate)


class ZenPerContract(Peer):
    name = "zen-engine (per contract)"
    package = "zen"

    def __init__(self) -> None:
        import zen

        self.engine = zen.ZenEngine(
            {"loader": {"type": "static", "content": {ZEN_DECISION_KEY: ZEN_DECISION}}})
        # NOTE: this calls ZenEngine.evaluate by key. With zen-engine 2.1.3,
        # ZenDecision.evaluate (from create_decision) took about 115 us a call
        # in a trial on a 2-core machine, against about 9 us by key.

    def rates(self, facts: Sequence[RateFacts]) -> list[Decimal | None]:
        evaluate = self.engine.evaluate
        return [_zen_rate(evaluate(ZEN_DECISION_KEY, _zen_context(fact))["result"])
                for fact in facts]


class ZenBatch(ZenPerContract):
    name = "zen-engine (batch)"

    def rates(self, facts: Sequence[RateFacts]) -> list[Decimal | None]:
        requests = [{"key": ZEN_DECISION_KEY, "context": _zen_context(fact)} for fact in facts]
        rates: list[Decimal | None] = []
        for outcome in self.engine.evaluate_batch(requests):
            if not outcome.get("success"):
                msg = f"zen-engine batch evaluation failed: {outcome.get('error')!r}"
                raise RuntimeError(msg)
            rates.append(_zen_rate(outcome["data"]["result"]))
        return rates


# ---------------------------------------------------------------- rule-engine

RULE_ENGINE_ROWS = (
    f'product == "marriage-repair" and new_customer and signing_day >= {MARRIAGE_REPAIR_FROM}',
    "new_customer",
    "not new_customer",
)


class RuleEnginePeer(Peer):
    name = "rule-engine"
    package = "rule_engine"

    def __init__(self) -> None:
        import rule_engine

        types = rule_engine.type_resolver_from_dict({
            "product": rule_engine.DataType.STRING,
            "new_customer": rule_engine.DataType.BOOLEAN,
            "signing_day": rule_engine.DataType.FLOAT,
        })
        context = rule_engine.Context(type_resolver=types)
        self.rows = [(rule_engine.Rule(text, context=context).matches, rate)
                     for text, rate in zip(RULE_ENGINE_ROWS, RATES, strict=True)]

    def rates(self, facts: Sequence[RateFacts]) -> list[Decimal | None]:
        rates: list[Decimal | None] = []
        for product, new_customer, signing_day in facts:
            thing = {"product": product, "new_customer": new_customer,
                     "signing_day": signing_day}
            for matches, rate in self.rows:
                if matches(thing):
                    rates.append(rate)
                    break
            else:
                rates.append(None)
        return rates


# ---------------------------------------------------------------- cel-python

CEL_ROWS = (
    f'product == "marriage-repair" && new_customer && signing_day >= {MARRIAGE_REPAIR_FROM}',
    "new_customer",
    "!new_customer",
)


class CelPeer(Peer):
    name = "cel-python (interpreted)"
    package = "celpy"
    compiled = False

    def __init__(self) -> None:
        import celpy
        from celpy import celtypes

        runner = celpy.CompiledRunner if self.compiled else celpy.InterpretedRunner
        # cel-python 0.5.0 keeps one Lark parser for the whole process, built
        # with the tree class of the first runner. The CELParser docstring
        # documents this reset, without which the compiled runner fails.
        celpy.celparser.CELParser.CEL_PARSER = None
        environment = celpy.Environment(runner_class=runner)
        self.rows = [(environment.program(environment.compile(text)), rate)
                     for text, rate in zip(CEL_ROWS, RATES, strict=True)]
        self.types = celtypes

    def rates(self, facts: Sequence[RateFacts]) -> list[Decimal | None]:
        text, boolean, integer = (self.types.StringType, self.types.BoolType,
                                  self.types.IntType)
        rates: list[Decimal | None] = []
        for product, new_customer, signing_day in facts:
            activation = {"product": text(product), "new_customer": boolean(new_customer),
                          "signing_day": integer(signing_day)}
            for program, rate in self.rows:
                if program.evaluate(activation):
                    rates.append(rate)
                    break
            else:
                rates.append(None)
        return rates


class CelCompiledPeer(CelPeer):
    name = "cel-python (compiled)"
    compiled = True


# ---------------------------------------------------------------- openfisca-core

# Basis points keep the rates exact in OpenFisca's integer arrays.
BASIS_POINTS = {1000: RATES[0], 800: RATES[1], 1200: RATES[2]}
NO_RATE = -1
# OpenFisca computes a variable for a period; the rate logic reads none, so
# one arbitrary year serves for every contract.
OPENFISCA_PERIOD = "2025"


def _openfisca_system() -> Any:
    import numpy
    from openfisca_core import indexed_enums
    from openfisca_core.entities import build_entity
    from openfisca_core.periods import YEAR
    from openfisca_core.taxbenefitsystems import TaxBenefitSystem
    from openfisca_core.variables import Variable

    contract = build_entity(key="contract", plural="contracts", label="A contract",
                            is_person=True)

    class Product(indexed_enums.Enum):
        OTHER = "another product"
        MARRIAGE_REPAIR = "marriage-repair"

    class product(Variable):  # noqa: N801 - OpenFisca names a variable by its class
        value_type = indexed_enums.Enum
        possible_values = Product
        default_value = Product.OTHER
        entity = contract
        definition_period = YEAR
        label = "Product of the contract"

    class new_customer(Variable):  # noqa: N801
        value_type = bool
        entity = contract
        definition_period = YEAR
        label = "Whether the contract is its customer's first"

    class signing_day(Variable):  # noqa: N801
        value_type = int
        entity = contract
        definition_period = YEAR
        label = "Signing date in the rep's zone, as YYYYMMDD"

    class base_rate_basis_points(Variable):  # noqa: N801
        value_type = int
        entity = contract
        definition_period = YEAR
        label = "Base commission rate, first matching row, in basis points"

        def formula(contracts: Any, period: Any) -> Any:
            is_new = contracts("new_customer", period)
            marriage_repair = contracts("product", period) == Product.MARRIAGE_REPAIR
            day = contracts("signing_day", period)
            return numpy.select(
                [marriage_repair & is_new & (day >= MARRIAGE_REPAIR_FROM), is_new, ~is_new],
                [1000, 800, 1200],
                default=NO_RATE,
            )

    system = TaxBenefitSystem([contract])
    for variable in (product, new_customer, signing_day, base_rate_basis_points):
        system.add_variable(variable)
    return system, Product


class OpenFiscaPeer(Peer):
    name = "openfisca-core (vectorised)"
    package = "openfisca_core"

    def __init__(self) -> None:
        import numpy
        from openfisca_core.simulation_builder import SimulationBuilder

        self.numpy = numpy
        self.builder = SimulationBuilder
        self.system, self.product_enum = _openfisca_system()

    def rates(self, facts: Sequence[RateFacts]) -> list[Decimal | None]:
        numpy = self.numpy
        count = len(facts)
        if count == 0:
            return []
        simulation = self.builder().build_default_simulation(self.system, count)
        products = numpy.array(
            ["MARRIAGE_REPAIR" if fact[0] == "marriage-repair" else "OTHER" for fact in facts])
        simulation.set_input("product", OPENFISCA_PERIOD, self.product_enum.encode(products))
        simulation.set_input("new_customer", OPENFISCA_PERIOD,
                             numpy.array([fact[1] for fact in facts], dtype=bool))
        simulation.set_input("signing_day", OPENFISCA_PERIOD,
                             numpy.array([fact[2] for fact in facts], dtype=numpy.int32))
        points = simulation.calculate("base_rate_basis_points", OPENFISCA_PERIOD)
        return [BASIS_POINTS.get(int(value)) for value in points.tolist()]


PEERS: tuple[type[Peer], ...] = (
    ZenPerContract,
    ZenBatch,
    RuleEnginePeer,
    CelPeer,
    CelCompiledPeer,
    OpenFiscaPeer,
)


def available_peers() -> tuple[list[Peer], dict[str, str]]:
    """Build every peer whose package imports; return them and why the others are missing."""
    built: list[Peer] = []
    missing: dict[str, str] = {}
    for peer_class in PEERS:
        try:
            built.append(peer_class())
        except ImportError as exc:
            missing[peer_class.name] = f"{peer_class.package} is not installed ({exc})"
    return built, missing


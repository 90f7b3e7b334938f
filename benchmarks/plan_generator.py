"""Generate a large, valid plan text: many commission rules with rate tables on contracts.

The plan times parsing and checking. Every rule has a rate table of three to
five rows that mix products, customer status, amounts, terms and effective
dates. Some rules also have an effective range, installments or a refund
policy.
``commission_engine.load_plan`` accepts the text (it may warn about rows that
overlap, which is not an error).

Usage::

    python benchmarks/plan_generator.py --rules 500 > /tmp/generated.plan
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

__all__ = ["generate_plan"]

PRODUCTS = ("individual", "couple", "family", "marriage-repair", "teen")


def _percent(draw: random.Random) -> str:
    tenths = 10 + int(draw.random() * 150)
    return f"{tenths // 10}.{tenths % 10}%" if tenths % 10 else f"{tenths // 10}%"


def _row_condition(draw: random.Random) -> str:
    product = PRODUCTS[int(draw.random() * len(PRODUCTS))]
    choice = int(draw.random() * 6)
    if choice == 0:
        return f'product is "{product}" and new customer'
    if choice == 1:
        return f'product in ["{product}", "family"] and amount >= {1000 * (1 + int(draw.random() * 30))}'
    if choice == 2:
        return f"returning customer and term_months >= {6 + int(draw.random() * 7)}"
    if choice == 3:
        return f'rep.region is "Beijing" or contract.amount > {500 * (1 + int(draw.random() * 80))}.00'
    if choice == 4:
        return f'new customer and not (product is "{product}")'
    return f'customer.owner.kind is "agent" and amount < {2000 * (1 + int(draw.random() * 20))}'


def _rule(index: int, draw: random.Random) -> list[str]:
    lines = [f"commission rule_{index:04d} on contract:", "    paid to contract.rep"]
    if draw.random() < 0.3:
        lines.append("    effective from 2024-01-01 until 2026-12-31")
    lines.append("    rate of contract.amount:")
    for row in range(2 + int(draw.random() * 3)):
        suffix = ", from 2025-03-01" if row == 0 and draw.random() < 0.4 else ""
        lines.append(f"        {_percent(draw)} when {_row_condition(draw)}{suffix}")
    lines.append(f"        {_percent(draw)} otherwise")
    if draw.random() < 0.6:
        lines.append("    pay in contract.term_months monthly installments")
    if draw.random() < 0.5:
        days = 30 * (1 + int(draw.random() * 6))
        lines += ["    on refund:", "        stop unpaid installments",
                  f"        claw back overpayment within {days} days of signing"]
    return lines


def generate_plan(rules: int = 500, seed: int = 1) -> str:
    """Return the text of a plan with ``rules`` commission rules, the same for the same seed."""
    draw = random.Random(seed)
    lines = [f'plan "generated-{rules}" version "1"', "currency CNY", "rounding half-up per line", ""]
    for index in range(1, rules + 1):
        lines += _rule(index, draw)
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:
        sys.path.insert(0, root)
    # Imported here, so that run.py imports generate_plan without the path change.
    from benchmarks.arguments import count, whole_number

    parser = argparse.ArgumentParser(description="Write a generated plan of many rules.")
    parser.add_argument("--rules", type=count(500), default=500,
                        help="number of commission rules, at least 1 (default: 500)")
    parser.add_argument("--seed", type=whole_number(7), default=1,
                        help="seed of the random draws (default: 1)")
    args = parser.parse_args(argv)
    from commission_engine.limits import DEFAULT_LIMITS

    if args.rules > DEFAULT_LIMITS.max_rules:
        parser.error(f"--rules {args.rules} is more than a plan may have"
                     f" ({DEFAULT_LIMITS.max_rules}, max_rules); write at most that many")
    sys.stdout.write(generate_plan(args.rules, args.seed))
    return 0


if __name__ == "__main__":
    sys.exit(main())

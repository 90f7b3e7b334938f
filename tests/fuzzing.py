"""Hypothesis strategies for hostile plan texts and record sets, and the fuzzing budget.

Plan texts come from three sources: random tokens of the grammar's
vocabulary, valid plan files with mutations, and deeply nested expressions.
Record sets are valid sets drawn by ``commission_engine.strategies`` with
mutations: fields removed, values of the wrong type, unicode, huge numbers
and huge exponents, copies, corrections, and whole JSON lines damaged.

The budget is short unless ``pytest --fuzz-long`` is given; ``COUNTS`` keeps
how many inputs each property saw, for the summary of a long run.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import DrawFn

from commission_engine.strategies import record_sets

ROOT = Path(__file__).resolve().parents[1]
GRAMMAR = ROOT / "grammar" / "commission.lark"

# Inputs each property saw in this session, by property name.
COUNTS: Counter[str] = Counter()

# Every keyword and operator the grammar quotes, such as "commission" or "<=".
KEYWORDS = tuple(sorted(set(re.findall(r'"([^"\s]+)"', GRAMMAR.read_text(encoding="utf-8")))))

# Words that are not keywords but name schema fields, record types and scopes.
NAMES = ("contract", "payment", "customer", "rep", "amount", "term_months", "product",
         "signed_at", "paid_at", "score", "survey", "surveys", "refunds", "sessions",
         "complaints", "manager", "retention", "line", "statement", "payee", "x", "_",
         "__import__", "__class__", "eval", "open", "os", "sys", "self")

LITERALS = ("0", "1", "12", "1,000.50", "8%", "0.5%", "100%", "2025-03-01",
            "2025-03-01T00:00:00+08:00", "2025-03", '"marriage-repair"', '"a\\"b"',
            '"%s"', '"{0}"', '"../../etc/passwd"', "9" * 40, "1" * 29 + "%", "half-up",
            "half-even", "CNY", "JPY", "XXX", "(", ")", "[", "]", ",", ".", ":", "-", "#",
            "\t", "\u00a0", "\u2028", "\ufeff", "\x00", "é", "中文")

PLAN_FILES = tuple(sorted(
    [*ROOT.glob("tests/plans/*.plan"), *ROOT.glob("examples/*/*.plan")]))
PLAN_TEXTS = tuple(path.read_text(encoding="utf-8") for path in PLAN_FILES)


def _top_level_pieces(text: str) -> list[str]:
    """Split a plan file before each unindented line: the header, settings, rules, examples."""
    pieces: list[list[str]] = []
    for line in text.split("\n"):
        if line[:1] not in ("", " ", "\t", "#") or not pieces:
            pieces.append([line])
        else:
            pieces[-1].append(line)
    return ["\n".join(piece).strip("\n") + "\n" for piece in pieces if "".join(piece).strip()]


# Rules, examples and invariants of every plan file, each alone, so a fuzzed
# plan can be one small rule rather than a whole file.
PLAN_PIECES = tuple(
    piece for text in PLAN_TEXTS for piece in _top_level_pieces(text)
    if not piece.startswith(("plan ", "currency ", "rounding "))
)

HEADER = 'plan "fuzz" version "1"\ncurrency CNY\n\n'


# ---------------------------------------------------------------- plan texts


@st.composite
def token_plans(draw: DrawFn) -> str:
    """Draw lines of random tokens from the grammar's vocabulary, often after a valid header."""
    token = st.sampled_from(KEYWORDS + NAMES + LITERALS)
    indent = st.sampled_from(["", "    ", "        ", "\t", "  "])
    lines = draw(st.lists(
        st.tuples(indent, st.lists(token, min_size=1, max_size=12)), max_size=12))
    body = "\n".join(space + " ".join(words) for space, words in lines)
    prefix = draw(st.sampled_from([HEADER, HEADER + "bonus b on contract:\n", ""]))
    return prefix + body + draw(st.sampled_from(["\n", "", "\r\n"]))


def _span(draw: DrawFn, text: str) -> tuple[int, int]:
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 80)))
    return start, end


@st.composite
def mutated_plans(draw: DrawFn) -> str:
    """Draw a valid plan file, or a header and a few of its pieces, with one to four mutations."""
    if draw(st.integers(0, 3)) == 0:
        text = draw(st.sampled_from(PLAN_TEXTS))
    else:
        pieces = draw(st.lists(st.sampled_from(PLAN_PIECES), min_size=1, max_size=3))
        text = HEADER + "\n".join(pieces)
    for _ in range(draw(st.integers(1, 4))):
        text = _mutate_plan(draw, text)
    return text


def _mutate_plan(draw: DrawFn, text: str) -> str:
    kind = draw(st.sampled_from(["delete", "duplicate", "insert", "replace_word",
                                 "swap_lines", "indent", "huge_number", "unicode"]))
    start, end = _span(draw, text)
    if kind == "delete":
        return text[:start] + text[end:]
    if kind == "duplicate":
        return text[:end] + text[start:end] + text[end:]
    if kind == "insert":
        inserted = draw(st.sampled_from(KEYWORDS + NAMES + LITERALS))
        return f"{text[:start]} {inserted} {text[start:]}"
    if kind == "replace_word":
        words = list(re.finditer(r"[A-Za-z_][A-Za-z0-9_]*|[0-9][0-9,.%]*", text))
        if not words:
            return text
        match = draw(st.sampled_from(words))
        replacement = draw(st.sampled_from(KEYWORDS + NAMES + LITERALS))
        return text[: match.start()] + replacement + text[match.end():]
    if kind == "swap_lines":
        lines = text.split("\n")
        first = draw(st.integers(0, len(lines) - 1))
        second = draw(st.integers(0, len(lines) - 1))
        lines[first], lines[second] = lines[second], lines[first]
        return "\n".join(lines)
    if kind == "indent":
        lines = text.split("\n")
        index = draw(st.integers(0, len(lines) - 1))
        lines[index] = draw(st.sampled_from(["", " ", "\t", "            "])) + lines[index].lstrip()
        return "\n".join(lines)
    if kind == "huge_number":
        numbers = list(re.finditer(r"[0-9]+", text))
        if not numbers:
            return text
        match = draw(st.sampled_from(numbers))
        digits = draw(st.sampled_from(["9" * 31, "9" * 5000, "0" * 40 + "1", "99999999999"]))
        return text[: match.start()] + digits + text[match.end():]
    character = draw(st.characters(codec="utf-8"))
    return text[:start] + character * draw(st.integers(1, 3)) + text[start:]


_OPERATORS = (" + ", " - ", " * ", " / ", " and ", " or ", " < ", " >= ", " is ", " of ")


@st.composite
def nested_plans(draw: DrawFn) -> str:
    """Draw a plan whose one formula nests up to 400 levels: signs, parentheses, 'not', operators."""
    depth = draw(st.integers(1, 400))
    shape = draw(st.sampled_from(["neg", "paren", "not", "chain", "mixed"]))
    if shape == "neg":
        expr = "-" * depth + "contract.amount"
    elif shape == "paren":
        expr = "(" * depth + "contract.amount" + ")" * depth
    elif shape == "not":
        expr = "not " * depth + "true"
    elif shape == "chain":
        expr = draw(st.sampled_from(_OPERATORS)).join(["contract.amount"] * depth)
    else:
        parts = ["contract.amount"]
        for _ in range(depth):
            op = draw(st.sampled_from(_OPERATORS))
            wrap = draw(st.booleans())
            parts = ["(", *parts, op, "1", ")"] if wrap else ["-", *parts]
        expr = "".join(parts)
    clause = draw(st.sampled_from(["amount", "when"]))
    if clause == "when":
        return HEADER + f"bonus b on contract:\n    paid to contract.rep\n    when {expr}\n    amount 1.00\n"
    return HEADER + f"bonus b on contract:\n    paid to contract.rep\n    amount {expr}\n"


def plan_texts() -> st.SearchStrategy[str]:
    """Draw hostile plan texts from all three sources."""
    return st.one_of(token_plans(), mutated_plans(), nested_plans())


# ---------------------------------------------------------------- records


_HUGE_INT = 10**4000
WRONG_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1.5, float("nan"), "", " ", "1e5", "１２", "\u0000", "\ud800",
    "NaN", "Infinity", "-0", "0x10", "12,000.00", "١٢٠٠", [], {}, [1, 2], {"a": 1},
    "2025-13-01T00:00:00Z", "2025-03-01T00:00:00", "2025-03-01", "9999-12-31T23:59:59+14:00",
    "0001-01-01T00:00:00Z", "x" * 5000, "中文" * 50, "\U0001f600", "../../etc/passwd",
    "{__import__('os')}", "%s%s%s", "=HYPERLINK(1)", "Asia/Nowhere", "../zoneinfo",
    Decimal("1E+999999999"), Decimal("-1E+999999999"), Decimal("1E-999999999"),
    Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("1." + "0" * 500),
    Decimal("123456789012345678901234567890"), _HUGE_INT, -_HUGE_INT, 2**63, 10**17,
)


@st.composite
def mutated_record_sets(draw: DrawFn) -> list[Any]:
    """Draw a valid record set with one to five mutations of its records."""
    rows: list[Any] = draw(record_sets(max_contracts=4, max_customers=3))
    for _ in range(draw(st.integers(0, 3))):
        rows = _benign(draw, rows)
    for _ in range(draw(st.integers(0, 4))):
        rows = _mutate_rows(draw, rows)
    return rows


_TEXTS = st.one_of(st.text(max_size=30), st.sampled_from(
    ["中文", "İıŞş", "\u202e", "\U0001f600", "a\nb", "%s", "{0}", "=1+1", "../x", "\\"]))


def _benign(draw: DrawFn, rows: list[Any]) -> list[Any]:
    """Change a free-text field to any unicode, or an amount to a large valid one."""
    index = draw(st.integers(0, len(rows) - 1))
    row = dict(rows[index])
    texts = [name for name in ("name", "team", "region", "product", "reason", "metric")
             if name in row]
    if texts and draw(st.booleans()):
        row[draw(st.sampled_from(texts))] = draw(_TEXTS)
    elif row.get("type") == "contract":
        row["amount"] = draw(st.sampled_from(["99999999999999999.99", "0.01", "1", 10**17]))
    rows = list(rows)
    rows[index] = row
    return rows


def _mutate_rows(draw: DrawFn, rows: list[Any]) -> list[Any]:
    if not rows:
        return rows
    rows = [dict(row) if isinstance(row, dict) else row for row in rows]
    index = draw(st.integers(0, len(rows) - 1))
    row = rows[index]
    kind = draw(st.sampled_from(["drop_field", "wrong_value", "extra_field", "duplicate",
                                 "drop_record", "retype", "not_object", "reference",
                                 "revision"]))
    if not isinstance(row, dict):
        return rows
    fields = sorted(row)
    if kind == "drop_field" and fields:
        del row[draw(st.sampled_from(fields))]
    elif kind == "wrong_value" and fields:
        row[draw(st.sampled_from(fields))] = draw(st.sampled_from(WRONG_VALUES))
    elif kind == "extra_field":
        row[draw(st.sampled_from(["__class__", "extra", "", "\u0000", "id "]))] = 1
    elif kind == "duplicate":
        rows.insert(draw(st.integers(0, len(rows))), dict(row))
    elif kind == "drop_record":
        del rows[index]
    elif kind == "retype":
        row["type"] = draw(st.sampled_from(
            ["rep", "customer", "contract", "payment", "refund", "session", "satisfaction",
             "complaint", "target", "Contract", "", "__proto__"]))
    elif kind == "not_object":
        rows[index] = draw(st.sampled_from([[], "record", 1, None]))
    elif kind == "reference":
        target = draw(st.sampled_from(["customer", "rep", "contract", "owner", "manager",
                                       "referred_by", "payment"]))
        row[target] = draw(st.sampled_from([row.get("id"), "missing", None, "R1", "C1", "K1"]))
    else:
        # A correction of this record, a correction with no original, or a bad revision.
        revision = draw(st.sampled_from([2, 3, 1, 0, -1, True, "2", None, Decimal("2.5"),
                                         Decimal("1E+999999999"), _HUGE_INT]))
        copy = dict(row, revision=revision)
        if draw(st.booleans()):
            rows.insert(draw(st.integers(0, len(rows))), copy)
        else:
            rows[index] = copy
    return rows


def to_jsonl(rows: list[Any]) -> str:
    """Write rows as JSON Lines; Decimals as JSON numbers, other values as JSON can hold them."""
    lines = []
    for row in rows:
        try:
            lines.append(json.dumps(row, default=str, ensure_ascii=False))
        except ValueError:
            lines.append(repr(row))
    return "\n".join(lines) + "\n"


@st.composite
def damaged_jsonl(draw: DrawFn) -> str:
    """Draw JSON Lines text from a mutated record set with text-level damage on some lines."""
    rows = draw(mutated_record_sets())
    text = to_jsonl(rows)
    for _ in range(draw(st.integers(0, 3))):
        kind = draw(st.sampled_from(["cut", "exponent", "noise", "nest", "duplicate_key",
                                     "bom", "long"]))
        if kind == "cut" and text:
            text = text[: draw(st.integers(0, len(text)))]
        elif kind == "exponent":
            text = re.sub(r'"(amount|term_months|score|minutes|value)": "?[0-9.]+"?',
                          lambda m: f'"{m.group(1)}": {draw(_EXPONENTS)}', text, count=1)
        elif kind == "noise":
            position = draw(st.integers(0, len(text)))
            text = text[:position] + draw(st.text(max_size=5)) + text[position:]
        elif kind == "nest":
            text += "[" * draw(st.integers(1, 50_000)) + "\n"
        elif kind == "duplicate_key":
            text = text.replace('"id": ', '"id": "X", "id": ', 1)
        elif kind == "bom":
            text = "\ufeff" + text
        else:
            text += json.dumps({"type": "rep", "id": "L", "name": "n" * 200_000}) + "\n"
    return text


_EXPONENTS = st.sampled_from(["1e999999999", "-1e999999999", "1e-999999999", "1E+30",
                              "12e0", "1.2e1", "5e-1", "1" + "0" * 5000, "0e-5", "-0"])

"""Syntax errors in the plan language's own words.

Lark reports an error as a parser state and the terminals it expected. This
module turns that into a sentence an analyst can act on: a catalogue of the
common mistakes, matched by parser state with ``match_examples``, gives each
its own message and hint; anything else says what was found and what the
language expected there, never a terminal name.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken
from lark.lexer import PatternStr

from .errors import Diagnostic

__all__ = ["CATALOGUE", "Mistake", "describe_syntax_error"]


@dataclass(frozen=True, slots=True)
class Mistake:
    """A common mistake: its message, its hint, and plan pieces that make it."""

    message: str
    hint: str
    examples: tuple[str, ...]


_RULE = "commission base on contract:\n    paid to contract.rep\n"

CATALOGUE: dict[str, Mistake] = {
    "rate without percent": Mistake(
        "a rate needs a percent sign",
        "write the rate as a percentage, such as 8%",
        (
            _RULE + "    rate 8 of contract.amount\n",
            _RULE + "    rate of contract.amount:\n        8 when new customer\n",
            _RULE + "    rate of contract.amount:\n        8% when new customer\n        12 otherwise\n",
        ),
    ),
    "date format": Mistake(
        "a date must be written year-month-day",
        "write the date as YYYY-MM-DD, such as 2025-03-01",
        (
            _RULE + "    effective from 03/01/2025\n",
            _RULE + "    effective until 03/01/2025\n",
            _RULE + "    effective from 2025-01-01 until 03/01/2025\n",
            _RULE + "    rate of contract.amount:\n        8% when new customer, from 03/01/2025\n",
            _RULE + "    rate of contract.amount:\n        8% otherwise, until 03/01/2025\n",
        ),
    ),
    "missing colon": Mistake(
        "this line opens a block, so it must end with a colon",
        "add ':' at the end of the line; the indented lines under it belong to it",
        (
            "commission base on contract\n    paid to contract.rep\n",
            "bonus extra on contract\n    paid to contract.rep\n",
            "cohort retention on contract\n    paid to contract.rep\n",
            _RULE + "    rate of contract.amount\n        8% otherwise\n",
            _RULE + "    on refund\n        stop unpaid installments\n",
            'example "e" as of 2025-01-01T00:00:00Z\n    records:\n        rep id R1\n',
            'example "e" as of 2025-01-01T00:00:00Z:\n    records\n        rep id R1\n',
        ),
    ),
    "unclosed string": Mistake(
        "the text has no closing quote",
        'end the text with " on the same line',
        (
            _RULE + '    rate of contract.amount:\n        8% when product is "family\n',
            'plan "counselling version "1"\n',
            _RULE + '    rate of contract.amount:\n        8% when product in ["family\n',
        ),
    ),
    "misspelled keyword": Mistake(
        "unknown word {found}",
        "{suggestion}",
        (
            "comission base on contract:\n    paid to contract.rep\n",
            "commission base on contract:\n    payed to contract.rep\n",
            _RULE + "    payed to contract.rep\n",
            _RULE + "    rate of contract.amount:\n        8% wen new customer\n",
            _RULE + "    on refund:\n        stop unpayed installments\n",
        ),
    ),
    "clause outside a rule": Mistake(
        "this line belongs inside a rule, but it is not indented",
        "indent it under the rule it belongs to, with the same spaces as the lines above",
        (
            "paid to contract.rep\n",
            "rate 8% of contract.amount\n",
            "when new customer\n",
            "amount 2% of contract.amount\n",
        ),
    ),
}

# The words a message uses for each of the grammar's named terminals.
_TERMINAL_WORDS: dict[str, str] = {
    "NAME": "a name (ASCII letters, digits and _, starting with a letter or _)",
    "STRING": 'a quoted text such as "family"',
    "NUMBER": "a number such as 12000.00",
    "PERCENT": "a percentage such as 8%",
    "DATE": "a date such as 2025-03-01",
    "DATETIME": "a timestamp such as 2025-03-01T10:00:00+08:00",
    "PERIOD": "a period such as 2025-03",
    "ROUNDING_MODE": "a rounding mode (half-up or half-even)",
    "COMPARE": "a comparison such as >=",
    "_NL": "the end of the line",
    "_INDENT": "an indented block",
    "_DEDENT": "the end of the block",
    "$END": "the end of the file",
}


def _words(parser: Lark) -> dict[str, str]:
    words = dict(_TERMINAL_WORDS)
    for terminal in parser.terminals:
        if isinstance(terminal.pattern, PatternStr) and terminal.name not in words:
            words[terminal.name] = f"'{terminal.pattern.value}'"
    return words


@functools.cache
def _cached_words(parser: Lark) -> dict[str, str]:
    return _words(parser)


def _expected_keywords(exc: UnexpectedInput, words: dict[str, str]) -> list[str]:
    expected = getattr(exc, "expected", None) or getattr(exc, "allowed", None) or set()
    return sorted(
        words[name].strip("'") for name in expected
        if name in words and words[name].startswith("'") and words[name][1:-1].isalpha()
    )


def _describe_expected(exc: UnexpectedInput, words: dict[str, str]) -> str:
    expected = set(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    if len(expected) > 1:
        expected.discard("_NL")
    found = {words.get(name, name) for name in expected if not name.startswith("__")}
    # Kinds of value ("a percentage such as 8%") read better first, then keywords.
    phrases = sorted(found, key=lambda phrase: (phrase.startswith("'"), phrase))
    if len(phrases) > 8:
        phrases = phrases[:8] + ["..."]
    if len(phrases) > 1:
        return ", ".join(phrases[:-1]) + " or " + phrases[-1]
    return phrases[0] if phrases else ""


def _found(exc: UnexpectedInput, source_line: str) -> tuple[str, int]:
    """Return how the offending text reads, and its width for the caret."""
    if isinstance(exc, UnexpectedToken):
        token: Token = exc.token
        if token.type == "$END":
            return "end of file", 1
        if token.type == "_NL":
            return "end of line", 1
        if token.type == "_INDENT":
            return "indentation", 1
        if token.type == "_DEDENT":
            return "end of an indented block", 1
        return f"'{token}'", max(len(str(token)), 1)
    column = getattr(exc, "column", 1) or 1
    rest = source_line[column - 1 :]
    word = rest.split()[0] if rest.split() else rest[:1]
    return f"'{word}'", max(len(word), 1)


def describe_syntax_error(
    exc: UnexpectedInput,
    lines: list[str],
    parser: Lark,
    parse_piece: Callable[[str], object],
    line_offset: int = 0,
) -> Diagnostic:
    """Turn a Lark error into one diagnostic, in the language's own words.

    ``parse_piece`` parses a plan piece the way the failing text was parsed,
    so that the catalogue's examples reach the same parser states.
    """
    words = _cached_words(parser)
    line = (getattr(exc, "line", None) or 1) + line_offset
    column = getattr(exc, "column", None) or 1
    if isinstance(exc, UnexpectedToken) and exc.token.type in ("$END", "_DEDENT"):
        line = min(max(line, 1), max(len(lines), 1))
    source_line = lines[line - 1] if 0 < line <= len(lines) else ""
    if isinstance(exc, UnexpectedToken) and exc.token.type == "_NL":
        column = len(source_line.rstrip()) + 1
    found, width = _found(exc, source_line)
    label = _match(exc, parse_piece)
    if label == "misspelled keyword" and not (isinstance(exc, UnexpectedToken)
                                              and exc.token.type == "NAME"):
        label = None
    if label is None and isinstance(exc, UnexpectedCharacters) and source_line[column - 1 : column] == '"':
        label = "unclosed string"
    if label == "unclosed string":
        width = max(len(source_line) - column + 1, 1)
    expected = _describe_expected(exc, words)
    if label == "rate without percent" and _NEGATIVE_PERCENT.match(source_line, column - 1):
        return Diagnostic(
            "a rate cannot be negative", line, column, column + width,
            "write the rate without a minus sign; to deduct money, write a penalty rule,"
            " whose amount (such as 5% of contract.amount) is taken off the payee's pay",
            "error", source_line)
    if label is not None:
        mistake = CATALOGUE[label]
        suggestion = _suggest_keyword(found.strip("'"), _expected_keywords(exc, words),
                                      _next_word(source_line, column, width))
        if label == "misspelled keyword" and suggestion is None:
            hint = f"expected {expected}" if expected else "check the spelling"
        else:
            hint = mistake.hint.format(suggestion=suggestion, found=found)
        message = mistake.message.format(found=found)
    else:
        suggestion = None
        if isinstance(exc, UnexpectedToken) and exc.token.type == "NAME":
            suggestion = _suggest_keyword(str(exc.token), _expected_keywords(exc, words),
                                          _next_word(source_line, column, width))
        message = f"unexpected {found}"
        hint = suggestion or (f"expected {expected}" if expected else None)
    return Diagnostic(message, line, column, column + width, hint, "error", source_line)


# A percentage with a minus sign, which the grammar has no token for.
_NEGATIVE_PERCENT = re.compile(r"-\s*[0-9]+(\.[0-9]+)?%")


# Keywords that come in pairs. The word after a misspelling decides between
# them, as in "payed to" (paid to) against "pay in".
_PHRASES = (
    "paid to", "pay in", "dated by", "claw back", "stop unpaid", "ignore refunds",
    "new customer", "returning customer", "fully refunded", "count of", "per line",
    "on refund", "members when", "retained when", "as of",
)


def _suggest_keyword(word: str, keywords: list[str], next_word: str = "") -> str | None:
    if next_word:
        phrases = [p for p in _PHRASES if p.split()[0] in keywords]
        matches = difflib.get_close_matches(f"{word} {next_word}", phrases, n=1, cutoff=0.6)
        if matches:
            return f"did you mean '{matches[0].split()[0]}'?"
    matches = difflib.get_close_matches(word, keywords, n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


def _next_word(source_line: str, column: int, width: int) -> str:
    rest = source_line[column - 1 + width :].split()
    return rest[0] if rest else ""


# The error each catalogue example raises, or None when it parses. The parser
# is built once per process, so an example always fails the same way, and
# parsing every example again for every error cost about 75 ms per error.
_EXAMPLE_ERRORS: dict[str, UnexpectedInput | None] = {}


def _example_error(text: str, parse_piece: Callable[[str], object]) -> UnexpectedInput | None:
    if text not in _EXAMPLE_ERRORS:
        try:
            parse_piece(text)
        except UnexpectedInput as error:
            _EXAMPLE_ERRORS[text] = error
        else:
            _EXAMPLE_ERRORS[text] = None
    return _EXAMPLE_ERRORS[text]


def _match(exc: UnexpectedInput, parse_piece: Callable[[str], object]) -> str | None:
    examples = {label: list(mistake.examples) for label, mistake in CATALOGUE.items()}

    def parse_example(text: str) -> None:
        error = _example_error(text, parse_piece)
        if error is not None:
            raise error.with_traceback(None)

    try:
        label = exc.match_examples(parse_example, examples, use_accepts=True)
    except (UnexpectedInput, TypeError, ValueError):
        # lark 1.2 and 1.3 raise TypeError inside match_examples for some parser
        # states (a %d format given a ParserState). The catalogue only improves
        # the message, so such a state falls back to the general one.
        return None
    return label if isinstance(label, str) else None

"""The TextMate grammar for editors: valid, covering every Lark keyword, scoping real plans.

Editors run the grammar's regexes with Oniguruma. These tests run them with
Python's re, so the grammar keeps to syntax that both engines read the same way.
"""

from __future__ import annotations

import functools
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from helpers import REFERENCE_PLAN, ROOT
from lark import Lark
from lark.lexer import PatternStr

from commission_engine.syntax import _PlanIndenter

TEXTMATE_GRAMMAR = ROOT / "grammar" / "commission.tmLanguage.json"
LARK_GRAMMAR = ROOT / "grammar" / "commission.lark"

REGEX_KEYS = ("match", "begin", "end", "while")
KEYWORD_SCOPES = ("keyword.", "constant.language.")
SCOPE_SUFFIX = ".commission-plan"

Rule = dict[str, Any]
LineScopes = list[tuple[str, ...]]


@functools.cache
def load_textmate() -> dict[str, Any]:
    return json.loads(TEXTMATE_GRAMMAR.read_text(encoding="utf-8"))


@functools.cache
def lark_keywords() -> frozenset[str]:
    """Return every keyword of the Lark grammar file as it is now.

    A keyword is a terminal whose pattern is a string literal of letters only,
    such as "commission" or "within". Punctuation literals (":", "-") are left out.
    """
    parser = Lark(LARK_GRAMMAR.read_text(encoding="utf-8"), parser="lalr",
                  postlex=_PlanIndenter())
    return frozenset(
        terminal.pattern.value
        for terminal in parser.terminals
        if isinstance(terminal.pattern, PatternStr) and terminal.pattern.value.isalpha()
    )


def iter_rules(node: Any) -> Iterator[Rule]:
    """Yield every rule under node, nested ones and capture rules included."""
    if isinstance(node, dict):
        if any(key in node for key in (*REGEX_KEYS, "include", "name")):
            yield node
        for value in node.values():
            yield from iter_rules(value)
    elif isinstance(node, list):
        for item in node:
            yield from iter_rules(item)


def all_rules() -> list[Rule]:
    """Return every rule of the grammar, leaving out the grammar's own header."""
    grammar = load_textmate()
    return [*iter_rules(grammar["patterns"]), *iter_rules(grammar["repository"])]


def regex_sources() -> list[tuple[str, str]]:
    """Return (key, regex) for every regex in the grammar."""
    return [(key, rule[key]) for rule in all_rules()
            for key in REGEX_KEYS if isinstance(rule.get(key), str)]


def oniguruma_only_syntax(source: str) -> list[str]:
    """List the constructs of a regex that Oniguruma and Python's re read differently.

    Python's re rejects most Oniguruma-only escapes (\\h, \\G, \\K, \\x{...}) by
    itself, and warns on nested sets such as [[:alpha:]]. This scan adds \\z,
    which Python 3.11 rejects, \\Z, which Oniguruma also matches before a final
    newline, and possessive quantifiers, because Oniguruma reads "a{2}+" as
    "(a{2})+" where Python reads it as possessive (checked with vscode-oniguruma
    2.0.1 and Python 3.11).
    """
    found = []
    index = 0
    in_class = False
    while index < len(source):
        char = source[index]
        following = source[index + 1:index + 2]
        if char == "\\":
            if following in ("h", "H", "G", "K", "z", "Z"):
                found.append("\\" + following)
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            index += 1
            # A "]" right after "[" or "[^" is a literal member of the set.
            if source[index:index + 1] == "^":
                index += 1
            if source[index:index + 1] == "]":
                index += 1
            continue
        elif char in "*+?}" and following == "+" and source[index - 1:index] != "(":
            found.append(f"possessive quantifier {char}+")
        index += 1
    return found


def keyword_spans(rule: Rule, text: str) -> set[tuple[int, int]]:
    """Return the spans of text that a match rule gives a keyword scope."""
    regex = re.compile(rule["match"])
    keyword_groups = [int(group) for group, capture in rule.get("captures", {}).items()
                      if capture.get("name", "").startswith(KEYWORD_SCOPES)]
    whole = rule.get("name", "").startswith(KEYWORD_SCOPES)
    spans = set()
    for match in regex.finditer(text):
        if whole:
            spans.add(match.span())
        for group in keyword_groups:
            if match.group(group) is not None:
                spans.add(match.span(group))
    return spans


def keyword_rules() -> list[Rule]:
    """Return the match rules that give a keyword scope to the whole match or a group."""
    rules = []
    for rule in all_rules():
        if "match" not in rule:
            continue
        names = [rule.get("name", "")]
        names += [capture.get("name", "") for capture in rule.get("captures", {}).values()]
        if any(name.startswith(KEYWORD_SCOPES) for name in names):
            rules.append(rule)
    return rules


def group_sources(source: str) -> dict[int, str]:
    """Return the text of each capturing group of a regex, by group number."""
    groups: dict[int, str] = {}
    open_groups: list[tuple[int | None, int]] = []
    count = 0
    index = 0
    in_class = False
    while index < len(source):
        char = source[index]
        if char == "\\":
            index += 2
            continue
        if in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            capturing = source[index + 1:index + 2] != "?"
            if capturing:
                count += 1
            open_groups.append((count if capturing else None, index + 1))
        elif char == ")":
            number, start = open_groups.pop()
            if number is not None:
                groups[number] = source[start:index]
        index += 1
    return groups


def literal_words(source: str) -> set[str]:
    """Return the words that a regex spells out, leaving out escapes and sets."""
    without_escapes = re.sub(r"\\.", "", source)
    without_sets = re.sub(r"\[(?:\\.|[^\]])*\]", "", without_escapes)
    return set(re.findall(r"[A-Za-z]+", without_sets))


def keyword_words(rule: Rule) -> set[str]:
    """Return the words spelled out in the parts of a rule that get a keyword scope."""
    if rule.get("name", "").startswith(KEYWORD_SCOPES):
        return literal_words(rule["match"])
    groups = group_sources(rule["match"])
    words: set[str] = set()
    for group, capture in rule.get("captures", {}).items():
        if capture.get("name", "").startswith(KEYWORD_SCOPES):
            words |= literal_words(groups[int(group)])
    return words


# ---------------------------------------------------------------- tokenizer


def resolve(patterns: list[Rule], repository: dict[str, Rule]) -> list[Rule]:
    """Replace each include by the rules it names, in order."""
    rules = []
    for pattern in patterns:
        if "include" not in pattern:
            rules.append(pattern)
            continue
        entry = repository[pattern["include"].removeprefix("#")]
        if "match" in entry or "begin" in entry:
            rules.append(entry)
        else:
            rules.extend(resolve(entry["patterns"], repository))
    return rules


def paint(line_scopes: LineScopes, match: re.Match[str], outer: tuple[str, ...],
          name: str | None, captures: dict[str, Rule], repository: dict[str, Rule]) -> None:
    """Set the scopes of the characters a match covers, captures innermost.

    A capture's own patterns (the escapes inside a captured string) are then
    matched inside the captured text only.
    """
    whole = outer + ((name,) if name else ())
    for column in range(match.start(), match.end()):
        line_scopes[column] = whole
    for group in sorted(captures, key=int):
        capture = captures[group]
        start, end = match.span(int(group))
        if start < 0:
            continue
        if "name" in capture:
            for column in range(start, end):
                line_scopes[column] = line_scopes[column] + (capture["name"],)
        if "patterns" in capture:
            inner_rules = [rule for rule in resolve(capture["patterns"], repository)
                           if "match" in rule]
            position = start
            while position < end:
                for rule in inner_rules:
                    inner = re.compile(rule["match"]).match(match.string, position, end)
                    if inner and inner.end() > position:
                        paint(line_scopes, inner, line_scopes[position], rule.get("name"),
                              rule.get("captures", {}), repository)
                        position = inner.end()
                        break
                else:
                    position += 1


def tokenize(text: str) -> list[LineScopes]:
    """Return the scopes of every character of every line of text.

    This follows the part of TextMate's rules that the grammar uses. At each
    position the end regex of the innermost open begin/end rule is tried first,
    then that rule's patterns (or the top-level ones) in order, and the first that
    matches at that position wins. That picks the same match as TextMate's
    leftmost-first search. Each line gets a trailing newline, as vscode-textmate
    feeds it.
    """
    grammar = load_textmate()
    repository = grammar["repository"]
    top_level = resolve(grammar["patterns"], repository)
    base = (grammar["scopeName"],)
    # Each open begin/end rule, its compiled end regex and the scopes inside it.
    stack: list[tuple[Rule, re.Pattern[str], tuple[str, ...]]] = []
    lines = []
    for raw_line in text.splitlines():
        line = raw_line + "\n"
        line_scopes: LineScopes = [base] * len(line)
        position = 0
        steps_left = 4 * len(line) + 8
        while position < len(line):
            steps_left -= 1
            assert steps_left > 0, f"the tokenizer made no progress on {raw_line!r}"
            if stack:
                rule, end_regex, current = stack[-1]
                end_match = end_regex.match(line, position)
                if end_match:
                    paint(line_scopes, end_match, current, None, rule.get("endCaptures", {}),
                          repository)
                    stack.pop()
                    position = end_match.end()
                    continue
                candidates = resolve(rule.get("patterns", []), repository)
            else:
                current = base
                candidates = top_level
            for candidate in candidates:
                if "match" in candidate:
                    match = re.compile(candidate["match"]).match(line, position)
                    if match and match.end() > position:
                        paint(line_scopes, match, current, candidate.get("name"),
                              candidate.get("captures", {}), repository)
                        position = match.end()
                        break
                else:
                    match = re.compile(candidate["begin"]).match(line, position)
                    if match:
                        paint(line_scopes, match, current, candidate.get("name"),
                              candidate.get("beginCaptures", {}), repository)
                        inner = current + ((candidate["name"],) if "name" in candidate else ())
                        stack.append((candidate, re.compile(candidate["end"]), inner))
                        position = match.end()
                        break
            else:
                line_scopes[position] = current
                position += 1
        lines.append(line_scopes)
    return lines


def fragment_scopes(text: str, line_needle: str, fragment: str,
                    occurrence: int = 0) -> list[tuple[str, ...]]:
    """Tokenize text and return the scopes of each character of one fragment.

    The fragment is searched for in the first line that contains line_needle, and
    occurrence picks a later copy of the fragment on that line.
    """
    lines = text.splitlines()
    line_index = next((index for index, line in enumerate(lines) if line_needle in line), None)
    assert line_index is not None, f"no line contains {line_needle!r}"
    line = lines[line_index]
    column = -1
    for _ in range(occurrence + 1):
        column = line.find(fragment, column + 1)
        assert column >= 0, f"{fragment!r} (copy {occurrence}) is not in {line!r}"
    line_scopes = tokenize_cached(text)[line_index]
    return line_scopes[column:column + len(fragment)]


@functools.cache
def tokenize_cached(text: str) -> list[LineScopes]:
    return tokenize(text)


def has_scope(char_scopes: list[tuple[str, ...]], prefix: str) -> bool:
    """Return True if every character has a scope that starts with prefix."""
    return all(any(scope.startswith(prefix) for scope in scopes) for scopes in char_scopes)


def has_keyword_scope(char_scopes: list[tuple[str, ...]]) -> bool:
    """Return True if any character has a keyword or constant.language scope."""
    return any(scope.startswith(KEYWORD_SCOPES) for scopes in char_scopes for scope in scopes)


# ---------------------------------------------------------------- the file


def test_textmate_file_is_valid_json() -> None:
    grammar = load_textmate()

    assert grammar["scopeName"] == "source.commission-plan"
    assert grammar["fileTypes"] == ["plan"]
    assert grammar["name"] == "Commission plan"
    assert grammar["patterns"], "the grammar has no top-level patterns"


def test_every_regex_compiles_in_python() -> None:
    sources = regex_sources()
    assert len(sources) > 20, "the walk over the grammar found too few regexes"

    re.purge()
    for key, source in sources:
        with warnings.catch_warnings():
            # Python warns on sets that Oniguruma reads as nested or intersected.
            warnings.simplefilter("error")
            try:
                re.compile(source)
            except (re.error, FutureWarning) as error:
                pytest.fail(f"the {key} regex {source!r} is invalid in Python: {error}")


def test_regexes_avoid_oniguruma_only_syntax() -> None:
    offending = {source: found for _, source in regex_sources()
                 if (found := oniguruma_only_syntax(source))}

    assert offending == {}


def test_oniguruma_syntax_scan_finds_constructs() -> None:
    assert oniguruma_only_syntax(r"[0-9]{2}+") == ["possessive quantifier }+"]
    assert oniguruma_only_syntax(r"a*+b") == ["possessive quantifier *+"]
    assert oniguruma_only_syntax(r"\h\G") == ["\\h", "\\G"]
    assert oniguruma_only_syntax(r"[+*/\-]+(?:x)?") == []
    assert oniguruma_only_syntax(r"[]+]+") == []


def test_includes_name_repository_entries() -> None:
    grammar = load_textmate()
    includes = {rule["include"] for rule in all_rules() if "include" in rule}

    missing = {name for name in includes if name.removeprefix("#") not in grammar["repository"]}
    assert missing == set()


def test_scope_names_end_with_language_suffix() -> None:
    names = []
    for rule in all_rules():
        names.append(rule.get("name", ""))
        for key in ("captures", "beginCaptures", "endCaptures"):
            names += [capture.get("name", "") for capture in rule.get(key, {}).values()]

    wrong = {scope for name in names for scope in name.split()
             if not scope.endswith(SCOPE_SUFFIX)}
    assert wrong == set()


# ---------------------------------------------------------------- keywords


def test_lark_keywords_are_found() -> None:
    keywords = lark_keywords()

    assert {"plan", "commission", "within", "and", "true"} <= keywords
    assert ":" not in keywords


def test_every_lark_keyword_has_pattern() -> None:
    rules = keyword_rules()

    missing = sorted(keyword for keyword in lark_keywords()
                     if not any((0, len(keyword)) in keyword_spans(rule, keyword)
                                for rule in rules))
    assert missing == []


def test_every_lark_keyword_tokenizes_as_keyword() -> None:
    """An earlier pattern must not shadow a keyword written on a line of its own."""
    keywords = sorted(lark_keywords())
    lines = tokenize("\n".join(f"    {keyword}" for keyword in keywords))

    unscoped = [keyword for keyword, line_scopes in zip(keywords, lines, strict=True)
                if not has_keyword_scope(line_scopes[4:4 + len(keyword)])]
    assert unscoped == []


@pytest.mark.parametrize("template", ["{}s", "x{}", "{}_1", "record.{}", "{}.field"])
def test_keywords_need_word_boundaries(template: str) -> None:
    rules = keyword_rules()
    start = template.index("{}")

    matched = sorted(
        keyword for keyword in lark_keywords()
        if any((start, start + len(keyword)) in keyword_spans(rule, template.format(keyword))
               for rule in rules)
    )
    assert matched == []


def test_textmate_keywords_exist_in_lark() -> None:
    words = set()
    for rule in keyword_rules():
        words |= keyword_words(rule)

    assert "within" in words
    stale = words - lark_keywords()
    assert stale == set()


def test_group_sources_number_groups() -> None:
    groups = group_sources(r"^(a|b)(?:[(]x)(c(d))\)")

    assert groups == {1: "a|b", 2: "c(d)", 3: "d"}


# ---------------------------------------------------------------- the reference plan

NUMERIC = "constant.numeric."
STRING = "string.quoted.double."
DATE = "constant.other.date."
KEYWORD = "keyword.control."
OPERATOR_WORD = "keyword.operator.word."

REFERENCE_CASES = [
    # (line needle, fragment, copy on the line, expected scope prefix)
    ("# The base commission", "# The base commission: a first-match", 0,
     "comment.line.number-sign."),
    ('plan "counselling-2025"', "plan", 0, KEYWORD),
    ('plan "counselling-2025"', '"counselling-2025"', 0, STRING),
    ('plan "counselling-2025"', "version", 0, KEYWORD),
    ('plan "counselling-2025"', '"2025.1"', 0, STRING),
    ("currency CNY", "CNY", 0, "support.constant.currency."),
    ("rounding half-up per line", "half-up", 0, "support.constant.rounding-mode."),
    ("rounding half-up per line", "per", 0, KEYWORD),
    ("commission base on contract:", "commission", 0, KEYWORD),
    ("commission base on contract:", "base", 0, "entity.name.function."),
    ("commission base on contract:", "contract", 0, "entity.name.type.record."),
    ("paid to contract.rep", "paid", 0, KEYWORD),
    ("paid to contract.rep", "to", 0, KEYWORD),
    ("paid to contract.rep", "contract", 0, "variable.other.object."),
    ("paid to contract.rep", "rep", 0, "variable.other.property."),
    ("rate of contract.amount:", "rate", 0, KEYWORD),
    ("rate of contract.amount:", "of", 0, OPERATOR_WORD),
    ("rate of contract.amount:", "amount", 0, "variable.other.property."),
    ('10% when product is "marriage-repair"', "10%", 0, NUMERIC),
    ('10% when product is "marriage-repair"', '"marriage-repair"', 0, STRING),
    ('10% when product is "marriage-repair"', "is", 0, OPERATOR_WORD),
    ('10% when product is "marriage-repair"', "and", 0, OPERATOR_WORD),
    ('10% when product is "marriage-repair"', "customer", 0, "keyword.other.predicate."),
    ('10% when product is "marriage-repair"', "2025-03-01", 0, DATE),
    ("8% when new customer", "8%", 0, NUMERIC),
    ("pay in contract.term_months", "monthly", 0, KEYWORD),
    ("claw back overpayment within", "within", 0, KEYWORD),
    ("claw back overpayment within", "90 days", 0, "constant.other.duration."),
    ("claw back overpayment within", "90", 0, NUMERIC),
    ("when first survey.score >= 90", "first", 0, "keyword.other.aggregate."),
    ("when first survey.score >= 90", ">=", 0, "keyword.operator.comparison."),
    ("amount 10% of commission base", "base", 0, "variable.function."),
    ("amount 1% of total retained.amount", "retained", 0, "variable.other.object."),
    ("paid in the cohort month plus 3 months", "cohort", 0, KEYWORD),
    ("paid in the cohort month plus 3 months", "3 months", 0, "constant.other.duration."),
    ("referral referral on contract:", "referral", 1, "entity.name.function."),
    ('example "E1: a new customer', "example", 0, KEYWORD),
    ('example "E1: a new customer', "2026-12-31T00:00:00+08:00", 0, DATE),
    ('example "E1: a new customer', "customer", 0, STRING),
    ("contract id K1 customer C1", "contract", 0, "entity.name.type.record."),
    ("contract id K1 customer C1", "customer", 0, "variable.other.property."),
    ("contract id K1 customer C1", '"individual"', 0, STRING),
    ("contract id K1 customer C1", "12000.00", 0, NUMERIC),
    ("contract id K1 customer C1", "2025-01-15T10:00:00+08:00", 0, DATE),
    ("R1 2025-04 bonus 120.00", "2025-04", 0, DATE),
    ("R1 2025-04 bonus 120.00", "120.00", 0, NUMERIC),
    ("2025-04 clawback -80.00", "-80.00", 0, NUMERIC),
]

# Words that are keywords somewhere in the grammar but names at these places.
REFERENCE_NAMES = [
    ("rate of contract.amount:", "amount", 0),
    ("amount 2% of contract.amount", "amount", 1),
    ("amount 1% of total retained.amount", "retained", 0),
    ("paid to customer.referred_by.owner", "customer", 0),
    ("contract id K1 customer C1", "customer", 0),
    ("contract id K1 customer C1", "amount", 0),
    ("R1 2025-04 bonus 120.00", "bonus", 0),
    ("R1 2025-06 referral 600.00", "referral", 0),
]


@pytest.mark.parametrize(("needle", "fragment", "occurrence", "prefix"), REFERENCE_CASES)
def test_reference_plan_scopes(needle: str, fragment: str, occurrence: int,
                               prefix: str) -> None:
    text = REFERENCE_PLAN.read_text(encoding="utf-8")

    scopes = fragment_scopes(text, needle, fragment, occurrence)

    assert has_scope(scopes, prefix), scopes


@pytest.mark.parametrize(("needle", "fragment", "occurrence"), REFERENCE_NAMES)
def test_reference_plan_names_not_keywords(needle: str, fragment: str,
                                           occurrence: int) -> None:
    text = REFERENCE_PLAN.read_text(encoding="utf-8")

    scopes = fragment_scopes(text, needle, fragment, occurrence)

    assert not has_keyword_scope(scopes), scopes


def test_reference_plan_tokenizes_every_line() -> None:
    text = REFERENCE_PLAN.read_text(encoding="utf-8")

    lines = tokenize_cached(text)

    assert len(lines) == len(text.splitlines())
    # No string or records block stays open past the end of its example.
    last_line = lines[-1]
    assert not any(scope.startswith("meta.block.records.") for scope in last_line[0])


# ---------------------------------------------------------------- other forms

OTHER_FORMS = """\
plan "a \\"b\\" \\\\ c \\n" version "1"
    split between contract.rep 60%, customer.owner 40%
    amount 2.5% of 12,000.00
    when amount >= 1000 and amounts is not set or x in [1, 2]
    when count of refunds where upheld is true
    when customer.owner.region is "North"
    when 2025-03 > 1
example "null" as of 2025-03-01T10:00:00Z rounding half-even:
    records:
        rep id R1 active true manager null joined 2025-01 bonus -5
    expect:
        "R-1" 2025-03 installment 1.00
        nothing
"""

OTHER_CASES = [
    ('plan "a', '\\"', 0, "constant.character.escape."),
    ('plan "a', "\\\\", 0, "constant.character.escape."),
    ('plan "a', "\\n", 0, "invalid.illegal.unknown-escape."),
    ("amount 2.5%", "2.5%", 0, NUMERIC),
    ("amount 2.5%", "12,000.00", 0, NUMERIC),
    ("when amount >=", "not", 0, OPERATOR_WORD),
    ("when amount >=", "set", 0, OPERATOR_WORD),
    ("when amount >=", "[", 0, "punctuation.section.brackets.begin."),
    ("when count of refunds", "count", 0, "keyword.other.aggregate."),
    ("when count of refunds", "true", 0, "constant.language."),
    ("when 2025-03 > 1", "2025", 0, NUMERIC),
    ("when 2025-03 > 1", "-", 0, "keyword.operator.arithmetic."),
    ("split between", "split", 0, KEYWORD),
    ("split between", "between", 0, KEYWORD),
    ("split between", "60%", 0, NUMERIC),
    ("split between", ",", 0, "punctuation.separator.comma."),
    ('example "null"', "2025-03-01T10:00:00Z", 0, DATE),
    ('example "null"', "rounding", 0, KEYWORD),
    ('example "null"', "half-even", 0, "support.constant.rounding-mode."),
    ("rep id R1 active", "true", 0, "constant.language."),
    ("rep id R1 active", "null", 0, "constant.language."),
    ("rep id R1 active", "2025-01", 0, DATE),
    ("rep id R1 active", "-5", 0, NUMERIC),
    ('"R-1" 2025-03', '"R-1"', 0, STRING),
    ('"R-1" 2025-03', "2025-03", 0, DATE),
    ("        nothing", "nothing", 0, KEYWORD),
]

OTHER_NAMES = [
    ("when amount >=", "amount", 0),
    ("when amount >=", "amounts", 0),
    ("when count of refunds", "refunds", 0),
    ("when customer.owner", "customer", 0),
    ("when customer.owner", "owner", 0),
    ("split between", "customer", 0),
    ('example "null"', "null", 0),
    ("rep id R1 active", "bonus", 0),
    ("rep id R1 active", "manager", 0),
]


@pytest.mark.parametrize(("needle", "fragment", "occurrence", "prefix"), OTHER_CASES)
def test_other_forms_scopes(needle: str, fragment: str, occurrence: int, prefix: str) -> None:
    scopes = fragment_scopes(OTHER_FORMS, needle, fragment, occurrence)

    assert has_scope(scopes, prefix), scopes


@pytest.mark.parametrize(("needle", "fragment", "occurrence"), OTHER_NAMES)
def test_other_forms_names_not_keywords(needle: str, fragment: str, occurrence: int) -> None:
    scopes = fragment_scopes(OTHER_FORMS, needle, fragment, occurrence)

    assert not has_keyword_scope(scopes), scopes


def test_unterminated_string_stops_at_line_end() -> None:
    lines = tokenize('plan "open\ncurrency CNY\n')

    assert any(scope.startswith("invalid.illegal.unterminated-string.")
               for scope in lines[0][len('plan "open')])
    assert not any(scope.startswith(STRING) for scope in lines[1][0])
    assert any(scope.startswith("support.constant.currency.") for scope in lines[1][-2])

"""Parse plan text into the syntax tree of ``tree``, with a position on every node.

The grammar file is loaded once, on first use, and parsed with LALR. Lark's
errors and trees stay inside this module: callers get ``PlanTree`` or a
``PlanError`` listing every diagnostic.
"""

from __future__ import annotations

import dataclasses
import functools
import operator
import re
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import Decimal
from importlib import resources
from pathlib import Path as FilePath
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedInput, VisitError
from lark.indenter import DedentError
from lark.indenter import Indenter

from . import tree as t
from .errors import HIDDEN_IN_PLAN, Diagnostic, PlanError
from .limits import DEFAULT_LIMITS, Limits, raise_hint
from .syntax_errors import CATALOGUE, describe_syntax_error

CLAUSE_OUTSIDE_RULE = CATALOGUE["clause outside a rule"].message

__all__ = ["ParseOutcome", "grammar_text", "parse_partial", "parse_plan"]


class _PlanIndenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8
    # NAME is lexed in every parser state, so a misspelled keyword such as
    # "payed" arrives as one unexpected word, not as "pay" followed by "ed".
    # A word is still read as a keyword where the grammar accepts one.
    always_accept = ("_NL", "NAME")


def grammar_text() -> str:
    """Return the text of the Lark grammar that ships inside the package."""
    packaged = resources.files("commission_engine").joinpath("grammar/commission.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    # A source checkout run without installing keeps the grammar at the top.
    checkout = FilePath(__file__).resolve().parents[2] / "grammar" / "commission.lark"
    return checkout.read_text(encoding="utf-8")


_PARSE_LOCK = threading.RLock()


@functools.cache
def _parser() -> Lark:
    # No cache=True: lark's cache file has a predictable name in the temporary
    # folder and is unpickled before it is checked.
    return Lark(
        grammar_text(),
        parser="lalr",
        postlex=_PlanIndenter(),
        propagate_positions=True,
        maybe_placeholders=False,
        start=["start", "chunk"],
    )


# ---------------------------------------------------------------- one-pass building
#
# A plan that parses whole is built while Lark parses it. The parser calls one
# callback per reduction, which computes the node's position as Lark's
# propagate_positions does and calls the rule's _TreeBuilder method at once.
# So no Lark tree is built and walked a second time.
# A syntax error, or a tree deep enough that the recursive walk might run out
# of stack, sends the text down the two-pass path, which decides the outcome.


class _Fallback(Exception):
    """Signal that the one-pass build may differ from the two-pass one, so the caller uses the latter."""


# Deeper trees take the two-pass path, because its recursive walk decides
# whether the plan nests too deeply to be read.
_ONE_PASS_DEPTH = 100


class _Span:
    """A node on Lark's value stack: the built value, its text span and its depth.

    ``line`` to ``end_column`` are the node's own span, which a _TreeBuilder
    method reads as its ``meta``. The ``c`` fields are the span of the
    outermost rule the node was inlined from (with its parentheses, say).
    A parent's span is made from those, as in Lark's propagate_positions.
    """

    __slots__ = ("value", "empty", "line", "column", "end_line", "end_column",
                 "cline", "ccolumn", "cend_line", "cend_column", "depth")
    value: Any
    empty: bool
    line: int
    column: int
    end_line: int
    end_column: int
    cline: int
    ccolumn: int
    cend_line: int
    cend_column: int
    depth: int


_ACTIVE = threading.local()


def _span_of(children: list[Any], span: _Span) -> None:
    """Set ``span`` (own and outer) from the first and last child with a position."""
    # Tokens always have a position, so only an empty first or last child
    # sends the search further.
    first = children[0] if children else None
    if type(first) is _Span and first.empty:
        first = _first_placed(children)
    if first is None:
        span.empty = True
        return
    span.empty = False
    if type(first) is _Span:
        span.line = span.cline = first.cline
        span.column = span.ccolumn = first.ccolumn
    else:
        span.line = span.cline = first.line
        span.column = span.ccolumn = first.column
    last = children[-1]
    if type(last) is _Span and last.empty:
        last = _last_placed(children)
    if type(last) is _Span:
        span.end_line = span.cend_line = last.cend_line
        span.end_column = span.cend_column = last.cend_column
    else:
        span.end_line = span.cend_line = last.end_line
        span.end_column = span.cend_column = last.end_column


def _first_placed(children: list[Any]) -> Any:
    """Return the first child with a position, or None."""
    for child in children:
        if type(child) is not _Span or not child.empty:
            return child
    return None


def _last_placed(children: list[Any]) -> Any:
    """Return the last child with a position; the caller knows there is one."""
    for child in reversed(children):
        if type(child) is not _Span or not child.empty:
            return child
    return None


def _rule_callback(rule: Any) -> Any:
    """Return the reduction callback of one grammar rule, for the one-pass build."""
    name = rule.alias or rule.options.template_source or rule.origin.name
    keep_all = rule.options.keep_all_tokens
    kept_children = tuple(
        (index, not symbol.is_term and symbol.name.startswith("_"))
        for index, symbol in enumerate(rule.expansion)
        if keep_all or not (symbol.is_term and symbol.filter_out))
    expand_single = bool(rule.options.expand1 and not rule.alias)
    inlined = name.startswith("_")
    has_method = not inlined and callable(getattr(_TreeBuilder, name, None))
    if expand_single and kept_children == ((0, False),) and len(rule.expansion) == 1:
        # A rule such as 'sum: product' passes its only child up unchanged:
        # with no other symbol, the child's outer span stays the same too.
        return operator.itemgetter(0)

    def reduce(children: list[Any]) -> Any:
        values: list[Any] = []
        depth = 0
        for index, expand in kept_children:
            child = children[index]
            if type(child) is _Span:
                if child.depth > depth:
                    depth = child.depth
                if expand:
                    values.extend(child.value)
                else:
                    values.append(child.value)
            else:
                values.append(child)

        if expand_single and len(values) == 1:
            if len(kept_children) != 1 or kept_children[0][1]:
                raise _Fallback(name)
            child = children[kept_children[0][0]]
            if type(child) is _Span:
                # Lark keeps the child's own span and widens its outer span.
                outer = _Span()
                _span_of(children, outer)
                if not outer.empty:
                    if child.empty:
                        child.line, child.column = outer.line, outer.column
                        child.end_line, child.end_column = outer.end_line, outer.end_column
                        child.empty = False
                    child.cline, child.ccolumn = outer.cline, outer.ccolumn
                    child.cend_line, child.cend_column = outer.cend_line, outer.cend_column
            return child

        span = _Span()
        _span_of(children, span)
        if inlined:
            span.depth = depth
            span.value = values
            return span
        if not has_method:
            raise _Fallback(name)
        span.depth = depth + 1
        if span.depth > _ONE_PASS_DEPTH:
            raise _Fallback(name)
        span.value = _ACTIVE.methods[name](span, values)
        return span

    return reduce


def _check_string(token: Token) -> Token:
    # The parser calls this as it shifts a STRING token. That is the order in
    # which the two-pass walk checks the token among the nodes' own checks.
    return _ACTIVE.string(token)


@functools.cache
def _one_pass_parser() -> Lark | None:
    parser = Lark(
        grammar_text(),
        parser="lalr",
        postlex=_PlanIndenter(),
        maybe_placeholders=False,
        start=["start", "chunk"],
    )
    # Lark keeps one dict of reduction callbacks, shared with its LALR parser,
    # so replacing its contents installs the one-pass callbacks. A Lark
    # version without that dict leaves only the two-pass path.
    callbacks = getattr(parser, "_callbacks", None)
    if not isinstance(callbacks, dict) or not callbacks:
        return None
    rules = [rule for rule in callbacks if not isinstance(rule, str)]
    if len(rules) != len(parser.rules):
        return None
    callbacks.clear()
    callbacks.update({rule: _rule_callback(rule) for rule in rules})
    callbacks["STRING"] = _check_string
    return parser


def _one_pass_methods(builder: _TreeBuilder) -> dict[str, Any]:
    methods: dict[str, Any] = {}
    for name in dir(_TreeBuilder):
        if name.startswith("_"):
            continue
        method = getattr(builder, name)
        if callable(method):
            # Call the function under lark's v_args wrapper, which only forwards the call.
            methods[name] = getattr(method, "base_func", method)
    return methods


def _parse_one_pass(source: str, lines: list[str], limits: Limits) -> ParseOutcome | None:
    """Parse and build a whole plan in one pass, or return None if the two-pass path must."""
    parser = _one_pass_parser()
    if parser is None:
        return None
    builder = _TreeBuilder(lines, limits=limits)
    saved = getattr(_ACTIVE, "methods", None), getattr(_ACTIVE, "string", None)
    methods = _one_pass_methods(builder)
    refs: list[t.CommissionRef] = []
    build_ref = methods["commission_ref"]

    def commission_ref(meta: Any, children: list[Token]) -> t.CommissionRef:
        ref: t.CommissionRef = build_ref(meta, children)
        refs.append(ref)
        return ref

    methods["commission_ref"] = commission_ref
    _ACTIVE.methods = methods
    _ACTIVE.string = methods["STRING"]
    try:
        root = parser.parse(source, start="start")
    except Exception:  # noqa: BLE001 - the two-pass path reports every failure
        return None
    finally:
        _ACTIVE.methods, _ACTIVE.string = saved
    plan = root.value if type(root) is _Span else None
    if not isinstance(plan, t.PlanTree):
        return None
    # A method builds each node that counts as a level of nesting, one level
    # above its operands, so the depth of the tree bounds the nesting.
    return ParseOutcome(plan, tuple(builder.diagnostics), frozenset(),
                        nesting_bound=root.depth, has_commission_refs=bool(refs))


# The marker the tree builder passes up for "by count" in a tier table.
_BY_COUNT = object()


@dataclass(frozen=True, slots=True)
class _Invalid:
    """An example's ``expect invalid: "..."`` line, before it joins the example."""

    fragment: str


@dataclass(frozen=True, slots=True)
class _Header:
    name: str
    version: str
    pos: t.Pos


@dataclass(frozen=True)
class ParseOutcome:
    """The outcome of parsing: the tree of every piece that parsed, and the problems.

    ``tree`` is None when even the plan header is missing. ``unparsed_rules``
    names the rules whose text did not parse, so the checker does not report
    references to them as unknown.
    """

    tree: t.PlanTree | None
    diagnostics: tuple[Diagnostic, ...]
    unparsed_rules: frozenset[str]
    incomplete_rules: frozenset[str] = frozenset()
    # Facts the one-pass build records so the checker can skip two walks: a
    # depth no expression nests past (None if unknown), and whether any
    # ``commission RULE`` reference was built. Comparisons ignore them.
    nesting_bound: int | None = dataclasses.field(default=None, compare=False)
    has_commission_refs: bool = dataclasses.field(default=True, compare=False)


def parse_plan(text: str, filename: str = "<plan>",
               limits: Limits = DEFAULT_LIMITS) -> t.PlanTree:
    """Parse plan text; raise ``PlanError`` with every syntax problem found."""
    outcome = parse_partial(text, limits)
    if outcome.diagnostics or outcome.tree is None:
        raise PlanError(outcome.diagnostics, filename)
    return outcome.tree


def parse_partial(text: str, limits: Limits = DEFAULT_LIMITS) -> ParseOutcome:
    """Parse plan text, recovering after an error at the next top-level line.

    A file that parses whole is built in one pass. Otherwise each top-level
    piece (the header, a setting, a rule, an example) is parsed alone, so
    one run reports the first error of every piece.
    """
    text = normal_line_ends(text.removeprefix("\ufeff"))
    if len(text) > limits.max_plan_chars:
        return ParseOutcome(None, (_too_long(text, limits),), frozenset())
    lines = text.split("\n")
    if _HIDDEN_CHARACTER.search(text):
        return ParseOutcome(None, _hidden_characters(lines), frozenset())
    source = text if text.endswith("\n") else text + "\n"
    # The one parser's indenter keeps its state on itself while it parses, so
    # threads (such as Dask's workers) take turns.
    with _PARSE_LOCK:
        outcome = _parse_one_pass(source, lines, limits)
        if outcome is not None:
            return outcome
        try:
            lark_tree = _parser().parse(source, start="start")
        except (UnexpectedInput, DedentError):
            return _parse_pieces(lines, limits)
        except RecursionError:
            return ParseOutcome(None, (_too_deep(lines, limits),), frozenset())
    if _lark_depth(lark_tree) > _max_lark_depth(limits):
        return ParseOutcome(None, (_too_deep(lines, limits),), frozenset())
    builder = _TreeBuilder(lines, limits=limits)
    plan = _build(builder, lark_tree)
    if plan is None and not builder.diagnostics:
        return ParseOutcome(None, (_too_deep(lines, limits),), frozenset())
    return ParseOutcome(plan, tuple(builder.diagnostics), frozenset())


def normal_line_ends(text: str) -> str:
    """Write every CR LF and lone CR as LF, as the command line reads a plan file.

    A plan's lines end at LF only after this, so the parser, the
    explanations and the examples count the same lines. ``str.splitlines``
    would also break at U+2028 and other separators.
    """
    if "\r" not in text:
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def plan_lines(text: str) -> list[str]:
    """Split plan text into the lines the parser numbers, from 1."""
    return normal_line_ends(text.removeprefix("\ufeff")).split("\n")


def _max_lark_depth(limits: Limits) -> int:
    """Return the deepest parse tree that the recursive build may walk.

    A level of nesting is one or two levels of Lark's tree, so twice the
    nesting limit, with room for the rule around the formula, lets the
    checker report every plan that nests too deeply with its own message.
    Deciding on the depth here, before the recursive walk, makes the message
    the same whatever recursion limit the caller has set. At the default
    limit of 100 levels the walk takes about 550 frames, under Python's
    default recursion limit of 1,000.
    """
    return 2 * limits.max_nesting + 50


def _lark_depth(tree: Tree[Token]) -> int:
    """Return the depth of a Lark tree, walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > deepest:
            deepest = depth
        if isinstance(node, Tree):
            stack.extend((child, depth + 1) for child in node.children)
    return deepest


def _too_deep(lines: list[str], limits: Limits) -> Diagnostic:
    # The parser stopped without a place. Hundreds of levels of operators
    # make a long line, so the longest line is named.
    index = max(range(len(lines)), key=lambda i: len(lines[i]), default=0)
    return Diagnostic(
        "the plan nests expressions too deeply to be read", index + 1, 1, None,
        "split long formulas into simpler ones; nest operators, signs and 'not' fewer than"
        f" {limits.max_nesting} levels deep", "error", lines[index] if lines else "")


# Characters that make a plan display otherwise than it reads, or that
# drive a terminal when a message prints them. They are the C0 controls but
# tab, newline and carriage return, DEL and the C1 controls. The line and
# paragraph separators and the bidirectional controls join them.
_HIDDEN_CHARACTER = HIDDEN_IN_PLAN
_MAX_HIDDEN_REPORTED = 20


def _hidden_characters(lines: list[str]) -> tuple[Diagnostic, ...]:
    """Report each control character in the plan text, before anything is parsed."""
    found = []
    for number, line in enumerate(lines, 1):
        # The line is shown with U+FFFD in place of each such character, so the
        # caret stays under it and the terminal runs none of them.
        escaped_line = _HIDDEN_CHARACTER.sub("\ufffd", line)
        for match in _HIDDEN_CHARACTER.finditer(line):
            code = ord(match.group())
            if code in (0x2028, 0x2029):
                kind = "a line or paragraph separator"
            elif code >= 0x202A:
                kind = "a bidirectional control"
            else:
                kind = "a control character"
            found.append(Diagnostic(
                f"the plan contains U+{code:04X}, {kind}, which can make the text display"
                " otherwise than it reads", number, match.start() + 1, None,
                "delete the character; if your editor does not show it, retype the line",
                "error", escaped_line))
            if len(found) == _MAX_HIDDEN_REPORTED:
                return tuple(found)
    return tuple(found)


def _too_long(text: str, limits: Limits) -> Diagnostic:
    # Nothing is parsed or split, so a huge text costs no more than measuring it.
    first_line = text[:200].split("\n", 1)[0]
    return Diagnostic(
        f"the plan is {len(text):,} characters long, more than the limit of"
        f" {limits.max_plan_chars:,} (max_plan_chars)", 1, 1, None,
        "split the plan into smaller plans; " + raise_hint("max_plan_chars"),
        "error", first_line)


def _dedent_diagnostic(exc: DedentError, lines: list[str], first: int,
                       piece_lines: list[str]) -> Diagnostic:
    # Lark's indenter names no line; find the first line whose indentation
    # matches none of the open blocks.
    levels = [0]
    for offset, line in enumerate(piece_lines):
        if not line.strip() or line.strip().startswith("#"):
            continue
        indent_text = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent_text and " " in indent_text:
            return _indent_error(first + offset, lines, "mixes tabs and spaces")
        indent = len(indent_text.expandtabs(_PlanIndenter.tab_len))
        if indent > levels[-1]:
            levels.append(indent)
            continue
        while indent < levels[-1]:
            levels.pop()
        if indent != levels[-1]:
            return _indent_error(first + offset, lines, "does not line up with any line above")
    return _indent_error(first, lines, "is inconsistent")


def _indent_error(index: int, lines: list[str], what: str) -> Diagnostic:
    return Diagnostic(
        f"the indentation of this line {what}", index + 1, 1, None,
        "indent every line of a block by the same spaces, and do not mix tabs and spaces",
        "error", lines[index] if index < len(lines) else "")


def _build(builder: _TreeBuilder, lark_tree: Tree[Token]) -> Any:
    try:
        return builder.transform(lark_tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, _NodeError):
            builder.diagnostics.append(exc.orig_exc.diagnostic)
            return None
        raise
    except RecursionError:
        return None


# The name of a rule whose text did not parse, even when its keyword is misspelled.
_RULE_HEAD = re.compile(r"\S+\s+([A-Za-z_][A-Za-z0-9_]*)\s+on\b")


def _pieces(lines: list[str]) -> list[tuple[int, list[str]]]:
    """Split a file into top-level pieces: (index of first line, the lines)."""
    pieces: list[tuple[int, list[str]]] = []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            if pieces:
                pieces[-1][1].append(line)
            continue
        if line[0] not in " \t" or not pieces:
            pieces.append((index, [line]))
        else:
            pieces[-1][1].append(line)
    return pieces


def _parse_pieces(lines: list[str], limits: Limits) -> ParseOutcome:
    parser = _parser()

    def parse_piece(piece: str) -> object:
        return parser.parse(piece, start="chunk")

    diagnostics: list[Diagnostic] = []
    header: _Header | None = None
    items: list[Any] = []
    unparsed: set[str] = set()
    # Rules followed by a clause that lost its indentation: their missing
    # clauses are that mistake's consequence, not a mistake of their own.
    incomplete: set[str] = set()
    last_rule: str | None = None
    builder = _TreeBuilder(lines, limits=limits)
    for first, piece_lines in _pieces(lines):
        piece = "\n".join(piece_lines) + "\n"
        try:
            lark_tree = parser.parse(piece, start="chunk")
        except DedentError as exc:
            diagnostics.append(_dedent_diagnostic(exc, lines, first, piece_lines))
            continue
        except RecursionError:
            diagnostics.append(_too_deep(lines, limits))
            continue
        except UnexpectedInput as exc:
            diagnostic = describe_syntax_error(exc, lines, parser, parse_piece, first)
            diagnostics.append(diagnostic)
            head = _RULE_HEAD.match(piece_lines[0])
            if head:
                unparsed.add(head.group(1))
            elif last_rule is not None and diagnostic.message == CLAUSE_OUTSIDE_RULE:
                incomplete.add(last_rule)
            continue
        if _lark_depth(lark_tree) > _max_lark_depth(limits):
            diagnostics.append(_too_deep(lines, limits))
            continue
        builder.line_offset = first
        known = len(builder.diagnostics)
        item = _build(builder, lark_tree)
        if item is None and len(builder.diagnostics) == known:
            diagnostics.append(_too_deep(lines, limits))
            continue
        if isinstance(item, _Header):
            header = item
        elif item is not None:
            items.append(item)
            last_rule = getattr(item, "name", None)
    diagnostics.extend(builder.diagnostics)
    diagnostics.sort(key=lambda d: (d.line, d.column))
    if header is None:
        diagnostics.insert(0, Diagnostic(
            "the plan has no header line", 1, 1, None,
            'start the file with a line such as: plan "counselling-2025" version "2025.1"',
            "error", lines[0] if lines else ""))
        return ParseOutcome(None, tuple(diagnostics), frozenset(unparsed))
    builder.line_offset = 0
    plan = builder.assemble(header, items)
    diagnostics.extend(d for d in builder.diagnostics if d not in diagnostics)
    return ParseOutcome(plan, tuple(diagnostics), frozenset(unparsed), frozenset(incomplete))


# ---------------------------------------------------------------- tree building


class _NodeError(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


_ESCAPE = re.compile(r"\\(.)")


def _unquote(token: Token) -> str:
    """Return a string literal's text; its only escapes are \\" and \\\\."""
    text = str(token)[1:-1]
    if "\\" not in text:
        return text
    return _ESCAPE.sub(lambda match: match.group(1), text)


@v_args(meta=True)
class _TreeBuilder(Transformer[Token, Any]):
    """Turn Lark's parse tree into ``tree`` nodes, collecting diagnostics."""

    def __init__(self, lines: list[str], line_offset: int = 0,
                 limits: Limits = DEFAULT_LIMITS):
        super().__init__()
        self.lines = lines
        self.limits = limits
        self.line_offset = line_offset
        self.diagnostics: list[Diagnostic] = []

    def _tpos(self, token: Token) -> t.Pos:
        offset = self.line_offset
        line = (token.line or 1) + offset
        column = token.column or 1
        end_line = (token.end_line or token.line or 1) + offset
        end_column = token.end_column or column + len(str(token))
        return t.Pos(line, column, end_line, end_column)

    def _mpos(self, meta: Any) -> t.Pos:
        offset = self.line_offset
        if getattr(meta, "empty", True):
            return t.Pos(1 + offset, 1, 1 + offset, 1)
        return t.Pos(meta.line + offset, meta.column, meta.end_line + offset, meta.end_column)

    # ---- helpers

    def STRING(self, token: Token) -> Token:  # noqa: N802 - Lark calls terminal callbacks by name
        if "\\" not in token:
            return token
        for match in _ESCAPE.finditer(str(token)[1:-1]):
            if match.group(1) not in ('"', "\\"):
                self._report(
                    f"unknown escape \\{match.group(1)} in the text {token}",
                    self._tpos(token),
                    'the only escapes are \\" for a quote and \\\\ for a backslash')
                break
        return token

    def _diagnostic(self, message: str, pos: t.Pos, hint: str | None = None) -> Diagnostic:
        source = self.lines[pos.line - 1] if 0 < pos.line <= len(self.lines) else None
        end = pos.end_column if pos.end_line == pos.line else None
        return Diagnostic(message, pos.line, pos.column, end, hint, "error", source)

    def _report(self, message: str, pos: t.Pos, hint: str | None = None) -> None:
        self.diagnostics.append(self._diagnostic(message, pos, hint))

    def _decimal(self, token: Token) -> Decimal:
        text = str(token).rstrip("%").replace(",", "")
        digits = len(text.replace(".", ""))
        limit = self.limits.max_number_digits
        if digits > limit:
            self._report(
                f"number {str(token)[:20]}... has {digits} digits, more than the limit of"
                f" {limit} (max_number_digits)",
                self._tpos(token),
                "write a shorter number; " + raise_hint("max_number_digits"),
            )
            # A stand-in of 1 causes no second error, such as a division by
            # zero or zero installments, for a number already reported.
            return Decimal(1)
        return Decimal(text)

    def _date(self, token: Token) -> date:
        try:
            return date.fromisoformat(str(token))
        except ValueError:
            self._report(
                f"{token} is not a calendar date",
                self._tpos(token),
                "write a real date as YYYY-MM-DD, such as 2025-02-28",
            )
            return date(1970, 1, 1)

    # ---- plan

    def start(self, meta: Any, children: list[Any]) -> t.PlanTree:
        return self.assemble(children[0], children[1:])

    def assemble(self, header: _Header, items: list[Any]) -> t.PlanTree:
        """Build the plan from its header and its top-level items, in file order."""
        name, version, header_pos = header.name, header.version, header.pos
        currency = rounding = None
        settings: list[tuple[str, t.Pos]] = []
        rules: list[t.Rule] = []
        examples: list[t.Example] = []
        invariants: list[t.Invariant] = []
        quotas: list[t.Quota] = []
        versions: list[t.PlanVersion] = []
        rates: list[t.ExchangeRate] = []
        alerts: list[t.Alert] = []
        for item in items:
            if isinstance(item, t.ExchangeRate):
                rates.append(item)
            elif isinstance(item, t.PlanVersion):
                versions.append(item)
            elif isinstance(item, t.Quota):
                quotas.append(item)
            elif isinstance(item, t.Alert):
                alerts.append(item)
            elif isinstance(item, t.Example):
                examples.append(item)
            elif isinstance(item, t.Invariant):
                invariants.append(item)
            elif isinstance(item, tuple) and item[0] == "currency":
                if currency is not None:
                    self._report("the currency is set twice", item[2], "keep one currency line")
                currency = item[1]
                settings.append(("currency", item[2]))
            elif isinstance(item, tuple) and item[0] == "rounding":
                if rounding is not None:
                    self._report("the rounding is set twice", item[2], "keep one rounding line")
                rounding = item[1]
                settings.append(("rounding", item[2]))
            elif versions:
                rules.append(dataclasses.replace(item, version=len(versions)))
            else:
                rules.append(item)
        return t.PlanTree(
            name, version, currency, rounding, tuple(rules), tuple(examples),
            header_pos, tuple(settings), tuple(invariants), tuple(quotas), tuple(alerts),
            tuple(versions), tuple(rates),
        )

    def chunk(self, meta: Any, children: list[Any]) -> Any:
        return children[0]

    def plan_decl(self, meta: Any, children: list[Token]) -> _Header:
        return _Header(_unquote(children[0]), _unquote(children[1]), self._mpos(meta))

    def currency_decl(self, meta: Any, children: list[Token]) -> tuple[str, str, t.Pos]:
        return ("currency", str(children[0]), self._tpos(children[0]))

    def rounding_decl(self, meta: Any, children: list[Any]) -> tuple[str, str, t.Pos]:
        return ("rounding", str(children[0]), self._tpos(children[0]))

    def per_line(self, meta: Any, children: list[Any]) -> None:
        return None

    def exchange_decl(self, meta: Any, children: list[Token]) -> t.ExchangeRate:
        currency, rate, start = children
        return t.ExchangeRate(str(currency), self._decimal(rate), self._date(start),
                              self._mpos(meta))

    def version_decl(self, meta: Any, children: list[Token]) -> t.PlanVersion:
        return t.PlanVersion(_unquote(children[0]), self._date(children[1]), self._mpos(meta))

    # ---- rules

    def _clauses(self, children: list[Any], allowed: set[str]) -> tuple[dict[str, Any], list[tuple[str, t.Pos]]]:
        found: dict[str, Any] = {}
        positions: list[tuple[str, t.Pos]] = []
        for clause in children:
            key, value, pos = clause
            if key not in allowed:
                self._report(f"'{_CLAUSE_WORDS[key]}' cannot appear in this kind of rule", pos,
                             f"the clauses allowed here are: {', '.join(sorted(_CLAUSE_WORDS[k] for k in allowed))}")
                continue
            if key in found:
                self._report(f"the rule has two '{_CLAUSE_WORDS[key]}' clauses", pos,
                             "keep one of them")
                continue
            found[key] = value
            positions.append((key, pos))
        return found, positions

    def commission_rule(self, meta: Any, children: list[Any]) -> t.CommissionRule:
        name, subject, *clauses = children
        found, positions = self._clauses(
            clauses, {"payee", "split", "dated", "effective", "rate_table", "rate_line",
                      "tier_table", "accelerator", "installments", "refund", *_LIMIT_KEYS}
        )
        if "payee" in found and "split" in found:
            self._report("the rule has both 'paid to' and 'split between'", self._mpos(meta),
                         "keep one: 'split between' already names every payee")
        pos = self._mpos(meta)
        if "rate_table" in found and "rate_line" in found:
            self._report("the rule has both a rate line and a rate table", pos, "keep one of them")
        if "tier_table" in found and ("rate_table" in found or "rate_line" in found):
            self._report("the rule has both rates and tiers", pos, "keep one of them")
        tiers = None
        if "tier_table" in found:
            base, tiers = found["tier_table"]
            rows: tuple[t.RateRow, ...] = ()
        else:
            base, rows = found.get("rate_table") or found.get("rate_line") or (None, ())
        return t.CommissionRule(
            str(name), str(subject), found.get("payee"), found.get("dated"),
            found.get("effective"), base, tuple(rows), found.get("installments"),
            found.get("refund"), pos, self._tpos(name), tuple(positions),
            found.get("split", ()), tiers, found.get("accelerator"),
            tuple(found[key] for key in _LIMIT_KEYS if key in found),
        )

    def onetime_rule(self, meta: Any, children: list[Any]) -> t.OneTimeRule:
        kind, name, subject, *clauses = children
        found, positions = self._clauses(clauses, {"payee", "dated", "effective", "when", "amount"})
        return t.OneTimeRule(
            kind, str(name), str(subject), found.get("payee"), found.get("dated"),
            found.get("effective"), found.get("when"), found.get("amount"),
            self._mpos(meta), self._tpos(name), tuple(positions),
        )

    def cohort_rule(self, meta: Any, children: list[Any]) -> t.CohortRule:
        name, subject, *clauses = children
        found, positions = self._clauses(
            clauses, {"payee", "dated", "effective", "members", "retained", "when", "amount", "cohort_payout"}
        )
        return t.CohortRule(
            str(name), str(subject), found.get("payee"), found.get("dated"),
            found.get("effective"), found.get("members"), found.get("retained"),
            found.get("when"), found.get("amount"), found.get("cohort_payout"),
            self._mpos(meta), self._tpos(name), tuple(positions),
        )

    def override_rule(self, meta: Any, children: list[Any]) -> t.OverrideRule:
        name, of, *levels = children
        return t.OverrideRule(str(name), str(of), tuple(levels), self._mpos(meta),
                              self._tpos(name), self._tpos(of))

    def override_level(self, meta: Any, children: list[Token]) -> t.OverrideLevel:
        return t.OverrideLevel(self._whole(children[0], "levels"),
                               self._percent(children[1]), self._mpos(meta))

    def draw_rule(self, meta: Any, children: list[Any]) -> t.DrawRule:
        name, of, *clauses = children
        found, positions = self._clauses(clauses, {"draw_amount", "draw_recover", "draw_for",
                                                   "draw_window"})
        kind, amount = found.get("draw_amount", ("recoverable", None))
        start, end = found.get("draw_window", (None, None))
        return t.DrawRule(str(name), str(of), amount, kind == "recoverable",
                          found.get("draw_recover"), found.get("draw_for"), start, end,
                          self._mpos(meta), self._tpos(name), self._tpos(of), tuple(positions))

    def draw_recoverable(self, meta: Any, children: list[Token]) -> tuple[str, Any, t.Pos]:
        return ("draw_amount", ("recoverable", self._decimal(children[0])), self._mpos(meta))

    def draw_guaranteed(self, meta: Any, children: list[Token]) -> tuple[str, Any, t.Pos]:
        return ("draw_amount", ("guaranteed", self._decimal(children[0])), self._mpos(meta))

    def draw_recover(self, meta: Any, children: list[Token]) -> tuple[str, Any, t.Pos]:
        return ("draw_recover", self._decimal(children[0]), self._mpos(meta))

    def draw_for(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("draw_for", children[0], self._mpos(meta))

    def draw_window(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        end = children[1] if len(children) > 1 else None
        return ("draw_window", (str(children[0]), end), self._mpos(meta))

    def draw_until(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def quota_decl(self, meta: Any, children: list[Any]) -> t.Quota:
        name, subject, *clauses = children
        found, _positions = self._clauses(clauses, {"credited", "dated", "when", "measure",
                                                    "target"})
        return t.Quota(str(name), str(subject), found.get("credited"), found.get("dated"),
                       found.get("when"), found.get("measure"), found.get("target"),
                       self._mpos(meta), self._tpos(name))

    def alert_decl(self, meta: Any, children: list[Any]) -> t.Alert:
        name, (kind, quota, percent) = children
        return t.Alert(str(name), kind, str(quota), percent, self._mpos(meta), self._tpos(name),
                       self._tpos(quota))

    def alert_behind(self, meta: Any, children: list[Token]) -> tuple[str, Token, t.Percent]:
        return ("behind", children[0], self._percent(children[1]))

    def alert_below(self, meta: Any, children: list[Token]) -> tuple[str, Token, t.Percent]:
        return ("below", children[0], self._percent(children[1]))

    def credited_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("credited", children[0], self._mpos(meta))

    def measure_total(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        pos = self._mpos(meta)
        return ("measure", t.QuotaMeasure("total", children[0], None, pos), pos)

    def measure_count(self, meta: Any, children: list[Token]) -> tuple[str, Any, t.Pos]:
        pos = self._mpos(meta)
        measure = t.QuotaMeasure("count", None, str(children[0]), self._tpos(children[0]))
        return ("measure", measure, pos)

    def target_records(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        pos = self._mpos(meta)
        metric = children[0] if children else None
        return ("target", t.QuotaTarget(metric, None, pos), pos)

    def target_metric(self, meta: Any, children: list[Token]) -> str:
        return _unquote(children[0])

    def target_constant(self, meta: Any, children: list[Token]) -> tuple[str, Any, t.Pos]:
        pos = self._mpos(meta)
        return ("target", t.QuotaTarget(None, self._decimal(children[0]), pos), pos)

    def kind_bonus(self, meta: Any, children: list[Any]) -> str:
        return "bonus"

    def kind_penalty(self, meta: Any, children: list[Any]) -> str:
        return "penalty"

    def kind_referral(self, meta: Any, children: list[Any]) -> str:
        return "referral"

    def payee_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("payee", children[0], self._mpos(meta))

    def split_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("split", tuple(children), self._mpos(meta))

    def split_share(self, meta: Any, children: list[Any]) -> t.SplitShare:
        return t.SplitShare(children[0], self._percent(children[1]), self._mpos(meta))

    def dated_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("dated", children[0], self._mpos(meta))

    def effective_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("effective", children[0], self._mpos(meta))

    def effective_from(self, meta: Any, children: list[Any]) -> t.Effective:
        end = children[1] if len(children) > 1 else None
        return t.Effective(self._date(children[0]), end, self._mpos(meta))

    def effective_until(self, meta: Any, children: list[Any]) -> t.Effective:
        return t.Effective(None, children[0], self._mpos(meta))

    def until(self, meta: Any, children: list[Token]) -> date:
        return self._date(children[0])

    def row_range(self, meta: Any, children: list[Any]) -> t.Effective:
        effective: t.Effective = children[0]
        return effective

    def rate_table(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        base, *rows = children
        return ("rate_table", (base, tuple(rows)), self._mpos(meta))

    def rate_row_when(self, meta: Any, children: list[Any]) -> t.RateRow:
        rate = self._percent(children[0])
        effective = children[2] if len(children) > 2 else None
        return t.RateRow(rate, children[1], effective, self._mpos(meta))

    def rate_row_otherwise(self, meta: Any, children: list[Any]) -> t.RateRow:
        rate = self._percent(children[0])
        effective = children[1] if len(children) > 1 else None
        return t.RateRow(rate, None, effective, self._mpos(meta))

    def rate_line(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        rate = self._percent(children[0])
        row = t.RateRow(rate, None, None, rate.pos)
        return ("rate_line", (children[1], (row,)), self._mpos(meta))

    def tier_table(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        base, *rest = children
        by_count = rest[0] is _BY_COUNT
        if by_count:
            rest.pop(0)
        mode, *rows = rest
        table = t.TierTable(mode, tuple(rows), self._mpos(meta), by_count)
        return ("tier_table", (base, table), self._mpos(meta))

    def tier_by_count(self, meta: Any, children: list[Any]) -> object:
        return _BY_COUNT

    def tier_flat(self, meta: Any, children: list[Any]) -> str:
        return "flat"

    def tier_marginal(self, meta: Any, children: list[Any]) -> str:
        return "marginal"

    def tier_up_to(self, meta: Any, children: list[Token]) -> t.TierRow:
        return t.TierRow(self._percent(children[0]), self._decimal(children[1]), True,
                         self._mpos(meta))

    def tier_below(self, meta: Any, children: list[Token]) -> t.TierRow:
        return t.TierRow(self._percent(children[0]), self._decimal(children[1]), False,
                         self._mpos(meta))

    def tier_above(self, meta: Any, children: list[Token]) -> t.TierRow:
        return t.TierRow(self._percent(children[0]), None, False, self._mpos(meta))

    def accelerator_table(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        quota, *bands = children
        pos = self._mpos(meta)
        return ("accelerator", t.Accelerator(str(quota), tuple(bands), pos, self._tpos(quota)), pos)

    def band_up_to(self, meta: Any, children: list[Token]) -> t.Band:
        bound = self._percent(children[1]).value
        return t.Band(self._decimal(children[0]), bound, True, self._mpos(meta))

    def band_below(self, meta: Any, children: list[Token]) -> t.Band:
        bound = self._percent(children[1]).value
        return t.Band(self._decimal(children[0]), bound, False, self._mpos(meta))

    def band_above(self, meta: Any, children: list[Token]) -> t.Band:
        return t.Band(self._decimal(children[0]), None, False, self._mpos(meta))

    def cap_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return self._limit("cap", meta, children)

    def floor_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return self._limit("floor", meta, children)

    def _limit(self, kind: str, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        amount, scope = children
        pos = self._mpos(meta)
        return (f"{kind}_{scope}", t.Limit(kind, self._decimal(amount), scope, pos), pos)

    def scope_line(self, meta: Any, children: list[Any]) -> str:
        return "line"

    def scope_contract(self, meta: Any, children: list[Any]) -> str:
        return "contract"

    def scope_period(self, meta: Any, children: list[Any]) -> str:
        return "period"

    def installments_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("installments", children[0], self._mpos(meta))

    def refund_block(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        pos = self._mpos(meta)
        action = None
        clawback: tuple[str, int | None] | None = None
        for kind, value, stmt_pos in children:
            if kind == "action":
                if action is not None:
                    self._report("the refund block says twice what a refund does", stmt_pos,
                                 "keep either 'stop unpaid installments' or 'ignore refunds'")
                action = value
            else:
                if clawback is not None:
                    self._report("the refund block has two clawback lines", stmt_pos, "keep one of them")
                clawback = value
        mode, days = clawback or ("never", None)
        return ("refund", t.RefundPolicy(action or "stop", mode, days, pos), pos)

    def refund_stop(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("action", "stop", self._mpos(meta))

    def refund_ignore(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("action", "ignore", self._mpos(meta))

    def refund_clawback(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("clawback", children[-1], self._mpos(meta))

    def clawback_object(self, meta: Any, children: list[Any]) -> None:
        return None

    def clawback_always(self, meta: Any, children: list[Any]) -> tuple[str, None]:
        return ("always", None)

    def clawback_never(self, meta: Any, children: list[Any]) -> tuple[str, None]:
        return ("never", None)

    def clawback_within(self, meta: Any, children: list[Token]) -> tuple[str, int]:
        return ("within", int(self._whole(children[0], "days")))

    def when_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("when", children[0], self._mpos(meta))

    def amount_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("amount", children[0], self._mpos(meta))

    def members_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("members", children[0], self._mpos(meta))

    def retained_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        return ("retained", children[0], self._mpos(meta))

    def cohort_payout_clause(self, meta: Any, children: list[Any]) -> tuple[str, Any, t.Pos]:
        months = children[0] if children else 0
        return ("cohort_payout", months, self._mpos(meta))

    def cohort_offset(self, meta: Any, children: list[Token]) -> int:
        return self._whole(children[0], "months")

    def _whole(self, token: Token, unit: str) -> int:
        value = self._decimal(token)
        if value != value.to_integral_value():
            self._report(f"{token} is not a whole number of {unit}", self._tpos(token),
                         f"write a whole number of {unit}, such as 3")
            return 1
        if value > self.limits.max_duration:
            self._report(f"{token} {unit} is too long", self._tpos(token),
                         f"write at most {self.limits.max_duration} {unit}; "
                         + raise_hint("max_duration"))
            # As in _decimal, a stand-in of 1 (not 0, which 'level' rejects).
            return 1
        return int(value)

    # ---- expressions

    def _binary(self, op: str, meta: Any, children: list[Any]) -> t.Binary:
        return t.Binary(op, children[0], children[-1], self._mpos(meta))

    def or_(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("or", meta, children)

    def and_(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("and", meta, children)

    def not_(self, meta: Any, children: list[Any]) -> t.Unary:
        return t.Unary("not", children[0], self._mpos(meta))

    def compare(self, meta: Any, children: list[Any]) -> t.Binary:
        return t.Binary(str(children[1]), children[0], children[2], self._mpos(meta))

    def is_(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("is", meta, children)

    def is_not(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("is not", meta, children)

    def is_set(self, meta: Any, children: list[Any]) -> t.IsSet:
        return t.IsSet(children[0], False, self._mpos(meta))

    def is_not_set(self, meta: Any, children: list[Any]) -> t.IsSet:
        return t.IsSet(children[0], True, self._mpos(meta))

    def in_(self, meta: Any, children: list[Any]) -> t.InList:
        return t.InList(children[0], children[1], False, self._mpos(meta))

    def not_in(self, meta: Any, children: list[Any]) -> t.InList:
        return t.InList(children[0], children[1], True, self._mpos(meta))

    def add(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("+", meta, children)

    def sub(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("-", meta, children)

    def mul(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("*", meta, children)

    def div(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("/", meta, children)

    def of(self, meta: Any, children: list[Any]) -> t.Binary:
        return self._binary("of", meta, children)

    def neg(self, meta: Any, children: list[Any]) -> t.Unary:
        return t.Unary("-", children[0], self._mpos(meta))

    def number(self, meta: Any, children: list[Token]) -> t.Number:
        return t.Number(self._decimal(children[0]), self._tpos(children[0]))

    def percent(self, meta: Any, children: list[Token]) -> t.Percent:
        return self._percent(children[0])

    def _percent(self, token: Token) -> t.Percent:
        # Other rules call this, not percent: lark's v_args wraps public
        # methods, and each read of a wrapped method builds a new wrapper.
        return t.Percent(self._decimal(token), self._tpos(token))

    def text(self, meta: Any, children: list[Token]) -> t.Text:
        return t.Text(_unquote(children[0]), self._tpos(children[0]))

    def date(self, meta: Any, children: list[Token]) -> t.DateLiteral:
        return t.DateLiteral(self._date(children[0]), self._tpos(children[0]))

    def true(self, meta: Any, children: list[Any]) -> t.Boolean:
        return t.Boolean(True, self._mpos(meta))

    def false(self, meta: Any, children: list[Any]) -> t.Boolean:
        return t.Boolean(False, self._mpos(meta))

    def path(self, meta: Any, children: list[Token]) -> t.Path:
        return t.Path(tuple(map(str, children)), self._mpos(meta))

    def new_customer(self, meta: Any, children: list[Any]) -> t.CustomerStatus:
        return t.CustomerStatus(True, self._mpos(meta))

    def returning_customer(self, meta: Any, children: list[Any]) -> t.CustomerStatus:
        return t.CustomerStatus(False, self._mpos(meta))

    def fully_refunded(self, meta: Any, children: list[Any]) -> t.FullyRefunded:
        return t.FullyRefunded(children[0] if children else None, self._mpos(meta))

    def within(self, meta: Any, children: list[Any]) -> t.Duration:
        duration: t.Duration = children[0]
        return duration

    def where(self, meta: Any, children: list[Any]) -> Any:
        return children[0]

    def duration(self, meta: Any, children: list[Any]) -> t.Duration:
        unit = children[1]
        return t.Duration(self._whole(children[0], unit), unit, self._mpos(meta))

    def unit_days(self, meta: Any, children: list[Any]) -> str:
        return "days"

    def unit_months(self, meta: Any, children: list[Any]) -> str:
        return "months"

    def aggregate(self, meta: Any, children: list[Any]) -> t.Aggregate:
        function, collection, field = children
        return t.Aggregate(function, str(collection), str(field), self._mpos(meta))

    def agg_first(self, meta: Any, children: list[Any]) -> str:
        return "first"

    def agg_latest(self, meta: Any, children: list[Any]) -> str:
        return "latest"

    def agg_average(self, meta: Any, children: list[Any]) -> str:
        return "average"

    def agg_minimum(self, meta: Any, children: list[Any]) -> str:
        return "minimum"

    def agg_maximum(self, meta: Any, children: list[Any]) -> str:
        return "maximum"

    def agg_total(self, meta: Any, children: list[Any]) -> str:
        return "total"

    def count(self, meta: Any, children: list[Any]) -> t.Count:
        where = children[1] if len(children) > 1 else None
        return t.Count(str(children[0]), where, self._mpos(meta))

    def commission_ref(self, meta: Any, children: list[Token]) -> t.CommissionRef:
        return t.CommissionRef(str(children[0]), self._mpos(meta))

    # ---- invariants

    def invariant(self, meta: Any, children: list[Any]) -> t.Invariant:
        name, scope, condition = children
        return t.Invariant(_unquote(name), str(scope), condition, self._mpos(meta),
                           self._tpos(scope))

    # ---- examples

    def example(self, meta: Any, children: list[Any]) -> t.Example:
        name_token, as_of_token, *rest = children
        rounding = rest.pop(0) if isinstance(rest[0], str) else None
        records, *outcome = rest
        closed: tuple[str | None, tuple[str, ...]] = (None, ())
        if len(outcome) == 2:
            closed = outcome.pop(0)
        invalid = None
        expected: tuple[t.ExpectedLine, ...] = ()
        if isinstance(outcome[0], _Invalid):
            invalid = outcome[0].fragment
        else:
            expected = outcome[0]
        try:
            as_of = datetime.fromisoformat(str(as_of_token))
        except ValueError:
            self._report(f"{as_of_token} is not a real time", self._tpos(as_of_token),
                         "write a real date and time, such as 2025-12-31T00:00:00+08:00")
            as_of = datetime(2000, 1, 1, tzinfo=timezone.utc)
        return t.Example(_unquote(name_token), as_of, rounding, records, expected,
                         self._mpos(meta), invalid, closed[0], closed[1])

    def example_closed(self, meta: Any, children: list[Any]) -> tuple[str, tuple[str, ...]]:
        before: tuple[str, ...] = children[1] if len(children) > 1 else ()
        return (str(children[0]), before)

    def closed_before(self, meta: Any, children: list[str]) -> tuple[str, ...]:
        return tuple(children)

    def example_invalid(self, meta: Any, children: list[Token]) -> _Invalid:
        return _Invalid(_unquote(children[0]))

    def example_rounding(self, meta: Any, children: list[Token]) -> str:
        return str(children[0])

    def example_records(self, meta: Any, children: list[Any]) -> tuple[t.RecordLiteral, ...]:
        return tuple(children)

    def record_literal(self, meta: Any, children: list[Any]) -> t.RecordLiteral:
        record_type, *fields = children
        return t.RecordLiteral(str(record_type), tuple(fields), self._mpos(meta))

    def record_field(self, meta: Any, children: list[Any]) -> tuple[str, t.FieldValue]:
        return (str(children[0]), children[1])

    def _value(self, kind: str, meta: Any, children: list[Token]) -> t.FieldValue:
        if children:
            text = str(children[0])
            if kind == "text":
                text = _unquote(children[0])
            return t.FieldValue(kind, text, self._tpos(children[0]))
        return t.FieldValue(kind, kind, self._mpos(meta))

    def value_word(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return self._value("word", meta, children)

    def value_text(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return self._value("text", meta, children)

    def value_number(self, meta: Any, children: list[Token]) -> t.FieldValue:
        value = self._value("number", meta, children)
        return t.FieldValue("number", value.text.replace(",", ""), value.pos)

    def value_negative(self, meta: Any, children: list[Token]) -> t.FieldValue:
        value = self._value("number", meta, children)
        return t.FieldValue("number", "-" + value.text.replace(",", ""), self._mpos(meta))

    def value_timestamp(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return self._value("timestamp", meta, children)

    def value_period(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return self._value("period", meta, children)

    def value_null(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return t.FieldValue("null", "null", self._mpos(meta))

    def value_true(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return t.FieldValue("boolean", "true", self._mpos(meta))

    def value_false(self, meta: Any, children: list[Token]) -> t.FieldValue:
        return t.FieldValue("boolean", "false", self._mpos(meta))

    def example_expect(self, meta: Any, children: list[Any]) -> tuple[t.ExpectedLine, ...]:
        return tuple(child for child in children if child is not None)

    def expect_line(self, meta: Any, children: list[Any]) -> t.ExpectedLine:
        payee, period, kind, amount = children
        return t.ExpectedLine(payee, str(period), str(kind), amount, self._mpos(meta))

    def expect_nothing(self, meta: Any, children: list[Any]) -> None:
        return None

    def payee_id(self, meta: Any, children: list[Token]) -> str:
        token = children[0]
        return _unquote(token) if token.type == "STRING" else str(token)

    def amount_positive(self, meta: Any, children: list[Token]) -> Decimal:
        return self._decimal(children[0])

    def amount_negative(self, meta: Any, children: list[Token]) -> Decimal:
        # copy_negate is exact in any decimal context.
        return self._decimal(children[0]).copy_negate()

    # Last in the class: once the method named ``list`` is bound, ``list``
    # in a later annotation of this class body names the method, not the type.
    def list(self, meta: Any, children: list[Any]) -> tuple[Any, ...]:
        return tuple(children)


_LIMIT_KEYS = tuple(f"{kind}_{scope}" for kind in ("cap", "floor")
                    for scope in ("line", "contract", "period"))

_CLAUSE_WORDS: dict[str, str] = {
    "payee": "paid to",
    "split": "split between",
    "dated": "dated by",
    "effective": "effective",
    "rate_table": "rate of ...:",
    "rate_line": "rate",
    "tier_table": "tiers of ...:",
    "accelerator": "accelerate by ... attainment:",
    "installments": "pay in ... monthly installments",
    "refund": "on refund",
    "when": "when",
    "amount": "amount",
    "members": "members when",
    "retained": "retained when",
    "cohort_payout": "paid in the cohort month",
    **{key: f"{key.replace('_', ' per ', 1)}" for key in _LIMIT_KEYS},
    "draw_amount": "recoverable/guaranteed ... per period",
    "draw_recover": "recover at most ... per period",
    "draw_for": "for",
    "draw_window": "from ... until ...",
    "credited": "credited to",
    "measure": "measure",
    "target": "target",
}

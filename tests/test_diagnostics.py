"""Plan diagnostics: the catalogue of common mistakes, recovery, and their places."""

from __future__ import annotations

import pytest

from commission_engine import PlanError, load_plan
from commission_engine.syntax_errors import CATALOGUE

HEADER = 'plan "p" version "1"\ncurrency CNY\n\n'
RULE = "commission base on contract:\n    paid to contract.rep\n"


def diagnostics_of(text: str) -> list[tuple[int, int, int | None, str, str | None]]:
    with pytest.raises(PlanError) as caught:
        load_plan(text, "p.plan")
    return [(d.line, d.column, d.end_column, d.message, d.hint) for d in caught.value.diagnostics]


# Each row: the plan body after the header (which takes three lines), then the
# expected line, column, caret end, message and hint.
CATALOGUE_CASES = [
    pytest.param(
        RULE + "    rate 8 of contract.amount\n",
        6, 10, 11, "a rate needs a percent sign", "write the rate as a percentage, such as 8%",
        id="rate-without-percent",
    ),
    pytest.param(
        RULE + "    rate of contract.amount:\n        12 when returning customer\n",
        7, 9, 11, "a rate needs a percent sign", "write the rate as a percentage, such as 8%",
        id="row-without-percent",
    ),
    pytest.param(
        RULE + "    rate 8% of contract.amount\n    effective from 03/01/2025\n",
        7, 20, 22, "a date must be written year-month-day",
        "write the date as YYYY-MM-DD, such as 2025-03-01",
        id="date-format",
    ),
    pytest.param(
        RULE + "    rate of contract.amount:\n        8% when new customer, from 2025/03/01\n",
        7, 36, 40, "a date must be written year-month-day",
        "write the date as YYYY-MM-DD, such as 2025-03-01",
        id="row-date-format",
    ),
    pytest.param(
        "commission base on contract\n    paid to contract.rep\n    rate 8% of contract.amount\n",
        4, 28, 29, "this line opens a block, so it must end with a colon",
        "add ':' at the end of the line; the indented lines under it belong to it",
        id="missing-colon",
    ),
    pytest.param(
        RULE + "    rate 8% of contract.amount\n    on refund\n        stop unpaid installments\n",
        7, 14, 15, "this line opens a block, so it must end with a colon",
        "add ':' at the end of the line; the indented lines under it belong to it",
        id="missing-colon-refund",
    ),
    pytest.param(
        RULE + '    rate of contract.amount:\n        8% when product is "family\n',
        7, 28, 35, "the text has no closing quote", 'end the text with " on the same line',
        id="unclosed-string",
    ),
    pytest.param(
        "comission base on contract:\n    paid to contract.rep\n    rate 8% of contract.amount\n",
        4, 1, 10, "unknown word 'comission'", "did you mean 'commission'?",
        id="misspelled-rule-keyword",
    ),
    pytest.param(
        "commission base on contract:\n    payed to contract.rep\n    rate 8% of contract.amount\n",
        5, 5, 10, "unknown word 'payed'", "did you mean 'paid'?",
        id="misspelled-clause-keyword",
    ),
    pytest.param(
        RULE + "    rate of contract.amount:\n        8% wen new customer\n",
        7, 12, 15, "unknown word 'wen'", "did you mean 'when'?",
        id="misspelled-row-keyword",
    ),
    pytest.param(
        RULE + "rate 8% of contract.amount\n",
        6, 1, 5, "this line belongs inside a rule, but it is not indented",
        "indent it under the rule it belongs to, with the same spaces as the lines above",
        id="clause-outside-rule",
    ),
]


@pytest.mark.parametrize(("body", "line", "column", "end", "message", "hint"), CATALOGUE_CASES)
def test_catalogue_entry(body: str, line: int, column: int, end: int, message: str,
                         hint: str) -> None:
    found = diagnostics_of(HEADER + body)

    assert found == [(line, column, end, message, hint)]


def test_every_catalogue_entry_tested() -> None:
    messages = {case.values[4] for case in CATALOGUE_CASES}
    for label, mistake in CATALOGUE.items():
        if label == "misspelled keyword":
            assert any(m.startswith("unknown word") for m in messages)
        else:
            assert mistake.message in messages, label


def test_five_mistakes_in_one_run() -> None:
    text = HEADER + (
        "comission base on contract:\n"              # 4: misspelled keyword
        "    paid to contract.rep\n"
        "    rate 8% of contract.amount\n"
        "\n"
        "commission second on contract:\n"
        "    paid to contract.rep\n"
        "    rate of contract.amount:\n"
        "        8 when new customer\n"              # 11: rate without %
        "\n"
        "bonus extra on contract\n"                  # 13: missing colon
        "    paid to contract.rep\n"
        "    amount 2% of contract.amount\n"
        "\n"
        "bonus typed on contract:\n"
        "    paid to contract.rep\n"
        "    amount contract.amount + 2%\n"          # 19: money + percentage
        "\n"
        "penalty low on contract:\n"
        "    paid to contract.rep\n"
        "    when first survey.scor < 70\n"          # 23: unknown field
        "    amount 10% of commission base\n"
    )

    found = diagnostics_of(text)

    assert [(line, message) for line, _, _, message, _ in found] == [
        (4, "unknown word 'comission'"),
        (11, "a rate needs a percent sign"),
        (13, "this line opens a block, so it must end with a colon"),
        (19, "cannot compute money + percentage"),
        (23, "a satisfaction has no field 'scor'"),
    ]


def test_rendered_diagnostic_has_caret_and_hint() -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(HEADER + RULE + "    rate 8 of contract.amount\n", "p.plan")

    assert str(caught.value).splitlines() == [
        "p.plan:6:10: error: a rate needs a percent sign",
        "        rate 8 of contract.amount",
        "             ^",
        "hint: write the rate as a percentage, such as 8%",
        "p.plan: 1 error; the plan cannot run until it is fixed",
    ]


def test_missing_header() -> None:
    found = diagnostics_of("currency CNY\n" + RULE + "    rate 8% of contract.amount\n")

    assert found[0][:2] == (1, 1)
    assert found[0][3] == "the plan has no header line"


def test_unexpected_token_names_expectation() -> None:
    found = diagnostics_of(HEADER + RULE + "    rate of contract.amount:\n        8% when\n")

    line, column, _, message, hint = found[0]
    assert (line, message) == (7, "unexpected end of line")
    assert hint is not None
    assert "a percentage such as 8%" in hint
    assert "NAME" not in hint
    assert "_NL" not in hint


def test_shadowed_and_overlapping_rows_warn() -> None:
    from commission_engine import load_plan as load

    text = HEADER + (
        "commission base on contract:\n"
        "    paid to contract.rep\n"
        "    rate of contract.amount:\n"
        "        8% when new customer, from 2025-01-01 until 2025-06-30\n"   # 7
        "        9% when new customer, from 2025-06-01\n"                    # 8
        "        12% otherwise\n"                                            # 9
        "        5% when returning customer\n"                               # 10
    )

    plan = load(text)

    warnings = [(w.line, w.severity, w.message) for w in plan.checked.warnings]
    assert warnings == [
        (8, "warning", "the dates of this row overlap the row on line 7, which has the same"
                       " condition: from 2025-06-01 until 2025-06-30 the earlier row wins"),
        (10, "warning", "this row can never match: the 'otherwise' row on line 9 matches"
                        " every contract first"),
    ]


def test_long_rate_table_warnings() -> None:
    # 1,000 rows with distinct conditions, a repeated condition with dated
    # rows, an 'otherwise' row that bounds its dates, and rows after it.
    rows = [f"        1% when contract.amount >= {n}\n" for n in range(1, 1001)]
    rows += [
        "        2% when new customer, from 2025-01-01 until 2025-03-31\n",  # 1007
        "        2% when new customer, from 2025-04-01 until 2025-06-30\n",  # 1008
        "        3% when new customer, from 2025-06-15\n",                   # 1009
        "        4% otherwise, from 2026-01-01\n",                            # 1010
        "        5% when returning customer, until 2025-12-31\n",             # 1011
        "        6% when returning customer, from 2026-02-01\n",              # 1012
        "        7% when contract.amount >= 500\n",                           # 1013
    ]
    text = HEADER + (
        "commission base on contract:\n"
        "    paid to contract.rep\n"
        "    rate of contract.amount:\n"
    ) + "".join(rows)

    plan = load_plan(text)

    warnings = [(w.line, w.message) for w in plan.checked.warnings]
    assert warnings == [
        (1009, "the dates of this row overlap the row on line 1008, which has the same"
               " condition: from 2025-06-15 until 2025-06-30 the earlier row wins"),
        (1012, "this row can never match: the 'otherwise' row on line 1010 matches"
               " every contract first"),
        (1013, "this row can never match: the row on line 506 has the same condition,"
               " comes first, and its dates cover this row's"),
    ]


def test_inverted_range_is_error() -> None:
    found = diagnostics_of(HEADER + RULE + "    rate 8% of contract.amount\n"
                           "    effective from 2025-06-01 until 2025-01-01\n")

    assert found[0][0] == 7
    assert found[0][3] == "the range ends (2025-01-01) before it starts (2025-06-01)"


def test_rate_above_hundred_is_error() -> None:
    found = diagnostics_of(HEADER + RULE + "    rate 800% of contract.amount\n")

    assert found[0][:4] == (6, 10, 14, "rate 800% is above 100%")


def test_zero_installments_is_error() -> None:
    found = diagnostics_of(HEADER + RULE + "    rate 8% of contract.amount\n"
                           "    pay in 0 monthly installments\n")

    assert found[0][3] == "the number of installments must be at least 1"


def test_unknown_subject_is_error() -> None:
    found = diagnostics_of(HEADER + "commission base on invoice:\n    paid to contract.rep\n"
                           "    rate 8% of contract.amount\n")

    assert found[0][3] == "rules on 'invoice' records are not supported"


@pytest.mark.parametrize("body", [
    RULE + "    rate -5% of contract.amount\n",
    RULE + "    rate of contract.amount:\n        -5% when new customer\n",
])
def test_negative_rate_explained(body: str) -> None:
    (found,) = diagnostics_of(HEADER + body)

    assert found[3] == "a rate cannot be negative"
    assert found[4] is not None
    assert "penalty rule" in found[4]


def test_non_ascii_rule_name_hint() -> None:
    (found,) = diagnostics_of(HEADER + "commission 提成 on contract:\n    paid to contract.rep\n"
                                       "    rate 5% of contract.amount\n")

    assert found[3] == "unexpected '提成'"
    assert found[4] == "expected a name (ASCII letters, digits and _, starting with a letter or _)"

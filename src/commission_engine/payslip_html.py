"""A payslip as one self-contained HTML page, with an inline SVG chart.

The page loads nothing: the styles are inline, the chart is inline SVG, and
there are no scripts, web fonts or images, so it opens offline and prints as is.
Amounts carry ``data-amount`` attributes with the exact value, so a program
reading the page gets the same figures as the JSON output.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape

from . import money
from .localize import Formatter, formatter
from .payslip import Payslip
from .payslip_text import kind_name

__all__ = ["LABELS", "payslip_html"]

# The page's own words, by language.
LABELS: dict[str, dict[str, str]] = {
    "en": {
        "title": "Commission statement", "payee": "Payee", "period": "Period",
        "plan": "Plan", "as_of": "As of", "kind": "Kind", "rule": "Rule",
        "amount": "Amount", "explanation": "Explanation", "records": "Records",
        "total": "Total", "draw_balance": "Draw balance after this period",
        "progress": "Target progress", "metric": "Target", "target": "Goal",
        "achieved": "Achieved", "history": "Totals of the last 12 months",
        "digest": "Result digest", "no_lines": "No lines in this period.", "colon": ": ",
    },
    "zh-CN": {
        "title": "佣金结算单", "payee": "收款人", "period": "期间",
        "plan": "方案", "as_of": "截至", "kind": "类型", "rule": "规则",
        "amount": "金额", "explanation": "计算说明", "records": "记录",
        "total": "合计", "draw_balance": "本期后预支余额",
        "progress": "目标完成情况", "metric": "目标", "target": "目标值",
        "achieved": "已完成", "history": "最近 12 个月合计",
        "digest": "结果摘要", "no_lines": "本期没有明细。", "colon": "：",
    },
}

_STYLE = """
body { font-family: sans-serif, "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei"; margin: 2em; color: #1a202c; background: #ffffff; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
table { border-collapse: collapse; width: 100%; margin: 1em 0; }
th, td { border-bottom: 1px solid #cbd5e0; padding: 0.4em; text-align: left;
         vertical-align: top; }
td.amount, th.amount { text-align: right; white-space: nowrap; }
td.negative { color: #c53030; }
tr.total td { font-weight: bold; border-top: 2px solid #1a202c; }
p.meta { color: #4a5568; margin: 0.2em 0; }
p.digest { color: #718096; font-size: 0.8em; word-break: break-all; }
"""

# Chart geometry, in SVG user units.
_CHART_WIDTH = 600
_CHART_HEIGHT = 160
_LABEL_HEIGHT = 20


def payslip_html(payslip: Payslip) -> str:
    """Write the payslip as a complete HTML document."""
    labels = LABELS[payslip.lang]
    fmt = formatter(payslip.lang)
    statement = payslip.statement
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{escape(payslip.lang)}">',
        "<head>",
        '<meta charset="utf-8">',
        f"<title>{escape(labels['title'])} {escape(statement.payee)}"
        f" {escape(statement.period)}</title>",
        f"<style>{_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{escape(labels['title'])}</h1>",
        _meta(labels, "payee", statement.payee),
        _meta(labels, "period", fmt.period(statement.period)),
        _meta(labels, "plan", f"{payslip.plan_name} {payslip.plan_version}"),
        _meta(labels, "as_of", payslip.as_of),
        _lines_table(payslip, fmt, labels),
        _draw_balance(payslip, fmt, labels),
        _progress_table(payslip, fmt, labels),
        f"<h2>{escape(labels['history'])}</h2>",
        _chart(payslip, fmt),
        f'<p class="digest">{escape(labels["digest"] + labels["colon"] + payslip.digest)}</p>',
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _meta(labels: dict[str, str], key: str, value: str) -> str:
    text = labels[key] + labels["colon"] + value
    return f'<p class="meta" id="{key.replace("_", "-")}">{escape(text)}</p>'


def _amount_cell(amount: Decimal, currency: str, fmt: Formatter, element_id: str = "") -> str:
    exact = money.format_amount(amount, currency)
    classes = "amount negative" if amount < 0 else "amount"
    id_attribute = f' id="{element_id}"' if element_id else ""
    return (f'<td class="{classes}"{id_attribute} data-amount="{exact}">'
            f"{escape(fmt.money(amount, currency))}</td>")


def _lines_table(payslip: Payslip, fmt: Formatter, labels: dict[str, str]) -> str:
    statement = payslip.statement
    rows = [
        "<table id=\"lines\">",
        "<thead><tr>"
        f"<th>{escape(labels['kind'])}</th><th>{escape(labels['rule'])}</th>"
        f"<th class=\"amount\">{escape(labels['amount'])}</th>"
        f"<th>{escape(labels['explanation'])}</th><th>{escape(labels['records'])}</th>"
        "</tr></thead>",
        "<tbody>",
    ]
    for line in statement.lines:
        rows.append(
            f'<tr class="line" data-kind="{escape(line.kind)}">'
            f"<td>{escape(kind_name(line.kind, payslip.lang))}</td>"
            f"<td>{escape(line.rule)}</td>"
            f"{_amount_cell(line.amount, line.currency, fmt)}"
            f"<td>{escape(payslip.line_text(line))}</td>"
            f"<td>{escape(', '.join(line.sources))}</td>"
            "</tr>"
        )
    if not statement.lines:
        rows.append(f'<tr><td colspan="5">{escape(labels["no_lines"])}</td></tr>')
    rows += [
        "</tbody>",
        f'<tfoot><tr class="total"><td colspan="2">{escape(labels["total"])}</td>'
        f"{_amount_cell(statement.total, statement.currency, fmt, 'total')}"
        "<td></td><td></td></tr></tfoot>",
        "</table>",
    ]
    return "\n".join(rows)


def _draw_balance(payslip: Payslip, fmt: Formatter, labels: dict[str, str]) -> str:
    if payslip.draw_balance is None:
        return ""
    exact = money.format_amount(payslip.draw_balance, payslip.currency)
    return (f'<p class="meta">{escape(labels["draw_balance"] + labels["colon"])}<span id="draw-balance"'
            f' data-amount="{exact}">{escape(fmt.money(payslip.draw_balance, payslip.currency))}'
            "</span></p>")


def _progress_table(payslip: Payslip, fmt: Formatter, labels: dict[str, str]) -> str:
    if not payslip.progress:
        return ""
    rows = [
        f"<h2>{escape(labels['progress'])}</h2>",
        '<table id="progress">',
        f"<thead><tr><th>{escape(labels['metric'])}</th>"
        f"<th class=\"amount\">{escape(labels['achieved'])}</th>"
        f"<th class=\"amount\">{escape(labels['target'])}</th>"
        "<th class=\"amount\">%</th></tr></thead>",
        "<tbody>",
    ]
    for item in payslip.progress:
        percent = (item.share * 100).quantize(Decimal(1), context=money.EVALUATION_CONTEXT)
        if item.unit == "money":
            achieved = fmt.money(item.achieved, payslip.currency)
            target = fmt.money(item.target, payslip.currency)
        else:
            achieved, target = format(item.achieved, "f"), format(item.target, "f")
        rows.append(
            f"<tr><td>{escape(item.metric)}</td>"
            f'<td class="amount">{escape(achieved)}</td>'
            f'<td class="amount">{escape(target)}</td>'
            f'<td class="amount">{percent}%</td></tr>'
        )
    rows += ["</tbody>", "</table>"]
    return "\n".join(rows)


def _chart(payslip: Payslip, fmt: Formatter) -> str:
    """Draw the history as bars above (or, for a negative total, below) a baseline."""
    totals = [total for _, total in payslip.history]
    high = max([Decimal(0), *totals])
    low = min([Decimal(0), *totals])
    span = high - low or Decimal(1)
    plot = Decimal(_CHART_HEIGHT - _LABEL_HEIGHT)
    baseline = float(high / span * plot)
    slot = _CHART_WIDTH / len(totals)
    bars = []
    for index, (period, total) in enumerate(payslip.history):
        # Pixel geometry only: the amounts themselves stay exact in the labels.
        height = float(abs(total) / span * plot)
        top = baseline - height if total >= 0 else baseline
        colour = "#c53030" if total < 0 else (
            "#2c5282" if period == payslip.statement.period else "#63b3ed")
        x = index * slot + slot * 0.15
        amount = fmt.money(total, payslip.currency)
        bars.append(
            f'<rect x="{x:.1f}" y="{top:.1f}" width="{slot * 0.7:.1f}"'
            f' height="{max(height, 1.0):.1f}" fill="{colour}"'
            f' data-period="{period}" data-amount="{money.format_amount(total, payslip.currency)}">'
            f"<title>{escape(fmt.period(period))}: {escape(amount)}</title></rect>"
        )
        bars.append(
            f'<text x="{index * slot + slot / 2:.1f}" y="{_CHART_HEIGHT - 5}"'
            f' font-size="11" text-anchor="middle">{escape(fmt.short_month(period))}</text>'
        )
    return (
        f'<svg id="history" width="{_CHART_WIDTH}"'
        f' height="{_CHART_HEIGHT}" viewBox="0 0 {_CHART_WIDTH} {_CHART_HEIGHT}" role="img">'
        f'<line x1="0" y1="{baseline:.1f}" x2="{_CHART_WIDTH}" y2="{baseline:.1f}"'
        ' stroke="#4a5568" stroke-width="1"/>'
        + "".join(bars)
        + "</svg>"
    )

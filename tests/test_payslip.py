"""Payslips as JSON, CSV and self-contained HTML, checked in headless Chromium."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import shutil
import struct
import subprocess
import zlib
from datetime import datetime
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import pytest
from helpers import REFERENCE_PLAN, WORKED, one_contract, read_jsonl, run_cli

from commission_engine import attainments, load_plan, load_records
from commission_engine.payslip import (
    Progress,
    build_payslip,
    build_payslips,
    payslip_csv,
)
from commission_engine.payslip_html import payslip_html

AS_OF = "2025-12-31T00:00:00+08:00"
PLAN = load_plan(REFERENCE_PLAN.read_text(encoding="utf-8"))


def e7_result():  # type: ignore[no-untyped-def]
    records = load_records(read_jsonl(WORKED / "E7.jsonl"))
    return PLAN.evaluate(records, datetime.fromisoformat(AS_OF))


def statement_cli(*extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("statement", str(REFERENCE_PLAN), str(WORKED / "E7.jsonl"),
                   "--as-of", AS_OF, *extra)


def test_json_payslip_lines_and_total() -> None:
    completed = statement_cli("--payee", "R1", "--period", "2025-03", "--format", "json",
                              "--lang", "zh-CN")
    assert completed.returncode == 0, completed.stderr
    data = json.loads(completed.stdout)
    assert data["payee"] == "R1"
    assert data["period"] == "2025-03"
    assert data["total"] == "-16.00"
    assert data["total_text"] == "-¥16.00"
    assert [(line["kind"], line["amount"]) for line in data["lines"]] == [
        ("penalty", "-96.00"), ("installment", "80.00")]
    assert data["lines"][0]["kind_name"] == "扣款"
    assert data["lines"][1]["text"].endswith("共 12 期中的第 3 期，到期日 2025年3月15日")
    assert data["draw_balance"] is None
    assert data["progress"] == []
    assert data["digest"].startswith("sha256:")


def test_history_covers_twelve_months() -> None:
    payslip = build_payslip(e7_result(), "R1", "2025-03", "en")
    assert payslip is not None
    periods = [period for period, _ in payslip.history]
    assert periods[0] == "2024-04"
    assert periods[-1] == "2025-03"
    assert len(periods) == 12
    totals = dict(payslip.history)
    assert totals["2024-12"] == Decimal(0)
    assert totals["2025-01"] == Decimal("480.00")
    assert totals["2025-02"] == Decimal("180.00")
    assert totals["2025-03"] == Decimal("-16.00")


def test_missing_statement_is_none() -> None:
    assert build_payslip(e7_result(), "R1", "2030-01", "en") is None


def test_csv_rows_and_total_row() -> None:
    payslips = build_payslips(e7_result(), "en", "R1", "2025-03")
    rows = list(csv.reader(io.StringIO(payslip_csv(payslips))))
    assert rows[0] == ["payee", "period", "kind", "kind_name", "rule", "amount", "currency",
                       "due", "sources", "explanation"]
    assert [row[2] for row in rows[1:]] == ["penalty", "installment", "total"]
    assert rows[1][5] == "-96.00"
    assert rows[1][8] == "K1 Q1"
    assert rows[2][9] == ("base rate 8% (new customer) x CN¥12,000.00 = CN¥960.00;"
                          " installment 3 of 12, due March 15, 2025")
    assert rows[3][5] == "-16.00"


def test_html_has_no_external_assets() -> None:
    payslip = build_payslip(e7_result(), "R1", "2025-03", "zh-CN")
    assert payslip is not None
    page = payslip_html(payslip)
    for marker in ("http:", "https:", "src=", "<link", "<script", "url(", "@import"):
        assert marker not in page
    assert '<html lang="zh-CN">' in page
    assert "<svg" in page


def test_html_draw_balance_when_present() -> None:
    payslip = build_payslip(e7_result(), "R1", "2025-03", "en")
    assert payslip is not None
    assert 'id="draw-balance"' not in payslip_html(payslip)
    assert 'id="progress"' not in payslip_html(payslip)

    shown = dataclasses.replace(
        payslip, draw_balance=Decimal("-500.00"),
        progress=(Progress("new contracts", Decimal("5"), Decimal("4"), "count"),))
    page = payslip_html(shown)
    assert '<span id="draw-balance" data-amount="-500.00">-CN¥500.00</span>' in page
    assert '<td class="amount">80%</td>' in page
    assert shown.to_dict()["draw_balance"] == "-500.00"


QUOTA_PLAN = load_plan('''plan "q" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 8% of contract.amount

quota bookings on contract:
    measure total of contract.amount
    target from records

quota deals on contract:
    measure count of contracts
    target 4
''')


def test_progress_from_attainments() -> None:
    rows = one_contract("12000.00", "2025-03-05T10:00:00+08:00")
    rows.append({"type": "target", "rep": "R1", "period": "2025-03", "metric": "bookings",
                 "value": "48000.00"})
    records = load_records(rows)
    as_of = datetime.fromisoformat(AS_OF)
    result = QUOTA_PLAN.evaluate(records, as_of)

    payslip = build_payslip(result, "R1", "2025-03", "zh-CN",
                            attainments(QUOTA_PLAN, records, as_of))

    assert payslip is not None
    assert payslip.to_dict()["progress"] == [
        {"metric": "bookings", "unit": "money", "target": "48000.00", "achieved": "12000.00"},
        {"metric": "deals", "unit": "count", "target": "4", "achieved": "1"},
    ]
    page = payslip_html(payslip)
    assert ('<tr><td>bookings</td><td class="amount">¥12,000.00</td>'
            '<td class="amount">¥48,000.00</td><td class="amount">25%</td></tr>') in page
    assert ('<tr><td>deals</td><td class="amount">1</td><td class="amount">4</td>'
            '<td class="amount">25%</td></tr>') in page


DRAW_PLAN = load_plan('''plan "d" version "1"
currency CNY

commission base on contract:
    paid to contract.rep
    rate 10% of contract.amount

draw ramp of base:
    recoverable 1,000.00 per period
    recover at most 300.00 per period
    from 2025-01 until 2025-02
''')


def test_draw_balance_from_statement() -> None:
    rows = one_contract("3000.00", "2025-01-15T10:00:00+08:00")
    records = load_records(rows)
    result = DRAW_PLAN.evaluate(records, datetime.fromisoformat(AS_OF))

    payslip = build_payslip(result, "R1", "2025-01", "zh-CN")

    # 300.00 earned, so 700.00 is advanced and owed back.
    assert payslip is not None
    assert payslip.draw_balance == Decimal("700.00")
    assert payslip.to_dict()["draw_balance"] == "700.00"
    assert '<span id="draw-balance" data-amount="700.00">¥700.00</span>' in payslip_html(payslip)


def test_escapes_plan_text() -> None:
    """Rule names and condition labels come from the plan and are escaped, never markup."""
    payslip = build_payslip(e7_result(), "R1", "2025-03", "en")
    assert payslip is not None
    page = payslip_html(payslip)
    assert "first survey.score &lt; 70" in page
    assert "score < 70" not in page


def test_output_dir_one_file_each(tmp_path: Path) -> None:
    completed = statement_cli("--payee", "R1", "--output-dir", str(tmp_path))
    assert completed.returncode == 0, completed.stderr
    names = sorted(path.name for path in tmp_path.iterdir())
    assert names[0] == "R1-2025-01.html"
    assert len(names) == 12
    assert completed.stdout == f"wrote 12 payslips to {tmp_path}\n"


@pytest.mark.parametrize(("args", "message"), [
    (("--payee", "R1"), "12 statements match payee 'R1'; name one with --payee and --period"),
    (("--payee", "R9"), "no statement matches payee 'R9'; check --payee and --period"),
    (("--lang", "fr"), "invalid choice: 'fr'"),
])
def test_statement_usage_errors(args: tuple[str, ...], message: str) -> None:
    completed = statement_cli(*args)
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr


# ---------------------------------------------------------------- headless Chromium

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def run_chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run([CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, check=False, timeout=120)


class AmountReader(HTMLParser):
    """Collects the data-amount of each line cell and of the total cell."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.total: str | None = None
        self.in_line_row = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "tr":
            self.in_line_row = attributes.get("class") == "line"
        if tag == "td" and "data-amount" in attributes:
            if attributes.get("id") == "total":
                self.total = attributes["data-amount"]
            elif self.in_line_row:
                self.lines.append(attributes["data-amount"] or "")


def png_pixels(path: Path) -> list[bytes]:
    """Decode an 8-bit RGB or RGBA PNG without interlacing into one bytes row per line."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position = 8
    chunks: dict[bytes, list[bytes]] = {}
    while position < len(data):
        (length,) = struct.unpack(">I", data[position:position + 4])
        kind = data[position + 4:position + 8]
        chunks.setdefault(kind, []).append(data[position + 8:position + 8 + length])
        position += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"][0])
    assert depth == 8
    assert colour in (2, 6)
    assert interlace == 0
    channels = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks[b"IDAT"]))
    stride = width * channels
    rows: list[bytes] = []
    previous = bytearray(stride)
    for row in range(height):
        start = row * (stride + 1)
        method = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            if method == 1:
                line[i] = (line[i] + left) & 0xFF
            elif method == 2:
                line[i] = (line[i] + up) & 0xFF
            elif method == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif method == 4:
                estimate = left + up - corner
                pa, pb, pc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                if pa <= pb and pa <= pc:
                    guess = left
                elif pb <= pc:
                    guess = up
                else:
                    guess = corner
                line[i] = (line[i] + guess) & 0xFF
        rows.append(bytes(line))
        previous = line
    return [bytes(row[i:i + 3]) for row in rows for i in range(0, stride, channels)]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed; on Debian run"
                    " apt-get install -y chromium to render the HTML payslip")
def test_chromium_renders_payslip(tmp_path: Path) -> None:
    completed = statement_cli("--payee", "R1", "--period", "2025-03", "--lang", "zh-CN")
    assert completed.returncode == 0, completed.stderr
    page = tmp_path / "payslip.html"
    page.write_text(completed.stdout, encoding="utf-8")
    payslip = build_payslip(e7_result(), "R1", "2025-03", "zh-CN")
    assert payslip is not None
    expected = payslip.to_dict()
    screenshot = tmp_path / "payslip.png"

    shot = run_chromium(tmp_path / "profile-shot", f"--screenshot={screenshot}",
                        "--window-size=800,600", page.as_uri())
    dom = run_chromium(tmp_path / "profile-dom", "--dump-dom", page.as_uri())

    assert shot.returncode == 0, shot.stderr
    assert dom.returncode == 0, dom.stderr
    reader = AmountReader()
    reader.feed(dom.stdout)
    assert reader.total == expected["total"]
    assert reader.lines == [line["amount"] for line in expected["lines"]]
    pixels = png_pixels(screenshot)
    white = b"\xff\xff\xff"
    ink = sum(1 for pixel in pixels if pixel != white)
    assert ink > len(pixels) // 200, f"only {ink} of {len(pixels)} pixels are not white"
    assert len(set(pixels)) > 10


@pytest.mark.parametrize(("payee", "expected"), [
    ("R1", "R1-2025-03.html"),
    ("a/b", "a~2f~b-2025-03.html"),
    ("../x", "~2e~~2e~~2f~x-2025-03.html"),
    ("王", "王-2025-03.html"),
    ("销售01", "销售01-2025-03.html"),
    ("Jürgen_Ø-7", "Jürgen_Ø-7-2025-03.html"),
    ("a~2f~b", "a~7e~2f~7e~b-2025-03.html"),
    ("a:b*c?d", "a~3a~b~2a~c~3f~d-2025-03.html"),
    ("<x>|\\", "~3c~x~3e~~7c~~5c~-2025-03.html"),
    ("a b.", "a~20~b~2e~-2025-03.html"),
    ("e\u0301", "e~301~-2025-03.html"),
])
def test_output_file_names(payee: str, expected: str) -> None:
    from commission_engine.cli import _file_name

    assert _file_name(payee, "2025-03", "html") == expected


@pytest.mark.parametrize("payee", ["销" * 200, "😀" * 200, "x" * 200, "销" * 80 + "x" * 120])
def test_long_file_names_fit(payee: str) -> None:
    from commission_engine.cli import MAX_FILE_NAME_BYTES, _file_name

    name = _file_name(payee, "2025-03", "html")
    other = _file_name(payee[:-1] + "y", "2025-03", "html")
    assert len(name.encode("utf-8")) <= MAX_FILE_NAME_BYTES
    assert name.startswith(payee[:10].replace("😀", "~1f600~"))
    assert name.endswith("-2025-03.html")
    assert name != other


def write_payees(folder: Path, payees: list[str]) -> Path:
    rows = []
    for index, payee in enumerate(payees):
        records = one_contract("1000.00", f"2025-03-0{index + 1}T10:00:00+08:00")
        records[0]["id"] = records[1]["owner"] = records[2]["rep"] = payee
        records[1]["id"] = records[2]["customer"] = f"C{index}"
        records[2]["id"] = f"K{index}"
        rows.extend(records)
    path = folder / "records.jsonl"
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                    encoding="utf-8")
    return path


def test_output_dir_writes_long_cjk_id(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    records = write_payees(tmp_path, ["销" * 100, "销售01"])
    completed = run_cli("statement", str(REFERENCE_PLAN), str(records), "--as-of", AS_OF,
                        "--output-dir", str(out))
    assert completed.returncode == 0, completed.stderr
    names = sorted(path.name for path in out.iterdir())
    assert "销售01-2025-03.html" in names
    assert len(names) == 4
    assert all(len(name.encode("utf-8")) <= 255 for name in names)


def test_output_dir_names_differ_by_case(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    records = write_payees(tmp_path, ["Rep", "REP", "rep2"])
    completed = run_cli("statement", str(REFERENCE_PLAN), str(records), "--as-of", AS_OF,
                        "--period", "2025-03", "--output-dir", str(out))
    assert completed.returncode == 0, completed.stderr
    names = sorted(path.name for path in out.iterdir())
    folded = {name.casefold() for name in names}
    assert len(names) == 3
    assert len(folded) == 3
    assert "rep2-2025-03.html" in names


def test_output_dir_unwritable_exits_1(tmp_path: Path) -> None:
    # A folder where the payslip file belongs makes the write fail, even as root.
    (tmp_path / "R1-2025-03.html").mkdir()
    completed = statement_cli("--payee", "R1", "--period", "2025-03",
                              "--output-dir", str(tmp_path))
    assert completed.returncode == 1
    assert "cannot write" in completed.stderr
    assert "R1-2025-03.html" in completed.stderr
    assert "Traceback" not in completed.stderr

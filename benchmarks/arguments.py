"""Checks of the command-line arguments that the benchmark scripts share.

Every check ends a bad argument with one argparse usage error (exit status
2). The error names the fault, quotes the value and gives what to write
instead, so no script fails with a traceback or runs with a setting it was
not given.
The checks that need no parser are argparse ``type`` functions; the others
take the parser and call ``parser.error``. The module imports only the
standard library until an as-of time is read, so that ``generate.py`` stays
free of the library.

``end_on_sigterm`` is here too, because every script that keeps a
temporary folder calls it first.
"""

from __future__ import annotations

import argparse
import json
import signal
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

AS_OF_EXAMPLE = "2026-06-30T00:00:00+08:00"

# The largest --events. A generated record is about 125 bytes of JSON, and
# the end-to-end run at 1,000,007 events reached 1.4 GB of resident memory.
# So 100,000,000 events are about 12.5 GB of JSON and, by that estimate,
# some 140 GB of memory, 100 times the largest measured run. A larger value
# is taken for a typing error before any work starts.
MAX_EVENTS = 100_000_000
# The maximum number of timed rounds (--repeats, --rounds). The scripts
# report the median of the rounds, whose defaults are 1 to 5. Each round
# runs every contender once more, so a value above 1,000 is taken for a
# typing error.
MAX_ROUNDS = 1_000


def whole_number(example: int) -> Callable[[str], int]:
    """Return an argparse type that reads a whole number of any sign, such as a seed."""

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            msg = f"{text!r} is not a whole number; write one such as {example}"
            raise argparse.ArgumentTypeError(msg) from None

    parse.__name__ = "whole_number"
    return parse


def count(example: int, maximum: int | None = None, minimum: int = 1) -> Callable[[str], int]:
    """Return an argparse type that reads a whole number from ``minimum`` to ``maximum``."""
    read = whole_number(example)

    def parse(text: str) -> int:
        value = read(text)
        if value < minimum:
            msg = (f"{value} is less than {minimum}; write a whole number of at least"
                   f" {minimum}, such as {example}")
            raise argparse.ArgumentTypeError(msg)
        if maximum is not None and value > maximum:
            msg = (f"{value} is more than the maximum of {maximum:,}; write a whole number"
                   f" from {minimum} to {maximum:,}, such as {example}")
            raise argparse.ArgumentTypeError(msg)
        return value

    parse.__name__ = "count"
    return parse


def end_on_sigterm() -> None:
    """Make SIGTERM raise SystemExit, so that ``with`` blocks remove their temporary folders.

    Python's default for SIGTERM ends the process at once, without cleanup.
    The exit status is 143 (128 + 15), as a shell reports a process that
    SIGTERM ended.
    """

    def stop(signal_number: int, _frame: object) -> None:
        raise SystemExit(128 + signal_number)

    signal.signal(signal.SIGTERM, stop)


def as_of_time(text: str) -> datetime:
    """Read an as-of time as the library's command line does: ISO 8601, offset, years allowed."""
    from commission_engine.records import MAX_YEAR, MIN_YEAR, check_as_of, is_accepted_timestamp

    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        msg = f"{text!r} is not an ISO 8601 timestamp; write it like {AS_OF_EXAMPLE}"
        raise argparse.ArgumentTypeError(msg) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        written = text if "T" in text else f"{text}T00:00:00"
        msg = f"{text!r} has no UTC offset; add one, such as {written}+08:00"
        raise argparse.ArgumentTypeError(msg)
    if not is_accepted_timestamp(text):
        msg = (f"{text!r} is not in the accepted ISO 8601 form (a calendar date, T, the time"
               f" and an offset); write it like {AS_OF_EXAMPLE}")
        raise argparse.ArgumentTypeError(msg)
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        msg = (f"{text!r} is out of range; use a year from {MIN_YEAR} to {MAX_YEAR},"
               f" such as {AS_OF_EXAMPLE}")
        raise argparse.ArgumentTypeError(msg)
    # The library's own check of an as-of time; the checks above make it pass.
    check_as_of(moment)
    return moment


as_of_time.__name__ = "timestamp"


def check_output(parser: argparse.ArgumentParser, option: str, given: str | Path,
                 example: str = "results.json") -> Path:
    """Make sure a file can be written before any work starts, by creating it and its folders.

    Return the file's path. The file and the folders that did not exist are
    removed again, so a run that stops later leaves nothing behind. The
    caller creates the folders again when it writes the file.
    """
    if str(given).strip() in ("", "."):
        parser.error(f"{option} {str(given)!r} names no file; name one, such as {example}")
    path = Path(given)
    if path.is_dir():
        parser.error(f"{option} {str(given)!r} is a folder; name a file in it,"
                     f" such as {path / example}")
    missing = [folder for folder in path.parents if not folder.exists()]
    try:
        _create_folders(parser, option, given, path)
        _try_writing(parser, option, given, path)
    finally:
        # The deepest folder goes first. One that another process has filled
        # meanwhile stays, and so do the folders above it.
        for folder in missing:
            try:
                folder.rmdir()
            except OSError:
                break
    return path


def _create_folders(parser: argparse.ArgumentParser, option: str, given: str | Path,
                    path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        parser.error(f"{option} {str(given)!r}: part of its folder path is a file;"
                     " name a file in a folder")
    except OSError as exc:
        parser.error(f"{option} {str(given)!r}: cannot create the folder {str(path.parent)!r}"
                     f" ({exc.strerror}); name a file in a folder you can write")


def _try_writing(parser: argparse.ArgumentParser, option: str, given: str | Path,
                 path: Path) -> None:
    """Open the file for appending, and remove it again if it did not exist."""
    existed = path.exists()
    try:
        with path.open("a", encoding="utf-8"):
            pass
    except OSError as exc:
        parser.error(f"{option} {str(given)!r} cannot be written ({exc.strerror});"
                     " name a file you can write")
    if not existed:
        path.unlink(missing_ok=True)


def read_text(parser: argparse.ArgumentParser, option: str, path: Path) -> str:
    """Return the text of a UTF-8 file; reject a missing, unreadable or binary one."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        parser.error(f"{option} {str(path)!r} does not exist; name an existing file")
    except IsADirectoryError:
        parser.error(f"{option} {str(path)!r} is a folder; name a file")
    except UnicodeDecodeError as exc:
        parser.error(f"{option} {str(path)!r} is not UTF-8 text ({exc.reason} at byte"
                     f" {exc.start}); save it as UTF-8")
    except OSError as exc:
        parser.error(f"{option} {str(path)!r} cannot be read ({exc.strerror});"
                     " name a file you can read")


def read_lines(parser: argparse.ArgumentParser, option: str, path: Path) -> list[str]:
    """Return the non-blank lines of a JSON Lines file; reject a file that contains no records."""
    lines = [line for line in read_text(parser, option, path).split("\n") if line.strip()]
    if not lines:
        parser.error(f"{option} {str(path)!r} contains no records; name a JSON Lines file"
                     " that generate.py wrote, such as with --events 10000")
    return lines


def parse_lines(parser: argparse.ArgumentParser, option: str, path: Path,
                lines: list[str]) -> list[dict[str, Any]]:
    """Parse JSON Lines, numbers as Decimal; reject the first line that is not a JSON object."""
    return [parse_line(parser, option, path, number, line)
            for number, line in enumerate(lines, 1)]


def check_lines(parser: argparse.ArgumentParser, option: str, path: Path,
                lines: list[str]) -> None:
    """Reject the first line that is not a JSON object, keeping no parsed record in memory."""
    for number, line in enumerate(lines, 1):
        parse_line(parser, option, path, number, line)


def parse_line(parser: argparse.ArgumentParser, option: str, path: Path, number: int,
               line: str) -> dict[str, Any]:
    """Parse record ``number`` of a JSON Lines file; reject it unless it is a JSON object."""
    try:
        row = json.loads(line, parse_float=Decimal)
    except ValueError as exc:
        parser.error(f"{option} {str(path)!r}, record {number}: not JSON ({exc});"
                     " name a JSON Lines file that generate.py wrote")
    except RecursionError:
        # The json module parses arrays and objects by recursion, so deep
        # nesting exceeds Python's recursion limit.
        parser.error(f"{option} {str(path)!r}, record {number}: the JSON nests too deeply"
                     " for Python's json module to read; name a JSON Lines file that"
                     " generate.py wrote")
    if not isinstance(row, dict):
        parser.error(f"{option} {str(path)!r}, record {number}: not a JSON object;"
                     " name a JSON Lines file that generate.py wrote")
    return row


def first_line(error: Exception) -> str:
    """Return the gist of an error in one line, for a one-line usage error."""
    if isinstance(error, KeyError):
        return f"a record has no field {error.args[0]!r}" if error.args else "a field is missing"
    errors = getattr(error, "errors", None)
    if callable(errors):
        # pydantic's ValidationError: its first problem, by record number when it has one.
        first = errors()[0]
        where = _place(first["loc"])
        return f"record {where}: {first['msg']}" if where else first["msg"]
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def listed_problems(error: Exception, limit: int = 5) -> list[str]:
    """Return the first ``limit`` problems that an error lists, then a line counting the rest.

    A library ``RecordError`` and pydantic's ``ValidationError`` list their
    problems. Any other error lists the lines after its first.
    """
    problems = getattr(error, "problems", None)
    errors = getattr(error, "errors", None)
    if isinstance(problems, tuple):
        found = [problem.render() for problem in problems]
        total = len(found) + getattr(error, "omitted", 0)
    elif callable(errors):
        found = [f"record {_place(problem['loc'])}: {problem['msg']}" for problem in errors()]
        total = len(found)
    else:
        found = [line.strip() for line in str(error).splitlines()[1:] if line.strip()]
        total = len(found)
    listed = found[:limit]
    if total > len(listed):
        listed.append(f"... and {total - len(listed)} more")
    return listed


def _place(location: tuple[int | str, ...]) -> str:
    """Format a pydantic error location, counting record numbers from 1."""
    return " ".join(str(part + 1) if isinstance(part, int) else str(part) for part in location)

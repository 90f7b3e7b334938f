"""The benchmark scripts reject a bad argument with one usage error, never a traceback.

Each case runs the real script in a subprocess from the checkout, with sizes
small enough to take a second or two. A rejection is argparse's: exit status 2
and one line "SCRIPT: error: ..." that quotes the rejected value.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from helpers import ROOT

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import baseline, peers, run  # noqa: E402
from benchmarks.arguments import as_of_time  # noqa: E402
from benchmarks.generate import write_jsonl  # noqa: E402
from benchmarks.incremental import pick_payments  # noqa: E402

# Every peer by import name, so run.py times only the library and the baseline.
NO_PEERS = "--skip-peers=zen,rule_engine,celpy,openfisca_core"


def script_env(*first: Path) -> dict[str, str]:
    """Return the environment with ``first`` and then the checkout's library first on the path."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [*map(str, first), str(ROOT / "src"), *filter(None, [env.get("PYTHONPATH")])])
    return env


def script(name: str, *args: str,
           first: tuple[Path, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run benchmarks/NAME with the folders ``first``, then the checkout's library, on the path."""
    return subprocess.run([sys.executable, str(ROOT / "benchmarks" / name), *args],
                          cwd=ROOT, env=script_env(*first), capture_output=True, text=True,
                          timeout=120, check=False)


def rejected(done: subprocess.CompletedProcess[str], name: str, value: str) -> str:
    """Check a usage error that names ``value``; return its message."""
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith(f"{name}: error: ")]
    assert len(errors) == 1, done.stderr
    assert value in errors[0], errors[0]
    return errors[0]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A folder, an empty records file and a path that runs through a file."""
    root = tmp_path_factory.mktemp("bench-args")
    empty = root / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    plain = root / "plain.txt"
    plain.write_text("not a folder\n", encoding="utf-8")
    return {"folder": root, "empty": empty, "through_file": plain / "out.json"}


BAD_AS_OF = ["nonsense", "2026-06-30", "2026-06-30T00:00:00", "9999-12-31T23:59:59+00:00",
             "1800-01-01T00:00:00+00:00"]

# An argument that each script rejects at once, given after a value above a
# bound. A script that lost its bound stops on this one and fails the test
# at once, instead of generating 100,000,000 events until the timeout.
LATER_ERROR = {
    "run.py": ["--skip-peers", "nope"],
    "cpu_per_event.py": ["--records", str(ROOT / "benchmarks")],
    "profile_library.py": ["--stage", "nope"],
    "incremental.py": ["--plan", str(ROOT / "benchmarks")],
    "dask_scale.py": ["--partitions", "0"],
    "generate.py": ["--output", str(ROOT / "benchmarks")],
}

CASES: list[tuple[str, list[str], str]] = [
    ("run.py", ["--repeats", "0"], "0"),
    ("run.py", ["--events", "0"], "0"),
    *[("run.py", ["--as-of", value], value) for value in BAD_AS_OF],
    ("cpu_per_event.py", ["--events", "0"], "0"),
    ("cpu_per_event.py", ["--events", "-5"], "-5"),
    ("profile_library.py", ["--events", "0"], "0"),
    ("profile_library.py", ["--events", "-5"], "-5"),
    ("profile_library.py", ["--top", "-3"], "-3"),
    ("profile_library.py", ["--top", "0"], "0"),
    ("plan_generator.py", ["--rules", "0"], "0"),
    ("plan_generator.py", ["--rules", "many"], "many"),
    ("plan_generator.py", ["--rules", "1001"], "1001"),
    ("incremental.py", ["--events", "0"], "0"),
    ("incremental.py", ["--events", "-5"], "-5"),
    ("incremental.py", ["--events", "1"], "--events 1"),
    ("incremental.py", ["--events", "300", "--updates", "0"], "0"),
    ("incremental.py", ["--events", "300", "--updates", "-5"], "-5"),
    *[("incremental.py", ["--events", "300", "--as-of", value], value) for value in BAD_AS_OF],
    ("incremental.py", ["--events", "300", "--as-of", "2000-01-01T00:00:00+00:00"],
     "2000-01-01T00:00:00+00:00"),
    # Above the bounds: 100,000,000 events and 1,000 rounds.
    ("run.py", ["--events", "99999999999999999999999", *LATER_ERROR["run.py"]],
     "99999999999999999999999"),
    *[(name, ["--events", "100000001", *LATER_ERROR[name]], "100000001")
      for name in ("run.py", "cpu_per_event.py", "profile_library.py", "incremental.py",
                   "dask_scale.py", "generate.py")],
    ("run.py", ["--repeats", "1001", *LATER_ERROR["run.py"]], "1001"),
    ("dask_scale.py", ["--rounds", "1001", *LATER_ERROR["dask_scale.py"]], "1001"),
    *[(name, ["--seed", "abc"], "'abc' is not a whole number; write one such as 7")
      for name in ("run.py", "generate.py", "incremental.py", "dask_scale.py",
                   "plan_generator.py")],
    ("generate.py", ["--events", "abc"], "'abc' is not a whole number; write one such as"),
    ("generate.py", ["--events", "0"], "0 is less than 1"),
    ("profile_library.py", ["--warm", "x"], "'x' is not a whole number; write one such as 3"),
    ("profile_library.py", ["--warm", "-1"], "-1 is less than 0"),
]


@pytest.mark.parametrize(("name", "args", "value"), CASES,
                         ids=[f"{name} {' '.join(args)}" for name, args, _ in CASES])
def test_bad_value_usage_error(name: str, args: list[str], value: str) -> None:
    rejected(script(name, *args), name, value)


@pytest.mark.parametrize("name", ["run.py", "incremental.py", "generate.py"])
@pytest.mark.parametrize("where", ["folder", "through_file"])
def test_unwritable_output_rejected_first(
        name: str, where: str, folders: dict[str, Path]) -> None:
    target = str(folders[where])
    done = script(name, "--events", "200", "--output", target)
    rejected(done, name, target)
    # Rejected before any work: nothing was generated or timed.
    assert "records" not in done.stdout
    assert "generated" not in done.stderr
    assert "wrote" not in done.stderr


@pytest.mark.parametrize("name", ["cpu_per_event.py", "incremental.py"])
@pytest.mark.parametrize("where", ["empty", "folder"])
def test_records_without_records_rejected(
        name: str, where: str, folders: dict[str, Path]) -> None:
    target = str(folders[where])
    rejected(script(name, "--records", target), name, target)


def test_generate_creates_missing_folder(tmp_path: Path) -> None:
    target = tmp_path / "new" / "deeper" / "records.jsonl"
    done = script("generate.py", "--events", "50", "--output", str(target))
    assert done.returncode == 0, done.stderr
    assert len(target.read_text(encoding="utf-8").splitlines()) >= 50


def test_run_rejects_empty_agreement() -> None:
    value = "2000-01-01T00:00:00+00:00"
    done = script("run.py", "--as-of", value, "--events", "200", "--repeats", "1",
                  "--no-memory", NO_PEERS)
    message = rejected(done, "run.py", value)
    assert "no payee period" in message
    assert "agrees" not in done.stderr


def test_run_rejects_records_without_contracts() -> None:
    done = script("run.py", "--events", "1", "--repeats", "1", "--no-memory", NO_PEERS)
    assert "no payee period" in rejected(done, "run.py", "--events 1")


def test_cpu_per_event_reports_reused_file(tmp_path: Path) -> None:
    records = tmp_path / "records.jsonl"
    with records.open("w", encoding="utf-8") as handle:
        written = write_jsonl(handle, 300, 1)
    done = script("cpu_per_event.py", "--events", "5000", "--records", str(records),
                  "--end-to-end")
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert f"reusing {records}: {written} records" in first
    assert "--events 5000 is not used" in first
    timings = [line for line in done.stdout.splitlines() if "us/event" in line]
    assert len(timings) == 2
    for line in timings:
        assert "(user " in line
        assert "page faults/event)" in line


def test_cpu_per_event_rejects_empty_agreement() -> None:
    done = script("cpu_per_event.py", "--events", "1", "--end-to-end")
    assert "no payee period" in rejected(done, "cpu_per_event.py", "2026-06-30")


class WrongRates(peers.Peer):
    """A peer whose totals are right and whose rate table alone is not."""

    name = "wrong rates"
    package = "none"

    def rates(self, facts: Any) -> list[Decimal | None]:
        return [Decimal("0.50") for _ in facts]

    def totals(self, rows: Any, as_of: Any, rounding: str = "half-up") -> baseline.Totals:
        return baseline.compute_totals(rows, as_of)


def test_differing_rate_table_disagrees(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    with path.open("w", encoding="utf-8") as handle:
        written = write_jsonl(handle, 300, 1)
    stages, agreement = run.build_stages(path, written, as_of_time(run.DEFAULT_AS_OF),
                                         [WrongRates()], frozenset({"plan", "to-json"}))
    assert agreement["wrong rates"]["agrees"]
    outcome = agreement["wrong rates rate table"]
    assert not outcome["agrees"]
    assert "contender 0.50" in outcome["differences"][0]
    rate_stage = next(stage for stage in stages if stage.unit == "contract")
    assert [c.name for c in rate_stage.contenders] == ["hand-written first match"]


@pytest.mark.parametrize("option", ["--events", "--rounds", "--partitions"])
def test_dask_scale_count_below_one(option: str) -> None:
    rejected(script("dask_scale.py", option, "0"), "dask_scale.py", "0")


def test_run_nothing_to_compare_names_the_fix() -> None:
    done = script("run.py", "--events", "1", "--quick", "--skip", "plan", NO_PEERS)
    message = rejected(done, "run.py", "--events 1")
    assert "use more --events (such as 2000)" in message
    # The as-of in use is the suggested one, so it is not suggested again.
    assert "--as-of" not in message


def test_run_splits_each_call_into_cpu_and_faults(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    done = script("run.py", "--events", "2000", "--repeats", "2", "--no-memory",
                  "--skip", "parse,records,rate-table,to-json,end-to-end,plan", NO_PEERS,
                  "--output", str(output))
    assert done.returncode == 0, done.stderr
    assert "system s" in done.stdout
    assert "faults" in done.stdout
    stages = json.loads(output.read_text(encoding="utf-8"))["stages"]
    rows = [row for stage in stages for row in stage["contenders"]]
    assert {row["name"] for row in rows} >= {"hand-written baseline", "commission_engine"}
    for row in rows:
        assert row["median_user_s"] >= 0
        assert row["median_system_s"] >= 0
        assert row["median_minor_faults"] >= 0
        # Two rounds: a plain median would be the mean of the two counts.
        assert isinstance(row["median_minor_faults"], int)


def test_generate_closed_pipe_ends_quietly() -> None:
    # 20,000 events are megabytes, far more than a pipe's buffer, so the
    # script is still writing when the reader closes the pipe, as with "| head -1".
    with subprocess.Popen([sys.executable, str(ROOT / "benchmarks" / "generate.py"),
                           "--events", "20000"], cwd=ROOT, env=script_env(),
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as process:
        assert process.stdout is not None
        assert process.stderr is not None
        first = process.stdout.readline()
        process.stdout.close()
        errors = process.stderr.read().decode()
        status = process.wait(timeout=120)
    assert json.loads(first)["type"] == "rep"
    assert "Traceback" not in errors
    assert "Error" not in errors
    assert status == 0


FULL = Path("/dev/full")


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full")
def test_generate_full_disk_one_line() -> None:
    done = script("generate.py", "--events", "100", "-o", str(FULL))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "generate.py: error: cannot write the output: No space left on device"]


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full")
def test_generate_full_stdout_one_line() -> None:
    with FULL.open("w") as full:
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"),
                               "--events", "100"], cwd=ROOT, env=script_env(), stdout=full,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "generate.py: error: cannot write the output: No space left on device"]


def test_generate_closed_stdout_one_line() -> None:
    # stdout=subprocess.DEVNULL would give an open file; the child needs
    # descriptor 1 closed, as a shell's ">&-" leaves it.
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "generate.py"),
                           "--events", "10"], cwd=ROOT, env=script_env(),
                          stderr=subprocess.PIPE, text=True, timeout=120, check=False,
                          preexec_fn=lambda: os.close(1))
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "generate.py: error: cannot write the output: standard output is closed;"
        " pass --output FILE"]


DEEP_LINES = {"arrays": "[" * 100_000 + "]" * 100_000,
              "objects": '{"a": ' * 5_000 + "1" + "}" * 5_000}


@pytest.mark.parametrize("kind", sorted(DEEP_LINES))
def test_cpu_per_event_deep_json(kind: str, tmp_path: Path) -> None:
    records = tmp_path / "deep.jsonl"
    records.write_text(DEEP_LINES[kind] + "\n", encoding="utf-8")
    done = script("cpu_per_event.py", "--records", str(records))
    message = rejected(done, "cpu_per_event.py", str(records))
    assert "record 1: the JSON nests too deeply" in message
    assert "us/event" not in done.stdout


def test_cpu_per_event_array_before_timing(tmp_path: Path) -> None:
    records = tmp_path / "array.jsonl"
    records.write_text("[1, 2]\n", encoding="utf-8")
    done = script("cpu_per_event.py", "--records", str(records))
    message = rejected(done, "cpu_per_event.py", str(records))
    assert "record 1: not a JSON object" in message
    assert "us/event" not in done.stdout


@pytest.mark.parametrize("mode", [[], ["--end-to-end"]], ids=["stages", "end to end"])
def test_cpu_per_event_lists_first_problems(mode: list[str], tmp_path: Path) -> None:
    # Valid records in USD, which the reference plan in CNY rejects one by one.
    records = tmp_path / "usd.jsonl"
    shutil.copy(ROOT / "examples" / "superstore" / "records.jsonl", records)
    done = script("cpu_per_event.py", "--records", str(records), *mode)
    message = rejected(done, "cpu_per_event.py", str(records))
    total = int(re.search(r"invalid records: (\d+) problems", message)[1])
    after = done.stderr.split(message, 1)[1].splitlines()[1:]
    assert len(after) == 6, after
    for line in after[:5]:
        assert "currency USD" in line
    assert after[5] == f"  ... and {total - 5} more"


def test_incremental_new_id_already_taken(tmp_path: Path) -> None:
    with (tmp_path / "generated.jsonl").open("w", encoding="utf-8") as handle:
        write_jsonl(handle, 2000, 1)
    rows = [json.loads(line) for line in
            (tmp_path / "generated.jsonl").read_text(encoding="utf-8").splitlines()]
    # With --updates 5, the first update replaces the first candidate's
    # payment with a payment named after it, "<id>/0". Give that id to an
    # earlier payment of the same contract that no refund names.
    replaced = pick_payments(rows)[0]
    named = {row.get("payment") for row in rows if row["type"] == "refund"}
    earlier = next(row for row in rows
                   if row["type"] == "payment" and row["contract"] == replaced["contract"]
                   and row["id"] != replaced["id"] and row["id"] not in named)
    earlier["id"] = f"{replaced['id'].split('/')[0]}/0"
    records = tmp_path / "records.jsonl"
    records.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    done = script("incremental.py", "--records", str(records), "--updates", "5")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr
    assert "digests equal" in done.stdout


@pytest.fixture
def without_dask(tmp_path: Path) -> Path:
    """A folder that, first on the path, makes dask and distributed fail to import."""
    for name in ("dask", "distributed"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(
            f'raise ModuleNotFoundError("No module named {name!r}", name={name!r})\n',
            encoding="utf-8")
    return tmp_path


def test_dask_scale_help_without_dask(without_dask: Path) -> None:
    done = script("dask_scale.py", "--help", first=(without_dask,))
    assert done.returncode == 0, done.stderr
    assert "--partitions" in done.stdout


@pytest.mark.parametrize("option", ["--events", "--rounds", "--partitions"])
def test_dask_scale_count_without_dask(option: str, without_dask: Path) -> None:
    rejected(script("dask_scale.py", option, "0", first=(without_dask,)), "dask_scale.py", "0")


def test_dask_scale_run_without_dask(without_dask: Path) -> None:
    done = script("dask_scale.py", "--events", "100", first=(without_dask,))
    message = rejected(done, "dask_scale.py", "pip install -e '.[dask]'")
    assert "No module named 'dask'" in message


def install_commands(path: Path) -> list[str]:
    """Return the pip install lines of a Markdown file."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if "pip install" in line]


def test_readme_installs_like_docs() -> None:
    readme = install_commands(ROOT / "benchmarks" / "README.md")
    assert readme
    assert readme == install_commands(ROOT / "docs" / "benchmarks.md")


@pytest.mark.parametrize(("name", "option", "value", "bound"), [
    ("run.py", "--events", "100000001", "100,000,000"),
    ("run.py", "--repeats", "1001", "1,000")])
def test_count_above_bound_names_it(name: str, option: str, value: str, bound: str) -> None:
    message = rejected(script(name, option, value, *LATER_ERROR[name]), name, value)
    assert f"more than the maximum of {bound}" in message


def test_run_bad_peer_creates_no_folder(tmp_path: Path) -> None:
    output = tmp_path / "new" / "deeper" / "results.json"
    done = script("run.py", "--skip-peers", "nope", "--output", str(output))
    rejected(done, "run.py", "nope")
    assert not (tmp_path / "new").exists()


def test_run_stopped_early_leaves_no_folder(tmp_path: Path) -> None:
    # The output is checked, then the run stops: its records hold no payee period.
    output = tmp_path / "new" / "results.json"
    done = script("run.py", "--events", "1", "--repeats", "1", "--no-memory", NO_PEERS,
                  "--output", str(output))
    assert "no payee period" in rejected(done, "run.py", "--events 1")
    assert not (tmp_path / "new").exists()


def test_run_sigterm_removes_temporary_folder(tmp_path: Path) -> None:
    env = script_env()
    # tempfile makes the run's folder here, so no other run's folder is seen.
    env["TMPDIR"] = str(tmp_path)
    # Enough rounds that the run is still going when the signal arrives.
    command = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--events", "2000",
               "--repeats", "1000", "--no-memory", NO_PEERS,
               "--output", str(tmp_path / "results.json")]
    with subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:
        try:
            deadline = time.monotonic() + 120
            while not list(tmp_path.glob("commission-bench-*")):
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "run.py made no temporary folder"
                time.sleep(0.05)
            process.send_signal(signal.SIGTERM)
            _, errors = process.communicate(timeout=120)
        finally:
            process.kill()
    assert list(tmp_path.glob("commission-bench-*")) == []
    assert "Traceback" not in errors, errors
    assert process.returncode == 128 + signal.SIGTERM


def test_profile_rejects_empty_result() -> None:
    done = script("profile_library.py", "--events", "1", "--top", "3")
    assert "no payee period" in rejected(done, "profile_library.py", "--events 1")
    assert "====" not in done.stdout

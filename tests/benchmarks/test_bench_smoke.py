"""The benchmark (benchmarks/, `make bench`) runs end to end at tiny sizes and reports real
figures. No test here asserts a timing: only that each figure was measured."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from benchmarks.cli import main
from benchmarks.stats import Summary, percentile
from benchmarks.workload import WITHDRAW_EVERY, balances_after, schedule

#: Figures that may honestly be zero: the projection usually applies an event before the
#: command's reply reaches its client.
MAY_BE_ZERO = {"esactors.lag_after_reply_p99_ms"}


def _run_quick(tmp_path: Path, *sides: str) -> dict[str, object]:
    argv = ["--quick", "--runs", "1", "--results-dir", str(tmp_path)]
    for side in sides:
        argv += ["--only", side]
    assert main(argv) == 0
    written = list(tmp_path.glob("*.json"))
    assert len(written) == 1
    data: dict[str, object] = json.loads(written[0].read_text())
    return data


def _assert_measured(run: dict[str, float], prefix: str) -> list[str]:
    keys = [key for key in run if key.startswith(prefix)]
    for key in keys:
        value = run[key]
        assert isinstance(value, int | float), key
        assert math.isfinite(value), key
        assert value >= 0 if key in MAY_BE_ZERO else value > 0, (key, value)
    return keys


def test_a_quick_run_measures_esactors_and_the_raw_ceiling_and_writes_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = _run_quick(tmp_path, "esactors", "raw")

    runs = data["runs"]
    assert isinstance(runs, list)
    assert len(runs) == 1
    (run,) = runs
    assert len(_assert_measured(run, "esactors.")) >= 12
    assert set(_assert_measured(run, "raw.")) == {
        "raw.executemany_rows_per_s",
        "raw.commit_per_row_rows_per_s",
    }
    assert not any(key.startswith("peer.") for key in run)
    rows = data["rows"]
    assert isinstance(rows, list)
    assert all(row["esactors"] is not None for row in rows)
    out = capsys.readouterr().out
    assert "| figure" in out
    assert "raw sqlite3 executemany" in out


def test_a_quick_run_measures_the_peer_when_it_is_installed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("eventsourcing")
    data = _run_quick(tmp_path, "peer")

    runs = data["runs"]
    assert isinstance(runs, list)
    (run,) = runs
    assert set(_assert_measured(run, "peer.")) == {
        "peer.commands_per_s_cached",
        "peer.commands_per_s_fastest",
        "peer.reconstruct_events_per_s",
        "peer.rebuild_events_per_s",
        "peer.sqlite_synchronous",
    }
    assert "peer (eventsourcing 9.5" in capsys.readouterr().out


def test_every_round_visits_every_account_once_and_every_fourth_withdraws() -> None:
    steps = schedule(accounts=5, commands=23, seed=7)

    assert len(steps) == 23
    rounds = [steps[i : i + 5] for i in range(0, 23, 5)]
    for number, round_ in enumerate(rounds[:-1]):
        assert sorted(step.account for step in round_) == list(range(5))
        withdraws = number % WITHDRAW_EVERY == WITHDRAW_EVERY - 1
        assert all(step.withdraw is withdraws for step in round_)
    assert rounds[0] != rounds[1], "each round is shuffled anew"
    assert min(balances_after(5, steps)) > 0, "no withdrawal can be refused"


def test_percentiles_are_observed_values_and_summaries_keep_every_run() -> None:
    samples = [float(n) for n in range(1, 101)]

    assert percentile(samples, 50) == 50.0
    assert percentile(samples, 99) == 99.0
    assert percentile([3.0], 99) == 3.0
    summary = Summary.of([3.0, 1.0, 2.0])
    assert (summary.median, summary.low, summary.high, summary.runs) == (2.0, 1.0, 3.0, (3, 1, 2))

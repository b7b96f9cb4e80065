"""The benchmark (benchmarks/, `make bench`) runs end to end at tiny sizes and reports real
figures. No test here asserts a timing: only that each figure was measured."""

from __future__ import annotations

import importlib.util
import json
import math
import socket
from pathlib import Path

import pytest

from benchmarks import pg
from benchmarks.cli import main
from benchmarks.pg_nodes import plan
from benchmarks.settings import QUICK, Settings
from benchmarks.stats import Summary, percentile
from benchmarks.workload import WITHDRAW_EVERY, balances_after, schedule
from tests.postgres import postgres_dsn

#: Figures that may honestly be zero: the projection usually applies an event before the
#: command's reply reaches its client; at tiny sizes the nodes may meet no conflict.
MAY_BE_ZERO = {
    "esactors.lag_after_reply_p99_ms",
    "pg-esactors.lag_after_reply_p99_ms",
    "pg-nodes.shared_conflicts_per_command",
}


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


async def _bench_schemas(url: str) -> set[str]:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=5)
    try:
        rows = await connection.fetch(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, $1)", pg.SCHEMA_PREFIX
        )
    finally:
        await connection.close()
    return {row[0] for row in rows}


def test_a_quick_run_measures_esactors_the_peer_and_several_nodes_on_postgresql(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = postgres_dsn()  # skipped without a server (failed under CI)
    monkeypatch.setenv("ESACTORS_PG_DSN", url)
    before = pg.run_sync(_bench_schemas, url)

    data = _run_quick(tmp_path, "pg")

    runs = data["runs"]
    assert isinstance(runs, list)
    (run,) = runs
    assert {
        "pg-esactors.commands_per_s",
        "pg-esactors.ask_p99_ms_many",
        "pg-esactors.activation_events_per_s",
        "pg-esactors.rebuild_events_per_s",
    } <= set(_assert_measured(run, "pg-esactors."))
    nodes = range(1, QUICK.nodes + 1)
    assert set(_assert_measured(run, "pg-nodes.")) == {
        "pg-nodes.shared_conflicts_per_command",
        *(
            f"pg-nodes.{variant}_{figure}"
            for variant in ("disjoint", "shared")
            for figure in ["total_commands_per_s", *(f"node{n}_commands_per_s" for n in nodes)]
        ),
    }
    peer = _assert_measured(run, "pg-peer.")
    out = capsys.readouterr().out
    if importlib.util.find_spec("eventsourcing") and importlib.util.find_spec("psycopg_pool"):
        assert set(peer) == {
            "pg-peer.commands_per_s_fastest",
            "pg-peer.commands_per_s_functions",
            "pg-peer.reconstruct_events_per_s",
            "pg-peer.rebuild_events_per_s",
        }
    else:
        assert not peer
        assert "the peer's PostgreSQL figures were skipped" in out
    assert "PostgreSQL part: PostgreSQL" in out
    assert "| PG, 3 nodes" in out
    assert pg.run_sync(_bench_schemas, url) == before, "every part drops the schemas it made"


def test_without_a_server_the_postgresql_part_is_skipped_with_a_plain_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as unused:  # a port nothing listens on
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    monkeypatch.setenv("ESACTORS_PG_DSN", f"postgresql://postgres@127.0.0.1:{port}/test")

    data = _run_quick(tmp_path, "pg")

    assert data["runs"] == [{}]
    assert data["rows"] == []
    skipped = data["skipped"]
    assert isinstance(skipped, list)
    assert len(skipped) == 1
    assert f"PostgreSQL at 127.0.0.1:{port}/test is not reachable" in skipped[0]
    assert "the PostgreSQL part was skipped" in capsys.readouterr().out


def test_nodes_on_disjoint_accounts_share_none_and_on_the_same_accounts_open_each_once() -> None:
    settings = Settings(accounts=10, pg_commands=31, nodes=3)

    disjoint = plan(settings, "disjoint")
    owned = [set(to_open) for to_open, _ in disjoint]
    assert sorted(a for own in owned for a in own) == list(range(10))
    for own, (_, steps) in zip(owned, disjoint, strict=True):
        assert {step.account for step in steps} <= own
    assert [len(steps) for _, steps in disjoint] == [11, 10, 10]

    shared = plan(settings, "shared")
    assert sorted(a for to_open, _ in shared for a in to_open) == list(range(10))
    assert all({step.account for step in steps} == set(range(10)) for _, steps in shared)


def test_the_peer_is_pointed_at_the_server_and_schema_of_the_run() -> None:
    env = pg.eventsourcing_env("postgresql://bank:s%40cret@db.example:6543/ledger", "bench_1")

    assert env == {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": "ledger",
        "POSTGRES_HOST": "db.example",
        "POSTGRES_PORT": "6543",
        "POSTGRES_USER": "bank",
        "POSTGRES_PASSWORD": "s@cret",
        "POSTGRES_SCHEMA": "bench_1",
    }
    assert pg.eventsourcing_env("postgresql://postgres@127.0.0.1/test", "s")[
        "POSTGRES_PASSWORD"
    ] == ("")


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


def test_a_gc_threshold_reaches_every_part_and_is_named_in_the_header(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--quick", "--runs", "1", "--results-dir", str(tmp_path), "--only", "raw"]
    assert main([*argv, "--gc-threshold", "5000"]) == 0
    [written] = tmp_path.glob("*.json")
    assert json.loads(written.read_text())["settings"]["gc_threshold"] == 5000
    assert "gc.set_threshold(5,000, 10, 10) in every part's process" in capsys.readouterr().out
    with pytest.raises(ValueError, match="gc_threshold"):
        Settings(gc_threshold=-1)

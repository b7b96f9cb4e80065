"""``python -m benchmarks``: run every part in its own process, several times, and report."""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from . import figures, pg, report
from .machine import describe, peer_version
from .settings import QUICK, Settings

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
#: The user's ``--only`` choices, and the worker parts each one runs. ``pg`` is the PostgreSQL
#: part: esactors, the peer and several esactors nodes, each on the server at ESACTORS_PG_DSN.
SIDES = {
    "esactors": ("esactors", "idle"),
    "peer": ("peer",),
    "raw": ("raw",),
    "pg": ("pg-esactors", "pg-peer", "pg-nodes"),
}
#: A part's figures are named ``<prefix>.<name>``, the prefix being the part's name, except
#: the idle-memory figure: esactors', measured in a process of its own.
PREFIXES = {"idle": "esactors"}
#: A part that takes longer has hung: fail the benchmark rather than wait forever.
PART_TIMEOUT = 900.0


def parser() -> argparse.ArgumentParser:
    """The command line."""
    p = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="esactors and the eventsourcing library side by side on SQLite, with the "
        "raw sqlite3 ceiling, then on PostgreSQL (the server at ESACTORS_PG_DSN, default "
        f"{pg.DEFAULT_DSN}), with several esactors nodes on one database, on one bank "
        "workload. Without a reachable server the PostgreSQL part is skipped.",
    )
    p.add_argument("--accounts", type=int, help="accounts opened (default 1,000)")
    p.add_argument("--commands", type=int, help="commands after the openings (default 20,000)")
    p.add_argument("--clients", type=int, help="concurrent esactors clients (default 1,000)")
    p.add_argument(
        "--few-clients", type=int, help="clients of the second latency run (default 100)"
    )
    p.add_argument(
        "--idle-aggregates",
        type=int,
        help="live aggregates for the memory figure (default 100,000)",
    )
    p.add_argument(
        "--pg-commands", type=int, help="commands of the PostgreSQL part (default 20,000)"
    )
    p.add_argument("--nodes", type=int, help="node processes of the multi-node figure (default 3)")
    p.add_argument(
        "--gc-threshold",
        type=int,
        help="set gc.set_threshold(N, 10, 10) in every part's process, the peer's included "
        "(default: Python's, 700)",
    )
    p.add_argument("--runs", type=int, default=3, help="runs of every figure (default 3)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a look in a few seconds")
    p.add_argument(
        "--only",
        action="append",
        choices=sorted(SIDES),
        help="run only this side (repeatable; pg: the PostgreSQL part); default: all",
    )
    p.add_argument(
        "--results-dir",
        type=Path,
        default=RESULTS,
        help="where the JSON results go (default benchmarks/results)",
    )
    return p


def settings_from(args: argparse.Namespace) -> Settings:
    """The sizes: the defaults (or ``--quick``'s), then each size flag given."""
    base = QUICK if args.quick else Settings()
    given = {
        name: getattr(args, name)
        for name in (
            "accounts",
            "commands",
            "clients",
            "few_clients",
            "idle_aggregates",
            "pg_commands",
            "nodes",
            "gc_threshold",
        )
        if getattr(args, name) is not None
    }
    return replace(base, **given)


def run_part(part: str, settings: Settings, scratch: Path) -> dict[str, float]:
    """Run one worker part in a new process; its figures."""
    out = scratch / f"{part}.json"
    command = [sys.executable, "-m", "benchmarks.worker", part, settings.to_json(), str(out)]
    done = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=PART_TIMEOUT, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"benchmark part {part!r} failed:\n{done.stderr[-4000:]}")
    found: dict[str, float] = json.loads(out.read_text())
    return found


def measure(
    parts: list[str], settings: Settings, runs: int, log: TextIO = sys.stderr
) -> list[dict[str, float]]:
    """Every chosen part, ``runs`` times, interleaved so that a slow moment of the machine is
    spread over the parts rather than landing on one; the figures of each run."""
    results: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory(prefix="esactors-bench-") as scratch:
        for number in range(1, runs + 1):
            found: dict[str, float] = {}
            for part in parts:
                start = time.perf_counter()
                prefix = PREFIXES.get(part, part)
                for key, value in run_part(part, settings, Path(scratch)).items():
                    found[f"{prefix}.{key}"] = value
                seconds = time.perf_counter() - start
                print(f"run {number}/{runs}: {part} {seconds:.1f} s", file=log, flush=True)
            figures.derive(found)
            results.append(found)
    return results


def postgres_parts(
    version: str | None, log: TextIO = sys.stderr
) -> tuple[list[str], pg.Server | None, list[str]]:
    """The PostgreSQL parts that can run here, the server, and why any part is skipped (the
    server unreachable: all of them; the peer's library or its driver missing: the peer's)."""
    server = pg.probe(pg.dsn())
    parts: list[str] = []
    notes: list[str] = []
    if isinstance(server, str):
        notes.append(
            f"{server}: the PostgreSQL part was skipped (ESACTORS_PG_DSN names the server)"
        )
        found = None
    else:
        found = server
        parts = list(SIDES["pg"])
        missing = [m for m in ("psycopg", "psycopg_pool") if importlib.util.find_spec(m) is None]
        if version is None or missing:
            needs = "the eventsourcing library" if version is None else ", ".join(missing)
            notes.append(
                f"the peer's PostgreSQL mode needs {needs} (`make bench` installs it): "
                "the peer's PostgreSQL figures were skipped"
            )
            parts.remove("pg-peer")
    for note in notes:
        print(note, file=log, flush=True)
    return parts, found, notes


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print the table; write the JSON. The exit status is 0 once the run
    completed, whether or not the targets were met (they are reported, not enforced)."""
    args = parser().parse_args(argv)
    if args.runs < 1:
        parser().error("--runs must be at least 1")
    try:
        settings = settings_from(args)
    except ValueError as exc:
        parser().error(str(exc))
    sides = [side for side in SIDES if side in (args.only or SIDES)]
    version = peer_version()
    if "peer" in sides and version is None:
        parser().error(
            "the peer needs the eventsourcing library: `make bench` installs it "
            "(or pip install -e '.[bench]'); or leave it out with --only esactors --only raw "
            "--only pg"
        )
    parts = [part for side in sides if side != "pg" for part in SIDES[side]]
    server: pg.Server | None = None
    notes: list[str] = []
    if "pg" in sides:
        found_parts, server, notes = postgres_parts(version)
        parts += found_parts

    started = datetime.now(UTC)
    clock = time.perf_counter()
    runs = measure(parts, settings, args.runs)
    seconds = time.perf_counter() - clock

    machine = describe()
    if server is not None:
        machine["postgresql"] = server.describe()
    found = report.lines(figures.rows(settings), runs)
    peer = f"peer (eventsourcing {version})" if version else "peer"
    print()
    print(report.header(machine, settings, runs, server))
    print()
    print(report.table(found, peer))
    print()
    print(report.ceilings(runs))
    for note in notes:
        print(note)
    print(f"\ntook {seconds:.0f} s")
    path = report.write_json(
        args.results_dir,
        started.strftime("%Y%m%dT%H%M%SZ"),
        {
            "started": started.isoformat(),
            "seconds": seconds,
            "machine": machine,
            "settings": json.loads(settings.to_json()),
            "sides": sides,
            "parts": parts,
            "skipped": notes,
            "rows": report.as_json(found),
            "runs": runs,
        },
    )
    print(f"results: {path}")
    return 0

"""The kill loop: run the child workload, SIGKILL it at a random moment, check, restart, repeat.

``python -m tests.reliability.crash --kills 20 --seed N --db PATH`` (``make reliability``) prints
one summary line and exits non-zero if any check failed. An existing database and side file
are continued, so runs can be chained; without ``--db`` a fresh temporary one is used and kept
only if a check failed.
"""

from __future__ import annotations

import argparse
import os
import random
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import anyio

from . import acklog
from .check import Report, check

ROOT = Path(__file__).resolve().parents[2]
#: The share of kills aimed at the child's startup rather than at its workload: around the
#: moment it reports ready, i.e. while the store opens (recovering the WAL the last kill left)
#: and the first commands go out.
STARTUP_KILLS = 0.15
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Config:
    """One run of the harness."""

    db: Path
    kills: int = 20
    seed: int = 0
    clients: int = 32
    accounts: int = 20
    min_delay: float = 0.2
    max_delay: float = 1.5
    #: The store's ``durability``: "normal" must survive a process kill too (only power loss
    #: may cost it the last commits).
    durability: Literal["full", "normal"] = "full"

    @property
    def acks(self) -> Path:
        """The side file of acknowledged commands, next to the database."""
        return self.db.with_name(self.db.name + ".acks")

    @property
    def log(self) -> Path:
        """Where the children's output goes (the library's warnings, a traceback)."""
        return self.db.with_name(self.db.name + ".log")


@dataclass
class Outcome:
    """What a run found: the last check's report and how the kills went."""

    report: Report
    #: Kills after which every invariant held.
    survived: int = 0
    startup_kills: int = 0
    torn_bytes: int = 0
    seconds: float = 0.0
    #: Why the run stopped early (a failed check, a child that died by itself), or None.
    failure: str | None = None

    @property
    def ok(self) -> bool:
        """Whether every kill was survived with every invariant holding."""
        return self.failure is None and self.report.ok


def run(config: Config, say: Callable[[str], None] = lambda line: None) -> Outcome:
    """Kill and restart the child ``config.kills`` times, checking after each kill; stops at the
    first failed check. ``say`` receives one progress line per kill."""
    rng = random.Random(config.seed)
    started = time.monotonic()
    outcome = Outcome(Report())
    startup = 0.3  # the child's time to ready, measured on each run: startup kills aim at it
    for n in range(1, config.kills + 1):
        at_startup = rng.random() < STARTUP_KILLS
        delay = (
            rng.uniform(0.8, 1.2) * startup
            if at_startup
            else rng.uniform(config.min_delay, config.max_delay)
        )
        failure, ready_after = _run_and_kill(config, f"{config.seed}/{n}", delay, at_startup)
        if ready_after is not None:
            startup = ready_after
        outcome.startup_kills += at_startup
        outcome.torn_bytes += acklog.repair(config.acks)
        outcome.report = anyio.run(check, config.db, config.acks)
        report = outcome.report
        moment = "after start" if at_startup else "after ready"
        say(
            f"kill {n}/{config.kills} {delay:.2f} s {moment}: {report.acknowledged} acknowledged, "
            f"{report.events} events, " + ("ok" if report.ok and not failure else "VIOLATION")
        )
        if failure is not None or not report.ok:
            outcome.failure = failure or f"a check failed after kill {n}"
            break
        outcome.survived = n
    outcome.seconds = time.monotonic() - started
    return outcome


def _run_and_kill(
    config: Config, seed: str, delay: float, at_startup: bool
) -> tuple[str | None, float | None]:
    """Start the child, SIGKILL it ``delay`` s after it started (``at_startup``) or after it
    reported ready. Returns why it failed (None if it was running when killed) and its
    time to ready (None if it was killed first)."""
    ready_r, ready_w = os.pipe()
    spawned = time.monotonic()
    with config.log.open("ab") as log:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.reliability.child",
                f"--db={config.db}",
                f"--acks={config.acks}",
                f"--clients={config.clients}",
                f"--accounts={config.accounts}",
                f"--seed={seed}",
                f"--durability={config.durability}",
                f"--ready-fd={ready_w}",
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            pass_fds=(ready_w,),
        )
    os.close(ready_w)
    ready_after: float | None = None
    try:
        if at_startup:
            time.sleep(delay)
        else:
            readable, _, _ = select.select([ready_r], [], [], READY_TIMEOUT)
            if not readable or not os.read(ready_r, 64):
                child.kill()
                child.wait()
                return f"the child never became ready (exit code {child.returncode})", None
            ready_after = time.monotonic() - spawned
            time.sleep(delay)
        if child.poll() is not None:
            return f"the child exited by itself with code {child.returncode}", ready_after
        child.send_signal(signal.SIGKILL)
        child.wait()
        return None, ready_after
    finally:
        os.close(ready_r)
        if child.poll() is None:
            child.kill()
            child.wait()


def summary(config: Config, outcome: Outcome) -> str:
    """The result lines printed at the end of a run."""
    r = outcome.report
    lines = [
        f"kills survived: {outcome.survived}, acknowledged commands checked: {r.acknowledged}, "
        f"events stored: {r.events}, events lost: {r.lost}, half-written commands: "
        f"{r.half_written}, gaps: {r.gaps}, projection = recomputed: "
        + ("yes" if r.projection_equal else "no"),
        f"rejected commands checked: {r.rejected} (with events stored: {r.rejected_stored}), "
        f"acknowledged but misplaced: {r.misplaced}, overdrafts: {r.overdrafts}, "
        f"transfers cut between their two commands: {r.transfers_cut}, "
        f"kills aimed at startup: {outcome.startup_kills}, "
        f"torn side-file bytes dropped: {outcome.torn_bytes}",
        f"seed: {config.seed}, db: {config.db}, clients: {config.clients}, accounts: "
        f"{config.accounts}, durability: {config.durability}, {outcome.seconds:.1f} s",
    ]
    if not outcome.ok:
        lines.append(f"FAILED: {outcome.failure or 'a check failed'}")
        lines.extend(f"  {problem}" for problem in r.problems)
        lines.append(f"  children's output: {config.log}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit code (1 if any check failed)."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.reliability.crash", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--kills", type=int, default=20, help="how many SIGKILLs (default 20)")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--db", type=Path, default=None, help="default: a fresh temporary file")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients (32)")
    parser.add_argument("--accounts", type=int, default=20, help="accounts (20)")
    parser.add_argument("--min-delay", type=float, default=0.2, help="seconds (0.2)")
    parser.add_argument("--max-delay", type=float, default=1.5, help="seconds (1.5)")
    parser.add_argument(
        "--durability", choices=["full", "normal"], default="full", help="the store's (full)"
    )
    args = parser.parse_args(argv)
    if args.kills < 1 or args.clients < 1 or args.accounts < 2:
        parser.error("need --kills >= 1, --clients >= 1 and --accounts >= 2")
    if not 0 <= args.min_delay <= args.max_delay:
        parser.error("need 0 <= --min-delay <= --max-delay")
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    scratch = None if args.db is not None else tempfile.mkdtemp(prefix="esactors-crash-")
    db = args.db if args.db is not None else Path(scratch or ".") / "crash.db"
    config = Config(
        db.resolve(),
        kills=args.kills,
        seed=seed,
        clients=args.clients,
        accounts=args.accounts,
        min_delay=args.min_delay,
        max_delay=args.max_delay,
        durability=args.durability,
    )
    config.db.parent.mkdir(parents=True, exist_ok=True)
    outcome = run(config, say=lambda line: print(line, file=sys.stderr, flush=True))
    print(summary(config, outcome), flush=True)
    if scratch is not None and outcome.ok:
        shutil.rmtree(scratch)
    return 0 if outcome.ok else 1


if __name__ == "__main__":
    sys.exit(main())

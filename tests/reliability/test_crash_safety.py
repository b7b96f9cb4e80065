"""The crash harness, short: three SIGKILLs of a busy child, and nothing acknowledged is lost."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from .crash import ROOT


def figures(line: str) -> dict[str, str]:
    """The "name: value" pairs of a summary line."""
    return dict(part.split(": ", 1) for part in line.split(", "))


def test_three_kills_lose_no_acknowledged_event_and_half_write_no_command(
    tmp_path: Path,
) -> None:
    db = tmp_path / "crash.db"
    command = ["-m", "tests.reliability.crash", "--kills=3", "--seed=7", "--max-delay=1.0"]
    done = subprocess.run(
        [sys.executable, *command, f"--db={db}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = figures(done.stdout.splitlines()[0])
    assert summary["kills survived"] == "3"
    assert int(summary["acknowledged commands checked"]) > 0
    assert int(summary["events stored"]) > 0
    assert summary["events lost"] == "0"
    assert summary["half-written commands"] == "0"
    assert summary["gaps"] == "0"
    assert summary["projection = recomputed"] == "yes"
    assert done.stderr.count(", ok") == 3  # a progress line per kill, each check passed

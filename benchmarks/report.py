"""The run's figures summarised per row, printed as a table and written as JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .figures import CEILINGS, Row
from .pg import Server
from .settings import Settings
from .stats import Summary


@dataclass(frozen=True)
class Line:
    """One row of the table with its figures: medians, extremes, ratio and verdict."""

    row: Row
    ours: Summary | None
    theirs: Summary | None

    @property
    def ratio(self) -> float | None:
        """esactors' median over the peer's, for rates."""
        if self.row.unit != "/s" or self.ours is None or self.theirs is None:
            return None
        return self.ours.median / self.theirs.median

    @property
    def met(self) -> bool | None:
        """Whether the target is met on the medians (None: no target, or not measured)."""
        target = self.row.target
        if target is None or self.ours is None:
            return None
        return target.check(self.ours.median, self.theirs.median if self.theirs else None)


def summary_of(key: str, runs: list[dict[str, float]]) -> Summary | None:
    """``key`` over the runs that measured it (None if none did)."""
    values = [run[key] for run in runs if key in run]
    return Summary.of(values) if values else None


def lines(rows: list[Row], runs: list[dict[str, float]]) -> list[Line]:
    """Every row that the runs measured (on either side), with its summaries: the rows of a
    part that was left out or skipped are left out of the table."""
    found = [
        Line(row, summary_of(row.ours, runs), summary_of(row.theirs, runs) if row.theirs else None)
        for row in rows
    ]
    return [line for line in found if line.ours is not None or line.theirs is not None]


def _number(value: float, unit: str) -> str:
    if unit == "ms":
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "/cmd":
        return f"{value:.2f}"
    return f"{value:,.0f}"


def cell(summary: Summary | None, unit: str) -> str:
    """``median (min-max)``, or a dash when not measured."""
    if summary is None:
        return "-"
    median = _number(summary.median, unit)
    if len(summary.runs) == 1:
        return median
    return f"{median} ({_number(summary.low, unit)}-{_number(summary.high, unit)})"


def _verdict(line: Line) -> str:
    target = line.row.target
    if target is None:
        return ""
    if line.met is None:
        return f"{target.text}: not measured"
    return f"{target.text}: {'met' if line.met else 'missed'}"


def table(found: list[Line], peer: str) -> str:
    """The figures as a Markdown table: figure | esactors | peer | ratio | target."""
    header = ["figure", "esactors", peer, "ratio", "target"]
    body = [
        [
            line.row.label,
            cell(line.ours, line.row.unit),
            cell(line.theirs, line.row.unit) if line.row.theirs else "",
            f"{line.ratio:.1f}x" if line.ratio is not None else "",
            _verdict(line),
        ]
        for line in found
    ]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]

    def render(cells: list[str]) -> str:
        # Text left, numbers right, so the figures line up by their digits.
        padded = (
            c.ljust(w) if i in (0, len(cells) - 1) else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([render(header), rule, *(render(r) for r in body)])


def ceilings(runs: list[dict[str, float]]) -> str:
    """The raw SQLite ceilings, one line each."""
    return "\n".join(
        f"raw {label}: {cell(summary_of(key, runs), '/s')} rows/s" for label, key in CEILINGS
    )


_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


def _peer_durability(runs: list[dict[str, float]]) -> str:
    settings = {
        int(run["peer.sqlite_synchronous"]) for run in runs if "peer.sqlite_synchronous" in run
    }
    if not settings:
        return ""
    return ", peer synchronous=" + "/".join(_SYNCHRONOUS.get(s, str(s)) for s in sorted(settings))


def header(
    machine: dict[str, Any],
    settings: Settings,
    runs: list[dict[str, float]],
    server: Server | None = None,
) -> str:
    """Where and what was measured. The peer's durability is as read from its own connection;
    the PostgreSQL server's (when the PostgreSQL part ran) from the server."""
    postgres = []
    if server is not None:
        postgres = [
            f"PostgreSQL part: {server.describe()}; the same accounts and clients, "
            f"{settings.pg_commands:,} commands; every part in new schemas, dropped after; "
            f"{settings.nodes} nodes: {settings.nodes} processes of "
            f"{max(1, settings.clients // settings.nodes):,} clients, the commands split evenly"
        ]
    return "\n".join(
        [
            f"machine: {machine['cores']} cores, {machine['python']}, SQLite {machine['sqlite']}, "
            f"{machine['platform']}",
            f"temp files: {machine['temp_dir']} ({machine['temp_filesystem']})",
            f"workload: {settings.accounts:,} accounts opened, then {settings.commands:,} commands "
            "in rounds (each round every account once, shuffled; every 4th round withdraws 1, "
            "the others deposit 10)",
            "durability: SQLite in WAL mode, esactors and raw synchronous=FULL"
            + _peer_durability(runs),
            *postgres,
            "cyclic GC: Python's default thresholds"
            if not settings.gc_threshold
            else f"cyclic GC: gc.set_threshold({settings.gc_threshold:,}, 10, 10) in every part's "
            "process, the peer's included",
            f"{len(runs)} run(s); each cell: median (min-max); targets judged on medians",
        ]
    )


def write_json(directory: Path, stamp: str, data: dict[str, Any]) -> Path:
    """Write ``data`` to ``directory/<stamp>.json``; the path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(data, indent=2) + "\n")
    return path


def as_json(found: list[Line]) -> list[dict[str, Any]]:
    """The rows as JSON-ready data."""
    return [
        {
            "figure": line.row.label,
            "unit": line.row.unit,
            "esactors_key": line.row.ours,
            "peer_key": line.row.theirs,
            "esactors": line.ours.as_dict() if line.ours else None,
            "peer": line.theirs.as_dict() if line.theirs else None,
            "ratio": line.ratio,
            "target": line.row.target.text if line.row.target else None,
            "met": line.met,
        }
        for line in found
    ]

"""The invariants checked after every kill, on a copy of the files the killed child left.

1. Every acknowledged command's events are stored, where its reply said (stream, version and
   position of the last event, count); a rejected command stored nothing.
2. No stream has a version gap or duplicate; global positions are 1..N; event ids are unique.
3. Each command's events are all there or none: consecutive versions of one stream, at
   consecutive positions, exactly the events its type writes (acknowledged or not).
4. The Balances projection rebuilt with ``actors.replay`` equals balances folded from the raw
   JSON, and no balance ever went below zero.
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from actors import replay
from stores import SQLiteEventStore

from . import acklog
from .child import TRANSFER_PREFIX
from .domain import Balances, expected_types
from .ledger import Row, fold, read_rows

#: How many problems of one kind a report spells out before it only counts them.
SHOWN = 5


@dataclass
class Report:
    """What one check found. ``problems`` is empty exactly when every invariant held."""

    acknowledged: int = 0
    rejected: int = 0
    events: int = 0
    #: Commands with events stored (acknowledged or not).
    commands: int = 0
    #: Events acknowledged but not stored.
    lost: int = 0
    #: Acknowledged commands stored elsewhere than their reply said.
    misplaced: int = 0
    #: Rejected commands with events stored.
    rejected_stored: int = 0
    half_written: int = 0
    #: Missing or duplicate positions, and missing, duplicate or out-of-order stream versions.
    gaps: int = 0
    overdrafts: int = 0
    projection_equal: bool = False
    #: Transfers whose withdrawal is stored but not their deposit: the kill cut the saga
    #: between its two commands. Not a violation (each command is whole), just counted.
    transfers_cut: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether every invariant held."""
        return not self.problems

    def problem(self, kind: str, details: list[str]) -> None:
        """Add one line for ``details`` of a kind of violation (none if there are none)."""
        if details:
            more = f" and {len(details) - SHOWN} more" if len(details) > SHOWN else ""
            self.problems.append(f"{kind} ({len(details)}): {'; '.join(details[:SHOWN])}{more}")


async def check(db: Path, acks: Path) -> Report:
    """Check the invariants on ``db`` against the side file ``acks`` (whole lines only: see
    ``acklog.repair``). The files are copied first and the copy is read, so the check never
    recovers or checkpoints the WAL the next child must recover itself. Cancelling it stops
    the check and removes the copy."""
    with tempfile.TemporaryDirectory(prefix="crash-check-") as tmp:
        copy = Path(tmp) / db.name
        for suffix in ("", "-wal", "-shm"):
            source = db.with_name(db.name + suffix)
            if source.exists():
                shutil.copyfile(source, copy.with_name(copy.name + suffix))
        rows = read_rows(copy)
        report = Report(events=len(rows))
        groups: dict[str, list[Row]] = {}
        unattributed: list[str] = []
        for row in rows:
            if row.causation_id is None:
                unattributed.append(f"{row.stream_id} v{row.version} @{row.position}")
            else:
                groups.setdefault(row.causation_id, []).append(row)
        report.commands = len(groups)
        report.problem("events without a causation id", unattributed)
        _check_acks(report, acklog.read(acks), groups)
        _check_sequences(report, rows)
        _check_commands(report, groups)
        await _check_balances(report, rows, copy)
    return report


def _check_acks(report: Report, acks: list[acklog.Ack], groups: dict[str, list[Row]]) -> None:
    lost: list[str] = []
    misplaced: list[str] = []
    rejected_stored: list[str] = []
    repeated = [cid for cid, n in Counter(a.command_id for a in acks).items() if n > 1]
    report.problem("command ids acknowledged more than once", repeated)
    for ack in acks:
        group = groups.get(ack.command_id, [])
        if ack.outcome == "rejected":
            report.rejected += 1
            if group:
                rejected_stored.append(f"{ack.command} {ack.command_id}: {len(group)} events")
            continue
        report.acknowledged += 1
        if len(group) < ack.events:
            report.lost += ack.events - len(group)
            lost.append(f"{ack.command} {ack.command_id}: {len(group)} of {ack.events} events")
            continue
        said = (ack.stream_id, ack.version, ack.position, ack.events)
        last = group[-1] if group else None
        stored = (last.stream_id, last.version, last.position, len(group)) if last else None
        if said != stored:
            misplaced.append(
                f"{ack.command} {ack.command_id}: reply (stream, version, position, events) "
                f"{said}, stored {stored}"
            )
    report.misplaced = len(misplaced)
    report.rejected_stored = len(rejected_stored)
    report.problem("acknowledged events lost", lost)
    report.problem("acknowledged commands stored elsewhere than replied", misplaced)
    report.problem("rejected commands with events stored", rejected_stored)


def _check_sequences(report: Report, rows: list[Row]) -> None:
    details: list[str] = []
    positions = [row.position for row in rows]
    if positions != list(range(1, len(rows) + 1)):
        seen = set(positions)
        missing = sorted(set(range(1, max(positions) + 1)) - seen)
        duplicates = len(positions) - len(seen)
        report.gaps += len(missing) + duplicates
        details.append(f"positions: missing {missing[:SHOWN]}, {duplicates} duplicates")
    versions: dict[str, list[int]] = {}
    for row in rows:
        versions.setdefault(row.stream_id, []).append(row.version)
    for stream_id, stream_versions in versions.items():
        if stream_versions != list(range(1, len(stream_versions) + 1)):
            wrong = sum(v != i for i, v in enumerate(stream_versions, 1))
            report.gaps += max(wrong, 1)
            details.append(f"{stream_id} versions in commit order: {stream_versions[:20]}...")
    report.problem("gaps, duplicates or disorder in the log", details)
    repeated = [eid for eid, n in Counter(row.event_id for row in rows).items() if n > 1]
    report.problem("event ids stored more than once", repeated)


def _check_commands(report: Report, groups: dict[str, list[Row]]) -> None:
    half: list[str] = []
    transfers: dict[str, set[str]] = {}
    for causation_id, group in groups.items():
        first = group[0]
        whole = (
            all(row.stream_id == first.stream_id for row in group)
            and [row.version for row in group]
            == list(range(first.version, first.version + len(group)))
            and [row.position for row in group]
            == list(range(first.position, first.position + len(group)))
            and [row.type for row in group] == expected_types(first.type, first.data)
        )
        if not whole:
            half.append(
                f"{causation_id}: "
                + ", ".join(f"{r.type} {r.stream_id} v{r.version} @{r.position}" for r in group)
            )
        correlation = first.correlation_id
        if correlation is not None and correlation.startswith(TRANSFER_PREFIX):
            transfers.setdefault(correlation, set()).update(row.type for row in group)
    report.half_written = len(half)
    report.problem("half-written commands", half)
    report.transfers_cut = sum("Deposited" not in types for types in transfers.values())


async def _check_balances(report: Report, rows: list[Row], db: Path) -> None:
    folded = fold(rows)
    report.overdrafts = len(folded.overdrafts)
    report.problem("balances below zero", folded.overdrafts)
    report.problem("streams breaking the account rules", folded.malformed)
    projection = Balances()
    try:
        async with SQLiteEventStore(db) as store:
            await replay(store, projection)
            head = await store.last_position()
    except Exception as exc:  # any failure to rebuild is itself the finding
        report.problem("the projection could not be rebuilt", [repr(exc)])
        return
    if head != len(rows):
        report.problem("the store and the file disagree", [f"store head {head}, file {len(rows)}"])
    report.projection_equal = projection.balances == folded.balances
    if not report.projection_equal:
        differ = sorted(
            f"{account}: projection {projection.balances.get(account)}, "
            f"recomputed {folded.balances.get(account)}"
            for account in projection.balances.keys() | folded.balances.keys()
            if projection.balances.get(account) != folded.balances.get(account)
        )
        report.problem("projection differs from the recomputed balances", differ)

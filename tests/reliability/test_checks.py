"""The checks themselves: quiet on a clean run, and each one catches the damage it is for
(a harness that never fails proves nothing)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from stores import NewEvent, SQLiteEventStore

from . import acklog
from .check import Report, check
from .child import workload

pytestmark = pytest.mark.anyio


async def clean_run(tmp_path: Path) -> tuple[Path, Path]:
    """A small finished workload: its database and side file."""
    db, acks = tmp_path / "bank.db", tmp_path / "bank.db.acks"
    await workload(db, acks, clients=4, accounts=3, seed="checks", commands=30)
    return db, acks


def tamper(db: Path, sql: str, *params: object) -> None:
    """Change the stored log behind the framework's back."""
    with sqlite3.connect(db) as conn:
        conn.execute(sql, params)
    conn.close()


async def append_raw(
    db: Path,
    stream_id: str,
    causation_id: str,
    *events: tuple[str, dict[str, int]],
    event_id: str | None = None,
) -> None:
    """Append ``(type, data)`` events as one command would, without the aggregate's rules."""
    metadata = json.dumps({"causation_id": causation_id, "correlation_id": causation_id})
    new = [
        NewEvent(type_, json.dumps(data).encode(), metadata=metadata.encode(), event_id=event_id)
        for type_, data in events
    ]
    async with SQLiteEventStore(db) as store:
        await store.append(stream_id, new, None)


async def test_a_clean_run_passes_every_check(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    report = await check(db, acks)
    assert report.ok, report.problems
    assert report.acknowledged + report.rejected == len(acklog.read(acks))
    assert report.acknowledged > 3  # the openings and most of the 120 commands
    assert report.projection_equal
    assert (report.lost, report.half_written, report.gaps, report.overdrafts) == (0, 0, 0, 0)


async def test_a_lost_acknowledged_event_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    tamper(db, "DELETE FROM events WHERE position = (SELECT MAX(position) FROM events)")
    report = await check(db, acks)
    assert report.lost == 1
    assert any("acknowledged events lost" in p for p in report.problems)


async def test_a_gap_in_the_log_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    tamper(db, "DELETE FROM events WHERE position = 5")
    report = await check(db, acks)
    assert report.gaps >= 2  # the global position and the stream's version
    assert not report.ok


async def test_an_unacknowledged_command_stored_in_part_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    # A batch of three deposits with only two of them stored, and no ack in the side file.
    deposit = ("Deposited", {"amount": 5})
    await append_raw(db, "acc-000", "cut-batch", ("BatchStarted", {"size": 3}), deposit, deposit)
    report = await check(db, acks)
    assert report.half_written == 1
    assert report.gaps == 0
    assert any("cut-batch" in p for p in report.problems)


async def test_an_event_id_stored_twice_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    with sqlite3.connect(db) as conn:
        [(taken,)] = conn.execute("SELECT event_id FROM events WHERE position = 1").fetchall()
    conn.close()
    await append_raw(db, "acc-002", "again", ("Deposited", {"amount": 1}), event_id=taken)
    report = await check(db, acks)
    assert any("event ids stored more than once" in p and taken in p for p in report.problems)


async def test_a_reply_that_names_the_wrong_position_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    first = acklog.read(acks)[0]
    lines = acks.read_text().splitlines(keepends=True)
    entry = json.loads(lines[0])
    entry["position"] += 1000
    acks.write_text(json.dumps(entry) + "\n" + "".join(lines[1:]))
    report = await check(db, acks)
    assert report.misplaced == 1
    assert any(first.command_id in p for p in report.problems)


async def test_events_stored_for_a_rejected_command_are_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    rejected = next(a for a in acklog.read(acks) if a.outcome == "rejected")
    await append_raw(db, rejected.stream_id, rejected.command_id, ("Withdrawn", {"amount": 1}))
    report = await check(db, acks)
    assert report.rejected_stored == 1


async def test_an_overdraft_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    await append_raw(db, "acc-001", "overdraft", ("Withdrawn", {"amount": 10**9}))
    report = await check(db, acks)
    assert report.overdrafts == 1
    assert report.projection_equal  # the projection and the fold agree: both see the overdraft


async def test_a_stored_event_the_projection_cannot_read_is_found(tmp_path: Path) -> None:
    db, acks = await clean_run(tmp_path)
    # JSON the independent fold reads (as 7) but the event model refuses (not an integer).
    tamper(db, "UPDATE events SET data = ? WHERE position = 2", b'{"amount": 7.5}')
    report = await check(db, acks)
    assert not report.projection_equal
    assert any("projection could not be rebuilt" in p for p in report.problems)


def test_a_torn_last_line_is_cut_and_whole_lines_are_kept(tmp_path: Path) -> None:
    side = tmp_path / "acks"
    whole = b'{"outcome":"rejected","command_id":"c1","command":"Withdraw","stream_id":"a"}\n'
    side.write_bytes(whole + b'{"outcome":"comm')
    with pytest.raises(ValueError, match="torn"):
        acklog.read(side)
    assert acklog.repair(side) == len(b'{"outcome":"comm')
    assert side.read_bytes() == whole
    assert [a.command_id for a in acklog.read(side)] == ["c1"]


def test_an_empty_report_is_ok() -> None:
    assert Report().ok

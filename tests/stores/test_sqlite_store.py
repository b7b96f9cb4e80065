from __future__ import annotations

import os
import re
import sqlite3
import stat
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, cast

import aiosqlite
import anyio
import anyio.lowlevel
import pytest

from stores import (
    EventStore,
    NewEvent,
    RecordedEvent,
    SQLiteEventStore,
    StoreError,
    StreamVersionConflict,
    _sqlite_batch,
)
from stores._group import Append
from stores.testing import EventStoreContract, Reopen

# Short, so followers notice other store objects' appends quickly.
POLL = 0.02


def event(n: int = 0, type: str = "Happened") -> NewEvent:
    return NewEvent(type, b'{"n": %d}' % n)


class TestSQLiteEventStore(EventStoreContract):
    @pytest.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[EventStore]:
        async with SQLiteEventStore(tmp_path / "events.db", poll_interval=POLL) as store:
            yield store

    @pytest.fixture
    def reopen(self, tmp_path: Path) -> Reopen:
        return lambda: SQLiteEventStore(tmp_path / "events.db", poll_interval=POLL)


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.mark.anyio
async def test_the_database_file_is_created_owner_only(path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        async with SQLiteEventStore(path) as store:
            await store.append("s", [event()], 0)
            wal, shm = path.with_name("events.db-wal"), path.with_name("events.db-shm")
            for file in (path, wal, *([shm] if shm.exists() else [])):
                assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
    finally:
        os.umask(old_umask)


@pytest.mark.anyio
async def test_opening_in_a_missing_directory_raises_store_error_naming_the_path(
    tmp_path: Path,
) -> None:
    path = tmp_path / "no" / "such" / "dir" / "events.db"
    with anyio.fail_after(2), pytest.raises(StoreError, match=re.escape(str(path))):
        async with SQLiteEventStore(path):
            pass
    assert not path.parent.exists()


@pytest.mark.anyio
async def test_group_commit_batches_concurrent_appends_into_few_transactions(
    path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inserts = 0
    execute = aiosqlite.Connection.execute

    def counting_execute(self: aiosqlite.Connection, sql: str, *args: Any) -> Any:
        nonlocal inserts
        # Each batch is one INSERT statement (in its own transaction or one of its own).
        inserts += sql.strip().upper().startswith("INSERT INTO EVENTS")
        return execute(self, sql, *args)

    monkeypatch.setattr(aiosqlite.Connection, "execute", counting_execute)
    results: list[list[RecordedEvent]] = []

    async def append(n: int) -> None:
        results.append(await store.append(f"stream-{n}", [event(n)], 0))

    async with SQLiteEventStore(path) as store:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for n in range(500):
                    tg.start_soon(append, n)
        assert sorted(e.position for r in results for e in r) == list(range(1, 501))
    # Events committed together share one commit time: the public view of the batching.
    transactions = len({r[0].recorded_at_ts for r in results})
    assert 1 <= inserts <= 20, inserts
    assert transactions <= inserts


async def _append_or_conflict(
    store: SQLiteEventStore,
    expected: int,
    winners: list[RecordedEvent],
    conflicts: list[StreamVersionConflict],
) -> None:
    try:
        winners.extend(await store.append("contested", [event(expected)], expected))
    except StreamVersionConflict as conflict:
        conflicts.append(conflict)


@pytest.mark.anyio
async def test_two_store_objects_racing_on_one_stream_let_exactly_one_win(path: Path) -> None:
    async with SQLiteEventStore(path) as a, SQLiteEventStore(path) as b:
        for round in range(5):
            winners: list[RecordedEvent] = []
            conflicts: list[StreamVersionConflict] = []
            with anyio.fail_after(10):
                async with anyio.create_task_group() as tg:
                    for store in (a, b, a, b):
                        tg.start_soon(_append_or_conflict, store, round, winners, conflicts)
            assert [e.version for e in winners] == [round + 1]
            assert [(c.expected, c.actual) for c in conflicts] == [(round, round + 1)] * 3
        assert [e.version for e in await b.read_stream("contested")] == [1, 2, 3, 4, 5]
        assert [e.position for e in await a.read_all()] == [1, 2, 3, 4, 5]


@pytest.mark.anyio
async def test_a_writer_is_not_misled_by_what_it_remembers_once_another_process_wrote(
    path: Path,
) -> None:
    # Each store object remembers its streams' versions to commit in one statement; another
    # object's appends (to the same stream, to others, to one it never saw) must not lead it
    # to a wrong refusal, a wrong acceptance, or a taken version or position.
    async with SQLiteEventStore(path) as a, SQLiteEventStore(path) as b:
        await a.append("x", [event(1)], 0)
        await b.append("x", [event(2)], 1)
        [third] = await a.append("x", [event(3)], 2)  # a remembered x at 1
        assert (third.version, third.position) == (3, 3)
        with pytest.raises(StreamVersionConflict) as stale:
            await a.append("x", [event(4)], 2)
        assert (stale.value.expected, stale.value.actual) == (2, 3)
        await b.append("y", [event(5)], 0)  # moves the head a remembers
        [fourth] = await a.append("x", [event(6)], 3)
        assert (fourth.version, fourth.position) == (4, 5)
        await b.append("z", [event(7)], 0)  # a stream a never saw
        await a.append("w", [event(8)], 0)  # a learns the head, not z
        with pytest.raises(StreamVersionConflict) as taken:
            await a.append("z", [event(9)], 0)
        assert (taken.value.expected, taken.value.actual) == (0, 1)
        [later] = await a.append("z", [event(10)], None)
        assert (later.version, later.position) == (2, 8)
    async with SQLiteEventStore(path) as reader:
        log = await reader.read_all()
    assert [e.position for e in log] == list(range(1, 9))
    expected = ["x1", "x2", "x3", "y1", "x4", "z1", "w1", "z2"]
    assert [f"{e.stream_id}{e.version}" for e in log] == expected


def test_a_writer_remembers_a_bounded_number_of_streams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite_batch, "MAX_REMEMBERED_STREAMS", 3)
    known = _sqlite_batch.KnownVersions()
    for n in range(10):
        known.learn({f"s{n}": 1}, n + 1)
        assert len(known.versions) <= 3
    assert known.head == 10


@pytest.mark.anyio
async def test_an_append_locked_out_past_busy_timeout_raises_store_error_and_recovers(
    path: Path,
) -> None:
    async with SQLiteEventStore(path, busy_timeout=0.1) as store:
        await store.append("s", [event(1)], 0)
        other_process = sqlite3.connect(path, isolation_level=None)
        try:
            other_process.execute("BEGIN IMMEDIATE")
            with anyio.fail_after(5), pytest.raises(StoreError, match="locked"):
                await store.append("s", [event(2)], 1)
            other_process.execute("ROLLBACK")
        finally:
            other_process.close()
        [recorded] = await store.append("s", [event(2)], 1)
        assert (recorded.version, recorded.position) == (2, 2)


@pytest.mark.anyio
async def test_a_follower_sees_another_store_objects_appends_by_polling(path: Path) -> None:
    got: list[RecordedEvent] = []

    async def follower(store: SQLiteEventStore) -> None:
        async for batch in store.follow():
            got.extend(batch)
            if len(got) >= 3:
                return

    async with SQLiteEventStore(path, poll_interval=0.05) as a, SQLiteEventStore(path) as b:
        await a.append("mine", [event(0)], 0)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follower, a)
                await anyio.wait_all_tasks_blocked()
                started = time.monotonic()
                await b.append("theirs", [event(1), event(2)], 0)
        # Nothing local woke the follower: only the poll did, within a few intervals.
        assert time.monotonic() - started < 2
    assert [(e.stream_id, e.position) for e in got] == [("mine", 1), ("theirs", 2), ("theirs", 3)]


@pytest.mark.anyio
async def test_cancelled_appends_do_not_break_later_appends(path: Path) -> None:
    done: dict[str, list[RecordedEvent]] = {}
    cancelled: list[str] = []

    async def append(stream: str, expected: int | None, scope: anyio.CancelScope) -> None:
        with scope:
            done[stream] = await store.append(stream, [event(), event()], expected)
        if scope.cancelled_caught:
            cancelled.append(stream)

    async with SQLiteEventStore(path) as store:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                scopes: list[anyio.CancelScope] = []
                for n in range(50):
                    # Every fourth is cancelled at its first checkpoint (move_on_after(0)).
                    deadline = anyio.current_time() if n % 4 == 1 else float("inf")
                    scopes.append(anyio.CancelScope(deadline=deadline))
                    tg.start_soon(append, f"early-{n}", None, scopes[-1])
                    if n % 5 == 0:
                        await anyio.lowlevel.checkpoint()
                # Others mid-way: queued behind a writer, or the writer itself mid-commit.
                await anyio.lowlevel.checkpoint()
                for scope in scopes[::3]:
                    scope.cancel()
                await anyio.wait_all_tasks_blocked()
                for scope in scopes[2::5]:
                    scope.cancel()
            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(append, f"later-{n}", 0, anyio.CancelScope())

        assert cancelled
        assert all(stream not in done for stream in cancelled)
        assert [[e.version for e in done[f"later-{n}"]] for n in range(50)] == [[1, 2]] * 50
        stored = await store.read_all(limit=10_000)
        assert [e.position for e in stored] == list(range(1, len(stored) + 1))
        by_id = {e.event_id: (e.stream_id, e.version, e.position) for e in stored}
        for recorded in done.values():
            for e in recorded:
                assert by_id[e.event_id] == (e.stream_id, e.version, e.position)
        # A cancelled append may or may not have committed, but never half of it.
        for stream in {e.stream_id for e in stored}:
            assert [e.version for e in await store.read_stream(stream)] == [1, 2]


@pytest.mark.anyio
async def test_a_cancelled_writer_hands_the_writer_role_on(path: Path) -> None:
    async with SQLiteEventStore(path) as store:
        results: list[int] = []

        async def waiting_append(n: int) -> None:
            [recorded] = await store.append(f"w-{n}", [event(n)], 0)
            results.append(recorded.position)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                writer_scope = anyio.CancelScope()
                writing = anyio.Event()

                async def first() -> None:
                    with writer_scope:
                        writing.set()
                        await store.append("first", [event()], 0)

                tg.start_soon(first)
                await writing.wait()
                for n in range(20):
                    tg.start_soon(waiting_append, n)
                await anyio.wait_all_tasks_blocked()
                writer_scope.cancel()
        assert len(results) == 20
        assert [e.position for e in await store.read_all()] == list(range(1, 22))


@pytest.mark.anyio
async def test_durability_normal_stores_and_reads_events(path: Path) -> None:
    async with SQLiteEventStore(path, durability="normal") as store:
        assert store.durability == "normal"
        recorded = await store.append("s", [event(1), event(2)], 0)
    async with SQLiteEventStore(path, durability="normal") as again:
        assert await again.read_stream("s") == recorded


def test_an_unknown_durability_is_a_value_error(path: Path) -> None:
    with pytest.raises(ValueError, match=r"durability.*'sometimes'"):
        SQLiteEventStore(path, durability=cast(Any, "sometimes"))


# -- regressions: bugs these tests found ---------------------------------------------------


@pytest.mark.anyio
async def test_closing_during_appends_ends_every_append(path: Path) -> None:
    outcomes: list[str] = []

    async def append(n: int) -> None:
        try:
            await store.append(f"s-{n}", [event(n)], None)
        except StoreError as exc:
            outcomes.append(type(exc).__name__)
        except Exception as exc:
            outcomes.append(f"unexpected {exc!r}")
        else:
            outcomes.append("committed")

    async with SQLiteEventStore(path) as store:
        with anyio.move_on_after(1) as scope:
            async with anyio.create_task_group() as tg:
                for n in range(20):
                    tg.start_soon(append, n)
                await anyio.wait_all_tasks_blocked()
                await store.aclose()
        assert not scope.cancelled_caught, f"appends hung after aclose: {outcomes}"
        assert len(outcomes) == 20
        assert all(o in ("committed", "StoreClosed", "StoreError") for o in outcomes), outcomes


@pytest.mark.anyio
async def test_a_bad_append_does_not_fail_the_appends_committed_with_it(path: Path) -> None:
    outcomes: dict[str, str] = {}

    async def append(stream: str, data: Any) -> None:
        try:
            await store.append(stream, [NewEvent("Happened", data)], 0)
        except StoreError as exc:
            outcomes[stream] = type(exc).__name__
        else:
            outcomes[stream] = "committed"

    async with SQLiteEventStore(path) as store:
        async with anyio.create_task_group() as tg:
            tg.start_soon(append, "first", b"{}")
            tg.start_soon(append, "innocent", b"{}")
            tg.start_soon(append, "culprit", {"not": "bytes"})
        assert outcomes["innocent"] == "committed", outcomes


def test_a_batch_takes_appends_in_order_up_to_its_event_bound() -> None:
    bound = _sqlite_batch.MAX_BATCH_EVENTS

    def appends(*sizes: int) -> list[Append]:
        return [Append(f"s{n}", [event(n)] * size, None) for n, size in enumerate(sizes)]

    queue = appends(bound - 1, 1, 1)
    batch, rest = _sqlite_batch.take_batch(queue)
    assert (batch, rest) == (queue[:2], queue[2:])
    oversize = appends(bound + 5, 1)
    assert _sqlite_batch.take_batch(oversize) == (oversize[:1], oversize[1:])
    few = appends(1, 2, 3)
    assert _sqlite_batch.take_batch(few) == (few, [])

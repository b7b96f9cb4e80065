from __future__ import annotations

import re
import socket
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import anyio.lowlevel
import asyncpg
import pytest

from stores import (
    EventStore,
    InvalidEvent,
    NewEvent,
    PostgresEventStore,
    RecordedEvent,
    StoreClosed,
    StoreError,
    StreamVersionConflict,
)
from stores.testing import EventStoreContract, Reopen
from tests.postgres import fresh_schema, postgres_dsn

# Short, so a follower that missed a NOTIFY still notices other store objects' appends.
POLL = 0.05


def event(n: int = 0, type: str = "Happened") -> NewEvent:
    return NewEvent(type, b'{"n": %d}' % n)


@pytest.fixture
def dsn() -> str:
    return postgres_dsn()


@pytest.fixture
async def schema(dsn: str) -> AsyncIterator[str]:
    async for name in fresh_schema(dsn):
        yield name


class TestPostgresEventStore(EventStoreContract):
    @pytest.fixture
    async def store(self, dsn: str, schema: str) -> AsyncIterator[EventStore]:
        async with PostgresEventStore(dsn, schema=schema, poll_interval=POLL) as store:
            yield store

    @pytest.fixture
    def reopen(self, dsn: str, schema: str) -> Reopen:
        return lambda: PostgresEventStore(dsn, schema=schema, poll_interval=POLL)


@pytest.fixture
async def store(dsn: str, schema: str) -> AsyncIterator[PostgresEventStore]:
    async with PostgresEventStore(dsn, schema=schema, poll_interval=POLL) as store:
        yield store


async def _sql(dsn: str, query: str, *args: Any) -> Any:
    connection = await asyncpg.connect(dsn)
    try:
        return await connection.fetch(query, *args)
    finally:
        await connection.close()


# -- group commit --------------------------------------------------------------------------


@pytest.mark.anyio
async def test_group_commit_sends_concurrent_appends_in_few_transactions(
    store: PostgresEventStore,
) -> None:
    results: list[list[RecordedEvent]] = []

    async def append(n: int) -> None:
        results.append(await store.append(f"stream-{n}", [event(n)], 0))

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for n in range(500):
                tg.start_soon(append, n)
    assert sorted(e.position for r in results for e in r) == list(range(1, 501))
    # Events committed together share one commit time: the public view of the batching.
    transactions = len({r[0].recorded_at_ts for r in results})
    assert 1 <= transactions <= 20, transactions


@pytest.mark.anyio
async def test_queued_appends_to_one_stream_commit_in_queue_order(
    store: PostgresEventStore,
) -> None:
    # A batch holds one append per stream; the others wait for the next batch, in order.
    recorded: dict[int, list[RecordedEvent]] = {}

    async def append(n: int) -> None:
        recorded[n] = await store.append("one-stream", [event(n), event(n)], None)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            for n in range(60):
                tg.start_soon(append, n)
    stored = await store.read_stream("one-stream")
    assert [e.version for e in stored] == list(range(1, 121))
    assert [e.position for e in stored] == list(range(1, 121))
    for n, events in recorded.items():
        assert [e.data for e in events] == [event(n).data] * 2
        assert events[1].version == events[0].version + 1


@pytest.mark.anyio
async def test_a_conflict_in_a_batch_does_not_fail_the_appends_committed_with_it(
    store: PostgresEventStore,
) -> None:
    await store.append("taken", [event()], 0)
    outcomes: dict[str, str] = {}

    async def append(stream: str, expected: int) -> None:
        try:
            await store.append(stream, [event()], expected)
        except StreamVersionConflict:
            outcomes[stream] = "conflict"
        else:
            outcomes[stream] = "committed"

    async with anyio.create_task_group() as tg:
        for stream, expected in [("a", 0), ("taken", 0), ("b", 0), ("taken-too", 3), ("c", 0)]:
            tg.start_soon(append, stream, expected)
    assert outcomes == {
        "a": "committed",
        "taken": "conflict",
        "b": "committed",
        "taken-too": "conflict",
        "c": "committed",
    }
    assert [e.position for e in await store.read_all()] == [1, 2, 3, 4]


# -- ordering across processes -------------------------------------------------------------


@pytest.mark.anyio
async def test_a_batch_waits_for_an_uncommitted_one_so_positions_follow_commit_order(
    dsn: str, schema: str, store: PostgresEventStore
) -> None:
    # Another process's batch has taken position 1 and not committed yet. A sequence would
    # give this store's batch position 2 and let it commit first: a reader would then see 2,
    # move past 1, and never read it. The lock makes the second batch wait instead.
    other = await asyncpg.connect(dsn)
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.fetch(
            f'SELECT * FROM "{schema}".events_append_v1($1, $2, $3, $4, $5, $6, $7, $8, $9)',
            store._sql.lock_key,
            store._sql.channel,
            ["theirs"],
            [0],
            [1],
            ["their-event"],
            ["Happened"],
            [b"{}"],
            [b"{}"],
        )
        done: list[RecordedEvent] = []

        async def mine() -> None:
            done.extend(await store.append("mine", [event()], 0))

        async with anyio.create_task_group() as tg:
            tg.start_soon(mine)
            await anyio.sleep(0.3)
            assert done == [], "an append committed while an earlier batch held the lock"
            assert await store.read_all() == []
            await transaction.commit()
        assert [(e.stream_id, e.position) for e in done] == [("mine", 2)]
        assert [e.stream_id for e in await store.read_all()] == ["theirs", "mine"]
    finally:
        await other.close()


@pytest.mark.anyio
async def test_a_follower_is_woken_by_notify_from_another_store_object(
    dsn: str, schema: str
) -> None:
    got: list[RecordedEvent] = []

    async def follower(store: PostgresEventStore) -> None:
        async for batch in store.follow():
            got.extend(batch)
            if len(got) >= 3:
                return

    # Polling once a minute: only the NOTIFY can wake the follower within the test.
    async with (
        PostgresEventStore(dsn, schema=schema, poll_interval=60) as a,
        PostgresEventStore(dsn, schema=schema) as b,
    ):
        await a.append("mine", [event(0)], 0)
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follower, a)
                await anyio.wait_all_tasks_blocked()
                started = time.monotonic()
                await b.append("theirs", [event(1), event(2)], 0)
        assert time.monotonic() - started < 2
    assert [(e.stream_id, e.position) for e in got] == [("mine", 1), ("theirs", 2), ("theirs", 3)]


@pytest.mark.anyio
async def test_followers_poll_when_the_listen_connection_is_lost(dsn: str, schema: str) -> None:
    async with (
        PostgresEventStore(dsn, schema=schema, poll_interval=0.05) as a,
        PostgresEventStore(dsn, schema=schema) as b,
    ):
        assert a._listener is not None
        pid = a._listener.get_server_pid()
        await _sql(dsn, "SELECT pg_terminate_backend($1)", pid)
        got: list[RecordedEvent] = []
        await b.append("theirs", [event(0)], 0)
        with anyio.fail_after(5):
            async for batch in a.follow():
                got.extend(batch)
                if len(got) < 2:
                    await b.append("theirs", [event(len(got))], len(got))
                else:
                    break
        assert [e.version for e in got] == [1, 2]


# -- failures ------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_an_unreachable_server_raises_store_error_naming_the_host_at_once() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    started = time.monotonic()
    with pytest.raises(StoreError, match=f"127.0.0.1:{port}/test") as caught:
        async with PostgresEventStore(f"postgresql://postgres:s3cret@127.0.0.1:{port}/test"):
            pass
    assert time.monotonic() - started < 3
    assert "s3cret" not in str(caught.value)


@pytest.mark.anyio
async def test_a_server_that_never_answers_times_out_with_store_error() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()  # accepts connections, never speaks
        port = silent.getsockname()[1]
        started = time.monotonic()
        with pytest.raises(StoreError, match=f"127.0.0.1:{port}"):
            async with PostgresEventStore(
                f"postgresql://postgres@127.0.0.1:{port}/test", connect_timeout=0.3
            ):
                pass
        assert time.monotonic() - started < 3


@pytest.mark.anyio
async def test_a_missing_database_raises_store_error_naming_it(dsn: str) -> None:
    missing = re.sub(r"/[^/?]*(\?|$)", r"/no_such_database_here\1", dsn.split("//", 1)[1])
    with pytest.raises(StoreError, match="no_such_database_here"):
        async with PostgresEventStore(f"postgresql://{missing}"):
            pass


@pytest.mark.anyio
async def test_a_lost_writer_connection_fails_at_most_one_batch_then_reconnects(
    dsn: str, store: PostgresEventStore
) -> None:
    await store.append("s", [event(1)], 0)
    assert store._writer is not None
    await _sql(dsn, "SELECT pg_terminate_backend($1)", store._writer.get_server_pid())
    failed: list[StoreError] = []
    with anyio.fail_after(5):
        try:
            await store.append("s", [event(2)], 1)
        except StoreError as exc:
            # Unless the driver had noticed the loss already, the batch on it fails.
            failed.append(exc)
            await store.append("s", [event(2)], 1)
        [recorded] = await store.append("s", [event(3)], 2)
    assert all("append to" in str(exc) for exc in failed)
    assert (recorded.version, recorded.position) == (3, 3)


@pytest.mark.anyio
async def test_driver_errors_on_reads_and_appends_become_store_errors(
    dsn: str, schema: str, store: PostgresEventStore
) -> None:
    await store.append("s", [event()], 0)
    await _sql(dsn, f'DROP TABLE "{schema}".events CASCADE')
    with pytest.raises(StoreError, match="does not exist") as read:
        await store.read_all(after=5)
    assert isinstance(read.value.__cause__, asyncpg.PostgresError)
    with pytest.raises(StoreError, match="does not exist"):
        await store.append("s", [event()], None)


@pytest.mark.anyio
@pytest.mark.parametrize("event_id", ["nul\x00inside", "lone-\ud800-surrogate"])
async def test_an_event_id_postgres_cannot_store_is_invalid_and_fails_no_other_append(
    store: PostgresEventStore, event_id: str
) -> None:
    outcomes: dict[str, str] = {}

    async def append(stream: str, event: NewEvent) -> None:
        try:
            await store.append(stream, [event], 0)
        except InvalidEvent:
            outcomes[stream] = "invalid"
        else:
            outcomes[stream] = "committed"

    async with anyio.create_task_group() as tg:
        tg.start_soon(append, "first", event())
        tg.start_soon(append, "culprit", NewEvent("Happened", b"{}", event_id=event_id))
        tg.start_soon(append, "innocent", event())
    assert outcomes == {"first": "committed", "culprit": "invalid", "innocent": "committed"}


@pytest.mark.anyio
async def test_an_append_locked_out_past_lock_timeout_raises_store_error_and_recovers(
    dsn: str, schema: str
) -> None:
    async with PostgresEventStore(dsn, schema=schema, lock_timeout=0.2) as store:
        other = await asyncpg.connect(dsn)
        try:
            async with other.transaction():
                await other.execute("SELECT pg_advisory_xact_lock($1)", store._sql.lock_key)
                with anyio.fail_after(5), pytest.raises(StoreError, match="other writers"):
                    await store.append("s", [event(1)], 0)
        finally:
            await other.close()
        [recorded] = await store.append("s", [event(1)], 0)
        assert (recorded.version, recorded.position) == (1, 1)


@pytest.mark.anyio
async def test_closing_during_appends_ends_every_append(store: PostgresEventStore) -> None:
    outcomes: list[str] = []

    async def append(n: int) -> None:
        try:
            await store.append(f"s-{n}", [event(n)], None)
        except StoreError as exc:
            outcomes.append(type(exc).__name__)
        else:
            outcomes.append("committed")

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for n in range(50):
                tg.start_soon(append, n)
            await anyio.lowlevel.checkpoint()
            await store.aclose()
    assert len(outcomes) == 50
    assert set(outcomes) <= {"committed", "StoreClosed"}, outcomes
    with pytest.raises(StoreClosed):
        await store.read_all()


@pytest.mark.anyio
async def test_cancelled_appends_do_not_break_later_appends(store: PostgresEventStore) -> None:
    done: dict[str, list[RecordedEvent]] = {}

    async def append(stream: str, scope: anyio.CancelScope) -> None:
        with scope:
            done[stream] = await store.append(stream, [event(), event()], 0)

    with anyio.fail_after(10):
        async with anyio.create_task_group() as tg:
            scopes = [anyio.CancelScope() for _ in range(40)]
            for n, scope in enumerate(scopes):
                tg.start_soon(append, f"early-{n}", scope)
            await anyio.lowlevel.checkpoint()
            for scope in scopes[::3]:
                scope.cancel()  # the writer itself, mid-call, or callers queued behind it
        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(append, f"later-{n}", anyio.CancelScope())
    assert all([e.version for e in done[f"later-{n}"]] == [1, 2] for n in range(20))
    stored = await store.read_all(limit=10_000)
    assert [e.position for e in stored] == list(range(1, len(stored) + 1))
    # A cancelled append may or may not have committed, but never half of it.
    for stream in {e.stream_id for e in stored}:
        assert [e.version for e in await store.read_stream(stream)] == [1, 2]


# -- options -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("schema", "bad-name"),
        ("schema", "1starts_with_digit"),
        ("table", 'events"; DROP TABLE x; --'),
        ("table", "t" * 41),
    ],
)
def test_schema_and_table_must_be_plain_identifiers(option: str, value: str) -> None:
    options: dict[str, Any] = {option: value}
    with pytest.raises(ValueError, match=option):
        PostgresEventStore("postgresql://localhost/test", **options)


def test_the_dsn_must_be_a_postgresql_url() -> None:
    with pytest.raises(ValueError, match="mysql://x"):
        PostgresEventStore("mysql://x")


@pytest.mark.anyio
async def test_an_event_over_max_event_bytes_is_refused_and_nothing_is_stored(
    dsn: str, schema: str
) -> None:
    async with PostgresEventStore(dsn, schema=schema, max_event_bytes=100) as store:
        fits = NewEvent("Small", b'{"x":1}')
        huge = NewEvent("Huge", b'{"x":"' + b"a" * 200 + b'"}')
        with pytest.raises(InvalidEvent, match=r"'Huge' for stream 's' is 2\d\d bytes"):
            await store.append("s", [fits, huge], 0)
        assert await store.last_position() == 0
        assert len(await store.append("s", [fits], 0)) == 1


@pytest.mark.anyio
async def test_a_custom_table_name_is_used(dsn: str, schema: str) -> None:
    async with PostgresEventStore(dsn, schema=schema, table="ledger") as store:
        await store.append("s", [event()], 0)
    [[count]] = await _sql(dsn, f'SELECT count(*) FROM "{schema}".ledger')
    assert count == 1


def test_without_asyncpg_the_error_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # what import finds when not installed
    with pytest.raises(ModuleNotFoundError, match=re.escape("esactors[postgres]")):
        PostgresEventStore("postgresql://localhost/test")

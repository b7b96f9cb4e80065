"""The contract test-suite every event store passes.

A store's test module subclasses ``EventStoreContract`` (as a ``Test...`` class, so pytest
collects it) and provides two fixtures::

    class TestMyEventStore(EventStoreContract):
        @pytest.fixture
        async def store(self, tmp_path: Path) -> AsyncIterator[EventStore]:
            async with MyEventStore(tmp_path / "events") as store:
                yield store

        @pytest.fixture
        def reopen(self, tmp_path: Path) -> Reopen:
            return lambda: MyEventStore(tmp_path / "events")

``store`` is an open, empty store. ``reopen()`` gives another store object over the same
storage (a second process, or the same program after a restart), opened and closed with
``async with``; a store that has only one object per storage returns that one, reopened if a
test closed it, and leaves it open. The tests run on anyio's pytest plugin (``anyio_backend``).

Every test applies to every store. A test that cannot apply to a store is overridden in its
subclass, explicitly, so the gap shows in the test module and the report::

        @pytest.mark.skip(reason="this store keeps nothing across processes")
        async def test_events_survive_closing_and_reopening(self) -> None: ...
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from ._errors import InvalidEvent, StoreClosed, StoreError, StreamVersionConflict
from ._protocol import EventStore
from ._records import NewEvent, RecordedEvent

__all__ = ["EventStoreContract", "Reopen"]

#: Opens another store object over the same storage as the ``store`` fixture.
Reopen = Callable[[], AbstractAsyncContextManager[EventStore]]

# Every wait in the suite is bounded, so a store that loses a wake-up fails instead of hanging.
_PATIENCE = 10.0


def _event(type: str = "Happened", **fields: Any) -> NewEvent:
    return NewEvent(type, json.dumps(fields, sort_keys=True).encode())


def _events(count: int, type: str = "Happened", **fields: Any) -> list[NewEvent]:
    return [_event(type, index=index, **fields) for index in range(count)]


def _summary(events: Sequence[RecordedEvent]) -> list[tuple[str, int, int, str, bytes]]:
    """What a reader can rely on, in a form pytest can diff."""
    return [(e.stream_id, e.version, e.position, e.event_id, e.data) for e in events]


async def _read_whole_log(
    store: EventStore, *, page: int = 1000, types: Collection[str] | None = None
) -> list[RecordedEvent]:
    """Walk the log with read_all, page by page, checking that each page moves forward."""
    found: list[RecordedEvent] = []
    while batch := await store.read_all(
        after=found[-1].position if found else 0, types=types, limit=page
    ):
        assert len(batch) <= page
        _assert_forward(found, batch)
        found.extend(batch)
    return found


def _assert_forward(seen: Sequence[RecordedEvent], batch: Sequence[RecordedEvent]) -> None:
    positions = [e.position for e in batch]
    assert positions == sorted(set(positions)), f"positions out of order: {positions}"
    assert not seen or positions[0] > seen[-1].position, (
        f"went back from {seen[-1].position} to {positions[0]}"
    )


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    # follow() is typed as an AsyncIterator; the stores' async generators also need closing.
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


async def _follow_until(
    store: EventStore,
    count: int,
    *,
    after: int = 0,
    types: Collection[str] | None = None,
    batch_size: int = 1000,
    pause: float = 0.0,
) -> list[RecordedEvent]:
    """Follow the log until ``count`` events arrived, sleeping ``pause`` after each batch."""
    found: list[RecordedEvent] = []
    iterator = store.follow(after=after, types=types, batch_size=batch_size)
    try:
        async for batch in iterator:
            assert batch, "follow yielded an empty batch"
            assert len(batch) <= batch_size
            _assert_forward(found, batch)
            found.extend(batch)
            if len(found) >= count:
                break
            if pause:
                await anyio.sleep(pause)
    finally:
        await _aclose(iterator)
    return found


async def _race(
    store: EventStore,
    stream: str,
    racer: int,
    expected: int,
    won: dict[str, list[RecordedEvent]],
    lost: dict[str, list[StreamVersionConflict]],
) -> None:
    await anyio.lowlevel.checkpoint()
    try:
        recorded = await store.append(stream, [_event(racer=racer)], expected)
    except StreamVersionConflict as conflict:
        lost[stream].append(conflict)
    else:
        assert stream not in won, f"two appends to {stream} expecting {expected} both won"
        won[stream] = recorded


def _assert_gapless(events: Sequence[RecordedEvent], first: int = 1) -> None:
    assert [e.position for e in events] == list(range(first, first + len(events)))


class EventStoreContract:
    """Tests every ``EventStore`` must pass; subclass it with the ``store`` and ``reopen``
    fixtures (see the module docstring)."""

    @pytest.fixture
    def store(self) -> EventStore:
        """An open, empty store; closed after the test."""
        raise NotImplementedError(f"{type(self).__name__} must provide the 'store' fixture")

    @pytest.fixture
    def reopen(self) -> Reopen:
        """Opens another store object over the storage of ``store``."""
        raise NotImplementedError(f"{type(self).__name__} must provide the 'reopen' fixture")

    # -- append: what comes back ------------------------------------------------------------

    @pytest.mark.anyio
    async def test_append_numbers_versions_from_one_per_stream_and_positions_from_one(
        self, store: EventStore
    ) -> None:
        first = await store.append("order-1", _events(3), 0)
        other = await store.append("order-2", _events(2), 0)
        more = await store.append("order-1", _events(2), 3)
        assert [(e.stream_id, e.version) for e in first + other + more] == [
            ("order-1", 1),
            ("order-1", 2),
            ("order-1", 3),
            ("order-2", 1),
            ("order-2", 2),
            ("order-1", 4),
            ("order-1", 5),
        ]
        _assert_gapless(first + other + more)

    @pytest.mark.anyio
    async def test_positions_follow_commit_order_across_streams(self, store: EventStore) -> None:
        recorded: list[RecordedEvent] = []
        for n in range(12):
            recorded += await store.append(f"stream-{n % 5}", _events(1 + n % 3), None)
        _assert_gapless(recorded)
        assert _summary(await store.read_all()) == _summary(recorded)

    @pytest.mark.anyio
    async def test_event_id_type_data_and_metadata_round_trip_exactly(
        self, store: EventStore
    ) -> None:
        sent = [
            NewEvent(
                "shop.OrderPlaced:v2",
                b'{"z": 1,  "a": [1.50, "\\u00e9", "\xc3\xa9"]}',
                metadata=b'{"correlation_id": "c-1", "causation_id": "c-0"}',
                event_id="evt-0001",
            ),
            NewEvent("_private-Type", b"[]"),
            NewEvent("Big", json.dumps({"blob": "x" * 300_000}).encode()),
        ]
        recorded = await store.append("order-\u00e9-1", sent, 0)
        for got in (
            recorded,
            await store.read_stream("order-\u00e9-1"),
            await store.read_all(),
            await _follow_until(store, 3),
        ):
            assert [(e.event_id, e.type, e.data) for e in got] == [
                (e.event_id, e.type, e.data) for e in sent
            ]
            assert [e.stream_id for e in got] == ["order-\u00e9-1"] * 3
            assert got[0].metadata == {"correlation_id": "c-1", "causation_id": "c-0"}
            assert got[1].metadata == {}
        assert recorded[1].event_id == sent[1].event_id != sent[2].event_id

    @pytest.mark.anyio
    async def test_recorded_at_is_a_utc_datetime_near_now(self, store: EventStore) -> None:
        before = datetime.now(UTC)
        [recorded] = await store.append("clock", [_event()], 0)
        after = datetime.now(UTC)
        [read] = await store.read_stream("clock")
        for event in (recorded, read):
            assert event.recorded_at.utcoffset() == timedelta(0)
            # A database server's clock may differ a little from ours.
            slack = timedelta(seconds=5)
            assert before - slack <= event.recorded_at <= after + slack

    @pytest.mark.anyio
    async def test_payload_may_come_back_but_data_bytes_are_the_truth(
        self, store: EventStore
    ) -> None:
        payload = {"amount": 999}  # disagrees with the bytes on purpose
        sent = NewEvent("Deposited", b'{"amount": 5}', payload=payload)
        [recorded] = await store.append("account-1", [sent], 0)
        for got in (
            recorded,
            *(await store.read_stream("account-1")),
            *(await store.read_all()),
            *(await _follow_until(store, 1)),
        ):
            assert got.data == b'{"amount": 5}'
            assert got.payload is None or got.payload is payload

    # -- expected_version and atomicity -----------------------------------------------------

    @pytest.mark.anyio
    async def test_expected_version_zero_creates_a_new_stream(self, store: EventStore) -> None:
        recorded = await store.append("new", _events(2), 0)
        assert [e.version for e in recorded] == [1, 2]

    @pytest.mark.anyio
    async def test_expected_version_zero_conflicts_once_the_stream_exists(
        self, store: EventStore
    ) -> None:
        await store.append("taken", _events(2), 0)
        with pytest.raises(StreamVersionConflict) as caught:
            await store.append("taken", _events(1), 0)
        assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
            "taken",
            0,
            2,
        )

    @pytest.mark.anyio
    async def test_wrong_expected_version_raises_conflict_and_stores_nothing(
        self, store: EventStore
    ) -> None:
        await store.append("s", _events(3), 0)
        await store.append("other", _events(1), 0)
        for wrong in (1, 2, 4, 100):
            with pytest.raises(StreamVersionConflict) as caught:
                await store.append("s", _events(2, attempt=wrong), wrong)
            assert caught.value.stream_id == "s"
            assert caught.value.expected == wrong
            assert caught.value.actual == 3
            assert isinstance(caught.value, StoreError)
            assert "'s'" in str(caught.value)
        with pytest.raises(StreamVersionConflict):
            await store.append("never-written", _events(1), 1)
        assert await store.last_position() == 4
        assert [e.version for e in await store.read_stream("s")] == [1, 2, 3]
        assert await store.read_stream("never-written") == []

    @pytest.mark.anyio
    async def test_matching_expected_version_appends_after_it(self, store: EventStore) -> None:
        await store.append("s", _events(2), 0)
        recorded = await store.append("s", _events(2), 2)
        assert [e.version for e in recorded] == [3, 4]

    @pytest.mark.anyio
    async def test_expected_version_none_appends_at_any_version(self, store: EventStore) -> None:
        assert [e.version for e in await store.append("s", _events(1), None)] == [1]
        assert [e.version for e in await store.append("s", _events(2), None)] == [2, 3]
        assert [e.version for e in await store.append("s", _events(1), None)] == [4]

    @pytest.mark.anyio
    async def test_a_conflicting_append_leaves_stream_and_log_unchanged(
        self, store: EventStore
    ) -> None:
        before = await store.append("s", _events(2), 0)
        with pytest.raises(StreamVersionConflict):
            await store.append("s", _events(5, lost=True), 1)
        assert _summary(await store.read_stream("s")) == _summary(before)
        assert _summary(await store.read_all()) == _summary(before)
        # The refused append used up no version and no position.
        [after] = await store.append("s", _events(1), 2)
        assert (after.version, after.position) == (3, 3)

    @pytest.mark.anyio
    async def test_an_append_with_one_invalid_event_stores_none_of_its_events(
        self, store: EventStore
    ) -> None:
        bad = [_event("Fine"), _event("Fine"), _event("not valid!"), _event("Fine")]
        with pytest.raises(InvalidEvent):
            await store.append("s", bad, 0)
        assert await store.read_stream("s") == []
        assert await store.last_position() == 0

    # -- read_stream ------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_read_stream_returns_the_streams_events_in_version_order(
        self, store: EventStore
    ) -> None:
        mine: list[RecordedEvent] = []
        for n in range(4):
            mine += await store.append("s", _events(2, round=n), None)
            # Look-alike stream ids must not leak into each other.
            for other in ("s-1", "S", "s%", "s_", "ss"):
                await store.append(other, _events(1), None)
        read = await store.read_stream("s")
        assert _summary(read) == _summary(mine)
        assert [e.version for e in read] == list(range(1, 9))

    @pytest.mark.anyio
    async def test_read_stream_from_version_starts_there(self, store: EventStore) -> None:
        recorded = await store.append("s", _events(5), 0)
        assert _summary(await store.read_stream("s", from_version=1)) == _summary(recorded)
        assert _summary(await store.read_stream("s", from_version=3)) == _summary(recorded[2:])
        assert _summary(await store.read_stream("s", from_version=5)) == _summary(recorded[4:])
        assert await store.read_stream("s", from_version=6) == []
        assert await store.read_stream("s", from_version=1000) == []

    @pytest.mark.anyio
    async def test_read_stream_of_an_unknown_stream_is_empty(self, store: EventStore) -> None:
        assert await store.read_stream("nobody") == []
        await store.append("somebody", _events(1), 0)
        assert await store.read_stream("nobody") == []
        assert await store.read_stream("nobody", from_version=3) == []

    @pytest.mark.anyio
    async def test_concurrent_stream_reads_each_get_their_own_stream_from_their_version(
        self, store: EventStore
    ) -> None:
        # Many activations at once read many streams at once; a store may batch them.
        expected: dict[str, list[RecordedEvent]] = {}
        for n in range(20):
            expected[f"s-{n}"] = await store.append(f"s-{n}", _events(n % 4 + 1, n=n), 0)
        asks = [(f"s-{n}", 1 + k) for n in range(20) for k in range(3)] + [("missing", 1)] * 3
        got: dict[tuple[str, int], list[RecordedEvent]] = {}

        async def read(stream_id: str, from_version: int) -> None:
            got[stream_id, from_version] = await store.read_stream(
                stream_id, from_version=from_version
            )

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                for stream_id, from_version in asks:
                    tg.start_soon(read, stream_id, from_version)
        for (stream_id, from_version), events in got.items():
            want = expected.get(stream_id, [])[from_version - 1 :]
            assert _summary(events) == _summary(want), (stream_id, from_version)

    # -- read_all ---------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_read_all_of_an_empty_log_is_empty(self, store: EventStore) -> None:
        assert await store.read_all() == []
        assert await store.read_all(types=["Happened"]) == []

    @pytest.mark.anyio
    async def test_read_all_after_returns_the_events_past_that_position(
        self, store: EventStore
    ) -> None:
        recorded = await store.append("a", _events(4), 0) + await store.append("b", _events(3), 0)
        for after in range(len(recorded) + 2):
            got = await store.read_all(after=after)
            assert _summary(got) == _summary(recorded[after:])

    @pytest.mark.anyio
    async def test_read_all_limit_caps_the_batch(self, store: EventStore) -> None:
        recorded = await store.append("s", _events(10), 0)
        assert _summary(await store.read_all(limit=1)) == _summary(recorded[:1])
        assert _summary(await store.read_all(limit=4)) == _summary(recorded[:4])
        assert _summary(await store.read_all(after=8, limit=4)) == _summary(recorded[8:])
        assert _summary(await store.read_all(limit=1000)) == _summary(recorded)

    @pytest.mark.anyio
    async def test_read_all_types_keeps_only_those_types_in_position_order(
        self, store: EventStore
    ) -> None:
        recorded: list[RecordedEvent] = []
        for n in range(30):
            kind = ("Opened", "Deposited", "Closed")[n % 3]
            recorded += await store.append(f"acc-{n % 4}", [_event(kind, n=n)], None)
        wanted = [e for e in recorded if e.type in {"Opened", "Closed"}]
        got = await store.read_all(types=["Opened", "Closed"])
        assert _summary(got) == _summary(wanted)
        assert _summary(await store.read_all(types={"Closed"})) == _summary(
            [e for e in recorded if e.type == "Closed"]
        )
        after = wanted[3].position
        assert _summary(await store.read_all(after=after, types=("Opened", "Closed"), limit=4)) == (
            _summary(wanted[4:8])
        )
        assert await store.read_all(types=["NeverAppended"]) == []

    @pytest.mark.anyio
    async def test_read_all_with_limit_zero_is_empty(self, store: EventStore) -> None:
        await store.append("s", _events(3), 0)
        assert await store.read_all(limit=0) == []
        assert await store.read_all(limit=0, types=["Happened"]) == []
        assert await store.read_all(after=1, limit=0, types=["Happened"]) == []

    @pytest.mark.anyio
    async def test_read_all_with_an_empty_types_collection_is_empty(
        self, store: EventStore
    ) -> None:
        await store.append("s", _events(3), 0)
        assert await store.read_all(types=[]) == []
        assert await store.read_all(types=set()) == []

    @pytest.mark.anyio
    async def test_read_all_pages_walk_the_whole_log_without_gap_or_duplicate(
        self, store: EventStore
    ) -> None:
        recorded: list[RecordedEvent] = []
        for n in range(25):
            recorded += await store.append(f"s-{n % 6}", _events(1 + n % 4), None)
        for page in (1, 3, 7, 1000):
            walked = await _read_whole_log(store, page=page)
            assert _summary(walked) == _summary(recorded)
            _assert_gapless(walked)

    @pytest.mark.anyio
    async def test_read_all_filtered_pages_walk_every_matching_event(
        self, store: EventStore
    ) -> None:
        recorded: list[RecordedEvent] = []
        for n in range(40):
            recorded += await store.append(
                f"s-{n % 3}", [_event(("A", "B", "C", "D")[n % 4])], None
            )
        wanted = [e for e in recorded if e.type in {"B", "D"}]
        for page in (1, 3, 1000):
            walked = await _read_whole_log(store, page=page, types=["B", "D"])
            assert _summary(walked) == _summary(wanted)

    # -- last_position ----------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_last_position_of_an_empty_log_is_zero(self, store: EventStore) -> None:
        assert await store.last_position() == 0

    @pytest.mark.anyio
    async def test_last_position_is_the_position_of_the_last_committed_event(
        self, store: EventStore
    ) -> None:
        await store.append("a", _events(3), 0)
        assert await store.last_position() == 3
        [last] = await store.append("b", _events(1), 0)
        assert await store.last_position() == last.position == 4
        with pytest.raises(StreamVersionConflict):
            await store.append("b", _events(2), 0)
        with pytest.raises(InvalidEvent):
            await store.append("", _events(2), None)
        assert await store.last_position() == 4

    # -- concurrency ------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_appends_whose_callers_are_cancelled_while_they_wait_are_stored_all_the_same(
        self, store: EventStore
    ) -> None:
        # A store takes an append before it first waits (aggregates rely on this: a command
        # asked in the caller's task commits even if the caller is cancelled meanwhile), and
        # commits what it took whole.
        await store.append("warm", _events(1), 0)  # opened: taking an append needs no wait
        async with anyio.create_task_group() as tg:
            for n in range(20):
                tg.start_soon(store.append, f"cut-{n}", _events(2, n=n), 0)
            await anyio.lowlevel.checkpoint()  # every append has started and is waiting
            tg.cancel_scope.cancel()
        with anyio.fail_after(_PATIENCE):
            # Polling: a store has no event for "the batch in progress has committed".
            while await store.last_position() < 41:  # noqa: ASYNC110
                await anyio.sleep(0.01)
        stored = await _read_whole_log(store)
        _assert_gapless(stored)
        assert sorted(e.stream_id for e in stored[1:]) == sorted(
            f"cut-{n}" for n in range(20) for _ in range(2)
        )

    @pytest.mark.anyio
    async def test_concurrent_appends_store_every_success_with_gapless_versions_and_positions(
        self, store: EventStore
    ) -> None:
        streams = [f"load-{n}" for n in range(50)]
        successes: list[tuple[int | None, list[RecordedEvent]]] = []
        conflicts: list[StreamVersionConflict] = []

        async def writer(task: int) -> None:
            stream = streams[task % len(streams)]
            racing = task >= 100  # two racing writers and two unconditional ones per stream
            known = 0
            for n in range(5):
                await anyio.lowlevel.checkpoint()  # let the writers interleave
                events = _events(1 + (task + n) % 3, task=task, append=n)
                expected = known if racing else None
                try:
                    recorded = await store.append(stream, events, expected)
                except StreamVersionConflict as conflict:
                    conflicts.append(conflict)
                    known = conflict.actual
                else:
                    successes.append((expected, recorded))
                    known = recorded[-1].version
                    assert [e.event_id for e in recorded] == [e.event_id for e in events]

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                for task in range(200):
                    tg.start_soon(writer, task)

        assert len(successes) + len(conflicts) == 200 * 5
        assert conflicts, "no expected-version race happened; the test lost its point"
        stored = await _read_whole_log(store)
        _assert_gapless(stored)
        committed = [e for _, recorded in successes for e in recorded]
        assert sorted(_summary(stored)) == sorted(_summary(committed))
        ends: dict[str, set[int]] = {s: {0} for s in streams}
        for expected, recorded in successes:
            versions = [e.version for e in recorded]
            assert versions == list(range(versions[0], versions[0] + len(versions)))
            assert [e.position for e in recorded] == sorted(e.position for e in recorded)
            if expected is not None:
                assert versions[0] == expected + 1
            ends[recorded[0].stream_id].add(versions[-1])
        for stream in streams:
            versions = [e.version for e in await store.read_stream(stream)]
            assert versions == list(range(1, len(versions) + 1))
        for conflict in conflicts:
            # Only a loser conflicts: the stream had really moved past what it expected.
            assert conflict.expected is not None
            assert conflict.expected < conflict.actual
            assert conflict.actual in ends[conflict.stream_id]

    @pytest.mark.anyio
    async def test_racing_appends_with_one_expected_version_let_exactly_one_win(
        self, store: EventStore
    ) -> None:
        streams = [f"race-{n}" for n in range(50)]
        for round in range(3):
            won: dict[str, list[RecordedEvent]] = {}
            lost: dict[str, list[StreamVersionConflict]] = {s: [] for s in streams}
            with anyio.fail_after(_PATIENCE):
                async with anyio.create_task_group() as tg:
                    for racer in range(4):
                        for stream in streams:
                            tg.start_soon(_race, store, stream, racer, round, won, lost)
            for stream in streams:
                assert [e.version for e in won[stream]] == [round + 1]
                assert [(c.expected, c.actual) for c in lost[stream]] == [(round, round + 1)] * 3
        _assert_gapless(await _read_whole_log(store))
        assert await store.last_position() == 150

    # -- follow -----------------------------------------------------------------------------

    @pytest.mark.anyio
    async def test_follow_yields_stored_events_then_live_ones_in_order(
        self, store: EventStore
    ) -> None:
        stored = await store.append("s", _events(5), 0)
        got: dict[str, list[RecordedEvent]] = {}

        async def follower(name: str, after: int, count: int) -> None:
            got[name] = await _follow_until(store, count, after=after, batch_size=4)

        live: list[RecordedEvent] = []
        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follower, "behind", 0, 25)
                tg.start_soon(follower, "at head", 5, 20)
                await anyio.wait_all_tasks_blocked()
                for n in range(10):
                    live += await store.append(f"live-{n % 3}", _events(2, n=n), None)
                    if n % 3 == 0:
                        await anyio.lowlevel.checkpoint()
        assert _summary(got["behind"]) == _summary(stored + live)
        assert _summary(got["at head"]) == _summary(live)
        _assert_gapless(got["behind"])

    @pytest.mark.anyio
    async def test_follow_of_an_empty_log_waits_for_the_first_event(
        self, store: EventStore
    ) -> None:
        got: list[RecordedEvent] = []

        async def follower() -> None:
            got.extend(await _follow_until(store, 1))

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follower)
                await anyio.wait_all_tasks_blocked()
                assert got == []
                first = await store.append("s", [_event()], 0)
        assert _summary(got) == _summary(first)

    @pytest.mark.anyio
    async def test_follow_with_types_yields_only_those_types_stored_and_live(
        self, store: EventStore
    ) -> None:
        recorded: list[RecordedEvent] = []
        for n in range(9):
            recorded += await store.append("s", [_event(("A", "B", "C")[n % 3], n=n)], None)
        got: list[RecordedEvent] = []

        async def follower() -> None:
            got.extend(await _follow_until(store, 10, types=["A", "C"], batch_size=2))

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follower)
                await anyio.wait_all_tasks_blocked()
                for n in range(9, 15):
                    recorded += await store.append("s", [_event(("A", "B", "C")[n % 3], n=n)], None)
        assert _summary(got) == _summary([e for e in recorded if e.type in {"A", "C"}])

    @pytest.mark.anyio
    async def test_a_slow_follower_still_gets_every_event(self, store: EventStore) -> None:
        got: list[RecordedEvent] = []
        appended: list[RecordedEvent] = []

        async def slow_follower() -> None:
            got.extend(await _follow_until(store, 5000, batch_size=250, pause=0.005))

        async def producer(task: int) -> None:
            for n in range(25):
                appended.extend(await store.append(f"p-{task}", _events(20, n=n), None))
                # Interleave with the follower even on a store whose append never waits.
                await anyio.lowlevel.checkpoint()

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(slow_follower)
                async with anyio.create_task_group() as producers:
                    for task in range(10):
                        producers.start_soon(producer, task)
        assert len(got) == 5000
        _assert_gapless(got)
        assert sorted(_summary(got)) == sorted(_summary(appended))

    @pytest.mark.anyio
    async def test_cancelling_a_follower_is_clean_and_the_store_keeps_working(
        self, store: EventStore
    ) -> None:
        first = await store.append("s", _events(2), 0)
        got: list[RecordedEvent] = []

        async def follow_forever() -> None:
            async for batch in store.follow():
                got.extend(batch)

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow_forever)
                await anyio.wait_all_tasks_blocked()
                tg.cancel_scope.cancel()
        assert _summary(got) == _summary(first)

        # Cancelled while the consumer, not the store, was busy.
        with anyio.fail_after(_PATIENCE), anyio.CancelScope() as scope:
            iterator = store.follow()
            try:
                async for _ in iterator:
                    scope.cancel()
                    await anyio.sleep(1)
            finally:
                await _aclose(iterator)
        assert scope.cancelled_caught

        more = await store.append("s", _events(2), 2)
        with anyio.fail_after(_PATIENCE):
            assert _summary(await _follow_until(store, 4)) == _summary(first + more)

    @pytest.mark.anyio
    async def test_a_follower_ends_when_the_store_closes(self, store: EventStore) -> None:
        await store.append("s", _events(2), 0)
        ends: list[str] = []

        async def follow_forever() -> None:
            try:
                async for _ in store.follow():
                    pass
            except StoreClosed:
                ends.append("StoreClosed")
            else:
                ends.append("end of iteration")

        with anyio.fail_after(_PATIENCE):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow_forever)
                tg.start_soon(follow_forever)
                await anyio.wait_all_tasks_blocked()
                await store.aclose()
        assert len(ends) == 2

    # -- input checks -----------------------------------------------------------------------

    async def _assert_invalid(
        self,
        store: EventStore,
        stream_id: str,
        events: Sequence[NewEvent],
        expected_version: int | None,
        *,
        named: str,
    ) -> None:
        before = await store.last_position()
        with pytest.raises(InvalidEvent) as caught:
            await store.append(stream_id, events, expected_version)
        assert isinstance(caught.value, StoreError)
        assert isinstance(caught.value, ValueError)
        assert named in str(caught.value)
        assert await store.last_position() == before
        if stream_id:
            assert await store.read_stream(stream_id) == []

    @pytest.mark.anyio
    async def test_an_empty_stream_id_is_invalid(self, store: EventStore) -> None:
        await self._assert_invalid(store, "", [_event()], None, named="stream id")

    @pytest.mark.anyio
    async def test_a_too_long_stream_id_is_invalid(self, store: EventStore) -> None:
        await self._assert_invalid(store, "x" * 10_000, [_event()], None, named="stream id")
        # A generous length stays valid.
        assert [e.version for e in await store.append("y" * 100, [_event()], 0)] == [1]

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        "type_name",
        ["", "has space", "9starts_with_digit", "semi;colon", "new\nline", "T" * 10_000],
        ids=["empty", "space", "digit", "semicolon", "newline", "too-long"],
    )
    async def test_an_invalid_type_name_is_invalid(self, store: EventStore, type_name: str) -> None:
        await self._assert_invalid(
            store, "s", [_event("Fine"), _event(type_name)], None, named=repr(type_name)[:50]
        )

    @pytest.mark.anyio
    async def test_a_negative_expected_version_is_invalid(self, store: EventStore) -> None:
        await store.append("s", _events(1), 0)
        await self._assert_invalid(store, "t", [_event()], -1, named="expected_version")
        with pytest.raises(InvalidEvent, match="-1"):
            await store.append("s", [_event()], -1)
        assert len(await store.read_stream("s")) == 1

    @pytest.mark.anyio
    async def test_an_empty_event_list_is_invalid(self, store: EventStore) -> None:
        await self._assert_invalid(store, "nothing-here", [], None, named="'nothing-here'")
        await self._assert_invalid(store, "nothing-here", [], 0, named="'nothing-here'")

    @pytest.mark.anyio
    @pytest.mark.parametrize(
        ("data", "metadata", "event_id", "named"),
        [
            ({"amount": 5}, b"{}", "e-1", "data"),
            ('{"amount": 5}', b"{}", "e-1", "data"),
            (b"{}", '{"correlation_id": "c"}', "e-1", "metadata"),
            (b"{}", b"{}", "", "event_id"),
        ],
        ids=["dict-data", "str-data", "str-metadata", "empty-event-id"],
    )
    async def test_an_event_that_is_not_bytes_or_has_no_id_is_invalid(
        self, store: EventStore, data: Any, metadata: Any, event_id: str, named: str
    ) -> None:
        bad = NewEvent("Happened", data, metadata=metadata, event_id=event_id)
        await self._assert_invalid(store, "s", [_event(), bad], None, named=named)

    @pytest.mark.anyio
    async def test_append_after_close_raises_store_closed(self, store: EventStore) -> None:
        await store.append("s", _events(1), 0)
        await store.aclose()
        with pytest.raises(StoreClosed):
            await store.append("s", _events(1), None)

    # -- another store object over the same storage -----------------------------------------

    @pytest.mark.anyio
    async def test_events_survive_closing_and_reopening(
        self, store: EventStore, reopen: Reopen
    ) -> None:
        recorded: list[RecordedEvent] = []
        for n in range(6):
            recorded += await store.append(f"s-{n % 2}", _events(2, n=n), None)
        await store.aclose()
        async with reopen() as again:
            assert _summary(await _read_whole_log(again)) == _summary(recorded)
            assert _summary(await again.read_stream("s-1")) == _summary(
                [e for e in recorded if e.stream_id == "s-1"]
            )
            assert await again.last_position() == 12
            [next_one] = await again.append("s-0", [_event()], 6)
            assert (next_one.version, next_one.position) == (7, 13)

    @pytest.mark.anyio
    async def test_two_store_objects_on_one_storage_share_the_log_and_its_conflicts(
        self, store: EventStore, reopen: Reopen
    ) -> None:
        async with reopen() as other:
            mine = await store.append("shared", _events(2), 0)
            with pytest.raises(StreamVersionConflict) as caught:
                await other.append("shared", _events(1), 0)
            assert caught.value.actual == 2
            theirs = await other.append("shared", _events(1), 2)
            assert (theirs[0].version, theirs[0].position) == (3, 3)
            with pytest.raises(StreamVersionConflict):
                await store.append("shared", _events(1), 2)
            assert _summary(await store.read_stream("shared")) == _summary(mine + theirs)
            assert _summary(await other.read_all()) == _summary(mine + theirs)
            assert await store.last_position() == await other.last_position() == 3

    @pytest.mark.anyio
    async def test_read_all_fills_its_page_with_events_another_store_object_appended(
        self, store: EventStore, reopen: Reopen
    ) -> None:
        # A page shorter than the limit means the end of the log: page walkers rely on it.
        mine = await store.append("a", _events(2), 0)
        async with reopen() as other:
            theirs = await other.append("b", _events(2), 0)
        assert _summary(await store.read_all(limit=10)) == _summary(mine + theirs)
        assert _summary(await store.read_all(limit=3)) == _summary((mine + theirs)[:3])
        assert _summary(await store.read_all(types=["Happened"], limit=10)) == _summary(
            mine + theirs
        )
        more = await store.append("a", _events(1), 2)
        assert _summary(await store.read_all(after=1, limit=10)) == _summary(
            (mine + theirs + more)[1:]
        )

    @pytest.mark.anyio
    async def test_a_follower_sees_events_appended_through_another_store_object(
        self, store: EventStore, reopen: Reopen
    ) -> None:
        mine = await store.append("here", _events(2), 0)
        got: list[RecordedEvent] = []

        async def follower() -> None:
            got.extend(await _follow_until(store, 6))

        async with reopen() as other:
            with anyio.fail_after(_PATIENCE):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(follower)
                    await anyio.wait_all_tasks_blocked()
                    theirs = await other.append("there", _events(3), 0)
                    theirs += await other.append("here", _events(1), 2)
        assert _summary(got) == _summary(mine + theirs)

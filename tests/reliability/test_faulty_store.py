"""FaultyStore itself: transparent when no fault is scheduled (the contract suite), and each
scheduled fault does exactly what it says, no more (a fault tool that misfires proves nothing)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import pytest

from stores import EventStore, MemoryEventStore, NewEvent, RecordedEvent, StreamVersionConflict
from stores.faults import FaultyStore, InjectedFault
from stores.testing import EventStoreContract, Reopen


class TestFaultyStoreWithoutFaults(EventStoreContract):
    """With nothing scheduled, the wrapper is a store like any other."""

    @pytest.fixture
    async def store(self) -> AsyncIterator[EventStore]:
        async with FaultyStore(MemoryEventStore()) as store:
            yield store

    @pytest.fixture
    def reopen(self, store: EventStore) -> Reopen:
        # As for the memory store: the one object is all the storage there is.
        assert isinstance(store, FaultyStore)
        faulty = store

        @asynccontextmanager
        async def same_store() -> AsyncIterator[EventStore]:
            await faulty.open()
            yield faulty

        return same_store


def _event(n: int = 0) -> NewEvent:
    return NewEvent("Happened", json.dumps({"n": n}).encode())


pytestmark = pytest.mark.anyio


async def test_a_failed_append_raises_an_injected_store_error_and_stores_nothing() -> None:
    store = FaultyStore(MemoryEventStore())
    store.fail_next()
    with pytest.raises(InjectedFault) as caught:
        await store.append("s", [_event()], 0)
    assert caught.value.kind == "fail"
    assert await store.last_position() == 0
    assert [e.version for e in await store.append("s", [_event()], 0)] == [1]
    assert store.injected == {"fail": 1}
    assert store.appends == 2


async def test_a_failure_can_be_any_error_and_can_target_one_stream() -> None:
    store = FaultyStore(MemoryEventStore())
    store.fail_next(2, error=StreamVersionConflict("b", 0, 0), stream_id="b")
    await store.append("a", [_event()], 0)
    for _ in range(2):
        with pytest.raises(StreamVersionConflict):
            await store.append("b", [_event()], 0)
    await store.append("b", [_event()], 0)
    assert [e.stream_id for e in await store.read_all()] == ["a", "b"]
    assert store.injected["fail"] == 2
    assert store.pending() == 0


async def test_a_lost_reply_commits_the_events_then_raises() -> None:
    store = FaultyStore(MemoryEventStore())
    store.lose_reply_next()
    with pytest.raises(InjectedFault) as caught:
        await store.append("s", [_event(1), _event(2)], 0)
    assert caught.value.kind == "lose_reply"
    assert [e.version for e in await store.read_stream("s")] == [1, 2]
    assert store.injected == {"lose_reply": 1}


async def test_a_lost_reply_waits_for_an_append_that_commits() -> None:
    store = FaultyStore(MemoryEventStore())
    await store.append("s", [_event()], 0)
    store.lose_reply_next()
    with pytest.raises(StreamVersionConflict):
        await store.append("s", [_event()], 0)
    assert store.pending("lose_reply") == 1
    with pytest.raises(InjectedFault):
        await store.append("s", [_event()], 1)
    assert store.pending() == 0
    assert await store.last_position() == 2


async def test_a_stall_holds_the_append_then_lets_it_through() -> None:
    store = FaultyStore(MemoryEventStore())
    store.stall_next(seconds=0.05)
    with anyio.fail_after(2):
        started = anyio.current_time()
        [recorded] = await store.append("s", [_event()], 0)
    assert anyio.current_time() - started >= 0.04
    assert recorded.version == 1
    assert store.injected == {"stall": 1}
    assert store.stalled == 0


async def test_a_stall_without_a_time_waits_for_release_and_a_cancelled_one_stores_nothing() -> (
    None
):
    store = FaultyStore(MemoryEventStore())
    store.stall_next(2)
    got: list[RecordedEvent] = []

    async def append() -> None:
        got.extend(await store.append("s", [_event()], None))

    with anyio.fail_after(2):
        async with anyio.create_task_group() as tg:
            tg.start_soon(append)
            await anyio.wait_all_tasks_blocked()
            assert (store.stalled, got) == (1, [])
            store.release_stalls()
        assert [e.version for e in got] == [1]
        with anyio.move_on_after(0.02) as scope:
            await store.append("s", [_event()], None)
    assert scope.cancelled_caught
    assert store.stalled == 0
    assert await store.last_position() == 1


async def test_failed_reads_raise_and_can_target_one_stream() -> None:
    store = FaultyStore(MemoryEventStore())
    await store.append("a", [_event()], 0)
    store.fail_reads_next(stream_id="a")
    store.fail_reads_next()
    with pytest.raises(InjectedFault, match="stream 'a'"):
        await store.read_stream("a")
    with pytest.raises(InjectedFault, match="log"):
        await store.read_all()
    assert len(await store.read_stream("a")) == len(await store.read_all()) == 1
    assert store.injected == {"fail_read": 2}


async def test_a_failed_follow_page_is_never_yielded() -> None:
    store = FaultyStore(MemoryEventStore())
    await store.append("s", [_event(1)], 0)
    store.fail_follow_next()
    seen: list[int] = []

    async def follow() -> None:
        async for batch in store.follow():
            seen.extend(e.position for e in batch)

    with anyio.fail_after(2), pytest.raises(InjectedFault):
        await follow()
    assert seen == []
    with anyio.fail_after(2):
        async for batch in store.follow():
            seen.extend(e.position for e in batch)
            break
    assert seen == [1]
    assert store.injected == {"fail_follow": 1}


async def test_scheduling_no_fault_or_a_negative_stall_is_refused() -> None:
    store = FaultyStore(MemoryEventStore())
    with pytest.raises(ValueError, match="n must be"):
        store.fail_next(0)
    with pytest.raises(ValueError, match="seconds"):
        store.stall_next(seconds=-1)
    store.lose_reply_next(3)
    store.clear()
    assert store.pending() == 0

"""A cap on live aggregates: the least recently used idle one makes room, and keeps its state."""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from runtime import open_runtime
from stores import MemoryEventStore, NewEvent, RecordedEvent

from .domain import Account, Deposit, GetState

pytestmark = pytest.mark.anyio


async def test_touching_many_ids_keeps_at_most_the_cap_live() -> None:
    async with open_runtime(store=MemoryEventStore(), max_live_actors=10) as rt:
        for n in range(200):
            await rt.get(Account, f"acc-{n}").ask(Deposit(amount=1))
            assert rt.live_actors <= 10
        # Evicted aggregates come back with their state.
        assert await rt.get(Account, "acc-0").ask(GetState()) == 1


async def test_the_least_recently_used_aggregate_is_passivated_first() -> None:
    async with open_runtime(store=MemoryEventStore(), max_live_actors=3) as rt:
        for name in ("a", "b", "c"):
            await rt.get(Account, name).ask(Deposit(amount=1))
        await rt.get(Account, "a").ask(GetState())  # a is now the most recent; b the least
        await rt.get(Account, "d").ask(Deposit(amount=1))
        assert [rt.is_live(Account, n) for n in "abcd"] == [True, False, True, True]


class GatedStore(MemoryEventStore):
    """Appends to stream "a" wait for the gate: its aggregate stays busy until then."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = anyio.Event()

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        if stream_id == "a":
            await self.gate.wait()
        return await super().append(stream_id, events, expected_version)


async def test_a_busy_aggregate_is_not_evicted_the_cap_bends_instead() -> None:
    store = GatedStore()
    async with open_runtime(store=store, max_live_actors=1) as rt:
        async with anyio.create_task_group() as tg:
            tg.start_soon(rt.get(Account, "a").ask, Deposit(amount=1))
            await anyio.wait_all_tasks_blocked()
            await rt.get(Account, "b").ask(Deposit(amount=1))
            assert rt.is_live(Account, "a")
            assert rt.is_live(Account, "b")
            store.gate.set()
        assert await rt.get(Account, "a").ask(GetState()) == 1


async def test_a_cap_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="max_live_actors"):
        async with open_runtime(max_live_actors=0):
            pass

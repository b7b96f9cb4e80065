"""Replaying stored events outside an actor: load() an aggregate, replay() into a projection."""

from __future__ import annotations

import pytest

from actors import Projection, Recorded, load, on, replay
from runtime import open_runtime
from stores import MemoryEventStore, NewEvent, UnknownEventType

from .domain import Account, Balances, Deposit, Deposited, Withdraw, Withdrawn

pytestmark = pytest.mark.anyio


class Positions(Projection):
    def __init__(self) -> None:
        self.seen: list[int] = []

    @on(Deposited, Withdrawn)
    def any_event(self, e: Recorded[Deposited | Withdrawn]) -> None:
        self.seen.append(e.position)


async def _fill(store: MemoryEventStore) -> None:
    async with open_runtime(store=store) as rt:
        for n in range(3):
            await rt.get(Account, f"acc-{n}").ask(Deposit(amount=10 * (n + 1)))
        await rt.get(Account, "acc-0").ask(Withdraw(amount=4))


async def test_load_rebuilds_one_aggregate_from_its_stream() -> None:
    store = MemoryEventStore()
    await _fill(store)
    account = await load(store, Account, "acc-0")
    assert (account.id, account.version, account.balance) == ("acc-0", 2, 6)
    assert account.history == ["+10", "-4"]


async def test_load_of_an_unknown_stream_gives_the_initial_state() -> None:
    account = await load(MemoryEventStore(), Account, "nobody")
    assert (account.version, account.balance) == (0, 0)


async def test_load_names_an_unknown_stored_type() -> None:
    store = MemoryEventStore()
    await store.append("acc-0", [NewEvent("Mystery", b"{}")], 0)
    with pytest.raises(UnknownEventType, match="Mystery"):
        await load(store, Account, "acc-0")


async def test_replay_of_the_whole_log_rebuilds_a_read_model() -> None:
    store = MemoryEventStore()
    await _fill(store)
    model = Balances()
    last = await replay(store, model, batch_size=2)
    assert last == 4
    assert model.totals == {"acc-0": 6, "acc-1": 20, "acc-2": 30}


async def test_replay_of_one_stream_applies_only_that_stream() -> None:
    store = MemoryEventStore()
    await _fill(store)
    model = Balances()
    await replay(store, model, stream_id="acc-0")
    assert model.totals == {"acc-0": 6}


async def test_replay_after_a_position_applies_only_later_events() -> None:
    store = MemoryEventStore()
    await _fill(store)
    model = Positions()
    assert await replay(store, model, after=2) == 4
    assert model.seen == [3, 4]

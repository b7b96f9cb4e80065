"""Overload: ten times more senders than an actor's mailbox has room for, and more aggregates
than may be live. Senders are held back (``tell`` waits, ``tell_nowait`` says ``MailboxFull``),
nothing accepted is dropped, memory does not grow with the backlog, and the live-actor cap
holds without losing any state.
"""

from __future__ import annotations

import tracemalloc

import anyio
import pytest

from runtime import MailboxFull, Runtime, open_runtime
from stores import MemoryEventStore
from stores.faults import FaultyStore

from .domain import Deposit, OpenAccount
from .invariants import (
    Account,
    AccountView,
    CheckedBalances,
    GetAccount,
    GetBalances,
    check_absent,
    fold,
    stored,
)

pytestmark = pytest.mark.anyio

CAPACITY = 8
SENDERS = 10 * CAPACITY


async def _fill(rt: Runtime, store: FaultyStore, key: str) -> int:
    """Open ``key``, make its actor busy on a stalled append, fill its mailbox with
    ``tell_nowait`` to ``MailboxFull``; how many messages were accepted."""
    account = rt.get(Account, key)
    await account.ask(OpenAccount(opening_deposit=1))
    store.stall_next(stream_id=key)  # until released
    account.tell_nowait(Deposit(amount=1))
    await anyio.wait_all_tasks_blocked()
    assert store.stalled == 1  # the actor holds that one, the mailbox is empty again
    for _ in range(CAPACITY):
        account.tell_nowait(Deposit(amount=1))
    with pytest.raises(MailboxFull):
        account.tell_nowait(Deposit(amount=1))
    return CAPACITY + 1


async def test_ten_times_more_senders_than_room_are_held_back_and_nothing_is_dropped() -> None:
    store = FaultyStore(MemoryEventStore())
    per_sender = 25
    accepted = 0
    most_waiting = 0

    async def sender(account_key: str) -> None:
        nonlocal accepted, most_waiting
        account = rt.get(Account, account_key)
        for _ in range(per_sender):
            await account.tell(Deposit(amount=1))
            accepted += 1
            # Accepted and not yet stored = in the mailbox, plus the one the actor holds.
            waiting = accepted - ((await store.inner.last_position()) - 2)
            most_waiting = max(most_waiting, waiting)
            assert waiting <= CAPACITY + 1, (
                f"{waiting} messages queued past a mailbox of {CAPACITY}"
            )

    async with open_runtime(store=store, mailbox_size=CAPACITY) as rt:
        balances = await rt.spawn(CheckedBalances)
        accepted = await _fill(rt, store, "acc")
        assert accepted == CAPACITY + 1
        # Each append yields to the loop once, as a real store's would: senders and the actor
        # interleave instead of the actor draining the mailbox in one go.
        store.stall_next(SENDERS * per_sender + CAPACITY, seconds=0, stream_id="acc")
        async with anyio.create_task_group() as tg:
            for _ in range(SENDERS):
                tg.start_soon(sender, "acc")
            await anyio.wait_all_tasks_blocked()
            # Every sender waits for room: none got in while the actor was stuck.
            assert accepted == CAPACITY + 1
            with pytest.raises(MailboxFull):
                rt.get(Account, "acc").tell_nowait(Deposit(amount=1))
            store.release_stalls()
        total = 1 + CAPACITY + SENDERS * per_sender
        assert accepted == total
        view = await rt.get(Account, "acc").ask(GetAccount())
        assert view == AccountView(True, 1 + total, 2 + total)
        assert await balances.ask(GetBalances(), after=2 + total, timeout=5) == {"acc": 1 + total}
    assert most_waiting == CAPACITY + 1  # the mailbox did fill up: backpressure was exercised
    assert fold(await stored(store))["acc"].version == 2 + total


async def test_tell_nowait_from_many_senders_either_lands_or_says_full_never_drops() -> None:
    store = FaultyStore(MemoryEventStore())
    landed = refused = 0

    async def sender() -> None:
        nonlocal landed, refused
        account = rt.get(Account, "acc")
        for _ in range(20):
            try:
                account.tell_nowait(Deposit(amount=1))
            except MailboxFull:
                refused += 1
            else:
                landed += 1
            await anyio.lowlevel.checkpoint()

    async with open_runtime(store=store, mailbox_size=CAPACITY) as rt:
        await rt.get(Account, "acc").ask(OpenAccount(opening_deposit=1))
        store.stall_next(10_000, seconds=0.001, stream_id="acc")
        async with anyio.create_task_group() as tg:
            for _ in range(SENDERS):
                tg.start_soon(sender)
        store.clear()
        view = await rt.get(Account, "acc").ask(GetAccount())
    assert landed + refused == SENDERS * 20
    assert refused > 0  # the mailbox was full at times
    assert view == AccountView(True, 1 + landed, 2 + landed)


async def test_asks_from_ten_times_more_senders_than_room_all_get_their_reply() -> None:
    store = FaultyStore(MemoryEventStore())
    versions: list[int] = []

    async def sender() -> None:
        for _ in range(5):
            versions.append((await rt.get(Account, "acc").ask(Deposit(amount=1))).version)

    async with open_runtime(store=store, mailbox_size=CAPACITY) as rt:
        await rt.get(Account, "acc").ask(OpenAccount(opening_deposit=1))
        store.stall_next(SENDERS * 5, seconds=0, stream_id="acc")
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for _ in range(SENDERS):
                    tg.start_soon(sender)
    assert sorted(versions) == list(range(3, 3 + SENDERS * 5))


async def _flood_peak(per_sender: int) -> int:
    """Bytes allocated at the peak while SENDERS senders, each with ``per_sender`` messages to
    tell, wait behind a full mailbox."""
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store, mailbox_size=CAPACITY) as rt:
        await _fill(rt, store, "acc")

        async def sender() -> None:
            account = rt.get(Account, "acc")
            for _ in range(per_sender):
                await account.tell(Deposit(amount=1))

        async with anyio.create_task_group() as tg:
            tracemalloc.start()
            try:
                for _ in range(SENDERS):
                    tg.start_soon(sender)
                await anyio.wait_all_tasks_blocked()
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            store.release_stalls()
        expected = 2 + CAPACITY + 1 + SENDERS * per_sender
        assert (await rt.get(Account, "acc").ask(GetAccount())).version == expected
    return peak


async def test_memory_held_for_a_backlog_does_not_grow_with_the_backlog() -> None:
    small = await _flood_peak(1)
    large = await _flood_peak(200)  # 16,000 messages waiting to be sent
    # Held: the mailbox and one message per waiting sender, whatever the backlog behind them.
    # A framework buffering the backlog would hold 16,000 messages (several MB) here.
    assert large < 2 * small + 64 * 1024, (small, large)
    assert large < (SENDERS + CAPACITY) * 16 * 1024, large


async def test_a_sender_that_gives_up_waiting_for_room_sends_nothing() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store, mailbox_size=CAPACITY) as rt:
        accepted = await _fill(rt, store, "acc")
        account = rt.get(Account, "acc")
        timed_out = Deposit(amount=1000)
        with pytest.raises(TimeoutError):
            await account.ask(timed_out, timeout=0.02)
        with anyio.move_on_after(0.02) as waited:
            await account.tell(Deposit(amount=1000))
        assert waited.cancelled_caught
        store.release_stalls()
        view = await account.ask(GetAccount())
    # The two messages never got in: only what was accepted ran.
    assert view == AccountView(True, 1 + accepted, 2 + accepted)
    check_absent(await stored(store), [timed_out.command_id])


async def test_stopping_an_actor_with_senders_waiting_for_room_loses_none_of_their_messages() -> (
    None
):
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store, mailbox_size=CAPACITY) as rt:
        accepted = await _fill(rt, store, "acc")

        async def sender() -> None:
            for _ in range(5):
                await rt.get(Account, "acc").tell(Deposit(amount=1))

        async with anyio.create_task_group() as tg:
            for _ in range(SENDERS):
                tg.start_soon(sender)
            await anyio.wait_all_tasks_blocked()
            # The waiting senders move on to the next activation of the account.
            tg.start_soon(rt.get(Account, "acc").stop)
            await anyio.wait_all_tasks_blocked()
            store.release_stalls()
        view = await rt.get(Account, "acc").ask(GetAccount())
    total = accepted + SENDERS * 5
    assert view == AccountView(True, 1 + total, 2 + total)


async def test_a_live_actor_cap_holds_under_concurrent_senders_and_keeps_every_state() -> None:
    cap, senders, ids = 8, 4, 60
    highest = 0

    async def sender(n: int) -> None:
        nonlocal highest
        for round_ in range(3):
            for i in range(n, ids, senders):
                account = rt.get(Account, f"acc-{i}")
                if round_ == 0:
                    await account.ask(OpenAccount(opening_deposit=1))
                else:
                    await account.ask(Deposit(amount=1))
                highest = max(highest, rt.live_actors)
                assert rt.live_actors <= cap

    async with open_runtime(store=MemoryEventStore(), max_live_actors=cap) as rt:
        async with anyio.create_task_group() as tg:
            for n in range(senders):
                tg.start_soon(sender, n)
        assert highest == cap
        for i in range(ids):
            view = await rt.get(Account, f"acc-{i}").ask(GetAccount())
            assert view == AccountView(True, 3, 4)
            assert rt.live_actors <= cap


async def test_after_a_burst_bent_the_live_actor_cap_the_next_activation_brings_it_back() -> None:
    cap, ids = 8, 40
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store, max_live_actors=cap) as rt:
        # Every append yields once, so all 40 actors are busy at once: the cap must bend.
        store.stall_next(ids, seconds=0)
        highest = 0
        for i in range(ids):
            await rt.get(Account, f"acc-{i}").tell(OpenAccount(opening_deposit=1))
            highest = max(highest, rt.live_actors)
        assert highest > cap
        for i in range(ids):
            assert (await rt.get(Account, f"acc-{i}").ask(GetAccount())).balance == 1
        # The burst is over and every actor is idle: one more activation makes room.
        await rt.get(Account, "one-more").ask(GetAccount())
        assert rt.live_actors <= cap

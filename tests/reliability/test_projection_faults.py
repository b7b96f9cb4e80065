"""A projection meets a failing handler or a failing store: it retries, then parks or stops
as configured, never skipping an event silently; its status says where it is; and a fixed or
new projection, replaying the log, ends up with every event.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import anyio
import pytest

from actors import GetProjectionStatus, Projection, ProjectionStopped, Recorded, on
from runtime import ActorStopped, Runtime, open_runtime
from stores import MemoryEventStore
from stores.faults import FaultyStore, InjectedFault

from .domain import Deposit, Deposited, OpenAccount
from .invariants import Account, CheckedBalances, GetBalances, consistent, fold, stored

pytestmark = pytest.mark.anyio


class FlakyBalances(CheckedBalances):
    """Fails on every deposit of 13 while ``broken`` is set (a bug fixed by a redeploy)."""

    broken = True
    retry_limit = 1
    retry_backoff = 0.001

    @on(Deposited)
    def deposited(self, e: Recorded[Deposited]) -> None:
        if self.broken and e.data.amount == 13:
            raise ValueError("unlucky")
        super().deposited(e)


class ParkingBalances(FlakyBalances):
    on_failure = "park"


async def _bank(rt: Runtime, amounts: Sequence[int]) -> int:
    """Open accounts a and b (positions 1-4), then deposit ``amounts`` into a, b, a... in
    turn from position 5 on; the last position."""
    for key in ("a", "b"):
        await rt.get(Account, key).ask(OpenAccount(opening_deposit=1))
    for n, amount in enumerate(amounts):
        done = await rt.get(Account, "ab"[n % 2]).ask(Deposit(amount=amount))
    return done.position


async def test_a_parked_event_is_the_only_one_missing_and_a_fixed_projection_recovers_it() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        parking = await rt.spawn(ParkingBalances)
        head = await _bank(rt, [2, 13, 3, 13, 4])
        seen = await parking.ask(GetBalances(), after=head, timeout=5)
        status = await parking.ask(GetProjectionStatus())
        truth = fold(await stored(store))
        # Never a silent skip: what the model lacks is exactly what it parked.
        assert (status.state, status.position) == ("running", head)
        assert [(p.stream_id, p.type) for p in status.parked] == [("b", "Deposited")] * 2
        assert {k: truth[k].balance - seen[k] for k in truth} == {"a": 0, "b": 26}
    # The parked events stayed in the store: the fixed projection, replaying, has them all.
    FixedBalances = type("FixedBalances", (ParkingBalances,), {"broken": False})
    async with open_runtime(store=store) as rt:
        fixed = await rt.spawn(FixedBalances)
        assert await fixed.ask(GetBalances(), after=head, timeout=5) == {
            k: v.balance for k, v in truth.items()
        }
        assert (await fixed.ask(GetProjectionStatus())).parked == ()


async def test_a_stopped_projection_never_moves_past_the_failed_event_and_a_fix_catches_up() -> (
    None
):
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        flaky = await rt.spawn(FlakyBalances)
        head = await _bank(rt, [2, 13, 3])
        with pytest.raises(ProjectionStopped, match="failed on position 6"):
            await flaky.ask(GetBalances(), after=head, timeout=5)
        status = await flaky.ask(GetProjectionStatus())
        assert (status.state, status.position) == ("stopped", 5)
        # More commits do not move it either.
        await rt.get(Account, "a").ask(Deposit(amount=1))
        assert (await flaky.ask(GetProjectionStatus())).position == 5
        FixedBalances = type("FixedBalances", (FlakyBalances,), {"broken": False})
        fixed = await rt.spawn(FixedBalances)
        truth = fold(await stored(store))
        assert await fixed.ask(GetBalances(), after=head + 1, timeout=5) == {
            k: v.balance for k, v in truth.items()
        }


async def test_a_projection_without_retries_stops_at_once_and_says_so() -> None:
    class Impatient(FlakyBalances):
        retry_limit = 0

    async with open_runtime(store=MemoryEventStore()) as rt:
        impatient = await rt.spawn(Impatient)
        head = await _bank(rt, [13])
        with anyio.fail_after(1), pytest.raises(ProjectionStopped):
            await impatient.ask(GetBalances(), after=head)
        status = await impatient.ask(GetProjectionStatus())
        assert status.state == "stopped"
        assert status.error is not None
        assert "unlucky" in status.error


async def test_a_projection_follows_the_log_through_faulty_appends() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(CheckedBalances)
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.fail_next()
        store.lose_reply_next()
        store.stall_next(seconds=0.01)
        for _ in range(4):
            with contextlib.suppress(InjectedFault):
                await account.ask(Deposit(amount=10))
        await consistent(rt, store, ["acc"], balances=balances)
        assert (await balances.ask(GetProjectionStatus())).state == "running"


class Following(Projection):
    """Counts the events it applied (any of the bank's)."""

    def __init__(self) -> None:
        self.count = 0

    @on(Deposited)
    def deposited(self, e: Recorded[Deposited]) -> None:
        self.count += 1

    @on(GetBalances)
    def all(self, q: GetBalances) -> dict[str, int]:
        return {"count": self.count}


async def test_a_transient_read_failure_while_following_is_retried_and_nothing_is_missed() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        following = await rt.spawn(Following)
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.fail_follow_next()
        done = await account.ask(Deposit(amount=1))
        with anyio.fail_after(5):
            assert await following.ask(GetBalances(), after=done.position) == {"count": 2}
        assert (await following.ask(GetProjectionStatus())).state == "running"


async def test_a_failed_follower_read_never_gives_a_stale_answer_and_a_new_one_catches_up() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        following = await rt.spawn(Following)
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.fail_follow_next()
        done = await account.ask(Deposit(amount=1))
        # Whatever it does about the failure, it never answers as if it had seen the event.
        with anyio.fail_after(5):
            try:
                count = await following.ask(GetBalances(), after=done.position)
            except (ActorStopped, ProjectionStopped):
                pass
            else:
                assert count == {"count": 2}
        again = await rt.spawn(Following)
        assert await again.ask(GetBalances(), after=done.position, timeout=5) == {"count": 2}
    assert store.injected == {"fail_follow": 1}

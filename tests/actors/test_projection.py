"""Projections: catch up from the log, follow it live, answer queries (read-your-writes)."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from actors import GetProjectionStatus, Projection, ProjectionStopped, Recorded, on
from runtime import ActorStopped, UnhandledMessage, open_runtime
from stores import MemoryEventStore, SQLiteEventStore

from .domain import Account, Balances, Deposit, Deposited, GetBalance, GetHistory, GetState, Touch

pytestmark = pytest.mark.anyio


async def test_a_query_with_after_waits_until_the_projection_applied_that_position() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        balances = await rt.spawn(Balances)
        account = rt.get(Account, "acc-1")
        for _ in range(3):
            done = await account.ask(Deposit(amount=5))
        assert await balances.ask(GetBalance(account_id="acc-1"), after=done.position) == 15


async def test_a_query_after_a_position_not_yet_written_is_answered_once_it_is() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        balances = await rt.spawn(Balances)
        answers: list[int] = []

        async def reader() -> None:
            answers.append(await balances.ask(GetBalance(account_id="a"), after=2))

        async with anyio.create_task_group() as tg:
            tg.start_soon(reader)
            await anyio.sleep(0.05)
            assert answers == []
            await rt.get(Account, "a").ask(Deposit(amount=1))
            await rt.get(Account, "a").ask(Deposit(amount=2))
        assert answers == [3]


async def test_a_projection_spawned_late_catches_up_to_the_same_state_as_a_live_one(
    tmp_path: Path,
) -> None:
    async with open_runtime(store=SQLiteEventStore(tmp_path / "bank.db")) as rt:
        live = await rt.spawn(Balances, name="live")
        async with anyio.create_task_group() as tg:
            for n in range(20):
                for _ in range(10):
                    tg.start_soon(rt.get(Account, f"acc-{n}").ask, Deposit(amount=n + 1))
        head = await rt.store.last_position()
        late = await rt.spawn(Balances, name="late")
        for n in range(20):
            query = GetBalance(account_id=f"acc-{n}")
            assert await live.ask(query, after=head) == await late.ask(query, after=head)
            assert await late.ask(query, after=head) == 10 * (n + 1)
        assert await late.ask(GetHistory(), after=head) == [str(p) for p in range(1, head + 1)]
        assert await live.ask(GetHistory(), after=head) == [str(p) for p in range(1, head + 1)]


async def test_a_projection_that_falls_behind_still_applies_every_event_in_order() -> None:
    class Counting(Projection):
        batch_size = 7

        def __init__(self) -> None:
            self.seen: list[int] = []

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            self.seen.append(e.position)

        @on(GetHistory)
        def history(self, q: GetHistory) -> list[str]:
            return [str(p) for p in self.seen]

    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        counting = await rt.spawn(Counting)
        account = rt.get(Account, "acc-1")
        for _ in range(500):
            await account.tell(Deposit(amount=1))
        done = await account.ask(Deposit(amount=1))
        seen = await counting.ask(GetHistory(), after=done.position)
    assert seen == [str(p) for p in range(1, 502)]


async def test_a_projection_skips_event_types_it_has_no_handler_for() -> None:
    class OnlyTouches(Projection):
        def __init__(self) -> None:
            self.count = 0

        @on(GetState)
        def state(self, q: GetState) -> int:
            return self.count

    async with open_runtime(store=MemoryEventStore()) as rt:
        only = await rt.spawn(OnlyTouches)
        done = await rt.get(Account, "a").ask(Deposit(amount=1))
        assert await only.ask(GetState(), after=done.position) == 0


async def test_a_projection_takes_constructor_arguments_from_spawn() -> None:
    class Filtered(Projection):
        def __init__(self, account_id: str) -> None:
            self.account_id = account_id
            self.total = 0

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            if e.stream_id == self.account_id:
                self.total += e.data.amount

        @on(GetState)
        def state(self, q: GetState) -> int:
            return self.total

    async with open_runtime(store=MemoryEventStore()) as rt:
        mine = await rt.spawn(Filtered, "a")
        await rt.get(Account, "b").ask(Deposit(amount=100))
        done = await rt.get(Account, "a").ask(Deposit(amount=1))
        assert await mine.ask(GetState(), after=done.position) == 1


async def test_a_projection_can_start_after_a_position() -> None:
    class Recent(Balances):
        start_after = 2

    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        for _ in range(3):
            done = await rt.get(Account, "a").ask(Deposit(amount=1))
        recent = await rt.spawn(Recent)
        assert await recent.ask(GetBalance(account_id="a"), after=done.position) == 1


async def test_a_query_without_handler_names_the_projection_and_the_query() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        balances = await rt.spawn(Balances)
        with pytest.raises(UnhandledMessage, match="projection 'Balances' has no handler for"):
            await balances.ask(GetState())


async def test_a_projection_refuses_command_handlers_at_class_creation() -> None:
    with pytest.raises(TypeError, match="cannot handle commands"):

        class Confused(Projection):
            @on(Touch)
            def touch(self, cmd: Touch) -> None: ...


async def test_a_handler_that_keeps_failing_stops_the_projection_and_says_where() -> None:
    class Fragile(Balances):
        retry_limit = 2
        retry_backoff = 0.001

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            if e.data.amount == 13:
                raise ValueError("unlucky")
            super().deposited(e)

    async with open_runtime(store=MemoryEventStore()) as rt:
        fragile = await rt.spawn(Fragile)
        await rt.get(Account, "a").ask(Deposit(amount=1))
        done = await rt.get(Account, "a").ask(Deposit(amount=13))
        await rt.get(Account, "a").ask(Deposit(amount=100))
        with anyio.fail_after(2), pytest.raises(ProjectionStopped, match="failed on position 2"):
            await fragile.ask(GetBalance(account_id="a"), after=done.position)
        status = await fragile.ask(GetProjectionStatus())
        assert (status.state, status.position, status.parked) == ("stopped", 1, ())
        assert status.error is not None
        assert "ValueError('unlucky')" in status.error
        # It never skips past the failed event, and still answers from the model it has.
        assert await fragile.ask(GetBalance(account_id="a")) == 1
        with pytest.raises(ProjectionStopped):
            await fragile.ask(GetBalance(account_id="a"), after=3)


async def test_a_transient_handler_failure_is_retried_and_nothing_is_lost() -> None:
    failures = [ConnectionError("flaky"), ConnectionError("flaky")]

    class Flaky(Balances):
        retry_backoff = 0.001

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            if e.data.amount == 13 and failures:
                raise failures.pop()
            super().deposited(e)

    async with open_runtime(store=MemoryEventStore()) as rt:
        flaky = await rt.spawn(Flaky)
        for amount in (1, 13, 100):
            done = await rt.get(Account, "a").ask(Deposit(amount=amount))
        assert await flaky.ask(GetBalance(account_id="a"), after=done.position) == 114
        status = await flaky.ask(GetProjectionStatus())
        assert (status.state, status.position, status.parked) == ("running", 3, ())


async def test_the_park_policy_sets_the_event_aside_and_goes_on() -> None:
    class Parking(Balances):
        retry_limit = 1
        retry_backoff = 0.001
        on_failure = "park"

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            if e.data.amount == 13:
                raise ValueError("unlucky")
            super().deposited(e)

    async with open_runtime(store=MemoryEventStore()) as rt:
        parking = await rt.spawn(Parking)
        for amount in (1, 13, 100):
            done = await rt.get(Account, "a").ask(Deposit(amount=amount))
        assert await parking.ask(GetBalance(account_id="a"), after=done.position) == 101
        status = await parking.ask(GetProjectionStatus())
        assert (status.state, status.position) == ("running", 3)
        [parked] = status.parked
        assert (parked.projection, parked.position, parked.stream_id, parked.version) == (
            "Parking",
            2,
            "a",
            2,
        )
        assert parked.type == "Deposited"
        assert "unlucky" in parked.error


async def test_a_projection_reports_its_status_while_it_waits_to_retry() -> None:
    gate = anyio.Event()

    class Patient(Balances):
        retry_limit = 1
        retry_backoff = 0.2

        @on(Deposited)
        def deposited(self, e: Recorded[Deposited]) -> None:
            if not gate.is_set():
                gate.set()
                raise ConnectionError("not yet")
            super().deposited(e)

    async with open_runtime(store=MemoryEventStore()) as rt:
        patient = await rt.spawn(Patient)
        done = await rt.get(Account, "a").ask(Deposit(amount=1))
        await gate.wait()
        assert (await patient.ask(GetProjectionStatus())).state == "retrying"
        assert await patient.ask(GetBalance(account_id="a"), after=done.position) == 1
        assert (await patient.ask(GetProjectionStatus())).state == "running"


async def test_an_unknown_failure_policy_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="on_failure"):

        class Confused(Balances):
            on_failure = "ignore"  # type: ignore[assignment]


async def test_queries_waiting_for_a_position_fail_when_the_projection_stops() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        balances = await rt.spawn(Balances)
        with anyio.fail_after(2):
            async with anyio.create_task_group() as tg:

                async def waiter() -> None:
                    with pytest.raises(ActorStopped):
                        await balances.ask(GetBalance(account_id="a"), after=99)

                tg.start_soon(waiter)
                await anyio.sleep(0.02)
                await balances.stop()


async def test_a_query_times_out_with_the_builtin_timeout_error() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        balances = await rt.spawn(Balances)
        with pytest.raises(TimeoutError):
            await balances.ask(GetBalance(account_id="a"), after=5, timeout=0.05)


async def test_events_committed_by_a_cancelled_ask_reach_the_projection() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        balances = await rt.spawn(Balances)
        account = rt.get(Account, "a")
        with anyio.move_on_after(0):
            await account.ask(Deposit(amount=7))
        done = await account.ask(Deposit(amount=1))
        assert await balances.ask(GetBalance(account_id="a"), after=done.position) == 8


async def test_an_async_handler_is_refused_when_the_class_is_defined() -> None:
    with pytest.raises(TypeError, match="plain function"):

        class Eager(Projection):
            @on(Deposited)
            async def deposited(self, e: Recorded[Deposited]) -> None: ...

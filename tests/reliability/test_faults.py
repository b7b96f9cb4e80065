"""The store fails, stalls or loses a reply: what a user relies on still holds.

Callers get a clear error (a ``StoreError``, or ``TimeoutError`` from ``ask(timeout=...)``);
an aggregate never holds an event the store lacks, and reloads from the store after an append
whose outcome it does not know; every acknowledged command is stored; an idempotency key makes
re-sending a command whose reply was lost safe. After every step the live state is compared
with the state folded from the store's JSON (``invariants``). Projections meeting faults:
``test_projection_faults``.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import ClassVar

import anyio
import pytest

from actors import Committed, Rejected, on
from runtime import ActorRef, ActorStopped, open_runtime
from stores import (
    EventStore,
    MemoryEventStore,
    SQLiteEventStore,
    StoreError,
    StreamVersionConflict,
)
from stores.faults import FaultyStore, InjectedFault

from .domain import Deposit, DepositBatch, Deposited, OpenAccount, Withdraw
from .invariants import (
    Account,
    AccountView,
    CheckedBalances,
    GetAccount,
    GetBalances,
    check_acknowledged,
    check_present,
    consistent,
    fold,
    stored,
)

pytestmark = pytest.mark.anyio


async def test_a_failed_append_raises_a_store_error_and_the_state_keeps_only_what_is_stored() -> (
    None
):
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(CheckedBalances)
        account = rt.get(Account, "acc")
        opened = await account.ask(OpenAccount(opening_deposit=10))
        store.fail_next()
        failed = Deposit(amount=5)
        with pytest.raises(StoreError):
            await account.ask(failed)
        # Decided on a state without the failed deposit: 11 is refused, 10 is not.
        with pytest.raises(Rejected):
            await account.ask(Withdraw(amount=11))
        acked = [opened, await account.ask(Withdraw(amount=10))]
        truth = await consistent(
            rt, store, ["acc"], acked=acked, absent=[failed.command_id], balances=balances
        )
    assert truth["acc"] == AccountView(True, 0, 3)
    assert store.injected == {"fail": 1}


async def test_after_a_lost_reply_the_next_command_sees_the_committed_events() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(CheckedBalances)
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.lose_reply_next()
        lost = Deposit(amount=50)
        with pytest.raises(StoreError):
            await account.ask(lost)
        # Only the deposit whose reply was lost pays for this: the actor must have reloaded it.
        spent = await account.ask(Withdraw(amount=51))
        assert spent.version == 4
        truth = await consistent(rt, store, ["acc"], acked=[spent], balances=balances)
        check_present(await stored(store), [lost.command_id])
    assert truth["acc"] == AccountView(True, 0, 4)


async def test_resending_a_keyed_command_whose_reply_was_lost_commits_it_exactly_once() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.lose_reply_next()
        first = DepositBatch(amounts=(5, 6), idempotency_key="pay-1")
        with pytest.raises(StoreError):
            await account.ask(first)
        again = await account.ask(first)
        # A client that rebuilt the command (a new command id) with the same key: same answer.
        rebuilt = await account.ask(DepositBatch(amounts=(5, 6), idempotency_key="pay-1"))
        assert (again.version, again.position, again.command_id) == (5, 5, first.command_id)
        assert (rebuilt.version, rebuilt.position, rebuilt.command_id) == (5, 5, first.command_id)
        assert [e.type for e in again.events] == ["BatchStarted", "Deposited", "Deposited"]
        truth = await consistent(rt, store, ["acc"], acked=[again, rebuilt])
    assert truth["acc"] == AccountView(True, 12, 5)


async def test_resending_a_keyed_command_that_failed_before_storing_commits_it_once() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.fail_next()
        command = Deposit(amount=5, idempotency_key="pay-1")
        with pytest.raises(StoreError):
            await account.ask(command)
        done = await account.ask(command)
        assert (await account.ask(command)).position == done.position == 3
        truth = await consistent(rt, store, ["acc"], acked=[done])
    assert truth["acc"] == AccountView(True, 6, 3)


async def test_a_keyed_resend_after_a_lost_reply_and_a_restart_still_commits_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bank.db"
    store = FaultyStore(SQLiteEventStore(path))
    command = Deposit(amount=5, idempotency_key="pay-1")
    async with open_runtime(store=store) as rt:
        await rt.get(Account, "acc").ask(OpenAccount(opening_deposit=1))
        store.lose_reply_next()
        with pytest.raises(StoreError):
            await rt.get(Account, "acc").ask(command)
    # The process is gone; the client retries against a new one on the same file.
    again_store = SQLiteEventStore(path)
    async with open_runtime(store=again_store) as rt:
        done = await rt.get(Account, "acc").ask(command)
        assert (done.version, done.command_id) == (3, command.command_id)
        truth = await consistent(rt, again_store, ["acc"], acked=[done])
    assert truth["acc"] == AccountView(True, 6, 3)


async def test_a_stalled_append_times_out_the_caller_but_the_actor_still_commits_it() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(CheckedBalances)
        account = rt.get(Account, "acc")
        store.stall_next()  # until released
        # Not live yet: the actor's own task activates it and handles the command.
        slow = OpenAccount(opening_deposit=7)
        with pytest.raises(TimeoutError):
            await account.ask(slow, timeout=0.05)
        # The command is in the actor's hands, not lost and not yet stored.
        assert store.stalled == 1
        assert await store.last_position() == 0
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                # A command sent meanwhile waits its turn behind the stalled one.
                behind: list[Committed] = []

                async def send_behind() -> None:
                    behind.append(await account.ask(Withdraw(amount=7)))

                tg.start_soon(send_behind)
                await anyio.wait_all_tasks_blocked()
                assert behind == []
                store.release_stalls()
        # The withdrawal needed the stalled deposit: it ran after it, on a state holding it.
        assert [c.version for c in behind] == [3]
        truth = await consistent(rt, store, ["acc"], acked=behind, balances=balances)
        check_present(await stored(store), [slow.command_id])
    assert truth["acc"] == AccountView(True, 0, 3)


async def test_an_ask_handled_in_the_caller_cut_before_the_store_took_it_stores_nothing() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(CheckedBalances)
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        # Live and idle: the ask runs the command in this task, and the stall (a store that has
        # not taken the append yet) is cut by the timeout with it.
        store.stall_next()
        with pytest.raises(TimeoutError):
            await account.ask(Deposit(amount=7), timeout=0.05)
        assert store.stalled == 0
        assert await store.last_position() == 2
        # The aggregate re-reads its stream (the outcome was unknown to it) and goes on.
        done = await account.ask(Deposit(amount=1))
        assert done.version == 3
        truth = await consistent(rt, store, ["acc"], acked=[done], balances=balances)
    assert truth["acc"] == AccountView(True, 2, 3)


async def test_shutdown_does_not_wait_past_its_timeout_for_a_command_stalled_in_its_caller() -> (
    None
):
    store = FaultyStore(MemoryEventStore())
    outcomes: list[object] = []

    async def ask(account: ActorRef) -> None:
        try:
            outcomes.append(await account.ask(Deposit(amount=7)))
        except Exception as exc:
            outcomes.append(exc)

    with anyio.fail_after(5):
        async with anyio.create_task_group() as web:  # e.g. a web server's request tasks
            async with open_runtime(store=store, shutdown_timeout=0.2) as rt:
                account = rt.get(Account, "acc")
                await account.ask(OpenAccount(opening_deposit=1))
                store.stall_next()  # until released
                web.start_soon(ask, account)  # handled in that task: the aggregate is idle
                await anyio.wait_all_tasks_blocked()
                web.start_soon(ask, account)  # queued behind it
                await anyio.wait_all_tasks_blocked()
            # The runtime has ended: the queued ask failed; the stalled one still waits.
            [queued] = outcomes
            assert isinstance(queued, ActorStopped)
            store.release_stalls()
    # The store was closed under it: its outcome is unknown, as after any store failure.
    assert isinstance(outcomes[1], StoreError)


async def test_a_stall_that_ends_by_itself_lets_the_timed_out_command_commit() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(CheckedBalances)
        account = rt.get(Account, "acc")
        store.stall_next(seconds=0.2)
        opening = OpenAccount(opening_deposit=3)
        with pytest.raises(TimeoutError):
            await account.ask(opening, timeout=0.05)
        # The projection sees the command's events once the stall is over.
        with anyio.fail_after(5):
            assert await balances.ask(GetBalances(), after=2) == {"acc": 3}
        done = await account.ask(Deposit(amount=1))
        assert done.version == 3
        await consistent(rt, store, ["acc"], acked=[done], balances=balances)
    assert store.injected == {"stall": 1}


async def test_a_spurious_version_conflict_is_retried_and_commits_once() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.fail_next(3, error=StreamVersionConflict("acc", 2, 2))
        done = await account.ask(Deposit(amount=5))
        assert done.version == 3
        await consistent(rt, store, ["acc"], acked=[done])
    assert store.injected == {"fail": 3}


async def test_a_failed_read_at_activation_fails_the_waiting_commands_and_the_next_activates() -> (
    None
):
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        await account.stop()
        store.fail_reads_next(stream_id="acc")
        refused = [Deposit(amount=n) for n in (1, 2, 3)]
        errors: list[BaseException] = []

        async def send(command: Deposit) -> None:
            try:
                await account.ask(command)
            except StoreError as exc:
                errors.append(exc)

        async with anyio.create_task_group() as tg:
            for command in refused:
                tg.start_soon(send, command)
        assert len(errors) == 3
        assert all(isinstance(e, InjectedFault) and e.kind == "fail_read" for e in errors)
        done = await account.ask(Deposit(amount=10))
        assert done.version == 3
        await consistent(rt, store, ["acc"], acked=[done], absent=[c.command_id for c in refused])


async def test_a_failed_reload_after_a_lost_reply_is_tried_again_on_the_next_message() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.lose_reply_next()
        with pytest.raises(StoreError):
            await account.ask(Deposit(amount=5))
        store.fail_reads_next(stream_id="acc")
        with pytest.raises(InjectedFault):
            await account.ask(GetAccount())
        truth = await consistent(rt, store, ["acc"])
    assert truth["acc"] == AccountView(True, 6, 3)


async def test_a_failed_reload_after_a_failed_evolve_is_tried_again_on_the_next_message() -> None:
    class FragileAccount(Account):
        """An account whose evolve handler fails once on a deposit of 13 (after the commit)."""

        armed: ClassVar[bool] = True

        @on(Deposited)
        def deposited(self, e: Deposited) -> None:
            if e.amount == 13 and FragileAccount.armed:
                FragileAccount.armed = False
                raise RuntimeError("evolve failed")
            super().deposited(e)

    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(FragileAccount, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        done = await account.ask(Deposit(amount=13))  # stored: the reply says so
        store.fail_reads_next(stream_id="acc")
        with pytest.raises(InjectedFault):
            await account.ask(GetAccount())
        assert await account.ask(GetAccount()) == AccountView(True, 14, 3)
        log = await stored(store)
        check_acknowledged(log, [done])
        assert fold(log)["acc"] == AccountView(True, 14, 3)


async def test_a_told_command_whose_append_fails_is_not_half_applied() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc")
        await account.ask(OpenAccount(opening_deposit=1))
        store.fail_next()
        store.lose_reply_next()
        await account.tell(Deposit(amount=100))  # fails: nothing stored
        await account.tell(Deposit(amount=10))  # commits, reply lost
        truth = await consistent(rt, store, ["acc"])
    assert truth["acc"] == AccountView(True, 11, 3)


async def test_a_stalled_actor_is_not_passivated_and_stopping_it_lets_its_command_finish() -> None:
    store = FaultyStore(MemoryEventStore())
    async with open_runtime(store=store, passivate_after=0.01) as rt:
        account = rt.get(Account, "acc")
        store.stall_next()  # until released
        with pytest.raises(TimeoutError):
            await account.ask(OpenAccount(opening_deposit=2), timeout=0.02)
        await anyio.sleep(0.05)  # five idle timeouts
        assert rt.is_live(Account, "acc")  # busy, not idle: never passivated mid-command
        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(account.stop)
                await anyio.wait_all_tasks_blocked()
                assert (store.stalled, await store.last_position()) == (1, 0)
                store.release_stalls()
        # stop() returned once the command in hand was done: it was not cut off.
        assert await store.last_position() == 2
        await consistent(rt, store, ["acc"])


async def test_shutting_down_with_an_append_stalled_forever_fails_its_ask_and_stores_nothing() -> (
    None
):
    store = FaultyStore(MemoryEventStore())
    outcome: list[BaseException] = []

    async def send(account: ActorRef) -> None:
        try:
            await account.ask(OpenAccount(opening_deposit=2))
        except ActorStopped as exc:
            outcome.append(exc)

    # The caller lives in a task of its own, outside the runtime's block.
    with anyio.fail_after(5):
        async with (
            anyio.create_task_group() as callers,
            open_runtime(store=store, shutdown_timeout=0.05) as rt,
        ):
            store.stall_next()
            callers.start_soon(send, rt.get(Account, "acc"))
            await anyio.wait_all_tasks_blocked()
    assert len(outcome) == 1
    assert await store.inner.last_position() == 0


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_under_a_storm_of_faults_nothing_acknowledged_is_lost(
    kind: str, tmp_path: Path
) -> None:
    inner: EventStore = (
        MemoryEventStore() if kind == "memory" else SQLiteEventStore(tmp_path / "bank.db")
    )
    store = FaultyStore(inner)
    rng = random.Random(7)
    ids = [f"acc-{n}" for n in range(6)]
    acked: list[Committed] = []
    absent: list[str] = []  # failed before storing, or refused
    lost: list[str] = []  # reply lost: stored
    unknown: list[str] = []  # timed out: stored or not, but at most once

    def schedule_a_fault(turn: int, client: int, key: str) -> None:
        # Each kind in turn; one client's stalls outlast its callers' timeout.
        if turn % 4 == 0:
            store.fail_next(stream_id=key)
        elif turn % 4 == 1:
            store.lose_reply_next()
        elif turn % 4 == 2:
            store.stall_next(seconds=0.3 if client == 0 else 0.005)
        else:
            store.fail_reads_next(stream_id=rng.choice(ids))

    async def client(n: int) -> None:
        for step in range(25):
            key = rng.choice(ids)
            command = rng.choice(
                [
                    OpenAccount(opening_deposit=rng.randint(1, 9)),
                    Deposit(amount=rng.randint(1, 9)),
                    Withdraw(amount=rng.randint(1, 12)),
                    DepositBatch(amounts=(1, 2, 3)),
                ]
            )
            try:
                acked.append(await rt.get(Account, key).ask(command, timeout=0.2))
            except InjectedFault as exc:
                (lost if exc.kind == "lose_reply" else absent).append(command.command_id)
            except TimeoutError:
                unknown.append(command.command_id)
            except Rejected:
                absent.append(command.command_id)
            if step % 6 == n % 6:  # about one command in six meets a fault
                schedule_a_fault(step // 6, n, key)

    async with open_runtime(store=store, max_live_actors=4) as rt:
        balances = await rt.spawn(CheckedBalances)
        for key in ids[:4]:
            acked.append(await rt.get(Account, key).ask(OpenAccount(opening_deposit=5)))
        async with anyio.create_task_group() as tg:
            for n in range(8):
                tg.start_soon(client, n)
        store.clear()  # faults still scheduled are not for the checks' reads
        await consistent(rt, store, ids, acked=acked, absent=absent, balances=balances)
        log = await stored(store)
        check_present(log, lost)
    assert min(store.injected[k] for k in ("fail", "lose_reply", "stall", "fail_read")) > 0
    assert len(acked) > 60
    assert unknown  # the long stalls timed some callers out

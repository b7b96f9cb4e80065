"""Aggregates as actors: decide, append, evolve, reply; one command at a time per id."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import anyio
import anyio.lowlevel
import pydantic
import pytest

from actors import Aggregate, Committed, Event, Rejected, load, on
from runtime import UnhandledMessage, open_runtime
from stores import (
    MemoryEventStore,
    NewEvent,
    RecordedEvent,
    SQLiteEventStore,
    StoreError,
    StreamVersionConflict,
    UnknownEventType,
)

from .domain import (
    Account,
    Audited,
    Deposit,
    Deposited,
    Explode,
    GetBalance,
    GetHistory,
    GetState,
    Touch,
    Withdraw,
)

pytestmark = pytest.mark.anyio


async def test_a_command_replies_committed_with_version_position_and_events() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        done = await rt.get(Account, "acc-1").ask(Deposit(amount=5))
    assert isinstance(done, Committed)
    assert (done.stream_id, done.version, done.position) == ("acc-1", 1, 1)
    [event] = done.events
    assert event.data.amount == 5
    assert (event.stream_id, event.version, event.position, event.type) == (
        "acc-1",
        1,
        1,
        "Deposited",
    )


async def test_recorded_events_carry_the_command_as_causation_and_correlation() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        cmd = Deposit(amount=5, correlation_id="flow-7")
        await rt.get(Account, "acc-1").ask(cmd)
        plain = Deposit(amount=1)
        await rt.get(Account, "acc-1").ask(plain)
    first, second = await store.read_stream("acc-1")
    assert first.metadata == {"causation_id": cmd.command_id, "correlation_id": "flow-7"}
    assert second.metadata == {"causation_id": plain.command_id, "correlation_id": plain.command_id}


async def test_a_thousand_concurrent_commands_on_one_aggregate_all_apply_with_no_gap() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        versions: list[int] = []

        async def deposit() -> None:
            versions.append((await account.ask(Deposit(amount=1))).version)

        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(deposit)
        assert await account.ask(GetState()) == 1000
    assert sorted(versions) == list(range(1, 1001))
    assert [e.version for e in await store.read_stream("acc-1")] == list(range(1, 1001))


async def test_a_thousand_concurrent_commands_on_sqlite_all_apply_with_no_gap(
    tmp_path: Path,
) -> None:
    store = SQLiteEventStore(tmp_path / "bank.db")
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        async with anyio.create_task_group() as tg:
            for _ in range(1000):
                tg.start_soon(account.ask, Deposit(amount=1))
        assert await account.ask(GetState()) == 1000
        stored = await store.read_stream("acc-1")
    assert [e.version for e in stored] == list(range(1, 1001))


async def test_cancelled_asks_to_idle_aggregates_still_commit_what_they_decided(
    tmp_path: Path,
) -> None:
    # An idle aggregate runs an ask's command in the asking task; cancelling the asks while
    # their events wait for the commit does not lose them, and the aggregates go on from them.
    store = SQLiteEventStore(tmp_path / "bank.db")
    async with open_runtime(store=store) as rt:
        accounts = [rt.get(Account, f"acc-{n}") for n in range(20)]
        for account in accounts:
            await account.ask(Deposit(amount=1))
        async with anyio.create_task_group() as tg:
            for account in accounts:
                tg.start_soon(account.ask, Deposit(amount=10))
            await anyio.lowlevel.checkpoint()  # each command decided, its append taken
            tg.cancel_scope.cancel()
        for account in accounts:
            assert (await account.ask(Deposit(amount=100))).version == 3
            assert await account.ask(GetState()) == 111
        assert await store.last_position() == 60


async def test_commands_to_one_aggregate_run_in_arrival_order() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        for amount in range(1, 51):
            await account.tell(Deposit(amount=amount))
        history = await account.ask(GetHistory())
    assert history == [f"+{n}" for n in range(1, 51)]


async def test_a_rejected_command_reaches_the_caller_and_stores_nothing() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        await account.ask(Deposit(amount=5))
        with pytest.raises(Rejected, match="insufficient funds"):
            await account.ask(Withdraw(amount=6))
        assert await account.ask(GetState()) == 5
        assert (await account.ask(Withdraw(amount=5))).version == 2
    assert await store.last_position() == 2


async def test_a_failing_handler_reaches_the_caller_and_the_actor_keeps_its_state() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        await account.ask(Deposit(amount=5))
        with pytest.raises(RuntimeError, match="boom"):
            await account.ask(Explode())
        assert await account.ask(GetState()) == 5
        assert (await account.ask(Deposit(amount=1))).version == 2


async def test_a_message_without_handler_names_the_actor_and_the_message() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        with pytest.raises(
            UnhandledMessage, match=r"Account 'acc-1' has no handler for GetBalance"
        ):
            await account.ask(GetBalance(account_id="acc-1"))
        assert (await account.ask(Deposit(amount=1))).version == 1


async def test_an_invalid_command_fails_at_construction() -> None:
    with pytest.raises(pydantic.ValidationError):
        Deposit(amount=-1)
    with pytest.raises(pydantic.ValidationError):
        Deposit(amount=1, colour="red")  # type: ignore[call-arg]
    cmd = Deposit(amount=1)
    with pytest.raises(pydantic.ValidationError):
        cmd.amount = 2  # type: ignore[misc]


async def test_a_command_that_decides_nothing_replies_the_current_version() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        await account.ask(Deposit(amount=1))
        done = await account.ask(Touch())
    assert (done.version, done.position, done.events) == (1, 1, ())


async def test_an_event_without_an_evolve_handler_is_refused_before_storing() -> None:
    class Auditor(Aggregate):
        @on(Touch)
        def touch(self, cmd: Touch) -> list[Event]:
            return [Audited()]

    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        with pytest.raises(TypeError, match=r"Auditor\.touch returned Audited"):
            await rt.get(Auditor, "a-1").ask(Touch())
    assert await store.last_position() == 0


async def test_an_aggregate_replays_its_stream_when_activated_again() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        for n in (5, 7):
            await account.ask(Deposit(amount=n))
        await account.ask(Withdraw(amount=2))
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        assert await account.ask(GetState()) == 10
        assert (await account.ask(Deposit(amount=1))).version == 4


async def test_passivation_and_reactivation_keep_the_state(tmp_path: Path) -> None:
    async with open_runtime(
        store=SQLiteEventStore(tmp_path / "bank.db"), passivate_after=0.05
    ) as rt:
        account = rt.get(Account, "acc-1")
        await account.ask(Deposit(amount=5))
        await anyio.sleep(0.2)
        assert not rt.is_live(Account, "acc-1")
        assert await account.ask(GetState()) == 5
        assert (await account.ask(Deposit(amount=1))).version == 2


async def test_an_aggregate_class_can_set_its_own_idle_time() -> None:
    class Sleepy(Account):
        passivate_after = 0.02

    async with open_runtime(store=MemoryEventStore(), passivate_after=None) as rt:
        await rt.get(Sleepy, "s-1").ask(Deposit(amount=1))
        await rt.get(Account, "a-1").ask(Deposit(amount=1))
        await anyio.sleep(0.2)
        assert not rt.is_live(Sleepy, "s-1")
        assert rt.is_live(Account, "a-1")


async def test_two_runtimes_on_one_sqlite_file_retry_conflicts_and_lose_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bank.db"
    async with (
        open_runtime(store=SQLiteEventStore(path)) as one,
        open_runtime(store=SQLiteEventStore(path)) as two,
    ):
        refs = [one.get(Account, "shared"), two.get(Account, "shared")]

        async def client(n: int) -> None:
            for _ in range(25):
                await refs[n % 2].ask(Deposit(amount=1))

        async with anyio.create_task_group() as tg:
            for n in range(8):
                tg.start_soon(client, n)
        # Each runtime's actor caught up through its own conflicts.
        totals = [await ref.ask(GetState()) for ref in refs]
    assert max(totals) == 200
    store = SQLiteEventStore(path)
    async with store:
        stored = await store.read_stream("shared")
        assert [e.version for e in stored] == list(range(1, 201))
        assert (await load(store, Account, "shared")).balance == 200


async def test_a_conflict_that_persists_past_the_retries_reaches_the_caller() -> None:
    class Stubborn(Account):
        max_conflict_retries = 0

    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        ref = rt.get(Stubborn, "acc-1")
        await ref.ask(Deposit(amount=1))
        # Another writer appends behind the live actor's back.
        await store.append("acc-1", [_deposited(1)], expected_version=1)
        with pytest.raises(StreamVersionConflict) as caught:
            await ref.ask(Deposit(amount=1))
        assert (caught.value.expected, caught.value.actual) == (1, 2)


async def test_a_conflict_reloads_the_stream_and_redecides_on_the_new_state() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        ref = rt.get(Account, "acc-1")
        await ref.ask(Deposit(amount=10))
        await store.append("acc-1", [_withdrawn(10)], expected_version=1)
        # The live actor still believes the balance is 10; the retry must see 0 and reject.
        with pytest.raises(Rejected):
            await ref.ask(Withdraw(amount=5))
        assert await ref.ask(GetState()) == 0


async def test_a_refusal_is_checked_against_the_store_before_it_is_given() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as one, open_runtime(store=store) as two:
        stale = one.get(Account, "acc-1")
        assert await stale.ask(GetState()) == 0
        await two.get(Account, "acc-1").ask(Deposit(amount=10))
        # This copy still believes the balance is 0; the store says 10.
        assert (await stale.ask(Withdraw(amount=5))).version == 2
        with pytest.raises(Rejected):
            await stale.ask(Withdraw(amount=50))


async def test_an_unknown_stored_event_type_names_stream_version_and_type() -> None:
    store = MemoryEventStore()
    await store.append(
        "acc-1", [NewEvent("Deposited", b'{"amount":1}'), NewEvent("Renamed", b"{}")], 0
    )
    async with open_runtime(store=store) as rt:
        with pytest.raises(UnknownEventType) as caught:
            await rt.get(Account, "acc-1").ask(GetState())
    assert (caught.value.stream_id, caught.value.version, caught.value.type) == (
        "acc-1",
        2,
        "Renamed",
    )
    assert "'acc-1'" in str(caught.value)
    assert "Renamed" in str(caught.value)


class FlakyStore(MemoryEventStore):
    """A memory store whose next appends fail, before or after committing."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_before = 0
        self.fail_after_commit = 0

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        if self.fail_before:
            self.fail_before -= 1
            raise StoreError("disk on fire")
        recorded = await super().append(stream_id, events, expected_version)
        if self.fail_after_commit:
            self.fail_after_commit -= 1
            raise StoreError("connection lost after commit")
        return recorded


async def test_a_failed_append_reaches_the_caller_and_leaves_the_state_untouched() -> None:
    store = FlakyStore()
    async with open_runtime(store=store) as rt:
        ref = rt.get(Account, "acc-1")
        await ref.ask(Deposit(amount=5))
        store.fail_before = 1
        with pytest.raises(StoreError, match="disk on fire"):
            await ref.ask(Deposit(amount=100))
        assert await ref.ask(GetState()) == 5
        assert (await ref.ask(Deposit(amount=1))).version == 2


async def test_an_append_whose_reply_was_lost_is_reloaded_before_the_next_command() -> None:
    store = FlakyStore()
    async with open_runtime(store=store) as rt:
        ref = rt.get(Account, "acc-1")
        store.fail_after_commit = 1
        with pytest.raises(StoreError, match="after commit"):
            await ref.ask(Deposit(amount=5))
        # The events were committed: the actor must see them, not hit a conflict loop.
        assert await ref.ask(GetState()) == 5
        assert (await ref.ask(Deposit(amount=1))).version == 2


async def test_cancelling_ask_abandons_the_reply_but_the_command_commits() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        ref = rt.get(Account, "acc-1")
        with anyio.move_on_after(0):
            await ref.ask(Deposit(amount=5))
        # Anything sent after the cancelled ask runs after it: one mailbox, in order.
        assert await ref.ask(GetState()) == 5
    assert await store.last_position() == 1


async def test_an_aggregate_answers_queries_from_its_live_state() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        ref = rt.get(Account, "acc-1")
        await ref.ask(Deposit(amount=3))
        assert await ref.ask(GetHistory()) == ["+3"]


async def test_mutable_state_defaults_are_not_shared_between_aggregates() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        await rt.get(Account, "a").ask(Deposit(amount=1))
        assert await rt.get(Account, "b").ask(GetHistory()) == []


async def test_an_aggregate_without_a_store_is_a_clear_error() -> None:
    async with open_runtime() as rt:
        with pytest.raises(TypeError, match="needs an event store"):
            await rt.get(Account, "acc-1").ask(GetState())


def _deposited(amount: int) -> NewEvent:
    return NewEvent("Deposited", f'{{"amount":{amount}}}'.encode())


def _withdrawn(amount: int) -> NewEvent:
    return NewEvent("Withdrawn", f'{{"amount":{amount}}}'.encode())


async def test_a_message_after_stop_waits_for_the_stopping_copy_so_two_never_run(
    tmp_path: Path,
) -> None:
    class Strict(Account):
        max_conflict_retries = 0  # a conflict would mean two copies raced

    async with open_runtime(store=SQLiteEventStore(tmp_path / "bank.db")) as rt:
        account = rt.get(Strict, "acc-1")
        for _ in range(300):
            await account.tell(Deposit(amount=1))
        async with anyio.create_task_group() as tg:
            tg.start_soon(account.stop)
            await anyio.lowlevel.checkpoint()
            # The stopping copy still has queued deposits; a second copy racing it would hit
            # version conflicts. This one starts only after the first has finished.
            done = await account.ask(Deposit(amount=1))
        assert done.version == 301
        assert await account.ask(GetState()) == 301


async def test_an_event_handler_failing_during_catch_up_rebuilds_the_state_from_scratch() -> None:
    failures = [RuntimeError("once")]

    class Touchy(Account):
        @on(Deposited)
        def deposited(self, e: Deposited) -> None:
            self.balance += e.amount
            if e.amount == 7 and failures:
                raise failures.pop()

    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        ref = rt.get(Touchy, "acc-1")
        await ref.ask(Deposit(amount=1))
        await store.append("acc-1", [_deposited(7)], expected_version=1)
        # The stale copy catches up on the conflict; the handler changes the state, then fails.
        with pytest.raises(RuntimeError, match="once"):
            await ref.ask(Deposit(amount=1))
        assert await ref.ask(GetState()) == 8  # rebuilt from the store, not 15

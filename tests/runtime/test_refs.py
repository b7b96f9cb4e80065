"""ActorRef: ask, tell and tell_nowait, and the ordering an actor's mailbox guarantees."""

from __future__ import annotations

import anyio
import pytest

from runtime import EsactorsError, MailboxFull, open_runtime

from .probes import Echo, Fail, Hold, Step, ask_into, probe_type

pytestmark = pytest.mark.anyio


async def test_ask_returns_the_reply() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        assert await rt.get(probe, "a").ask(Echo(42)) == 42


async def test_a_handler_exception_reaches_the_caller_and_the_actor_keeps_serving() -> None:
    probe = probe_type()
    error = LookupError("no such thing")
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        with pytest.raises(LookupError) as caught:
            await ref.ask(Fail(error))
        assert caught.value is error
        assert await ref.ask(Echo(2)) == 2
    assert [key for key, *_ in probe.script.created] == ["a"]  # the same actor, not a restart


async def test_an_exception_from_a_told_message_does_not_stop_the_actor() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        await ref.tell(Fail(RuntimeError("ignored")))
        assert await ref.ask(Echo(1)) == 1
    assert len(probe.script.created) == 1


async def test_ask_with_a_timeout_raises_the_builtin_timeout_error() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime() as rt:
        with pytest.raises(TimeoutError):
            await rt.get(probe, "a").ask(hold, timeout=0.05)
        hold.gate.set()


async def test_ask_timeout_also_covers_the_wait_for_mailbox_room() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime(mailbox_size=1) as rt:
        ref = rt.get(probe, "a")
        await ref.tell(hold)
        await hold.entered.wait()
        await ref.tell(Echo(1))  # fills the mailbox
        with pytest.raises(TimeoutError):
            await ref.ask(Echo(2), timeout=0.05)
        hold.gate.set()
        assert await ref.ask(Echo(3)) == 3
    assert probe.script.values("a") == [-1, 1, 3]  # the timed-out ask was never sent


async def test_tell_waits_for_room_in_the_mailbox() -> None:
    probe = probe_type()
    hold = Hold()
    told = anyio.Event()

    async def tell_third() -> None:
        await ref.tell(Echo(2))
        told.set()

    with anyio.fail_after(1):
        async with open_runtime(mailbox_size=1) as rt:
            ref = rt.get(probe, "a")
            await ref.tell(hold)
            await hold.entered.wait()  # the actor is busy; the mailbox is empty
            await ref.tell(Echo(1))  # ...and now full
            async with anyio.create_task_group() as tg:
                tg.start_soon(tell_third)
                await anyio.wait_all_tasks_blocked()
                assert not told.is_set()
                hold.gate.set()
                await told.wait()
            assert await ref.ask(Echo(3)) == 3
    assert probe.script.values("a") == [-1, 1, 2, 3]


async def test_tell_nowait_raises_mailbox_full_when_the_mailbox_is_full() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime(mailbox_size=1) as rt:
        ref = rt.get(probe, "a")
        ref.tell_nowait(hold)
        await hold.entered.wait()
        ref.tell_nowait(Echo(1))
        with pytest.raises(MailboxFull) as caught:
            ref.tell_nowait(Echo(2))
        assert isinstance(caught.value, EsactorsError)
        hold.gate.set()
    assert probe.script.values("a") == [-1, 1]


async def test_messages_to_one_actor_are_handled_one_at_a_time_in_arrival_order() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        for i in range(5):
            await ref.tell(Step(i))
        assert await ref.ask(Step(5)) == 5
    assert probe.script.trace == [f"{edge} {i}" for i in range(6) for edge in ("start", "end")]


async def test_concurrent_askers_never_have_two_messages_handled_at_once() -> None:
    probe = probe_type()
    replies: list[object] = []
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        async with anyio.create_task_group() as tg:
            for i in range(20):
                tg.start_soon(ask_into, ref, Step(i), replies)
    assert set(replies) == set(range(20))
    trace = probe.script.trace
    starts, ends = trace[0::2], trace[1::2]
    assert [s.split()[1] for s in starts] == [e.split()[1] for e in ends]
    assert all(s.startswith("start") for s in starts)
    assert all(e.startswith("end") for e in ends)


async def test_different_actors_run_concurrently() -> None:
    probe = probe_type()
    hold = Hold(value=7)
    outcome: list[object] = []
    with anyio.fail_after(1):
        async with open_runtime() as rt, anyio.create_task_group() as tg:
            tg.start_soon(ask_into, rt.get(probe, "a"), hold, outcome)
            await hold.entered.wait()
            # "a" is busy, and "b" answers anyway.
            assert await rt.get(probe, "b").ask(Echo(1)) == 1
            hold.gate.set()
    assert outcome == [7]


async def test_refs_to_the_same_actor_are_equal() -> None:
    probe = probe_type()
    other = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        assert ref == rt.get(probe, "a")
        assert hash(ref) == hash(rt.get(probe, "a"))
        assert ref != rt.get(probe, "b")
        assert ref != rt.get(other, "a")
        assert ref.key == "a"
        assert ref.actor_type is probe
        async with open_runtime() as rt2:
            assert ref != rt2.get(probe, "a")


async def test_get_refuses_an_empty_key_and_a_class_that_is_not_an_actor_type() -> None:
    async with open_runtime() as rt:
        with pytest.raises(ValueError, match="non-empty"):
            rt.get(probe_type(), "")
        with pytest.raises(TypeError, match="cannot be run as an actor"):
            rt.get(int, "a")  # type: ignore[arg-type]

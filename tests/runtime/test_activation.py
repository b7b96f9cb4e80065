"""Activation on demand: rt.get is cheap, the first message starts the actor, exactly once."""

from __future__ import annotations

import anyio
import pytest

from runtime import ActorContext, open_runtime

from .probes import Echo, Script, ask_into, probe_type, wait_until

pytestmark = pytest.mark.anyio


async def test_get_starts_nothing() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        rt.get(probe, "a")
        await anyio.wait_all_tasks_blocked()
        assert probe.script.created == []
        assert not rt.is_live(probe, "a")
        assert rt.live_actors == 0
    assert probe.script.started == []


async def test_the_first_message_activates_the_actor() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        await ref.tell(Echo(1))
        assert rt.is_live(probe, "a")
        assert await ref.ask(Echo(2)) == 2
        assert probe.script.created == [("a", (), {})]
        assert probe.script.started == ["a"]
        assert rt.live_actors == 1


async def test_each_key_is_its_own_actor() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        await rt.get(probe, "a").ask(Echo(1))
        await rt.get(probe, "b").ask(Echo(2))
        assert rt.live_actors == 2
    assert probe.script.values("a") == [1]
    assert probe.script.values("b") == [2]


async def test_concurrent_first_messages_to_one_key_activate_exactly_one_actor() -> None:
    probe = probe_type()
    replies: list[object] = []
    async with open_runtime() as rt, anyio.create_task_group() as tg:
        for i in range(100):
            tg.start_soon(ask_into, rt.get(probe, "a"), Echo(i), replies)
    assert len(probe.script.created) == 1
    assert probe.script.started == ["a"]
    assert sorted(r for r in replies if isinstance(r, int)) == list(range(100))


async def test_an_activation_failure_fails_the_waiting_asks_with_that_error() -> None:
    error = ConnectionError("store unreachable")
    gate = anyio.Event()
    probe = probe_type(Script(start_errors=[error], start_gate=gate))
    outcomes: list[object] = []
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        async with anyio.create_task_group() as tg:
            for i in range(3):
                tg.start_soon(ask_into, ref, Echo(i), outcomes)
            await anyio.wait_all_tasks_blocked()  # all three are queued behind started()
            gate.set()
        assert len(outcomes) == 3
        assert all(outcome is error for outcome in outcomes)
        assert not rt.is_live(probe, "a")
    assert probe.script.received == []


async def test_the_next_message_after_an_activation_failure_tries_activation_again() -> None:
    probe = probe_type(Script(start_errors=[ConnectionError("store unreachable")]))
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        with pytest.raises(ConnectionError):
            await ref.ask(Echo(1))
        assert await ref.ask(Echo(2)) == 2
    assert len(probe.script.created) == 2
    assert probe.script.started == ["a"]


async def test_an_activation_failure_cancels_helper_tasks_that_started_began() -> None:
    async def start_helper(ctx: ActorContext) -> None:
        ctx.task_group.start_soon(anyio.sleep_forever)

    error = ConnectionError("store unreachable")
    probe = probe_type(Script(start_errors=[error], on_start=start_helper, task_group=True))
    # The outer deadline cancels the leaked task, which would otherwise hang the exit.
    with anyio.fail_after(0.3):
        async with open_runtime(shutdown_timeout=0.1) as rt:
            with pytest.raises(ConnectionError):
                await rt.get(probe, "a").ask(Echo(1))
            await wait_until(lambda: probe.script.stopped == ["a"], timeout=0.2)

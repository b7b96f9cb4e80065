"""Leaving open_runtime: queued messages are handled, every actor stops, nothing hangs."""

from __future__ import annotations

import anyio
import pytest

from runtime import ActorStopped, open_runtime

from .probes import Echo, Hold, ask_into, probe_type

pytestmark = pytest.mark.anyio


async def test_messages_queued_before_exit_are_handled() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        for i in range(5):
            await ref.tell(Echo(i))
    assert probe.script.values("a") == [0, 1, 2, 3, 4]


async def test_leaving_the_runtime_stops_every_actor() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        await rt.get(probe, "a").ask(Echo(1))
        await rt.get(probe, "b").ask(Echo(2))
        await rt.spawn(probe)
        assert probe.script.stopped == []
    assert sorted(probe.script.stopped) == ["Probe", "a", "b"]
    assert rt.live_actors == 0


async def test_messages_sent_after_shutdown_raise_actor_stopped() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        spawned = await rt.spawn(probe)
        await ref.ask(Echo(1))
    for target in (ref, spawned, rt.get(probe, "new")):
        with pytest.raises(ActorStopped):
            await target.ask(Echo(2))
        with pytest.raises(ActorStopped):
            await target.tell(Echo(2))
        with pytest.raises(ActorStopped):
            target.tell_nowait(Echo(2))
    with pytest.raises(ActorStopped):
        await rt.spawn(probe)
    assert probe.script.values("a") == [1]
    assert sorted(key for key, *_ in probe.script.created) == ["Probe", "a"]


async def test_shutdown_lets_the_message_being_handled_finish_and_reply() -> None:
    probe = probe_type()
    hold = Hold(value=5)
    outcome: list[object] = []

    async def release_soon() -> None:
        await anyio.sleep(0.05)
        hold.gate.set()

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg, open_runtime() as rt:
            tg.start_soon(ask_into, rt.get(probe, "a"), hold, outcome)
            await hold.entered.wait()
            tg.start_soon(release_soon)
    assert outcome == [5]
    assert probe.script.stopped == ["a"]


async def test_queued_asks_fail_with_actor_stopped_when_shutdown_times_out() -> None:
    probe = probe_type()
    hold = Hold()  # never released: the actor is stuck
    outcomes: list[object] = []
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg, open_runtime(shutdown_timeout=0.1) as rt:
            ref = rt.get(probe, "a")
            await ref.tell(hold)
            await hold.entered.wait()
            for i in range(3):
                tg.start_soon(ask_into, ref, Echo(i), outcomes)
            await anyio.wait_all_tasks_blocked()
    assert len(outcomes) == 3
    assert all(isinstance(outcome, ActorStopped) for outcome in outcomes)
    assert probe.script.stopped == ["a"]


async def test_the_ask_being_handled_fails_with_actor_stopped_when_shutdown_times_out() -> None:
    probe = probe_type()
    outcome: list[object] = []
    hold = Hold()  # never released
    with anyio.fail_after(0.3):
        async with anyio.create_task_group() as tg, open_runtime(shutdown_timeout=0.1) as rt:
            tg.start_soon(ask_into, rt.get(probe, "a"), hold, outcome)
            await hold.entered.wait()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ActorStopped)


async def test_shutdown_timeout_also_cancels_an_actor_that_was_already_stopping() -> None:
    probe = probe_type()
    hold = Hold()  # never released
    with anyio.fail_after(0.3):
        async with open_runtime(shutdown_timeout=0.1) as rt:
            ref = await rt.spawn(probe)
            await ref.tell(hold)
            await hold.entered.wait()
            with anyio.move_on_after(0.02):
                await ref.stop()


async def test_an_exception_from_the_users_block_comes_out_as_itself() -> None:
    probe = probe_type()
    error = KeyError("mine")

    async def use_the_runtime() -> None:
        async with open_runtime() as rt:
            await rt.get(probe, "a").ask(Echo(1))
            raise error

    with pytest.raises(KeyError) as caught:
        await use_the_runtime()
    assert caught.value is error
    assert probe.script.stopped == ["a"]  # the actors were stopped on the way out


async def test_system_exit_from_the_users_block_comes_out_as_itself() -> None:
    caught: list[BaseException] = []
    try:
        async with open_runtime():
            raise SystemExit(3)
    except BaseException as exc:
        caught.append(exc)
    assert len(caught) == 1
    assert isinstance(caught[0], SystemExit)
    assert caught[0].code == 3


async def test_cancelling_the_scope_around_the_runtime_stops_the_actors() -> None:
    probe = probe_type()
    with anyio.fail_after(1):
        with anyio.move_on_after(0.05) as scope:
            async with open_runtime() as rt:
                await rt.get(probe, "a").ask(Echo(1))
                await rt.get(probe, "b").tell(Hold())  # stuck: cancelled, not waited for
                await anyio.sleep_forever()
    assert scope.cancelled_caught
    assert sorted(probe.script.stopped) == ["a", "b"]

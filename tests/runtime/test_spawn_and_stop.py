"""rt.spawn starts an actor and returns once it runs; ref.stop stops it."""

from __future__ import annotations

import anyio
import pytest

from runtime import ActorRef, ActorStopped, open_runtime

from .probes import Bump, Echo, Hold, Script, ask_into, probe_type

pytestmark = pytest.mark.anyio


async def test_spawn_returns_only_after_started_has_finished() -> None:
    gate = anyio.Event()
    probe = probe_type(Script(start_gate=gate))
    started_when_spawn_returned: list[list[str]] = []

    async def spawn() -> None:
        await rt.spawn(probe)
        started_when_spawn_returned.append(list(probe.script.started))

    with anyio.fail_after(1):
        async with open_runtime() as rt, anyio.create_task_group() as tg:
            tg.start_soon(spawn)
            await anyio.wait_all_tasks_blocked()
            assert started_when_spawn_returned == []
            gate.set()
    assert started_when_spawn_returned == [["Probe"]]


async def test_an_exception_in_started_is_raised_from_spawn_as_itself() -> None:
    error = ConnectionError("cannot subscribe")
    probe = probe_type(Script(start_errors=[error]))
    async with open_runtime() as rt:
        with pytest.raises(ConnectionError) as caught:
            await rt.spawn(probe)
        assert caught.value is error


async def test_a_failed_spawn_leaves_nothing_live_and_frees_the_name() -> None:
    probe = probe_type(Script(start_errors=[ConnectionError("cannot subscribe")]))
    async with open_runtime() as rt:
        with pytest.raises(ConnectionError):
            await rt.spawn(probe)
        assert rt.live_actors == 0
        assert probe.script.started == []
        assert (await rt.spawn(probe)).key == "Probe"


async def test_spawn_passes_its_arguments_to_create_behavior() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        await rt.spawn(probe, 1, "two", name="p", flag=True)
    assert probe.script.created == [("p", (1, "two"), {"flag": True})]


async def test_a_spawned_actor_is_named_after_its_class_by_default() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = await rt.spawn(probe)
        assert ref.key == "Probe"
        assert ref.actor_type is probe
        assert rt.is_live(probe, "Probe")


async def test_a_second_spawn_of_a_type_gets_a_numbered_name() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        first = await rt.spawn(probe)
        second = await rt.spawn(probe)
        assert second.key != first.key
        assert second.key.startswith("Probe")
        assert await first.ask(Bump()) == 1
        assert await second.ask(Bump()) == 1  # two actors, each with its own memory
        assert rt.live_actors == 2


async def test_spawn_with_a_name_that_is_taken_raises_value_error() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        await rt.spawn(probe, name="p")
        with pytest.raises(ValueError, match="already running"):
            await rt.spawn(probe, name="p")
    assert len(probe.script.created) == 1


async def test_a_ref_from_spawn_raises_actor_stopped_after_stop() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = await rt.spawn(probe)
        await ref.stop()
        assert probe.script.stopped == ["Probe"]
        assert not rt.is_live(probe, "Probe")
        with pytest.raises(ActorStopped):
            await ref.ask(Echo(1))
        with pytest.raises(ActorStopped):
            await ref.tell(Echo(1))
        with pytest.raises(ActorStopped):
            ref.tell_nowait(Echo(1))
    assert len(probe.script.created) == 1  # a spawned actor is never re-activated


async def test_a_stopped_spawned_ref_does_not_reach_a_new_actor_of_the_same_name() -> None:
    probe = probe_type()
    outcome: list[object] = []
    async with open_runtime() as rt:
        old = await rt.spawn(probe, name="p")
        await old.stop()
        await rt.spawn(probe, name="p")
        await ask_into(old, Echo(1), outcome)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ActorStopped)
    assert probe.script.received == []


async def test_stop_lets_the_messages_already_queued_be_handled_first() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = await rt.spawn(probe)
        for i in range(3):
            ref.tell_nowait(Echo(i))
        await ref.stop()
        assert probe.script.values("Probe") == [0, 1, 2]
        assert probe.script.stopped == ["Probe"]


async def test_a_ref_from_get_activates_the_actor_again_after_stop() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        assert await ref.ask(Bump()) == 1
        await ref.stop()
        assert probe.script.stopped == ["a"]
        assert await ref.ask(Bump()) == 1
    assert len(probe.script.created) == 2


async def test_stopping_an_actor_that_is_not_live_returns_at_once() -> None:
    probe = probe_type()
    async with open_runtime() as rt:
        ref: ActorRef = rt.get(probe, "a")
        with anyio.fail_after(1):
            await ref.stop()
    assert probe.script.created == []


async def test_stop_waits_for_the_message_being_handled() -> None:
    probe = probe_type()
    hold = Hold()
    stopped = anyio.Event()

    async def stop() -> None:
        await ref.stop()
        stopped.set()

    with anyio.fail_after(1):
        async with open_runtime() as rt:
            ref = await rt.spawn(probe)
            await ref.tell(hold)
            await hold.entered.wait()
            async with anyio.create_task_group() as tg:
                tg.start_soon(stop)
                await anyio.wait_all_tasks_blocked()
                assert not stopped.is_set()
                assert probe.script.stopped == []
                hold.gate.set()
    assert probe.script.stopped == ["Probe"]

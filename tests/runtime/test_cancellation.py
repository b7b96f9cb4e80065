"""What cancelling each blocking operation does (and does not) undo."""

from __future__ import annotations

import anyio
import pytest

from runtime import ActorStopped, open_runtime

from .probes import Echo, Hold, Script, probe_type, wait_until

pytestmark = pytest.mark.anyio


async def test_cancelling_ask_while_it_waits_for_room_sends_nothing() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime(mailbox_size=1) as rt:
        ref = rt.get(probe, "a")
        await ref.tell(hold)
        await hold.entered.wait()
        await ref.tell(Echo(1))  # the mailbox is full
        with anyio.move_on_after(0.05) as scope:
            await ref.ask(Echo(2))
        assert scope.cancelled_caught
        hold.gate.set()
        assert await ref.ask(Echo(3)) == 3
    assert probe.script.values("a") == [-1, 1, 3]


async def test_cancelling_ask_after_the_message_is_queued_abandons_only_the_reply() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        await ref.tell(hold)
        await hold.entered.wait()
        with anyio.move_on_after(0.05) as scope:
            await ref.ask(Echo(2))  # queued at once, then waits for the reply
        assert scope.cancelled_caught
        hold.gate.set()
        assert await ref.ask(Echo(3)) == 3
    assert probe.script.values("a") == [-1, 2, 3]


async def test_cancelling_tell_while_it_waits_for_room_sends_nothing() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime(mailbox_size=1) as rt:
        ref = rt.get(probe, "a")
        await ref.tell(hold)
        await hold.entered.wait()
        await ref.tell(Echo(1))
        with anyio.move_on_after(0.05) as scope:
            await ref.tell(Echo(2))
        assert scope.cancelled_caught
        hold.gate.set()
        assert await ref.ask(Echo(3)) == 3
    assert probe.script.values("a") == [-1, 1, 3]


async def test_a_cancelled_waiting_sender_does_not_block_the_senders_behind_it() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime(mailbox_size=1) as rt:
        ref = rt.get(probe, "a")
        await ref.tell(hold)
        await hold.entered.wait()
        await ref.tell(Echo(1))
        scope = anyio.CancelScope()

        async def cancelled_tell() -> None:
            with scope:
                await ref.tell(Echo(2))

        with anyio.fail_after(1):
            async with anyio.create_task_group() as tg:
                tg.start_soon(cancelled_tell)
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(ref.tell, Echo(3))
                await anyio.wait_all_tasks_blocked()
                scope.cancel()
                hold.gate.set()
        assert await ref.ask(Echo(4)) == 4
    assert probe.script.values("a") == [-1, 1, 3, 4]


async def test_cancelling_spawn_while_started_blocks_leaves_nothing_live() -> None:
    gate = anyio.Event()
    probe = probe_type(Script(start_gate=gate))
    async with open_runtime() as rt:
        with anyio.move_on_after(0.05) as scope:
            await rt.spawn(probe)
        assert scope.cancelled_caught
        assert not rt.is_live(probe, "Probe")
        assert rt.live_actors == 0
        gate.set()
        ref = await rt.spawn(probe)  # the name was freed
        assert ref.key == "Probe"
    assert probe.script.started == ["Probe"]


async def test_cancelling_stop_still_stops_the_actor() -> None:
    probe = probe_type()
    hold = Hold()
    async with open_runtime() as rt:
        ref = await rt.spawn(probe)
        await ref.tell(hold)
        await hold.entered.wait()
        with anyio.move_on_after(0.05) as scope:
            await ref.stop()
        assert scope.cancelled_caught
        with pytest.raises(ActorStopped):
            await ref.ask(Echo(1))
        hold.gate.set()
        await wait_until(lambda: probe.script.stopped == ["Probe"])

"""A crash in an actor's helper task stops that actor only, never the runtime."""

from __future__ import annotations

from typing import Any, ClassVar

import anyio
import pytest

from runtime import ActorStopped, open_runtime

from .probes import Bump, Echo, Hold, Script, StartHelper, ask_into, probe_type, wait_until

pytestmark = pytest.mark.anyio


async def test_a_crashed_helper_task_stops_only_its_actor_and_fails_its_queued_asks() -> None:
    probe = probe_type(Script(task_group=True))
    trigger = anyio.Event()
    hold = Hold()  # "a" is busy when its helper crashes
    outcomes: list[object] = []
    with anyio.fail_after(1):
        async with open_runtime() as rt:
            a, b = rt.get(probe, "a"), rt.get(probe, "b")
            await a.ask(StartHelper(trigger, RuntimeError("helper failed")))
            assert await b.ask(Bump()) == 1
            await a.tell(hold)
            await hold.entered.wait()
            async with anyio.create_task_group() as tg:
                for i in range(3):
                    tg.start_soon(ask_into, a, Echo(i), outcomes)
                await anyio.wait_all_tasks_blocked()
                trigger.set()
            assert len(outcomes) == 3
            assert all(isinstance(outcome, ActorStopped) for outcome in outcomes)
            assert "crashed" in str(outcomes[0])
            assert probe.script.stopped == ["a"]
            # The other actor kept its state and keeps serving.
            assert await b.ask(Bump()) == 2
            # A ref from get activates a fresh actor for the crashed one.
            assert await a.ask(Echo(9)) == 9
    assert [key for key, *_ in probe.script.created] == ["a", "b", "a"]


async def test_a_spawned_actor_whose_helper_crashed_raises_actor_stopped() -> None:
    probe = probe_type(Script(task_group=True))
    trigger = anyio.Event()
    async with open_runtime() as rt:
        ref = await rt.spawn(probe)
        await ref.ask(StartHelper(trigger, RuntimeError("helper failed")))
        trigger.set()
        await wait_until(lambda: probe.script.stopped == ["Probe"])
        with pytest.raises(ActorStopped):
            await ref.ask(Echo(1))
        assert rt.live_actors == 0


async def test_the_ask_being_handled_when_a_helper_crashes_fails_with_actor_stopped() -> None:
    probe = probe_type(Script(task_group=True))
    trigger = anyio.Event()
    hold = Hold()
    outcome: list[object] = []
    with anyio.fail_after(0.3):
        async with open_runtime() as rt:
            ref = rt.get(probe, "a")
            await ref.ask(StartHelper(trigger, RuntimeError("helper failed")))
            async with anyio.create_task_group() as tg:
                tg.start_soon(ask_into, ref, hold, outcome)
                await hold.entered.wait()
                trigger.set()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ActorStopped)


async def test_a_behavior_without_a_task_group_is_told_so_when_it_asks_for_one() -> None:
    from runtime import ActorContext, Envelope, Runtime

    seen: list[str] = []

    class Plain:
        idle_timeout: float | None = None

        async def started(self, ctx: ActorContext) -> None:
            try:
                ctx.task_group.start_soon(anyio.sleep, 1)
            except RuntimeError as exc:
                seen.append(str(exc))

        async def receive(self, envelope: Envelope) -> None:
            envelope.resolve(None)

        async def stopped(self) -> None:
            pass

    class PlainType:
        actor_kind: ClassVar[str] = "plain"

        @classmethod
        def create_behavior(cls, runtime: Runtime, key: str, *args: Any, **kwargs: Any) -> Plain:
            return Plain()

    async with open_runtime() as rt:
        await rt.spawn(PlainType)
    assert seen
    assert "uses_task_group = True" in seen[0]

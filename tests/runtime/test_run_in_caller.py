"""Actors whose behavior allows it handle an ask in the asking task while they are idle."""

from __future__ import annotations

import anyio
import pytest

from runtime import open_runtime

from .probes import Echo, Hold, Script, Step, WhichTask, ask_into, probe_type

pytestmark = pytest.mark.anyio


async def test_an_idle_actor_that_allows_it_handles_an_ask_in_the_asking_task() -> None:
    here = probe_type(Script(run_in_caller=True, task_group=False))
    there = probe_type(Script(task_group=False))
    parked = probe_type(Script(run_in_caller=True, task_group=True))
    async with open_runtime() as rt:
        me = anyio.get_current_task().id
        await rt.get(here, "a").ask(Echo(0))  # activated by its own task first
        assert await rt.get(here, "a").ask(WhichTask()) == me
        await rt.get(there, "a").ask(Echo(0))
        assert await rt.get(there, "a").ask(WhichTask()) != me
        # An actor that keeps its task (a task group) never does: a stop may end that task.
        await rt.get(parked, "a").ask(Echo(0))
        assert await rt.get(parked, "a").ask(WhichTask()) != me


async def test_messages_sent_meanwhile_wait_their_turn_and_never_overlap() -> None:
    probe = probe_type(Script(run_in_caller=True, task_group=False))
    hold = Hold()
    outcomes: list[object] = []
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        await ref.ask(Echo(0))
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask_into, ref, hold, outcomes)  # handled in that task
            await hold.entered.wait()
            await ref.tell(Echo(1))
            tg.start_soon(ask_into, ref, Step(2), outcomes)  # the actor is busy: queued
            tg.start_soon(ask_into, ref, Step(3), outcomes)
            await anyio.wait_all_tasks_blocked()
            assert probe.script.values("a") == [0, -1]
            hold.gate.set()
    assert probe.script.values("a") == [0, -1, 1, 2, 3]
    assert probe.script.trace == ["start 2", "end 2", "start 3", "end 3"]
    assert outcomes == [-1, 2, 3]


async def test_stopping_an_actor_waits_for_the_ask_handled_in_a_caller() -> None:
    probe = probe_type(Script(run_in_caller=True, task_group=False))
    hold = Hold()
    outcomes: list[object] = []
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        await ref.ask(Echo(0))
        async with anyio.create_task_group() as tg:
            tg.start_soon(ask_into, ref, hold, outcomes)
            await hold.entered.wait()
            tg.start_soon(ref.stop)
            await anyio.wait_all_tasks_blocked()
            assert probe.script.stopped == []  # not while the caller still handles its ask
            hold.gate.set()
        assert probe.script.stopped == ["a"]
        assert outcomes == [-1]
        assert await ref.ask(Echo(5)) == 5  # activated again
    assert probe.script.started == ["a", "a"]


async def test_cancelling_an_ask_handled_in_the_caller_cancels_it_and_frees_the_actor() -> None:
    probe = probe_type(Script(run_in_caller=True, task_group=False))
    hold = Hold()
    async with open_runtime() as rt:
        ref = rt.get(probe, "a")
        await ref.ask(Echo(0))
        with anyio.move_on_after(0.05) as scope:
            await ref.ask(hold)
        assert scope.cancelled_caught
        assert not hold.gate.is_set()
        assert await ref.ask(Echo(1)) == 1
        assert await ref.ask(WhichTask()) == anyio.get_current_task().id

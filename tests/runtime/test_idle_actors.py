"""An idle actor without a task group costs no task: it sleeps in its mailbox, and the
runtime's reusable worker tasks run actors only while they have messages."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from runtime import open_runtime

from .probes import Bump, Echo, Script, ask_into, probe_type, wait_until

pytestmark = pytest.mark.anyio


async def test_a_thousand_idle_actors_leave_no_task_behind() -> None:
    probe = probe_type(Script(task_group=False))
    async with open_runtime() as rt:
        before = len(asyncio.all_tasks())
        for n in range(1000):
            assert await rt.get(probe, f"a{n}").ask(Echo(n)) == n
        assert rt.live_actors == 1000
        assert len(asyncio.all_tasks()) <= before + 2  # a worker or two, parked
        # Asleep, not gone: each keeps its state and wakes on its next message.
        assert [await rt.get(probe, f"a{n}").ask(Bump()) for n in range(3)] == [1, 1, 1]
    assert len(probe.script.stopped) == 1000


async def test_the_workers_a_burst_needed_are_let_go_once_unneeded_for_a_second() -> None:
    probe = probe_type(Script(task_group=False))
    async with open_runtime(passivate_after=None) as rt:  # no passivation sweeps
        before = len(asyncio.all_tasks())
        outcomes: list[object] = []
        async with anyio.create_task_group() as tg:
            for n in range(100):
                tg.start_soon(ask_into, rt.get(probe, f"c{n}"), Echo(n), outcomes)
        assert set(outcomes) == set(range(100))
        assert len(asyncio.all_tasks()) > before + 32  # the burst's workers, parked
        await wait_until(lambda: len(asyncio.all_tasks()) <= before + 32, timeout=5)
        assert [await rt.get(probe, f"c{n}").ask(Bump()) for n in range(3)] == [1, 1, 1]

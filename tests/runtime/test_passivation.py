"""Passivation: an idle actor stops, and its next message activates it again."""

from __future__ import annotations

import anyio
import pytest

from runtime import open_runtime

from .probes import Bump, Echo, probe_type, wait_until

pytestmark = pytest.mark.anyio


async def test_an_idle_actor_is_passivated() -> None:
    probe = probe_type()
    async with open_runtime(passivate_after=0.05) as rt:
        await rt.get(probe, "a").ask(Echo(1))
        assert rt.is_live(probe, "a")
        await wait_until(lambda: not rt.is_live(probe, "a"))
        await wait_until(lambda: probe.script.stopped == ["a"])
        assert rt.live_actors == 0


async def test_a_message_after_passivation_activates_the_actor_again_transparently() -> None:
    probe = probe_type()
    async with open_runtime(passivate_after=0.05) as rt:
        ref = rt.get(probe, "a")
        assert await ref.ask(Bump()) == 1
        await wait_until(lambda: probe.script.stopped == ["a"])
        assert await ref.ask(Bump()) == 1  # a fresh behavior: its memory starts over
        assert rt.is_live(probe, "a")
    assert [key for key, *_ in probe.script.created] == ["a", "a"]


async def test_an_actor_that_keeps_getting_messages_is_not_passivated() -> None:
    probe = probe_type()
    async with open_runtime(passivate_after=0.05) as rt:
        ref = rt.get(probe, "a")
        for _ in range(10):
            await ref.ask(Bump())
            await anyio.sleep(0.015)
        assert await ref.ask(Bump()) == 11
        assert probe.script.stopped == []


async def test_passivate_after_none_never_passivates() -> None:
    probe = probe_type()
    async with open_runtime(passivate_after=None) as rt:
        ref = rt.get(probe, "a")
        await ref.ask(Bump())
        await anyio.sleep(0.1)
        assert rt.is_live(probe, "a")
        assert probe.script.stopped == []
        assert await ref.ask(Bump()) == 2


async def test_a_spawned_actor_with_an_idle_timeout_is_passivated_like_any_other() -> None:
    probe = probe_type()
    async with open_runtime(passivate_after=0.05) as rt:
        await rt.spawn(probe)
        await wait_until(lambda: not rt.is_live(probe, "Probe"), timeout=0.3)

"""open_runtime: its options, the store it holds, and runtimes kept apart."""

from __future__ import annotations

from types import TracebackType
from typing import Any

import pytest

from runtime import open_runtime

from .probes import Bump, Echo, probe_type

pytestmark = pytest.mark.anyio


class FakeStore:
    """An async context manager that records when it is opened and closed."""

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal

    async def __aenter__(self) -> FakeStore:
        self.journal.append("store opened")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.journal.append("store closed")


async def test_the_store_is_opened_on_entry_and_closed_after_every_actor_stopped() -> None:
    probe = probe_type()
    journal: list[str] = []
    store = FakeStore(journal)
    async with open_runtime(store=store) as rt:
        assert rt.store is store
        assert journal == ["store opened"]
        await rt.get(probe, "a").ask(Echo(1))
        journal.append("body done")
        probe.script.stopped = journal  # stopped() now writes into the journal
    assert journal == ["store opened", "body done", "a", "store closed"]


async def test_a_runtime_without_a_store_has_none() -> None:
    async with open_runtime() as rt:
        assert rt.store is None


@pytest.mark.parametrize(
    "options",
    [{"mailbox_size": 0}, {"passivate_after": 0}, {"passivate_after": -1.0}],
    ids=["mailbox_size=0", "passivate_after=0", "passivate_after=-1"],
)
async def test_open_runtime_refuses_bad_options_with_value_error(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must be"):
        async with open_runtime(**options):
            pass  # pragma: no cover


async def test_two_runtimes_do_not_see_each_others_actors() -> None:
    probe = probe_type()
    async with open_runtime() as first, open_runtime() as second:
        assert await first.get(probe, "a").ask(Bump()) == 1
        assert await first.get(probe, "a").ask(Bump()) == 2
        assert await second.get(probe, "a").ask(Bump()) == 1  # its own actor
        assert first.live_actors == 1
        assert second.live_actors == 1
        await first.get(probe, "a").stop()
        assert not first.is_live(probe, "a")
        assert second.is_live(probe, "a")
        # Spawned names are per runtime too.
        assert (await first.spawn(probe, name="p")).key == "p"
        assert (await second.spawn(probe, name="p")).key == "p"
    assert [key for key, *_ in probe.script.created] == ["a", "a", "p", "p"]

"""Logging: structlog facts with the actor bound, and silence when the app configured nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from actors import Rejected
from runtime import open_runtime
from stores import MemoryEventStore

from .domain import Account, Deposit, Withdraw

pytestmark = pytest.mark.anyio


@pytest.fixture(autouse=True)
def _unconfigured_structlog() -> Iterator[None]:
    structlog.reset_defaults()
    yield
    structlog.reset_defaults()


async def test_a_rejected_command_is_logged_with_the_actor_bound() -> None:
    with structlog.testing.capture_logs(
        processors=[structlog.contextvars.merge_contextvars]
    ) as logs:
        async with open_runtime(store=MemoryEventStore()) as rt:
            account = rt.get(Account, "acc-1")
            await account.ask(Deposit(amount=1))
            with pytest.raises(Rejected):
                await account.ask(Withdraw(amount=5))
    by_event = {entry["event"]: entry for entry in logs}
    assert by_event["command_rejected"]["actor"] == "Account"
    assert by_event["command_rejected"]["actor_id"] == "acc-1"
    assert by_event["command_rejected"]["command"] == "Withdraw"
    assert by_event["events_appended"]["position"] == 1
    assert "actor_activated" in by_event


async def test_the_library_prints_nothing_when_the_app_never_configured_structlog(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert not structlog.is_configured()
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        await account.ask(Deposit(amount=1))
        with pytest.raises(Rejected):
            await account.ask(Withdraw(amount=5))
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""

"""Idempotent commands: a key already committed by an aggregate replies the original Committed."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from actors import Rejected
from runtime import open_runtime
from stores import MemoryEventStore, SQLiteEventStore

from .domain import Account, Deposit, GetState, Withdraw

pytestmark = pytest.mark.anyio


async def test_a_repeated_key_replies_the_original_commit_without_appending() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        first = await account.ask(Deposit(amount=5, idempotency_key="pay-1"))
        again = await account.ask(Deposit(amount=5, idempotency_key="pay-1"))
        assert (again.version, again.position) == (first.version, first.position)
        assert again.command_id == first.command_id
        assert [e.data for e in again.events] == [e.data for e in first.events]
        assert await account.ask(GetState()) == 5
    assert await store.last_position() == 1


async def test_different_keys_are_different_commands() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        await account.ask(Deposit(amount=5, idempotency_key="pay-1"))
        await account.ask(Deposit(amount=5, idempotency_key="pay-2"))
        await account.ask(Deposit(amount=5))
        assert await account.ask(GetState()) == 15


async def test_keys_survive_passivation_and_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    async with open_runtime(store=SQLiteEventStore(path), passivate_after=0.02) as rt:
        account = rt.get(Account, "acc-1")
        first = await account.ask(Deposit(amount=5, idempotency_key="pay-1"))
        await anyio.sleep(0.1)
        assert not rt.is_live(Account, "acc-1")
        assert (await account.ask(Deposit(amount=5, idempotency_key="pay-1"))).version == 1
    async with open_runtime(store=SQLiteEventStore(path)) as rt:
        again = await rt.get(Account, "acc-1").ask(Deposit(amount=5, idempotency_key="pay-1"))
        assert (again.version, again.position, again.command_id) == (
            first.version,
            first.position,
            first.command_id,
        )
        assert await rt.get(Account, "acc-1").ask(GetState()) == 5


async def test_a_rejected_command_stores_no_key_so_it_can_be_retried() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        with pytest.raises(Rejected):
            await account.ask(Withdraw(amount=5, idempotency_key="w-1"))
        await account.ask(Deposit(amount=10))
        done = await account.ask(Withdraw(amount=5, idempotency_key="w-1"))
        assert done.version == 2
        assert await account.ask(GetState()) == 5


async def test_concurrent_duplicates_commit_once() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        account = rt.get(Account, "acc-1")
        versions: list[int] = []

        async def send() -> None:
            versions.append((await account.ask(Deposit(amount=1, idempotency_key="k"))).version)

        async with anyio.create_task_group() as tg:
            for _ in range(50):
                tg.start_soon(send)
    assert versions == [1] * 50
    assert await store.last_position() == 1


async def test_a_duplicate_sent_to_two_runtimes_on_one_file_commits_once(tmp_path: Path) -> None:
    path = tmp_path / "bank.db"
    async with (
        open_runtime(store=SQLiteEventStore(path)) as one,
        open_runtime(store=SQLiteEventStore(path)) as two,
    ):
        # Both actors are live and at version 1, so the duplicate races on the same version.
        await one.get(Account, "acc-1").ask(Deposit(amount=1))
        await two.get(Account, "acc-1").ask(GetState())
        async with anyio.create_task_group() as tg:
            for rt in (one, two):
                tg.start_soon(rt.get(Account, "acc-1").ask, Deposit(amount=7, idempotency_key="k"))
        assert await two.store.last_position() == 2
        states = [await rt.get(Account, "acc-1").ask(GetState()) for rt in (one, two)]
    assert states == [8, 8]


async def test_an_empty_or_huge_key_is_refused_at_construction() -> None:
    import pydantic

    with pytest.raises(pydantic.ValidationError):
        Deposit(amount=1, idempotency_key="")
    with pytest.raises(pydantic.ValidationError):
        Deposit(amount=1, idempotency_key="k" * 201)

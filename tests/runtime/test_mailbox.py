"""The bounded mailbox every actor reads from (internal, but the base of backpressure)."""

from __future__ import annotations

import asyncio

import anyio
import pytest

from runtime._mailbox import Mailbox, MailboxClosed, MailboxEmpty

pytestmark = pytest.mark.anyio


async def _put(mailbox: Mailbox[str], item: str, scope: anyio.CancelScope | None = None) -> None:
    with scope or anyio.CancelScope():
        await mailbox.put(item)


def test_messages_come_out_in_the_order_they_went_in() -> None:
    mailbox: Mailbox[int] = Mailbox(10)
    for i in range(5):
        assert mailbox.put_nowait(i)
    assert [mailbox.get_nowait() for _ in range(5)] == [0, 1, 2, 3, 4]


def test_a_mailbox_needs_room_for_at_least_one_message() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Mailbox[int](0)


def test_put_nowait_returns_false_when_the_mailbox_is_full() -> None:
    mailbox: Mailbox[int] = Mailbox(2)
    assert mailbox.put_nowait(1)
    assert mailbox.put_nowait(2)
    assert not mailbox.put_nowait(3)
    assert len(mailbox) == 2
    assert [mailbox.get_nowait(), mailbox.get_nowait()] == [1, 2]


async def test_put_waits_while_the_mailbox_is_full_and_resumes_when_room_frees() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("first")
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_put, mailbox, "second")
            await anyio.wait_all_tasks_blocked()
            assert len(mailbox) == 1  # the sender is still waiting
            assert mailbox.get_nowait() == "first"
    assert mailbox.get_nowait() == "second"


async def test_waiting_senders_get_in_in_the_order_they_started_waiting() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("0")
    got: list[str] = []
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            for item in ("1", "2", "3"):
                tg.start_soon(_put, mailbox, item)
                await anyio.wait_all_tasks_blocked()
            while len(got) < 4:
                got.append(await mailbox.get())
    assert got == ["0", "1", "2", "3"]


async def test_put_nowait_does_not_overtake_waiting_senders() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("0")
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_put, mailbox, "waiting")
            await anyio.wait_all_tasks_blocked()
            assert not mailbox.put_nowait("late")
            assert mailbox.get_nowait() == "0"
    assert mailbox.drain() == ["waiting"]


async def test_put_nowait_does_not_take_the_slot_freed_for_a_waiting_sender() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("0")
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_put, mailbox, "waiting")
            await anyio.wait_all_tasks_blocked()
            assert mailbox.get_nowait() == "0"  # frees the slot and wakes the waiting sender
            assert not mailbox.put_nowait("late")  # ...which is still first in line
            await anyio.wait_all_tasks_blocked()
            assert mailbox.get_nowait() == "waiting"


async def test_get_waits_for_a_message() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    got: list[str] = []

    async def receive() -> None:
        got.append(await mailbox.get())

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(receive)
            await anyio.wait_all_tasks_blocked()
            assert got == []
            mailbox.put_nowait("hello")
    assert got == ["hello"]


async def test_close_wakes_a_waiting_receiver_with_mailbox_closed() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    outcome: list[BaseException] = []

    async def receive() -> None:
        try:
            await mailbox.get()
        except MailboxClosed as exc:
            outcome.append(exc)

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(receive)
            await anyio.wait_all_tasks_blocked()
            mailbox.close()
    assert len(outcome) == 1


async def test_close_wakes_every_waiting_sender_with_mailbox_closed() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("queued")
    closed: list[str] = []

    async def send(item: str) -> None:
        try:
            await mailbox.put(item)
        except MailboxClosed:
            closed.append(item)

    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(send, "a")
            tg.start_soon(send, "b")
            await anyio.wait_all_tasks_blocked()
            mailbox.close()
    assert sorted(closed) == ["a", "b"]


def test_queued_messages_can_still_be_taken_after_close_but_nothing_new_goes_in() -> None:
    mailbox: Mailbox[str] = Mailbox(2)
    mailbox.put_nowait("queued")
    mailbox.close()
    assert mailbox.closed
    with pytest.raises(MailboxClosed):
        mailbox.put_nowait("late")
    assert mailbox.get_nowait() == "queued"
    with pytest.raises(MailboxClosed):
        mailbox.get_nowait()


def test_drain_removes_and_returns_every_queued_message() -> None:
    mailbox: Mailbox[str] = Mailbox(3)
    mailbox.put_nowait("a")
    mailbox.put_nowait("b")
    assert mailbox.drain() == ["a", "b"]
    assert len(mailbox) == 0
    with pytest.raises(MailboxEmpty):
        mailbox.get_nowait()


async def test_a_cancelled_waiting_put_leaves_nothing_behind() -> None:
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("0")
    scope = anyio.CancelScope()
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_put, mailbox, "cancelled", scope)
            await anyio.wait_all_tasks_blocked()
            scope.cancel()
    assert mailbox.get_nowait() == "0"
    assert len(mailbox) == 0
    # No ghost waiter left in line: a new message goes straight in.
    assert mailbox.put_nowait("next")
    assert mailbox.drain() == ["next"]


async def test_a_sender_cancelled_after_being_woken_passes_the_free_slot_on() -> None:
    # anyio does not cancel a task whose wait already completed, so only a native asyncio
    # cancel (asyncio.wait_for, task.cancel in the application) reaches a sender between its
    # wake-up and its resumption.
    mailbox: Mailbox[str] = Mailbox(1)
    mailbox.put_nowait("0")
    first = asyncio.create_task(mailbox.put("first"))
    await anyio.wait_all_tasks_blocked()
    second = asyncio.create_task(mailbox.put("second"))
    await anyio.wait_all_tasks_blocked()
    assert mailbox.get_nowait() == "0"  # wakes "first" for the free slot...
    first.cancel()  # ...which gives up before it runs
    with anyio.fail_after(1):
        await asyncio.wait([first, second])
    assert first.cancelled()
    assert second.done()
    assert not second.cancelled()
    assert mailbox.drain() == ["second"]


async def test_put_nowait_uses_a_free_slot_that_no_waiting_sender_holds() -> None:
    mailbox: Mailbox[str] = Mailbox(3)
    for item in "abc":
        mailbox.put_nowait(item)
    with anyio.fail_after(1):
        async with anyio.create_task_group() as tg:
            tg.start_soon(_put, mailbox, "waiting")
            await anyio.wait_all_tasks_blocked()
            assert mailbox.get_nowait() == "a"  # this slot is reserved for the waiting sender
            assert mailbox.get_nowait() == "b"  # this one is free, before the sender even runs
            assert mailbox.put_nowait("late")
            assert not mailbox.put_nowait("one too many")
    assert sorted(mailbox.get_nowait() for _ in range(3)) == ["c", "late", "waiting"]

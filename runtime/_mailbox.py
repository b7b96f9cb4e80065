"""A bounded FIFO mailbox for one receiver and many senders.

Hand-written rather than an anyio memory stream because it sits on the hot path of every message:
when there is room (to put) or a message (to get) it does no allocation and no context switch;
only a sender that must wait for room, or a receiver that must wait for a message, creates a
future. esactors runs on anyio's asyncio backend (aiosqlite is asyncio-only), so waiting on a
bare asyncio future is both the cheapest wait and fully cancellable by anyio's cancel scopes.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Generic, TypeVar

T = TypeVar("T")


class MailboxClosed(Exception):
    """Internal: the mailbox takes no more messages (the actor is stopping)."""


class MailboxEmpty(Exception):
    """Internal: ``get_nowait`` found nothing."""


def _wake(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)


class Mailbox(Generic[T]):
    __slots__ = ("_capacity", "_closed", "_items", "_receiver", "_senders")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"mailbox capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        self._items: deque[T] = deque()
        self._closed = False
        self._receiver: asyncio.Future[None] | None = None
        self._senders: deque[asyncio.Future[None]] = deque()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def capacity(self) -> int:
        return self._capacity

    def __len__(self) -> int:
        return len(self._items)

    def put_nowait(self, item: T) -> bool:
        """Append ``item``; False when there is no room. Raises MailboxClosed once closed."""
        if self._closed:
            raise MailboxClosed
        if len(self._items) >= self._capacity or self._senders:
            return False
        self._items.append(item)
        if self._receiver is not None:
            _wake(self._receiver)
            self._receiver = None
        return True

    async def put(self, item: T) -> None:
        """Append ``item``, waiting for room; senders that wait are served in arrival order."""
        if self.put_nowait(item):
            return
        waiter = asyncio.get_running_loop().create_future()
        self._senders.append(waiter)
        try:
            while True:
                await waiter
                if self._closed:
                    raise MailboxClosed
                if len(self._items) < self._capacity:
                    break
                # Someone took the slot first (put_nowait): wait again at the head of the line.
                waiter = asyncio.get_running_loop().create_future()
                self._senders.appendleft(waiter)
        except BaseException:
            if waiter in self._senders:
                self._senders.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                # We were woken for a free slot but will not use it: pass it on.
                self._wake_sender()
            raise
        self._items.append(item)
        if self._receiver is not None:
            _wake(self._receiver)
            self._receiver = None
        # Room may remain for the next waiting sender.
        if len(self._items) < self._capacity:
            self._wake_sender()

    def get_nowait(self) -> T:
        """Take the oldest message. Raises MailboxEmpty, or MailboxClosed if closed and empty."""
        if self._items:
            item = self._items.popleft()
            if self._senders:
                self._wake_sender()
            return item
        if self._closed:
            raise MailboxClosed
        raise MailboxEmpty

    async def get(self) -> T:
        """Take the oldest message, waiting for one. Raises MailboxClosed once closed and empty."""
        while True:
            try:
                return self.get_nowait()
            except MailboxEmpty:
                pass
            self._receiver = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._receiver is waiter:
                    self._receiver = None

    @property
    def receiver_waiting(self) -> bool:
        """Whether the receiver is blocked in ``get`` (the actor is idle)."""
        return self._receiver is not None

    def close(self) -> None:
        """Refuse new messages; queued ones can still be taken. Wakes every waiter."""
        self._closed = True
        if self._receiver is not None:
            _wake(self._receiver)
            self._receiver = None
        while self._senders:
            _wake(self._senders.popleft())

    def drain(self) -> list[T]:
        """Remove and return every queued message."""
        items = list(self._items)
        self._items.clear()
        return items

    def _wake_sender(self) -> None:
        while self._senders:
            waiter = self._senders.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

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
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class MailboxClosed(Exception):
    """Internal: the mailbox takes no more messages (the actor is stopping)."""


class MailboxEmpty(Exception):
    """Internal: ``get_nowait`` found nothing."""


class Mailbox(Generic[T]):
    """Bounded FIFO. Senders that wait for room are served in arrival order: a freed slot is
    reserved for the first of them, so a later ``put_nowait`` cannot jump the queue."""

    __slots__ = (
        "_capacity",
        "_closed",
        "_held",
        "_items",
        "_receiver",
        "_reserved",
        "_senders",
        "_sleeper",
    )

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"mailbox capacity must be at least 1, got {capacity}")
        self._capacity = capacity
        # Made when a message is queued and dropped when the receiver sleeps: an empty deque
        # costs 760 bytes, and an idle actor needs none (nor does an ask handled in the
        # caller's task, which queues nothing).
        self._items: deque[T] | None = None
        self._closed = False
        self._receiver: asyncio.Future[None] | None = None
        # Each waiting sender's future resolves True (a slot is reserved for it) or False
        # (closed). Made on first use: most mailboxes never make a sender wait, and an empty
        # deque costs 760 bytes per idle actor.
        self._senders: deque[asyncio.Future[bool]] | None = None
        self._reserved = 0
        # A receiver with no task waiting: called (once) when a message comes or on close.
        self._sleeper: Callable[[], None] | None = None
        # While a caller holds the sleeping receiver (``hold``), its wake-up, kept aside.
        self._held: Callable[[], None] | None = None

    @property
    def closed(self) -> bool:
        """Whether the mailbox refuses new messages."""
        return self._closed

    @property
    def capacity(self) -> int:
        """How many messages it holds at most."""
        return self._capacity

    def __len__(self) -> int:
        return len(self._items) if self._items is not None else 0

    def put_nowait(self, item: T) -> bool:
        """Append ``item``; False when there is no room. Raises MailboxClosed once closed."""
        if self._closed:
            raise MailboxClosed
        if self._senders or len(self) + self._reserved >= self._capacity:
            return False
        self._append(item)
        return True

    async def put(self, item: T) -> None:
        """Append ``item``, waiting for room. Cancelled while waiting: nothing is appended."""
        if self.put_nowait(item):
            return
        waiter: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        if self._senders is None:
            self._senders = deque()
        self._senders.append(waiter)
        try:
            granted = await waiter
        except BaseException:
            if self._senders is not None and waiter in self._senders:
                self._senders.remove(waiter)
            elif waiter.done() and not waiter.cancelled() and waiter.result():
                # A slot was reserved for us but we will not use it: pass it on.
                self._reserved -= 1
                self._grant()
            raise
        if granted:
            self._reserved -= 1
        if self._closed:
            # Closed after our slot was granted: the receiver may have drained already.
            raise MailboxClosed
        self._append(item)
        self._grant()

    def _append(self, item: T) -> None:
        items = self._items
        if items is None:
            items = self._items = deque()
        items.append(item)
        receiver = self._receiver
        if receiver is not None:
            self._receiver = None
            if not receiver.done():
                receiver.set_result(None)
        elif self._sleeper is not None:
            self._wake_sleeper()

    def _wake_sleeper(self) -> None:
        sleeper, self._sleeper = self._sleeper, None
        if sleeper is not None:
            sleeper()

    def sleep(self, wake: Callable[[], None]) -> None:
        """The receiver stops taking messages without waiting in a task: ``wake()`` is called
        once the next message comes or the mailbox is closed. Call it only when empty."""
        if self._items or self._closed:
            wake()
        else:
            self._items = None
            self._sleeper = wake

    def _grant(self) -> None:
        """Reserve free slots for waiting senders, first come first served."""
        senders = self._senders
        while senders and len(self) + self._reserved < self._capacity:
            waiter = senders.popleft()
            if not waiter.done():
                self._reserved += 1
                waiter.set_result(True)

    def get_nowait(self) -> T:
        """Take the oldest message. Raises MailboxEmpty, or MailboxClosed if closed and empty."""
        items = self._items
        if items:
            item = items.popleft()
            if self._senders:
                self._grant()
            return item
        if self._closed:
            raise MailboxClosed
        raise MailboxEmpty

    async def get(self) -> T:
        """Take the oldest message, waiting for one. Raises MailboxClosed once closed and empty.
        Cancelled while waiting: nothing is taken."""
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
    def held(self) -> bool:
        """Whether a caller holds the receiver (``hold``)."""
        return self._held is not None

    def hold(self) -> bool:
        """If the receiver sleeps (``sleep``) with nothing queued, keep it asleep until
        ``release`` (messages queued and a close meanwhile do not wake it), and return True:
        the caller may handle one message in its place. Otherwise False (a receiver parked in
        ``get`` keeps its task, which a stop may end: it is never held)."""
        if self._sleeper is None or self._items or self._closed:
            return False
        self._held, self._sleeper = self._sleeper, None
        return True

    def release(self) -> None:
        """End a ``hold``: the receiver sleeps again, woken now if anything came meanwhile."""
        wake, self._held = self._held, None
        if wake is not None:
            self.sleep(wake)

    def close(self) -> None:
        """Refuse new messages; queued ones can still be taken. Wakes every waiter."""
        self._closed = True
        receiver, self._receiver = self._receiver, None
        if receiver is not None and not receiver.done():
            receiver.set_result(None)
        self._wake_sleeper()
        while self._senders:
            waiter = self._senders.popleft()
            if not waiter.done():
                waiter.set_result(False)
        self._senders = None

    def drain(self) -> list[T]:
        """Remove and return every queued message."""
        items = list(self._items or ())
        self._items = None
        return items

"""The envelope a message travels in, and the slot its reply comes back through."""

from __future__ import annotations

import asyncio
from typing import Any


class Envelope:
    """One message in a mailbox: the message, where its reply goes (None for ``tell``), and
    the position the reader asked to have seen first (``ask(..., after=...)``)."""

    __slots__ = (
        "_error",
        "_state",
        "_value",
        "_waiter",
        "abandoned",
        "after",
        "message",
        "wants_reply",
    )

    _PENDING, _RESOLVED, _FAILED = 0, 1, 2

    def __init__(self, message: Any, wants_reply: bool, after: int | None = None) -> None:
        self.message = message
        self.wants_reply = wants_reply
        self.after = after
        self._state = Envelope._PENDING
        self._value: Any = None
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        #: The sender stopped waiting (cancelled, timed out): an actor holding the envelope
        #: for later may drop it.
        self.abandoned = False

    @property
    def done(self) -> bool:
        """Whether the sender has been answered."""
        return self._state != Envelope._PENDING

    def resolve(self, value: Any) -> None:
        """Answer the sender with ``value`` (ignored for a tell or once answered)."""
        if self._state == Envelope._PENDING:
            self._value = value
            self._state = Envelope._RESOLVED
            self._wake()

    def fail(self, error: BaseException) -> None:
        """Answer the sender with ``error`` (ignored for a tell or once answered)."""
        if self._state == Envelope._PENDING:
            self._error = error
            self._state = Envelope._FAILED
            self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def answer(self) -> Any:
        """The answer once ``done``: return the value or raise the error."""
        if self._state == Envelope._FAILED:
            assert self._error is not None
            # Drop the reference so the traceback does not keep the envelope alive.
            error, self._error = self._error, None
            raise error
        return self._value

    async def reply(self) -> Any:
        """Wait for the answer; return the value or raise the error.

        Cancelling it abandons the answer; the message is still handled."""
        if self._state == Envelope._PENDING:
            # A bare future: the cheapest wait on asyncio, and anyio's cancel scopes cancel it.
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            except BaseException:
                self.abandoned = True
                raise
        return self.answer()

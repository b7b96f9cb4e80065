"""ActorRef: the handle callers hold to send messages to an actor."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ._behavior import Request
from ._envelope import Envelope
from ._errors import ActorStopped, MailboxFull
from ._mailbox import MailboxClosed

if TYPE_CHECKING:
    from ._cell import Cell
    from ._runtime import Runtime

R = TypeVar("R")


class ActorRef:
    """A handle on one actor, from ``rt.get(Type, id)`` or ``rt.spawn(Type)``.

    Cheap to create and to copy. A ref from ``get`` activates its actor on the first message and
    again after passivation; a ref from ``spawn`` refers to that one running actor only.
    """

    __slots__ = ("_activates", "_cell", "_kind", "_regkey", "_runtime")

    def __init__(
        self, runtime: Runtime, regkey: tuple[type, str], kind: str, activates: bool
    ) -> None:
        self._runtime = runtime
        self._regkey = regkey
        self._kind = kind
        self._activates = activates
        self._cell: Cell | None = None

    @property
    def key(self) -> str:
        """The actor's id (an aggregate's stream id, a projection's name)."""
        return self._regkey[1]

    @property
    def actor_type(self) -> type:
        """The class this actor was started from."""
        return self._regkey[0]

    def __repr__(self) -> str:
        return f"<ActorRef {self._kind} {self.key!r}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ActorRef):
            return NotImplemented
        return self._runtime is other._runtime and self._regkey == other._regkey

    def __hash__(self) -> int:
        return hash(self._regkey)

    async def ask(
        self, message: Request[R], *, timeout: float | None = None, after: int | None = None
    ) -> R:
        """Send ``message`` and wait for its reply.

        A command replies ``Committed``; a query replies its handler's value. ``after`` makes a
        query wait until the actor has seen that global log position (read-your-writes).
        A handler's exception (``Rejected`` included) is raised here; the actor keeps running.
        ``timeout`` (seconds, covering the wait for mailbox room and for the reply) raises
        ``TimeoutError``. Raises ``ActorStopped`` if the actor stops before handling the message.

        Cancelling ``ask`` before the message is in the mailbox sends nothing; after that it
        abandons only the reply: the message is still handled. Except where the actor's type
        runs asks in the caller's task while the actor is idle (aggregates do, see
        ``Aggregate``): there cancelling ``ask`` cancels the handling where it is.
        """
        envelope = Envelope(message, True, after)
        cell = self._live_cell()
        ready = cell.run_in_caller
        if ready is not None and ready() and cell.mailbox.hold():
            # The actor is idle: handle the message in this task rather than wake the actor's
            # task and wait to be woken in turn (two task switches and a future fewer).
            if timeout is None:
                await cell.handle_here(envelope)
                # Mostly answered by now (a behavior may keep the envelope to answer later).
                result_here: R = envelope.answer() if envelope.done else await envelope.reply()
                return result_here
            with anyio.fail_after(timeout):
                await cell.handle_here(envelope)
                result_here = envelope.answer() if envelope.done else await envelope.reply()
                return result_here
        if timeout is None:
            await self._post(envelope)
            result: R = await envelope.reply()
            return result
        with anyio.fail_after(timeout):
            await self._post(envelope)
            result = await envelope.reply()
            return result

    async def tell(self, message: Any) -> None:
        """Send ``message`` without waiting for a reply; wait only for room in the mailbox.

        Cancelling ``tell`` while it waits for room sends nothing."""
        await self._post(Envelope(message, False))

    def tell_nowait(self, message: Any) -> None:
        """Send ``message`` if the mailbox has room; raise ``MailboxFull`` otherwise."""
        envelope = Envelope(message, False)
        while True:
            cell = self._live_cell()
            try:
                if cell.mailbox.put_nowait(envelope):
                    return
            except MailboxClosed:
                if self._activates:
                    continue
                raise ActorStopped(f"{self._kind} {self.key!r} is stopped") from None
            raise MailboxFull(f"mailbox of {self._kind} {self.key!r} is full")

    async def stop(self) -> None:
        """Stop the actor once the messages already in its mailbox are handled; return when it
        has stopped. A ref from ``get`` activates the actor again on its next message.

        Cancelling ``stop`` stops waiting; the actor still stops."""
        cell = self._cell if not self._activates else self._runtime._live(self._regkey)
        if cell is None:
            return
        cell.close()
        await cell.wait_done()

    async def _post(self, envelope: Envelope) -> None:
        while True:
            cell = self._live_cell()
            try:
                if not cell.mailbox.put_nowait(envelope):
                    await cell.mailbox.put(envelope)
                return
            except MailboxClosed:
                if not self._activates:
                    raise ActorStopped(f"{self._kind} {self.key!r} is stopped") from None
                # Passivated between lookup and send: the next lookup activates a fresh actor.

    def _live_cell(self) -> Cell:
        cell = self._cell
        if cell is None or cell.mailbox.closed:
            if not self._activates:
                raise ActorStopped(f"{self._kind} {self.key!r} is stopped")
            cell = self._cell = self._runtime._cell_for(self._regkey, self._activates)
        return cell

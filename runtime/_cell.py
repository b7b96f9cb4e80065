"""One live actor: its mailbox, and the task (while it has work) that feeds its behavior."""

from __future__ import annotations

from collections.abc import Callable
from time import monotonic
from typing import TYPE_CHECKING

import anyio
import structlog
from anyio.abc import TaskGroup, TaskStatus

from ._behavior import ActorContext, Behavior
from ._envelope import Envelope
from ._errors import ActorStopped
from ._logging import chatty, get_logger
from ._mailbox import Mailbox, MailboxClosed, MailboxEmpty

if TYPE_CHECKING:
    from ._runtime import Runtime

_log = get_logger("esactors.runtime")


class Cell:
    """The runtime's record of a live actor. Created synchronously on first message, so that
    concurrent first messages to one key find one cell and one mailbox."""

    __slots__ = (
        "_done",
        "_wake_me",
        "activated",
        "behavior",
        "finished",
        "idle_since",
        "key",
        "kind",
        "mailbox",
        "on_message",
        "orphaned",
        "predecessor",
        "regkey",
        "run_in_caller",
        "runtime",
    )

    def __init__(
        self,
        runtime: Runtime,
        regkey: tuple[type, str],
        kind: str,
        key: str,
        behavior: Behavior,
        capacity: int,
    ) -> None:
        self.runtime = runtime
        self.regkey = regkey
        self.kind = kind
        self.key = key
        self.behavior = behavior
        self.mailbox: Mailbox[Envelope] = Mailbox(capacity)
        self.activated = False
        #: Once activated, the behavior's ``can_run_in_caller`` if it has one: while it says
        #: yes and the actor is idle, an ask is handled in the asking task (``handle_here``).
        self.run_in_caller: Callable[[], bool] | None = None
        self.finished = False
        #: Woken after the runtime ended (see ``_wake``): no worker will run it.
        self.orphaned = False
        # Bound once: the mailbox gets it each time the actor goes to sleep.
        self._wake_me = self._wake
        self._done: anyio.Event | None = None
        #: monotonic() time since when the actor has been waiting for a message, or None.
        self.idle_since: float | None = None
        #: Called with the cell for each message taken (the runtime's recency tracking).
        self.on_message: Callable[[Cell], None] | None = None
        #: The previous actor of this key, if it was still stopping when this one was made:
        #: this one starts only once that one has finished, so two never run at once.
        self.predecessor: Cell | None = None

    async def run(
        self,
        *,
        raise_activation_error: bool = False,
        task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED,
    ) -> None:
        """Activate, then handle the messages queued. An actor whose behavior keeps a task
        group runs until stopped; any other returns once its mailbox is empty and sleeps,
        with no task, until the next message or a stop starts one (``_wake``).

        An activation error fails the messages waiting for the actor; with
        ``raise_activation_error`` (spawn) it is also raised, as itself."""
        self._bind_log_context()
        if getattr(self.behavior, "uses_task_group", False):
            await self._run_with_task_group(raise_activation_error, task_status)
            return
        try:
            activation_error = await self._activate(None, task_status)
        except BaseException:
            await self._finish(self._stopped())
            raise
        if activation_error is not None:
            _log.warning("actor_activation_failed", **self._names(), error=repr(activation_error))
            await self._finish(activation_error)
            if raise_activation_error:
                raise activation_error
            return
        await self._drain()

    async def _run_with_task_group(
        self, raise_activation_error: bool, task_status: TaskStatus[None]
    ) -> None:
        # Helper tasks (a projection's follower) live in the actor's task group, which only
        # the task that opened it may close: this actor keeps its task, parked on the mailbox.
        stop_reason: Exception = self._stopped()
        activation_error: Exception | None = None
        try:
            async with anyio.create_task_group() as tg:
                activation_error = await self._activate(tg, task_status)
                if activation_error is None:
                    await self._loop()
                # Stop helper tasks once the loop is done.
                tg.cancel_scope.cancel()
        except Exception as exc:
            if not self.activated:
                activation_error = exc
            else:
                # A crashed helper task must not take the whole runtime down with it.
                _log.error("actor_crashed", **self._names(), exc_info=exc)
                stop_reason = ActorStopped(f"{self.kind} {self.key!r} crashed: {exc!r}")
        finally:
            if activation_error is not None:
                _log.warning(
                    "actor_activation_failed", **self._names(), error=repr(activation_error)
                )
                stop_reason = activation_error
            await self._finish(stop_reason)
        if activation_error is not None and raise_activation_error:
            raise activation_error

    def _stopped(self) -> ActorStopped:
        # A new instance each time: one shared by several callers would collect every
        # caller's traceback.
        return ActorStopped(f"{self.kind} {self.key!r} stopped")

    def _bind_log_context(self) -> None:
        # Only once the application has configured structlog: binding costs ~5 us, paid on
        # every wake of a sleeping actor. The runtime's own warnings name the actor anyway.
        if chatty():
            structlog.contextvars.bind_contextvars(**self._names())

    def _names(self) -> dict[str, str]:
        return {"actor": self.kind, "actor_id": self.key}

    async def _activate(
        self, tg: TaskGroup | None, task_status: TaskStatus[None]
    ) -> Exception | None:
        """Run ``started()``; the activation error, if any."""
        predecessor, self.predecessor = self.predecessor, None
        if predecessor is not None:
            await predecessor.wait_done()
        try:
            await self.behavior.started(ActorContext(self.runtime, self.kind, self.key, tg))
        except Exception as exc:
            return exc
        self.activated = True
        self.run_in_caller = getattr(self.behavior, "can_run_in_caller", None)
        if chatty():
            _log.debug("actor_activated")
        task_status.started()
        return None

    async def _finish(self, stop_reason: Exception) -> None:
        """Fail what is still queued, let the behavior release what it holds, deregister."""
        if self.finished:
            return
        self._fail_queued(stop_reason)
        with anyio.CancelScope(shield=True):
            try:
                await self.behavior.stopped()
            except Exception as exc:
                _log.error("actor_stop_failed", **self._names(), exc_info=exc)
        self.runtime._finished(self)
        self.finished = True
        if self._done is not None:
            self._done.set()

    async def wait_done(self) -> None:
        """Wait until the actor has stopped."""
        if not self.finished:
            if self._done is None:
                self._done = anyio.Event()  # made only for a waiter: most actors never get one
            await self._done.wait()

    async def _drain(self) -> None:
        """Handle the queued messages; then sleep (this task ends, the actor stays live with
        its state), or, once the mailbox is closed, stop the actor."""
        mailbox = self.mailbox
        try:
            while True:
                try:
                    envelope = mailbox.get_nowait()
                except MailboxEmpty:
                    # Idle: no task, no future, no timer. The runtime's sweeper passivates
                    # actors idle for too long (closing the mailbox wakes them to stop).
                    self.idle_since = monotonic()
                    mailbox.sleep(self._wake_me)
                    return
                except MailboxClosed:
                    break
                await self._handle(envelope)
        except BaseException:
            await self._finish(self._stopped())
            raise
        await self._finish(self._stopped())

    def _wake(self) -> None:
        """The mailbox got a message (or was closed) while the actor slept: have a worker
        task run it."""
        self.idle_since = None
        workers = self.runtime._workers
        if workers.closed:
            # The runtime has ended without waiting for the ask a caller's task was handling:
            # that task stops the actor when it lets go (handle_here).
            self.orphaned = True
            return
        workers.run(self._drain_woken)

    async def _drain_woken(self) -> None:
        self._bind_log_context()
        await self._drain()

    async def _loop(self) -> None:
        """The message loop of an actor that keeps its task: park on the mailbox when idle."""
        mailbox = self.mailbox
        while True:
            try:
                envelope = mailbox.get_nowait()
            except MailboxEmpty:
                envelope = None
            except MailboxClosed:
                return
            if envelope is None:
                # Parked outside the except block, so no exception and traceback stay alive.
                self.idle_since = monotonic()
                try:
                    envelope = await mailbox.get()
                except MailboxClosed:
                    return
                finally:
                    self.idle_since = None
            await self._handle(envelope)

    async def _handle(self, envelope: Envelope) -> None:
        if self.on_message is not None:
            self.on_message(self)
        try:
            await self.behavior.receive(envelope)
        except Exception as exc:
            if envelope.wants_reply:
                envelope.fail(exc)
            else:
                _log.warning(
                    "message_failed",
                    **self._names(),
                    message=type(envelope.message).__name__,
                    error=repr(exc),
                )
        except BaseException:
            # Cancelled mid-message (shutdown timeout, a crashed helper): answer the caller
            # rather than leave it waiting forever. A no-op if it was answered already.
            envelope.fail(
                ActorStopped(
                    f"{self.kind} {self.key!r} stopped while handling "
                    f"{type(envelope.message).__name__}"
                )
            )
            raise

    async def handle_here(self, envelope: Envelope) -> None:
        """Handle ``envelope`` in the calling task, in the actor's place: only after
        ``self.mailbox.hold()`` returned True (the actor was idle, nothing queued). Messages
        sent meanwhile wait in the mailbox for the actor's own task, as they would behind any
        message it handles. Cancelling it cancels the handling where it is."""
        self.idle_since = None
        if self.on_message is not None:
            self.on_message(self)
        try:
            if chatty():
                with structlog.contextvars.bound_contextvars(**self._names()):
                    await self.behavior.receive(envelope)
            else:
                await self.behavior.receive(envelope)
        except Exception as exc:
            envelope.fail(exc)
        finally:
            self.idle_since = monotonic()
            self.mailbox.release()
            if self.orphaned:
                await self._finish(self._stopped())

    def is_idle(self) -> bool:
        """Waiting for a message with none queued: stopping it now interrupts nothing."""
        return self.idle_since is not None and not len(self.mailbox)

    def passivate_if_idle(self, now: float) -> bool:
        """Stop the actor if it has waited for a message longer than its idle timeout."""
        idle = self.behavior.idle_timeout
        since = self.idle_since
        if idle is None or since is None or now - since < idle or len(self.mailbox):
            return False
        # Deregister and close before any await, so the next message activates a fresh actor
        # instead of landing here.
        self.close()
        if chatty():
            _log.debug("actor_passivated", actor=self.kind, actor_id=self.key, idle_seconds=idle)
        return True

    def close(self) -> None:
        """Take no more messages: queued ones are still handled, then the actor stops."""
        self.runtime._forget(self)
        self.mailbox.close()

    def _fail_queued(self, error: Exception) -> None:
        self.close()
        for envelope in self.mailbox.drain():
            if envelope.wants_reply:
                # One instance per caller: a shared one would collect every caller's traceback.
                envelope.fail(ActorStopped(*error.args) if type(error) is ActorStopped else error)
            else:
                _log.warning(
                    "message_discarded", **self._names(), message=type(envelope.message).__name__
                )

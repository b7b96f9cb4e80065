"""open_runtime and Runtime: the task group every actor lives in, and the registry of live ones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from time import monotonic
from typing import Any

import anyio
from anyio.abc import TaskGroup

from ._behavior import ActorType
from ._cell import Cell
from ._errors import ActorStopped
from ._logging import chatty, get_logger
from ._ref import ActorRef
from ._workers import Workers

_log = get_logger("esactors.runtime")

DEFAULT_MAILBOX_SIZE = 1_000
DEFAULT_PASSIVATE_AFTER = 300.0
DEFAULT_SHUTDOWN_TIMEOUT = 30.0


class Runtime:
    """A running set of actors, made by :func:`open_runtime`. Not constructed by users."""

    def __init__(
        self,
        task_group: TaskGroup,
        store: Any,
        *,
        mailbox_size: int,
        passivate_after: float | None,
        shutdown_timeout: float,
        max_live_actors: int | None = None,
    ) -> None:
        _check_options(mailbox_size, passivate_after, shutdown_timeout, max_live_actors)
        self._tg = task_group
        #: The tasks that run actors with work to do (an idle actor has none).
        self._workers = Workers(task_group)
        self._store = store
        self.mailbox_size = mailbox_size
        #: Default idle time (seconds) before an on-demand actor is passivated; None: never.
        self.passivate_after = passivate_after
        self.shutdown_timeout = shutdown_timeout
        #: At most this many on-demand actors live; the least recently used idle one is
        #: passivated to make room for a new one. None: no cap.
        self.max_live_actors = max_live_actors
        # On-demand actors in least- to most-recently-used order (kept only with a cap).
        self._recency: dict[tuple[type, str], Cell] = {}
        #: Live actors by (type, key): the ones a message can reach.
        self._cells: dict[tuple[type, str], Cell] = {}
        #: Every actor task not finished yet, including those stopping (no longer in _cells).
        self._running: set[Cell] = set()
        #: Actors closed but not finished yet, by key: a new actor of that key waits for them.
        self._stopping: dict[tuple[type, str], Cell] = {}
        self._closing = False
        self._sweep_every: float | None = None
        self._sweeper = anyio.CancelScope()

    @property
    def store(self) -> Any:
        """The resource given to ``open_runtime(store=...)`` (None if none was)."""
        return self._store

    @property
    def live_actors(self) -> int:
        """How many actors are live (activated and not passivated or stopped)."""
        return len(self._cells)

    def is_live(self, actor_type: type, key: str) -> bool:
        """Whether the actor ``key`` of ``actor_type`` is live now."""
        return (actor_type, key) in self._cells

    def get(self, actor_type: type[ActorType], key: str) -> ActorRef:
        """A ref to the actor ``key`` of ``actor_type`` (e.g. an aggregate and its id).

        Cheap: nothing starts until the first message, which activates the actor. There is at
        most one live actor per type and key, however many first messages race."""
        if not isinstance(key, str) or not key:
            raise ValueError(f"actor key must be a non-empty string, got {key!r}")
        _check_actor_type(actor_type)
        return ActorRef(self, (actor_type, key), actor_type.actor_kind, activates=True)

    async def spawn(
        self, actor_type: type[ActorType], *args: Any, name: str | None = None, **kwargs: Any
    ) -> ActorRef:
        """Start an actor of ``actor_type`` (e.g. a projection) and return its ref once it runs.

        ``args`` and ``kwargs`` go to the type's constructor. ``name`` (default: the class name,
        numbered if taken) must not name a live actor of that type. An error while starting is
        raised here. Cancelling ``spawn`` cancels the start; nothing is left running."""
        _check_actor_type(actor_type)
        self._check_open()
        if name is None:
            name, n = actor_type.__name__, 1
            while (actor_type, name) in self._cells:
                n += 1
                name = f"{actor_type.__name__}#{n}"
        elif (actor_type, name) in self._cells:
            raise ValueError(f"a {actor_type.actor_kind} named {name!r} is already running")
        regkey = (actor_type, name)
        behavior = actor_type.create_behavior(self, name, *args, **kwargs)
        cell = self._register(regkey, actor_type.actor_kind, name, behavior)
        try:
            await self._tg.start(_run_spawned, cell)
        except BaseException:
            self._forget(cell)
            self._running.discard(cell)
            raise
        ref = ActorRef(self, regkey, actor_type.actor_kind, activates=False)
        ref._cell = cell  # a spawned ref is bound to this actor, never to a namesake
        return ref

    def _register(self, regkey: tuple[type, str], kind: str, key: str, behavior: Any) -> Cell:
        cell = Cell(self, regkey, kind, key, behavior, self.mailbox_size)
        cell.predecessor = self._stopping.get(regkey)
        self._cells[regkey] = cell
        self._running.add(cell)
        if behavior.idle_timeout is not None:
            self._schedule_sweeps(behavior.idle_timeout)
        return cell

    def _check_open(self) -> None:
        if self._closing:
            raise ActorStopped("the runtime is shutting down")

    def _live(self, regkey: tuple[type, str]) -> Cell | None:
        return self._cells.get(regkey)

    def _cell_for(self, regkey: tuple[type, str], activate: bool) -> Cell:
        cell = self._cells.get(regkey)
        if cell is not None:
            return cell
        self._check_open()
        actor_type, key = regkey
        if not activate:
            raise ActorStopped(f"{actor_type.__name__} {key!r} is stopped")
        if self.max_live_actors is not None and len(self._recency) >= self.max_live_actors:
            self._evict()
        behavior = actor_type.create_behavior(self, key)  # type: ignore[attr-defined]
        cell = self._register(regkey, actor_type.actor_kind, key, behavior)  # type: ignore[attr-defined]
        if self.max_live_actors is not None:
            self._recency[regkey] = cell
            cell.on_message = self._touch
        self._workers.run(cell.run)
        return cell

    def _touch(self, cell: Cell) -> None:
        recency = self._recency
        if recency.pop(cell.regkey, None) is cell:
            recency[cell.regkey] = cell

    def _evict(self) -> None:
        """Passivate least recently used idle actors until there is room for one more. If
        too many are busy, the cap is exceeded for a moment rather than a command dropped;
        the next activation brings it back down."""
        assert self.max_live_actors is not None
        excess = len(self._recency) - self.max_live_actors + 1
        victims = [c for c in self._recency.values() if c.is_idle()][:excess]
        for victim in victims:
            victim.close()
            if chatty():
                _log.debug("actor_evicted", actor=victim.kind, actor_id=victim.key)

    def _schedule_sweeps(self, idle_timeout: float) -> None:
        # Sweep four times per shortest idle timeout: an actor is passivated between 1 and 1.25
        # times its idle timeout after its last message.
        every = max(idle_timeout / 4, 0.005)
        if self._sweep_every is None:
            self._sweep_every = every
            self._tg.start_soon(self._sweep, name="esactors:passivation")
        elif every < self._sweep_every:
            self._sweep_every = every

    async def _sweep(self) -> None:
        with self._sweeper:
            while True:
                assert self._sweep_every is not None
                await anyio.sleep(self._sweep_every)
                now = monotonic()
                for cell in list(self._cells.values()):
                    cell.passivate_if_idle(now)

    def _forget(self, cell: Cell) -> None:
        if self._cells.get(cell.regkey) is cell:
            del self._cells[cell.regkey]
            if not cell.finished:
                self._stopping[cell.regkey] = cell
        if self._recency.get(cell.regkey) is cell:
            del self._recency[cell.regkey]

    def _finished(self, cell: Cell) -> None:
        self._running.discard(cell)
        if self._stopping.get(cell.regkey) is cell:
            del self._stopping[cell.regkey]

    async def _shutdown(self) -> None:
        self._closing = True
        self._sweeper.cancel()
        for cell in list(self._cells.values()):
            cell.close()
        # Wait for every actor task, including those that were already stopping.
        cells = list(self._running)
        with anyio.CancelScope(shield=True):
            with anyio.move_on_after(self.shutdown_timeout) as waited:
                for cell in cells:
                    await cell.wait_done()
            if waited.cancelled_caught:
                _log.warning("shutdown_timed_out", seconds=self.shutdown_timeout)
                # Cancel every actor still running at once (they all live in this task group;
                # this code is shielded): cheaper than a cancel scope kept by each actor.
                self._tg.cancel_scope.cancel()
                for cell in cells:
                    if cell.mailbox.held:
                        # An ask handled in a caller's task, which this cannot cancel: that
                        # task stops the actor when it lets go (Cell.handle_here). What is
                        # queued behind it fails now, as in any other actor stopped here.
                        cell._fail_queued(cell._stopped())
                        continue
                    await cell.wait_done()
            self._workers.close()


async def _run_spawned(cell: Cell, *, task_status: Any = anyio.TASK_STATUS_IGNORED) -> None:
    await cell.run(raise_activation_error=True, task_status=task_status)


def _check_options(
    mailbox_size: int,
    passivate_after: float | None,
    shutdown_timeout: float,
    max_live_actors: int | None = None,
) -> None:
    if max_live_actors is not None and max_live_actors < 1:
        raise ValueError(f"max_live_actors must be at least 1 or None, got {max_live_actors}")
    if mailbox_size < 1:
        raise ValueError(f"mailbox_size must be at least 1, got {mailbox_size}")
    if passivate_after is not None and passivate_after <= 0:
        raise ValueError(f"passivate_after must be positive or None, got {passivate_after}")
    if shutdown_timeout < 0:
        raise ValueError(f"shutdown_timeout must be >= 0, got {shutdown_timeout}")


def _check_actor_type(actor_type: type) -> None:
    if not (
        isinstance(actor_type, type)
        and callable(getattr(actor_type, "create_behavior", None))
        and isinstance(getattr(actor_type, "actor_kind", None), str)
    ):
        raise TypeError(
            f"{actor_type!r} cannot be run as an actor: "
            "pass an Aggregate or Projection subclass (or a class with create_behavior)"
        )


@asynccontextmanager
async def open_runtime(
    store: Any = None,
    *,
    mailbox_size: int = DEFAULT_MAILBOX_SIZE,
    passivate_after: float | None = DEFAULT_PASSIVATE_AFTER,
    shutdown_timeout: float = DEFAULT_SHUTDOWN_TIMEOUT,
    max_live_actors: int | None = None,
) -> AsyncIterator[Runtime]:
    """Open a runtime: one task group that every actor it starts lives in.

    ``store`` (an event store, for aggregates and projections) is opened on entry if it is an
    async context manager, and closed on exit after every actor has stopped. A string is a
    store URL (``"sqlite:///bank.db"``, ``"postgresql://host/db"``, ``"memory://"``; see
    ``stores.store_from_url``); a bad one raises ``ValueError`` before anything starts.
    ``mailbox_size`` bounds each actor's mailbox; ``passivate_after`` is the default idle time
    in seconds before an on-demand actor is passivated (None: never). ``max_live_actors`` caps
    the on-demand actors live at once: activating one more passivates the least recently used
    idle one.

    On exit, actors take no new messages, handle what is already in their mailboxes, and stop;
    after ``shutdown_timeout`` seconds the rest are cancelled (a commit in progress still finishes)
    and their queued asks fail with ``ActorStopped``. Cancelling the enclosing scope stops the
    actors the same way.
    """
    _check_options(mailbox_size, passivate_after, shutdown_timeout, max_live_actors)
    if isinstance(store, str):
        # The one place runtime reaches up to stores (layering: runtime <- stores <- actors):
        # only stores knows how to build a store from a URL. Imported here, when a URL is
        # given, so importing runtime never imports stores (no cycle: stores imports runtime).
        from stores import store_from_url

        store = store_from_url(store)
    error: BaseException | None = None
    async with AsyncExitStack() as stack:
        if store is not None and hasattr(store, "__aenter__"):
            await stack.enter_async_context(store)
        async with anyio.create_task_group() as tg:
            runtime = Runtime(
                tg,
                store,
                mailbox_size=mailbox_size,
                passivate_after=passivate_after,
                shutdown_timeout=shutdown_timeout,
                max_live_actors=max_live_actors,
            )
            try:
                yield runtime
            except BaseException as exc:
                if isinstance(exc, anyio.get_cancelled_exc_class()):
                    raise
                # Re-raised below, outside the task group, so the caller gets its own error
                # (SystemExit and KeyboardInterrupt included) rather than a group around it.
                error = exc
            finally:
                await runtime._shutdown()
    if error is not None:
        raise error

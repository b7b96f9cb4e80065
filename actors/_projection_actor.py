"""The actor behind a projection: follow the log, apply in order, answer queries."""

from __future__ import annotations

import heapq
from itertools import count
from typing import Any, Literal

import anyio

from runtime import ActorContext, Envelope, Runtime, UnhandledMessage
from runtime._logging import chatty, get_logger
from stores import EventStore, RecordedEvent, StoreClosed, StoreError

from ._codec import decode
from ._errors import ProjectionStopped
from ._projection import Projection
from ._recorded import Recorded
from ._status import GetProjectionStatus, ParkedEvent, ProjectionStatus
from ._support import store_of

_log = get_logger("esactors.projection")
# The longest wait between two tries to read the log again after a store error.
_MAX_READ_BACKOFF = 5.0


class ProjectionActor:
    """Runs one projection: a follower task applies the log, the mailbox loop answers queries.

    Both run on one event loop and handlers are plain functions, so a query never sees an event
    half-applied."""

    idle_timeout: float | None = None
    uses_task_group = True  # for the follower task

    def __init__(self, model: Projection, runtime: Runtime, key: str) -> None:
        self.model = model
        self.settings = type(model)
        self.key = key
        self.handlers = type(model).__handlers__
        self.store: EventStore = store_of(runtime, type(model).__name__)
        self.position = type(model).start_after
        self.state: Literal["running", "retrying", "stopped"] = "running"
        self.parked: list[ParkedEvent] = []
        self.error: str | None = None
        self._waiting: list[tuple[int, int, Envelope]] = []
        self._order = count()

    async def started(self, ctx: ActorContext) -> None:
        ctx.task_group.start_soon(self._follow, name=f"esactors:follow:{self.key}")

    async def _follow(self) -> None:
        # A store error while reading (a lost connection) is retried with backoff, from the
        # position reached: nothing is skipped. Only a closed store ends the follower.
        delay = self.settings.retry_backoff
        while True:
            try:
                await self._apply_log()
                return
            except StoreClosed:
                raise
            except StoreError as exc:
                _log.warning(
                    "projection_read_failed",
                    projection=self.key,
                    position=self.position,
                    error=repr(exc),
                    retry_in=delay,
                )
                self.state = "retrying"
                await anyio.sleep(delay)
                delay = min(delay * 2, _MAX_READ_BACKOFF)
                self.state = "running"

    async def _apply_log(self) -> None:
        events = self.handlers.events
        async for batch in self.store.follow(
            after=self.position, batch_size=self.settings.batch_size
        ):
            for record in batch:
                entry = events.get(record.type)
                if entry is not None:
                    try:
                        self._handle(entry, record)
                    except Exception as exc:
                        if not await self._recover(entry, record, exc):
                            self._stop(record, exc)
                            return
                self.position = record.position
            if self._waiting:
                self._release()

    def _handle(self, entry: tuple[Any, Any], record: RecordedEvent) -> None:
        event_type, handler = entry
        handler(self.model, Recorded(decode(record, event_type), record))

    async def _recover(self, entry: tuple[Any, Any], record: RecordedEvent, exc: Exception) -> bool:
        """Retry the event with backoff; then park it (True) or give up (False)."""
        _log.warning(
            "projection_handler_failed",
            projection=self.key,
            position=record.position,
            stream_id=record.stream_id,
            version=record.version,
            type=record.type,
            error=repr(exc),
        )
        delay = self.settings.retry_backoff
        for attempt in range(1, self.settings.retry_limit + 1):
            self.state = "retrying"
            await anyio.sleep(delay)
            delay *= 2
            try:
                self._handle(entry, record)
            except Exception as again:
                exc = again
                _log.warning(
                    "projection_retry_failed",
                    projection=self.key,
                    position=record.position,
                    attempt=attempt,
                    error=repr(exc),
                )
            else:
                self.state = "running"
                return True
        if self.settings.on_failure == "park":
            self.parked.append(
                ParkedEvent(
                    self.key,
                    record.position,
                    record.stream_id,
                    record.version,
                    record.type,
                    repr(exc),
                )
            )
            _log.error(
                "projection_event_parked",
                projection=self.key,
                position=record.position,
                stream_id=record.stream_id,
                version=record.version,
                type=record.type,
                error=repr(exc),
            )
            self.state = "running"
            return True
        self.error = (
            f"its handler failed on position {record.position} ({record.type} of "
            f"{record.stream_id!r} v{record.version}): {exc!r}"
        )
        return False

    def _stop(self, record: RecordedEvent, exc: Exception) -> None:
        self._release()  # queries for positions it did reach are answered, not failed
        self.state = "stopped"
        _log.error(
            "projection_stopped",
            projection=self.key,
            position=self.position,
            failed_position=record.position,
            error=repr(exc),
        )
        error = self._stopped_error()
        for _, _, envelope in self._waiting:
            envelope.fail(error)
        self._waiting.clear()

    def _stopped_error(self) -> ProjectionStopped:
        return ProjectionStopped(
            f"projection {self.key!r} stopped at position {self.position}: {self.error}"
        )

    def _release(self) -> None:
        waiting = self._waiting
        while waiting and waiting[0][0] <= self.position:
            _, _, envelope = heapq.heappop(waiting)
            self._answer(envelope)

    def _answer(self, envelope: Envelope) -> None:
        handler = self.handlers.for_message(envelope.message)
        assert handler is not None
        try:
            envelope.resolve(handler(self.model, envelope.message))
        except Exception as exc:
            envelope.fail(exc)

    def status(self) -> ProjectionStatus:
        """Where this projection is (the reply to ``GetProjectionStatus``)."""
        return ProjectionStatus(self.key, self.state, self.position, tuple(self.parked), self.error)

    async def receive(self, envelope: Envelope) -> None:
        message = envelope.message
        if isinstance(message, GetProjectionStatus):
            envelope.resolve(self.status())
            return
        if self.handlers.for_message(message) is None:
            raise UnhandledMessage(
                f"projection {self.key!r} has no handler for {type(message).__name__}"
            )
        after = envelope.after
        if after is not None and after > self.position:
            if self.state == "stopped":
                raise self._stopped_error()
            waiting = self._waiting
            if len(waiting) >= 64 and len(waiting) & (len(waiting) - 1) == 0:
                # Now and then (at each power of two), drop the asks whose callers gave up
                # (timed out, cancelled), so a position never reached cannot grow the heap.
                waiting[:] = [w for w in waiting if not w[2].abandoned]
                heapq.heapify(waiting)
            heapq.heappush(waiting, (after, next(self._order), envelope))
            if chatty():
                _log.debug("query_waiting", after=after, position=self.position)
            return
        self._answer(envelope)

    async def stopped(self) -> None:
        error = ProjectionStopped(
            f"projection {self.key!r} stopped at position {self.position} before reaching it"
        )
        for _, _, envelope in self._waiting:
            envelope.fail(error)
        self._waiting.clear()

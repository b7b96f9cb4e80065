"""The actor behind a projection: follow the log, apply in order, answer queries."""

from __future__ import annotations

import heapq
from itertools import count
from typing import Any

from runtime import ActorContext, ActorStopped, Envelope, Runtime, UnhandledMessage
from runtime._logging import chatty, get_logger
from stores import EventStore, RecordedEvent

from ._codec import decode
from ._projection import Projection
from ._recorded import Recorded
from ._support import store_of

_log = get_logger("esactors.projection")


class ProjectionFailed(Exception):
    """Internal: an event handler raised; carries the failing event for the log and callers."""


class ProjectionActor:
    """Runs one projection: a follower task applies the log, the mailbox loop answers queries.

    Both run on one event loop and handlers are plain functions, so a query never sees an event
    half-applied."""

    idle_timeout: float | None = None

    def __init__(self, model: Projection, runtime: Runtime, key: str) -> None:
        self.model = model
        self.key = key
        self.handlers = type(model).__handlers__
        self.store: EventStore = store_of(runtime, type(model).__name__)
        self.position = type(model).start_after
        self._waiting: list[tuple[int, int, Envelope]] = []
        self._order = count()
        self._failure: ProjectionFailed | None = None

    async def started(self, ctx: ActorContext) -> None:
        ctx.task_group.start_soon(self._follow, name=f"esactors:follow:{self.key}")

    async def _follow(self) -> None:
        events = self.handlers.events
        model = self.model
        async for batch in self.store.follow(
            after=self.position, batch_size=type(model).batch_size
        ):
            for record in batch:
                entry = events.get(record.type)
                if entry is not None:
                    self._apply(entry, record)
                self.position = record.position
            if self._waiting:
                self._release()
        raise ActorStopped("the store was closed")  # pragma: no cover - follow() raises first

    def _apply(self, entry: tuple[Any, Any], record: RecordedEvent) -> None:
        event_type, handler = entry
        try:
            handler(self.model, Recorded(decode(record, event_type), record))
        except Exception as exc:
            _log.error(
                "projection_handler_failed",
                position=record.position,
                stream_id=record.stream_id,
                version=record.version,
                type=record.type,
                error=repr(exc),
            )
            self._failure = ProjectionFailed(
                f"its handler failed on position {record.position} "
                f"({record.type} of {record.stream_id!r} v{record.version}): {exc!r}"
            )
            raise self._failure from exc

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

    async def receive(self, envelope: Envelope) -> None:
        message = envelope.message
        if self.handlers.for_message(message) is None:
            raise UnhandledMessage(
                f"projection {self.key!r} has no handler for {type(message).__name__}"
            )
        after = envelope.after
        if after is not None and after > self.position:
            heapq.heappush(self._waiting, (after, next(self._order), envelope))
            if chatty():
                _log.debug("query_waiting", after=after, position=self.position)
            return
        self._answer(envelope)

    async def stopped(self) -> None:
        reason = f": {self._failure}" if self._failure is not None else ""
        error = ActorStopped(f"projection {self.key!r} stopped at position {self.position}{reason}")
        for _, _, envelope in self._waiting:
            envelope.fail(error)
        self._waiting.clear()

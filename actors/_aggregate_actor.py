"""The actor behind each live aggregate: replay, then decide -> append -> evolve -> reply."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import anyio

from runtime import ActorContext, Envelope, Runtime, UnhandledMessage
from runtime._logging import chatty, get_logger
from stores import InvalidEvent, RecordedEvent, StreamVersionConflict

from ._aggregate import Aggregate
from ._codec import decode, encode, idempotency_key_of, metadata_of, unknown
from ._errors import Rejected
from ._messages import Command, Event
from ._recorded import Committed, Recorded
from ._support import store_of

_log = get_logger("esactors.aggregate")


class AggregateActor:
    """Runs one aggregate. Its state lives in memory between commands: no replay per command."""

    __slots__ = (
        "cls",
        "handlers",
        "idle_timeout",
        "key",
        "keys",
        "position",
        "rebuild",
        "stale",
        "state",
        "store",
    )

    def __init__(self, cls: type[Aggregate], runtime: Runtime, key: str) -> None:
        self.cls = cls
        self.handlers = cls.__handlers__
        self.key = key
        self.store = store_of(runtime, cls.__name__)
        setting = cls.passivate_after
        self.idle_timeout = runtime.passivate_after if setting == "runtime" else setting
        self.state: Aggregate = cls()
        self.position = 0
        #: Idempotency keys committed in this stream -> (first version, last version).
        self.keys: dict[str, tuple[int, int]] = {}
        #: After an evolve handler failed, the state is not trusted: it is rebuilt from the
        #: store, from scratch, before the next message.
        self.rebuild = False
        #: After an append whose outcome is unknown, the state is right but may lack events
        #: the store has: it catches up before the next message.
        self.stale = False

    async def started(self, ctx: ActorContext) -> None:
        self._reset()
        await self._catch_up()

    def _reset(self) -> None:
        self.state = self.cls()
        self.state._id = self.key
        self.state._version = 0
        self.position = 0
        self.keys = {}

    async def _catch_up(self) -> bool:
        """Apply the stream's events after this copy's version; whether there were any."""
        records = await self.store.read_stream(self.key, from_version=self.state._version + 1)
        events = self.handlers.events
        try:
            for record in records:
                entry = events.get(record.type)
                if entry is None:
                    raise unknown(record, self.cls.__name__)
                self._evolve(entry[1], decode(record, entry[0]), record)
                key = idempotency_key_of(record)
                if key is not None:
                    self._remember_key(key, record.version, record.version)
        except Exception:
            # A handler may have changed the state before it raised: start over next time.
            self.rebuild = True
            raise
        return bool(records)

    def _remember_key(self, key: str, first: int, last: int) -> None:
        seen = self.keys.get(key)
        self.keys[key] = (min(first, seen[0]), max(last, seen[1])) if seen else (first, last)

    def _evolve(self, handler: Any, event: Event, record: RecordedEvent) -> None:
        handler(self.state, event)
        self.state._version = record.version
        self.position = record.position

    async def stopped(self) -> None:
        return None

    def can_run_in_caller(self) -> bool:
        """Whether an ask may be handled in the asking task (the runtime asks only while the
        actor is idle): yes unless the state must first be read again, so that the first
        thing a command awaits is the store taking its events, which then commit even if the
        asker is cancelled."""
        return not (self.stale or self.rebuild)

    async def receive(self, envelope: Envelope) -> None:
        message = envelope.message
        handler = self.handlers.for_message(message)
        if handler is None:
            raise UnhandledMessage(
                f"{self.cls.__name__} {self.key!r} has no handler for {type(message).__name__}"
            )
        # Flags are cleared only once the read succeeded: a failed read leaves them set, so the
        # next message tries again rather than run on a state missing stored events.
        if self.rebuild:
            self._reset()
            await self._catch_up()
            self.rebuild = self.stale = False
        elif self.stale:
            await self._catch_up()
            self.stale = False
        if not isinstance(message, Command):
            envelope.resolve(handler(self.state, message))
            return
        try:
            committed = await self._execute(handler, message)
        except Rejected as exc:
            if chatty():
                _log.info("command_rejected", command=type(message).__name__, reason=str(exc))
            raise
        if chatty() and committed.events:
            _log.debug(
                "events_appended",
                command=type(message).__name__,
                events=len(committed.events),
                version=committed.version,
                position=committed.position,
            )
        envelope.resolve(committed)

    async def _execute(self, handler: Any, command: Command) -> Committed:
        attempt = 0
        key = command.idempotency_key
        while True:
            if key is not None and key in self.keys:
                return await self._committed_before(*self.keys[key])
            try:
                events = self._decide(handler, command)
            except Rejected:
                # Refused on this copy's state: make sure it is not stale (another process may
                # have appended) before saying no. Not stale: the refusal stands.
                attempt += 1
                if attempt > self.cls.max_conflict_retries or not await self._catch_up():
                    raise
                continue
            if not events:
                return Committed(
                    self.key, self.state._version, self.position, (), command.command_id
                )
            metadata = metadata_of(command)
            new = [encode(event, metadata) for event in events]
            # Not shielded, on purpose: a stopping actor's state is rebuilt from the store on
            # its next activation, and an ask handled in the caller's task only awaits the
            # store taking the append, which then commits whatever happens to the caller. The
            # store's own writer is shielded, so no commit is cut half-way. A shielded scope
            # per command cost 30% of this actor's time.
            try:
                records = await self.store.append(self.key, new, self.state._version)
            except StreamVersionConflict:
                # Nothing was stored: another writer got there first.
                attempt += 1
                if attempt > self.cls.max_conflict_retries:
                    raise
                if chatty():
                    _log.debug("version_conflict_retry", attempt=attempt)
                # Back off with jitter: another process hammering the same stream would win
                # every immediate retry by committing between our re-read and our append.
                await anyio.sleep(random.uniform(0, min(0.001 * 2**attempt, 0.1)))
                await self._catch_up()
                continue
            except InvalidEvent:
                raise  # bad input: nothing was stored
            except BaseException:
                # Outcome unknown: the events may be stored. Catch up before the next command.
                self.stale = True
                raise
            return self._commit(events, records, command)

    async def _committed_before(self, first: int, last: int) -> Committed:
        """The reply of the command that committed versions first..last, rebuilt from the store."""
        records = [
            r
            for r in await self.store.read_stream(self.key, from_version=first)
            if r.version <= last
        ]
        events = self.handlers.events
        recorded = []
        for record in records:
            entry = events.get(record.type)
            if entry is None:
                raise unknown(record, self.cls.__name__)
            recorded.append(Recorded(decode(record, entry[0]), record))
        final = records[-1]
        causation = final.metadata.get("causation_id", "")
        if chatty():
            _log.info("command_deduplicated", version=final.version)
        return Committed(self.key, final.version, final.position, tuple(recorded), causation)

    def _decide(self, handler: Any, command: Command) -> Sequence[Event]:
        result = handler(self.state, command)
        if result is None:
            return ()
        events: Sequence[Event] = (result,) if isinstance(result, Event) else result
        known = self.handlers.events
        for event in events:
            if not isinstance(event, Event) or event.type_name not in known:
                raise TypeError(
                    f"{self.cls.__name__}.{handler.__name__} returned {event!r}: a command handler "
                    f"returns Events that {self.cls.__name__} has an @on handler for"
                )
        return events

    def _commit(
        self, events: Sequence[Event], records: list[RecordedEvent], command: Command
    ) -> Committed:
        handlers = self.handlers.events
        try:
            for event, record in zip(events, records, strict=True):
                self._evolve(handlers[event.type_name][1], event, record)
        except Exception as exc:
            # The events are stored; only the in-memory state is wrong. Rebuild it before the
            # next message rather than reply an error for a command that did commit.
            self.rebuild = True
            # Named here, not only by the bound log context: an ask handled in the caller's
            # task binds the actor's context only when the app configured logging.
            _log.error(
                "evolve_failed",
                exc_info=exc,
                actor=self.cls.__name__,
                actor_id=self.key,
                version=records[-1].version,
            )
        last = records[-1]
        if command.idempotency_key is not None:
            self._remember_key(command.idempotency_key, records[0].version, last.version)
        recorded = tuple([Recorded(e, r) for e, r in zip(events, records, strict=True)])
        return Committed(self.key, last.version, last.position, recorded, command.command_id)

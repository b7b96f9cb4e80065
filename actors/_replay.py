"""Replaying stored events into a handler object, outside any actor (tools, tests, rebuilds)."""

from __future__ import annotations

from typing import TypeVar

from stores import EventStore, RecordedEvent

from ._aggregate import Aggregate
from ._codec import decode, unknown
from ._messages import Event
from ._projection import Projection
from ._recorded import Recorded

A = TypeVar("A", bound=Aggregate)


async def load(store: EventStore, aggregate_type: type[A], aggregate_id: str) -> A:
    """The state of one aggregate rebuilt from its stream (no actor is started)."""
    state = aggregate_type()
    state._id = aggregate_id
    state._version = 0
    events = aggregate_type.__handlers__.events
    for record in await store.read_stream(aggregate_id):
        entry = events.get(record.type)
        if entry is None:
            raise unknown(record, aggregate_type.__name__)
        entry[1](state, decode(record, entry[0]))
        state._version = record.version
    return state


async def replay(
    store: EventStore,
    into: Projection,
    *,
    stream_id: str | None = None,
    after: int = 0,
    batch_size: int = 1000,
) -> int:
    """Apply stored events to the projection ``into`` (its ``@on`` event handlers), in order:
    the events of one stream if ``stream_id`` is given, else the global log after ``after``,
    reading only the types it handles. Returns the position of the last event read (or
    ``after``). Events of types without a handler are passed over."""
    handlers = type(into).__handlers__.events
    if stream_id is not None:
        position = after
        for record in await store.read_stream(stream_id):
            entry = handlers.get(record.type)
            if entry is not None and record.position > after:
                entry[1](into, _recorded(record, entry[0]))
                position = record.position
        return position
    if not handlers:
        return after
    position = after
    types = list(handlers)
    # Page after page, not overlapped: reading the next page in a task while this one is
    # decoded measured slower (the reader thread and the decoding fight over the GIL).
    while True:
        batch = await store.read_all(after=position, types=types, limit=batch_size)
        for record in batch:
            entry = handlers[record.type]
            entry[1](into, _recorded(record, entry[0]))
        if len(batch) < batch_size:
            return batch[-1].position if batch else position
        position = batch[-1].position


def _recorded(record: RecordedEvent, event_type: type[Event]) -> Recorded[Event]:
    return Recorded(decode(record, event_type), record)

"""Group commit for the PostgreSQL store: its appends, batched one per stream
(``take_batch``) by the shared ``Group`` runner, and the arrays one call sends."""

from __future__ import annotations

from collections.abc import Sequence

from ._errors import StreamVersionConflict
from ._group import Request
from ._records import NewEvent, RecordedEvent

# One batch's events go to the server as one call; past this many, the rest wait for the next.
MAX_BATCH_EVENTS = 5_000


class Append(Request):
    """One caller's append waiting in the queue."""

    __slots__ = ("events", "expected", "recorded", "stream_id")

    def __init__(self, stream_id: str, events: Sequence[NewEvent], expected: int | None) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.events = events
        self.expected = expected
        self.recorded: list[RecordedEvent] | None = None


def take_batch(queue: list[Append]) -> tuple[list[Append], list[Append]]:
    """The queued appends for one call: at most one per stream (the append function reads
    each stream's version once), in queue order; the rest stay queued, in order."""
    batch: list[Append] = []
    rest: list[Append] = []
    streams: set[str] = set()
    size = 0
    for request in queue:
        if request.stream_id in streams or (batch and size >= MAX_BATCH_EVENTS):
            rest.append(request)
        else:
            streams.add(request.stream_id)
            batch.append(request)
            size += len(request.events)
    return batch, rest


def columns(
    batch: list[Append],
) -> tuple[list[int], list[str], list[str], list[bytes], list[bytes]]:
    """The batch's events as the append function's arrays: for each event, the (1-based)
    index of its append, its id, type name, data and metadata."""
    appends: list[int] = []
    event_ids: list[str] = []
    types: list[str] = []
    data: list[bytes] = []
    metadata: list[bytes] = []
    for index, request in enumerate(batch, 1):
        for event in request.events:
            appends.append(index)
            event_ids.append(event.event_id)
            types.append(event.type)
            data.append(event.data)
            metadata.append(event.metadata)
    return appends, event_ids, types, data, metadata


def record(batch: list[Append], head: int, versions: list[int], at: float) -> list[Append]:
    """Answer each append of a committed batch, given the head position before it and each
    stream's version before it, exactly as the append function numbered the rows: the appends
    that expected the stream's version got their events, in batch order, positions from
    ``head + 1``. The others get a ``StreamVersionConflict``. Returns the accepted ones."""
    accepted: list[Append] = []
    for request, current in zip(batch, versions, strict=True):
        if request.expected is not None and request.expected != current:
            request.error = StreamVersionConflict(request.stream_id, request.expected, current)
            continue
        recorded = []
        for event in request.events:
            current += 1
            head += 1
            recorded.append(
                RecordedEvent(
                    request.stream_id,
                    current,
                    head,
                    event.event_id,
                    event.type,
                    event.data,
                    event.metadata,
                    at,
                    event.payload,
                )
            )
        request.recorded = recorded
        accepted.append(request)
    return accepted

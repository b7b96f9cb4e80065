"""Group commit for the PostgreSQL store: its appends, batched one per stream
(``take_batch``) by the shared ``Group`` runner, and the arrays one call sends."""

from __future__ import annotations

from ._errors import StreamVersionConflict
from ._group import Append

# One batch's events go to the server as one call; past this many, the rest wait for the next.
MAX_BATCH_EVENTS = 5_000


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
        recorded = request.records_after(current, head, at)
        current += len(recorded)
        head += len(recorded)
        request.recorded = recorded
        accepted.append(request)
    return accepted

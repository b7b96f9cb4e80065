"""MemoryEventStore: the reference store, all in memory (tests, prototypes)."""

from __future__ import annotations

import time
from bisect import bisect_right
from collections.abc import Collection, Sequence

from ._base import DEFAULT_MAX_EVENT_BYTES, StoreBase, check_append
from ._errors import StoreClosed, StreamVersionConflict
from ._records import NewEvent, RecordedEvent


class MemoryEventStore(StoreBase):
    """An event store in process memory: fast, and gone when the process ends.

    Closing it keeps its events, so one instance can be reopened (e.g. by a second runtime)."""

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        super().__init__(max_event_bytes=max_event_bytes)
        self._log: list[RecordedEvent] = []
        self._streams: dict[str, list[RecordedEvent]] = {}

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        check_append(stream_id, events, expected_version, self.max_event_bytes)
        if self._closed:
            raise StoreClosed("the store is closed")
        stream = self._streams.get(stream_id)
        current = len(stream) if stream else 0
        if expected_version is not None and expected_version != current:
            raise StreamVersionConflict(stream_id, expected_version, current)
        now = time.time()
        head = len(self._log)
        recorded = [
            RecordedEvent(
                stream_id,
                current + i,
                head + i,
                e.event_id,
                e.type,
                e.data,
                e.metadata,
                now,
                e.payload,
            )
            for i, e in enumerate(events, 1)
        ]
        self._log.extend(recorded)
        self._streams.setdefault(stream_id, []).extend(recorded)
        self._notify()
        return recorded

    async def read_stream(self, stream_id: str, *, from_version: int = 1) -> list[RecordedEvent]:
        stream = self._streams.get(stream_id, [])
        return stream[max(from_version, 1) - 1 :]

    async def read_all(
        self, *, after: int = 0, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[RecordedEvent]:
        if limit <= 0:
            return []
        if types is None:
            return self._log[max(after, 0) : max(after, 0) + limit]
        wanted = frozenset(types)
        found: list[RecordedEvent] = []
        start = bisect_right(self._log, after, key=lambda e: e.position)
        for event in self._log[start:]:
            if event.type in wanted:
                found.append(event)
                if len(found) >= limit:
                    break
        return found

    async def last_position(self) -> int:
        return len(self._log)

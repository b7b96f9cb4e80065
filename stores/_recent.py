"""The last events a store committed, kept in memory for its live followers."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence
from typing import Final

from ._base import StoreBase
from ._records import RecordedEvent

#: How many recently committed events a store keeps in memory for its live followers.
RECENT_SIZE = 20_000

#: One event as held here: RecordedEvent's fields, without the in-process payload. A tuple of
#: strings, numbers and bytes only, which the cyclic GC stops tracking: 20,000 RecordedEvents
#: with their event objects were 60,000 tracked objects that every full collection walked, and
#: each commit promoted more of them into the oldest generation, triggering those collections
#: (bank workload, 1,000 clients: 1.30 s -> 1.09 s of GC per 61,000 commands). Followers decode
#: the JSON (about 2 us an event) instead of reusing the appender's object.
_Held = tuple[str, int, int, str, str, bytes, bytes, float]
_POSITION: Final = 2
_TYPE: Final = 4


class RecentLog:
    """A contiguous run of the most recently committed events (at most ``size``).

    Only a run with no gap is worth anything: a reader served from here must not miss an event
    another writer committed in between, so a commit that does not follow the last one held
    (another process wrote) starts the run afresh."""

    __slots__ = ("_events",)

    def __init__(self, size: int) -> None:
        self._events: deque[_Held] = deque(maxlen=size)

    def add(self, recorded: Sequence[RecordedEvent]) -> None:
        """Remember one append's events (consecutive positions, in order)."""
        if not recorded:
            return
        events = self._events
        if events and events[-1][_POSITION] + 1 != recorded[0].position:
            events.clear()
        events.extend(
            [
                (
                    r.stream_id,
                    r.version,
                    r.position,
                    r.event_id,
                    r.type,
                    r.data,
                    r.metadata_json,
                    r.recorded_at_ts,
                )
                for r in recorded
            ]
        )

    def clear(self) -> None:
        """Forget everything (e.g. after a commit whose outcome is unknown)."""
        self._events.clear()

    def read(self, after: int, types: Collection[str] | None, limit: int) -> list[RecordedEvent]:
        """Events after ``after`` held here, if the run holds ``after + 1``; else []."""
        events = self._events
        if (
            limit <= 0
            or not events
            or not events[0][_POSITION] <= after + 1 <= events[-1][_POSITION]
        ):
            return []
        start = after + 1 - events[0][_POSITION]
        if types is None:
            return [
                RecordedEvent(*events[i]) for i in range(start, min(start + limit, len(events)))
            ]
        wanted = frozenset(types)
        found: list[RecordedEvent] = []
        for i in range(start, len(events)):
            if len(found) >= limit:
                break
            if events[i][_TYPE] in wanted:
                found.append(RecordedEvent(*events[i]))
        return found


class RecentLogStore(StoreBase):
    """A store with a database behind it and the run of its own latest commits in front.

    Subclasses read the database in ``_read_stored`` and ``self._recent.add`` each commit.
    """

    def __init__(self, *, max_event_bytes: int, recent_size: int = RECENT_SIZE) -> None:
        super().__init__(max_event_bytes=max_event_bytes)
        self._recent = RecentLog(recent_size)

    async def _read_stored(
        self, after: int, types: Collection[str] | None, limit: int
    ) -> list[RecordedEvent]:
        raise NotImplementedError

    async def read_all(
        self, *, after: int = 0, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[RecordedEvent]:
        if limit <= 0:
            return []
        found = self._recent.read(after, types, limit)
        if len(found) >= limit:
            return found
        if found:
            # The recent events ran out: the rest of the page (if another process appended
            # since) is in the database, and a short page must mean the end of the log.
            return found + await self._read_stored(found[-1].position, types, limit - len(found))
        return await self._read_stored(after, types, limit)

    async def _read_page(self, after: int, limit: int) -> list[RecordedEvent]:
        # The live path for followers: events just committed here come from memory with no
        # round trip, even a short page; the database is read only when memory has nothing.
        return self._recent.read(after, None, limit) or await self._read_stored(after, None, limit)

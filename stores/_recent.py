"""The last events a store committed, kept in memory for its live followers."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Sequence

from ._records import RecordedEvent


class RecentLog:
    """A contiguous run of the most recently committed events (at most ``size``).

    Only a run with no gap is worth anything: a reader served from here must not miss an event
    another writer committed in between, so a commit that does not follow the last one held
    (another process wrote) starts the run afresh."""

    __slots__ = ("_events",)

    def __init__(self, size: int) -> None:
        self._events: deque[RecordedEvent] = deque(maxlen=size)

    def add(self, recorded: Sequence[RecordedEvent]) -> None:
        """Remember one append's events (consecutive positions, in order)."""
        if not recorded:
            return
        events = self._events
        if events and events[-1].position + 1 != recorded[0].position:
            events.clear()
        events.extend(recorded)

    def clear(self) -> None:
        """Forget everything (e.g. after a commit whose outcome is unknown)."""
        self._events.clear()

    def read(self, after: int, types: Collection[str] | None, limit: int) -> list[RecordedEvent]:
        """Events after ``after`` held here, if the run holds ``after + 1``; else []."""
        events = self._events
        if limit <= 0 or not events or not events[0].position <= after + 1 <= events[-1].position:
            return []
        start = after + 1 - events[0].position
        if types is None:
            return [events[i] for i in range(start, min(start + limit, len(events)))]
        wanted = frozenset(types)
        found: list[RecordedEvent] = []
        for i in range(start, len(events)):
            if len(found) >= limit:
                break
            if events[i].type in wanted:
                found.append(events[i])
        return found

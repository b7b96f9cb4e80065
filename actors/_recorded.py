"""Recorded[E] (an event with where and when it was stored) and Committed (a command's reply)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from stores import RecordedEvent

E = TypeVar("E", covariant=True)


class Recorded(Generic[E]):
    """A stored event: ``data`` is the event, the rest says where and when it was stored."""

    __slots__ = ("_record", "data")

    def __init__(self, data: E, record: RecordedEvent) -> None:
        self.data = data
        self._record = record

    @property
    def stream_id(self) -> str:
        return self._record.stream_id

    @property
    def version(self) -> int:
        """Version within the stream (from 1, no gaps)."""
        return self._record.version

    @property
    def position(self) -> int:
        """Position in the global log (from 1, no gaps, commit order)."""
        return self._record.position

    @property
    def event_id(self) -> str:
        return self._record.event_id

    @property
    def type(self) -> str:
        """The stored type name."""
        return self._record.type

    @property
    def recorded_at(self) -> datetime:
        return self._record.recorded_at

    @property
    def metadata(self) -> dict[str, Any]:
        return self._record.metadata

    @property
    def causation_id(self) -> str | None:
        """The id of the command that produced the event."""
        value: str | None = self.metadata.get("causation_id")
        return value

    @property
    def correlation_id(self) -> str | None:
        """The id shared by every command and event of one flow."""
        value: str | None = self.metadata.get("correlation_id")
        return value

    def __repr__(self) -> str:
        return (
            f"Recorded({self.data!r}, stream_id={self.stream_id!r}, version={self.version}, "
            f"position={self.position})"
        )


class Committed:
    """The reply to a command: its events are durably stored.

    ``position`` is the global position of the last event (or of the last event the aggregate
    had seen, if the command produced none): pass it as ``ask(query, after=...)`` to read your
    own writes from a projection.
    """

    __slots__ = ("command_id", "events", "position", "stream_id", "version")

    def __init__(
        self,
        stream_id: str,
        version: int,
        position: int,
        events: tuple[Recorded[Any], ...],
        command_id: str,
    ) -> None:
        self.stream_id = stream_id
        self.version = version
        self.position = position
        self.events = events
        self.command_id = command_id

    def __repr__(self) -> str:
        return (
            f"Committed(stream_id={self.stream_id!r}, version={self.version}, "
            f"position={self.position}, events={len(self.events)})"
        )

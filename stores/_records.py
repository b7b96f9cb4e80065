"""What goes into a store (NewEvent) and what comes out (RecordedEvent): JSON bytes, no pickle."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ._ids import new_id

_EMPTY_METADATA = b"{}"


class NewEvent:
    """An event about to be appended: its type name and JSON payload.

    ``payload`` optionally keeps the object the JSON was made from; it is never stored. The
    memory store hands it back to its readers, which then skip decoding the JSON; the durable
    stores do not keep it (see ``stores/_recent.py``).
    """

    __slots__ = ("data", "event_id", "metadata", "payload", "type")

    def __init__(
        self,
        type: str,
        data: bytes,
        *,
        metadata: bytes = _EMPTY_METADATA,
        event_id: str | None = None,
        payload: Any = None,
    ) -> None:
        self.type = type
        self.data = data
        self.metadata = metadata
        self.event_id = event_id if event_id is not None else new_id()
        self.payload = payload

    def __repr__(self) -> str:
        return f"NewEvent(type={self.type!r}, data={self.data!r})"


class RecordedEvent:
    """A committed event: where it is in its stream and in the global log, and its JSON."""

    __slots__ = (
        "data",
        "event_id",
        "metadata_json",
        "payload",
        "position",
        "recorded_at_ts",
        "stream_id",
        "type",
        "version",
    )

    def __init__(
        self,
        stream_id: str,
        version: int,
        position: int,
        event_id: str,
        type: str,
        data: bytes,
        metadata_json: bytes,
        recorded_at_ts: float,
        payload: Any = None,
    ) -> None:
        self.stream_id = stream_id
        #: Version within the stream, from 1, no gaps.
        self.version = version
        #: Position in the global log, from 1, no gaps, in commit order.
        self.position = position
        self.event_id = event_id
        self.type = type
        self.data = data
        self.metadata_json = metadata_json
        self.recorded_at_ts = recorded_at_ts
        self.payload = payload

    @property
    def metadata(self) -> dict[str, Any]:
        """The event's metadata (causation_id, correlation_id, ...), decoded on each access."""
        decoded: dict[str, Any] = json.loads(self.metadata_json)
        return decoded

    @property
    def recorded_at(self) -> datetime:
        """When the store committed the event (UTC)."""
        return datetime.fromtimestamp(self.recorded_at_ts, UTC)

    def __repr__(self) -> str:
        return (
            f"RecordedEvent(stream_id={self.stream_id!r}, version={self.version}, "
            f"position={self.position}, type={self.type!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RecordedEvent):
            return NotImplemented
        return (
            self.position == other.position
            and self.stream_id == other.stream_id
            and self.version == other.version
            and self.event_id == other.event_id
            and self.type == other.type
            and self.data == other.data
            and self.metadata_json == other.metadata_json
        )

    __hash__ = None  # type: ignore[assignment]

"""Errors of the event stores (all under ``runtime.EsactorsError``).

::

    StoreError                 the store failed or refused; driver errors are translated to it
    ├── StreamVersionConflict  the stream's version was not the expected one (another writer won)
    ├── EventDecodeError       a stored row could not be turned back into an event
    │   └── UnknownEventType   the row's type name is not one the reader knows
    ├── InvalidEvent           bad input to append (stream id, type name, payload)
    └── StoreClosed            the store is closed
"""

from __future__ import annotations

from runtime import EsactorsError


class StoreError(EsactorsError):
    """The event store failed or refused an operation."""


class StreamVersionConflict(StoreError):
    """An append expected the stream at one version and found another."""

    def __init__(self, stream_id: str, expected: int | None, actual: int) -> None:
        super().__init__(
            f"stream {stream_id!r} is at version {actual}, the append expected {expected}"
        )
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


class EventDecodeError(StoreError):
    """A stored event could not be decoded; the message names its stream, version and type."""

    def __init__(self, message: str, *, stream_id: str, version: int, type: str) -> None:
        super().__init__(f"{message} (stream {stream_id!r}, version {version}, type {type!r})")
        self.stream_id = stream_id
        self.version = version
        self.type = type


class UnknownEventType(EventDecodeError):
    """A stored event's type name is not registered with the reader."""


class InvalidEvent(StoreError, ValueError):
    """An append was given a bad stream id, type name or payload; nothing was stored."""


class StoreClosed(StoreError):
    """The store is closed."""

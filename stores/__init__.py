"""Event stores: the EventStore protocol, its records and errors, and the stores themselves.

``stores.testing`` holds the contract test-suite every store passes.
"""

from ._errors import (
    EventDecodeError,
    InvalidEvent,
    StoreClosed,
    StoreError,
    StreamVersionConflict,
    UnknownEventType,
)
from ._memory import MemoryEventStore
from ._protocol import EventStore
from ._records import NewEvent, RecordedEvent
from ._sqlite import SQLiteEventStore

__all__ = [
    "EventDecodeError",
    "EventStore",
    "InvalidEvent",
    "MemoryEventStore",
    "NewEvent",
    "RecordedEvent",
    "SQLiteEventStore",
    "StoreClosed",
    "StoreError",
    "StreamVersionConflict",
    "UnknownEventType",
]

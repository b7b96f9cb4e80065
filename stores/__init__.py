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
from ._postgres import PostgresEventStore
from ._protocol import EventStore
from ._records import NewEvent, RecordedEvent
from ._sqlite import SQLiteEventStore
from ._url import store_from_url

__all__ = [
    "EventDecodeError",
    "EventStore",
    "InvalidEvent",
    "MemoryEventStore",
    "NewEvent",
    "PostgresEventStore",
    "RecordedEvent",
    "SQLiteEventStore",
    "StoreClosed",
    "StoreError",
    "StreamVersionConflict",
    "UnknownEventType",
    "store_from_url",
]

"""What every store shares: open/close as a context manager, input checks, and ``follow``
built on ``read_all`` plus a wake-up on each local commit."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Collection, Sequence
from functools import lru_cache
from types import TracebackType
from typing import Self

import anyio

from ._errors import InvalidEvent, StoreClosed
from ._records import NewEvent, RecordedEvent

MAX_STREAM_ID_LENGTH = 200
#: Default cap on one event's data plus metadata, in bytes.
DEFAULT_MAX_EVENT_BYTES = 1 << 20
MAX_TYPE_LENGTH = 200
_TYPE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:\-]*")


@lru_cache(maxsize=4096)
def _valid_type_name(name: str) -> bool:
    # Cached: an application has few event types, and a regex per event showed in profiles.
    return len(name) <= MAX_TYPE_LENGTH and _TYPE_NAME.fullmatch(name) is not None


def check_append(
    stream_id: str,
    events: Sequence[NewEvent],
    expected_version: int | None,
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
) -> None:
    """Refuse bad input to ``append`` with an error that names the thing at fault."""
    if not isinstance(stream_id, str) or not stream_id:
        raise InvalidEvent(f"stream id must be a non-empty string, got {stream_id!r}")
    if len(stream_id) > MAX_STREAM_ID_LENGTH:
        raise InvalidEvent(
            f"stream id {stream_id[:40]!r}... is {len(stream_id)} characters, "
            f"the limit is {MAX_STREAM_ID_LENGTH}"
        )
    if not stream_id.isprintable():
        raise InvalidEvent(f"stream id {stream_id!r} has non-printable characters")
    if expected_version is not None and (
        not isinstance(expected_version, int) or expected_version < 0
    ):
        raise InvalidEvent(
            f"expected_version for stream {stream_id!r} must be None or an int >= 0, "
            f"got {expected_version!r}"
        )
    if not events:
        raise InvalidEvent(f"append to stream {stream_id!r} needs at least one event")
    for event in events:
        if not isinstance(event, NewEvent):
            raise InvalidEvent(f"append to stream {stream_id!r} takes NewEvent, got {event!r}")
        if not isinstance(event.data, bytes) or not isinstance(event.metadata, bytes):
            raise InvalidEvent(
                f"event {event.type!r} for stream {stream_id!r}: data and metadata must be "
                f"JSON bytes, got {type(event.data).__name__} and {type(event.metadata).__name__}"
            )
        if b"\x00" in event.data or b"\x00" in event.metadata:
            # Valid JSON escapes NUL; a raw one would be cut off by SQLite's text functions.
            raise InvalidEvent(
                f"event {event.type!r} for stream {stream_id!r}: data and metadata must be JSON "
                "text, and a raw NUL byte is not (JSON writes it as \\u0000)"
            )
        size = len(event.data) + len(event.metadata)
        if size > max_event_bytes:
            raise InvalidEvent(
                f"event {event.type!r} for stream {stream_id!r} is {size:,} bytes, "
                f"over the store's limit of {max_event_bytes:,} (max_event_bytes)"
            )
        if not isinstance(event.event_id, str) or not event.event_id:
            raise InvalidEvent(
                f"event {event.type!r} for stream {stream_id!r}: event_id must be a non-empty "
                f"string, got {event.event_id!r}"
            )
        if not isinstance(event.type, str) or not _valid_type_name(event.type):
            raise InvalidEvent(
                f"event type name {event.type!r} (stream {stream_id!r}) must start with a letter "
                f"or _ and use only letters, digits and _ . : - (at most {MAX_TYPE_LENGTH})"
            )


class StoreBase:
    """Context-manager plumbing, change notification and ``follow`` for the stores here."""

    #: Idle followers re-read the log this often even without a local commit (seconds; None:
    #: only local commits wake them). Stores another process can write to set it.
    poll_interval: float | None = None

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if max_event_bytes < 1:
            raise ValueError(f"max_event_bytes must be positive, got {max_event_bytes}")
        #: Appends of an event larger than this (data + metadata) fail with InvalidEvent.
        self.max_event_bytes = max_event_bytes
        # Made only when a follower waits, so a commit nobody waits for allocates nothing.
        self._changed: anyio.Event | None = None
        self._closed = False

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self) -> None:
        """Open the store (idempotent)."""
        self._closed = False

    async def aclose(self) -> None:
        """Close the store; followers end with ``StoreClosed``."""
        self._closed = True
        self._notify()

    async def read_all(
        self, *, after: int = 0, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[RecordedEvent]:
        raise NotImplementedError

    async def _read_page(self, after: int, limit: int) -> list[RecordedEvent]:
        """The next page for a follower; a store may serve it from memory (may be short)."""
        return await self.read_all(after=after, limit=limit)

    def _notify(self) -> None:
        """Wake every follower: something was committed (or the store closed)."""
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()

    async def follow(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[list[RecordedEvent]]:
        """Batches of the global log after ``after``: what is stored, then each new commit.

        Positions are gapless, so reading from the last position seen can never skip an event,
        however far behind the follower falls. Cancelling the iteration just stops it."""
        wanted = frozenset(types) if types is not None else None
        position = after
        while True:
            if self._closed:
                raise StoreClosed("the store was closed")
            changed = self._changed
            if changed is None:
                changed = self._changed = anyio.Event()
            batch = await self._read_page(position, batch_size)
            if batch:
                position = batch[-1].position
                if wanted is not None:
                    batch = [e for e in batch if e.type in wanted]
                if batch:
                    yield batch
                continue
            if self.poll_interval is None:
                await changed.wait()
            else:
                with anyio.move_on_after(self.poll_interval):
                    await changed.wait()

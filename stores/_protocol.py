"""The EventStore protocol every store implements (and ``stores.testing`` checks)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Sequence
from types import TracebackType
from typing import Protocol, Self, runtime_checkable

from ._records import NewEvent, RecordedEvent


@runtime_checkable
class EventStore(Protocol):
    """An append-only log of events in streams, with one gapless global order.

    Stores are async context managers: entering opens (creating what is missing), leaving
    closes. ``open_runtime(store=...)`` does both for you.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        """Append ``events`` to ``stream_id`` atomically, if the stream is at
        ``expected_version`` (0: the stream must not exist; None: any version).

        Returns the recorded events once they are durably committed. Raises
        ``StreamVersionConflict`` (nothing stored) or ``StoreError``. Cancelling it abandons the
        outcome: the events may or may not have been committed.
        """
        ...

    async def read_stream(self, stream_id: str, *, from_version: int = 1) -> list[RecordedEvent]:
        """The events of ``stream_id`` from ``from_version`` on, in version order ([] if none)."""
        ...

    async def read_all(
        self, *, after: int = 0, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events of the global log with position > ``after``, in position order,
        only of the given type names if ``types`` is given. A page shorter than ``limit`` means
        the end of the log (as committed when it was read); ``limit <= 0`` gives []."""
        ...

    def follow(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[list[RecordedEvent]]:
        """Batches of the global log after ``after``: first what is stored, then each new commit,
        in position order, never skipping one. Runs until cancelled or the store closes."""
        ...

    async def last_position(self) -> int:
        """The position of the last committed event (0 when the log is empty)."""
        ...

    async def aclose(self) -> None:
        """Close the store; followers end."""
        ...

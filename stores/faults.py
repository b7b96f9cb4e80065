"""FaultyStore: wrap any event store and make its next operations fail, stall or lose their
reply, on cue, to test what callers and actors do when the store misbehaves.

::

    store = FaultyStore(MemoryEventStore())
    store.fail_next()                # the next append raises InjectedFault; nothing is stored
    store.lose_reply_next()          # the next append commits, then raises InjectedFault
    store.stall_next(seconds=0.2)    # the next append waits 0.2 s, then goes through
    store.stall_next()               # ... waits until release_stalls() (or is cancelled)
    store.fail_reads_next()          # the next read_stream or read_all raises
    store.fail_follow_next()         # a follower's next page raises instead of arriving
    store.injected["lose_reply"]     # how many faults of each kind were injected so far

Each ``*_next(n)`` schedules ``n`` faults, served in the order they were scheduled; with
``stream_id`` only operations on that stream take them (the others pass through untouched).
With nothing scheduled the wrapper is transparent: it passes the contract suite
(``stores.testing.EventStoreContract``). Not re-exported from ``stores``: it is a test tool.

The injected error is :class:`InjectedFault`, a ``StoreError``, unless ``error=`` gives another.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Literal, NoReturn, Self

import anyio

from ._errors import StoreError
from ._protocol import EventStore
from ._records import NewEvent, RecordedEvent

__all__ = ["FaultKind", "FaultyStore", "InjectedFault"]

#: The kinds of fault a :class:`FaultyStore` injects (the keys of ``FaultyStore.injected``).
FaultKind = Literal["fail", "stall", "lose_reply", "fail_read", "fail_follow"]


class InjectedFault(StoreError):
    """A failure a :class:`FaultyStore` made up. ``kind`` says which: after ``"fail"``,
    ``"fail_read"`` and ``"fail_follow"`` nothing was stored or read; after ``"lose_reply"``
    the append did commit (a caller must not rely on this: the point is that it cannot know)."""

    def __init__(self, kind: FaultKind, stream_id: str | None, message: str) -> None:
        super().__init__(message)
        self.kind: FaultKind = kind
        self.stream_id = stream_id


@dataclass(slots=True, eq=False)
class _Scheduled:
    kind: FaultKind
    remaining: int
    stream_id: str | None
    error: Exception | None = None
    seconds: float | None = None

    def matches(self, stream_id: str | None) -> bool:
        return self.stream_id is None or self.stream_id == stream_id


class FaultyStore:
    """An ``EventStore`` around ``inner`` that injects the faults scheduled on it (see the
    module docstring). Everything else is delegated: the events live in ``inner``.

    Opening and closing the wrapper opens and closes ``inner``, so a closed memory store can
    be reopened through it, e.g. by a second ``open_runtime``."""

    def __init__(self, inner: EventStore) -> None:
        self.inner = inner
        #: How many faults of each kind were injected (a lost reply counts once it committed).
        self.injected: Counter[FaultKind] = Counter()
        #: How many appends were called, faulty or not.
        self.appends = 0
        #: How many appends are stalled right now.
        self.stalled = 0
        self._append_faults: list[_Scheduled] = []
        self._read_faults: list[_Scheduled] = []
        self._follow_faults: list[_Scheduled] = []
        # Made on first use, inside the event loop (an anyio Event needs one).
        self._release: anyio.Event | None = None

    def __repr__(self) -> str:
        return f"FaultyStore({self.inner!r})"

    # -- scheduling ---------------------------------------------------------------------------

    def fail_next(
        self, n: int = 1, *, error: Exception | None = None, stream_id: str | None = None
    ) -> None:
        """The next ``n`` appends raise ``error`` (default :class:`InjectedFault`) before
        anything reaches ``inner``: nothing is stored."""
        self._schedule(self._append_faults, _Scheduled("fail", n, stream_id, error))

    def stall_next(
        self, n: int = 1, *, seconds: float | None = None, stream_id: str | None = None
    ) -> None:
        """The next ``n`` appends wait ``seconds`` (None: until :meth:`release_stalls`), then
        go through to ``inner``. Cancelled while waiting, such an append stores nothing."""
        if seconds is not None and seconds < 0:
            raise ValueError(f"seconds must be >= 0 or None, got {seconds}")
        self._schedule(self._append_faults, _Scheduled("stall", n, stream_id, seconds=seconds))

    def lose_reply_next(self, n: int = 1, *, stream_id: str | None = None) -> None:
        """The next ``n`` appends that commit in ``inner`` raise :class:`InjectedFault`
        afterwards: the events are stored, the caller is told it failed. An append that
        ``inner`` refuses (a version conflict) keeps its error and does not use up the fault."""
        self._schedule(self._append_faults, _Scheduled("lose_reply", n, stream_id))

    def fail_reads_next(
        self, n: int = 1, *, error: Exception | None = None, stream_id: str | None = None
    ) -> None:
        """The next ``n`` calls of ``read_stream`` (of ``stream_id`` if given) or ``read_all``
        (only when ``stream_id`` is None) raise ``error`` (default :class:`InjectedFault`)."""
        self._schedule(self._read_faults, _Scheduled("fail_read", n, stream_id, error))

    def fail_follow_next(self, n: int = 1, *, error: Exception | None = None) -> None:
        """The next ``n`` pages that followers (``follow``) read raise ``error`` (default
        :class:`InjectedFault`) instead of being yielded; that follower's iteration ends."""
        self._schedule(self._follow_faults, _Scheduled("fail_follow", n, None, error))

    def release_stalls(self) -> None:
        """End the stall of every append stalled now; they go through to ``inner``."""
        release, self._release = self._release, None
        if release is not None:
            release.set()

    def pending(self, kind: FaultKind | None = None) -> int:
        """How many faults (of ``kind``, or of any kind) are scheduled and not injected yet."""
        queues = (self._append_faults, self._read_faults, self._follow_faults)
        return sum(
            fault.remaining
            for queue in queues
            for fault in queue
            if kind is None or fault.kind == kind
        )

    def clear(self) -> None:
        """Drop every fault scheduled and not injected yet (stalls in progress go on)."""
        self._append_faults.clear()
        self._read_faults.clear()
        self._follow_faults.clear()

    @staticmethod
    def _schedule(queue: list[_Scheduled], fault: _Scheduled) -> None:
        if fault.remaining < 1:
            raise ValueError(f"n must be at least 1, got {fault.remaining}")
        queue.append(fault)

    @staticmethod
    def _take(queue: list[_Scheduled], stream_id: str | None) -> _Scheduled | None:
        """Use up one fault of the first scheduled entry that applies to ``stream_id``."""
        for index, fault in enumerate(queue):
            if fault.matches(stream_id):
                fault.remaining -= 1
                if not fault.remaining:
                    del queue[index]
                return fault
        return None

    @staticmethod
    def _put_back(queue: list[_Scheduled], fault: _Scheduled) -> None:
        """Return one unused fault, first in line (it was taken but did not happen)."""
        if any(entry is fault for entry in queue):
            fault.remaining += 1
        else:
            queue.insert(0, _Scheduled(fault.kind, 1, fault.stream_id, fault.error, fault.seconds))

    def _raise(self, fault: _Scheduled, stream_id: str | None, message: str) -> NoReturn:
        self.injected[fault.kind] += 1
        if fault.error is not None:
            # One instance may be raised many times: drop the previous raise's traceback.
            raise fault.error.with_traceback(None)
        raise InjectedFault(fault.kind, stream_id, message)

    async def _stall(self, seconds: float | None) -> None:
        release = self._release
        if release is None:
            release = self._release = anyio.Event()
        self.stalled += 1
        try:
            if seconds is None:
                await release.wait()
            else:
                with anyio.move_on_after(seconds):
                    await release.wait()
        finally:
            self.stalled -= 1

    # -- the EventStore protocol ----------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.inner.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.inner.__aexit__(exc_type, exc, tb)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        """``inner.append``, unless a fault is scheduled for it (see the ``*_next`` methods).

        Cancelling it while stalled stores nothing; otherwise as ``inner.append``."""
        self.appends += 1
        fault = self._take(self._append_faults, stream_id)
        if fault is None:
            return await self.inner.append(stream_id, events, expected_version)
        if fault.kind == "fail":
            self._raise(fault, stream_id, f"injected failure of an append to {stream_id!r}")
        if fault.kind == "stall":
            self.injected["stall"] += 1
            await self._stall(fault.seconds)
            return await self.inner.append(stream_id, events, expected_version)
        try:
            await self.inner.append(stream_id, events, expected_version)
        except BaseException:
            self._put_back(self._append_faults, fault)
            raise
        self._raise(
            fault,
            stream_id,
            f"injected loss of the reply to an append to {stream_id!r} (outcome unknown)",
        )

    async def read_stream(self, stream_id: str, *, from_version: int = 1) -> list[RecordedEvent]:
        """``inner.read_stream``, unless a read fault is scheduled for this stream."""
        fault = self._take(self._read_faults, stream_id)
        if fault is not None:
            self._raise(fault, stream_id, f"injected failure of a read of stream {stream_id!r}")
        return await self.inner.read_stream(stream_id, from_version=from_version)

    async def read_all(
        self, *, after: int = 0, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[RecordedEvent]:
        """``inner.read_all``, unless a read fault (without a stream) is scheduled."""
        fault = self._take(self._read_faults, None)
        if fault is not None:
            self._raise(fault, None, f"injected failure of a read of the log after {after}")
        return await self.inner.read_all(after=after, types=types, limit=limit)

    async def follow(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[list[RecordedEvent]]:
        """``inner.follow``; a page meeting a scheduled follow fault raises instead of being
        yielded (the follower never sees it). Cancelling the iteration just stops it."""
        iterator = self.inner.follow(after=after, types=types, batch_size=batch_size)
        try:
            async for batch in iterator:
                self._follow_fault(after)
                yield batch
                after = batch[-1].position
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()

    def _follow_fault(self, after: int) -> None:
        fault = self._take(self._follow_faults, None)
        if fault is not None:
            self._raise(fault, None, f"injected failure of a follower's read after {after}")

    async def last_position(self) -> int:
        """``inner.last_position`` (never faulty)."""
        return await self.inner.last_position()

    async def open(self) -> None:
        """Open ``inner`` again if it can be (``open()``), as entering the wrapper does."""
        opener = getattr(self.inner, "open", None)
        if opener is not None:
            await opener()

    async def aclose(self) -> None:
        """Close ``inner``; its followers end. Stalled appends are released first."""
        self.release_stalls()
        await self.inner.aclose()

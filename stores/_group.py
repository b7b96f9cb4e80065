"""Group execution: concurrent callers' requests run together, one batch at a time.

The store's group commit (and its batched stream reads) use this: whoever submits while no
batch runs becomes the runner and takes every request queued at that moment; when its batch is
done it hands the runner role to the first caller still waiting, so nobody serves others forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import anyio

from ._errors import StoreError
from ._records import NewEvent, RecordedEvent


class Request:
    """One caller's request. ``run_batch`` answers it by setting ``error`` or a result field."""

    __slots__ = ("abandoned", "error", "finished", "lead", "waiter")

    def __init__(self) -> None:
        self.error: BaseException | None = None
        self.finished = False  # the batch holding it is done: error or result is the answer
        self.lead = False  # handed the runner role
        self.abandoned = False  # the caller was cancelled: it will not take the runner role
        self.waiter: asyncio.Future[None] | None = None

    def _wake(self) -> None:
        waiter = self.waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class Append(Request):
    """One caller's append waiting in a store's group-commit queue."""

    __slots__ = ("events", "expected", "recorded", "stream_id")

    def __init__(self, stream_id: str, events: Sequence[NewEvent], expected: int | None) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.events = events
        self.expected = expected
        self.recorded: list[RecordedEvent] | None = None

    def records_after(self, version: int, position: int, at: float) -> list[RecordedEvent]:
        """Its events as recorded after the stream's ``version`` and the log's ``position``."""
        stream = self.stream_id
        return [
            RecordedEvent(
                stream,
                version + i,
                position + i,
                e.event_id,
                e.type,
                e.data,
                e.metadata,
                at,
                e.payload,
            )
            for i, e in enumerate(self.events, 1)
        ]


Q = TypeVar("Q", bound=Request)


def _take_all(queue: list[Q]) -> tuple[list[Q], list[Q]]:
    return queue, []


class Group(Generic[Q]):
    """Runs submitted requests in batches with ``run_batch``, which must answer every request
    of its batch and never raise. ``take`` splits the queue into the next batch and the rest
    (default: everything queued is one batch)."""

    __slots__ = ("_idle", "_queue", "_run_batch", "_running", "_take")

    def __init__(
        self,
        run_batch: Callable[[list[Q]], Awaitable[None]],
        take: Callable[[list[Q]], tuple[list[Q], list[Q]]] = _take_all,
    ) -> None:
        self._run_batch = run_batch
        self._take = take
        self._queue: list[Q] = []
        self._running = False
        # Made only when someone waits for the batch in progress to end (a store closing).
        self._idle: anyio.Event | None = None

    async def submit(self, request: Q) -> None:
        """Queue ``request`` and return once its batch is done (then read its answer).

        Cancelling it abandons the answer; the request may still run. A cancelled caller
        holding the runner role first finishes that batch (shielded), so no one waits forever.
        """
        self._queue.append(request)
        if self._running:
            try:
                # Inline rather than a coroutine of its own: this runs once per append.
                while not (request.finished or request.lead):
                    request.waiter = waiter = asyncio.get_running_loop().create_future()
                    await waiter
            except BaseException:
                request.abandoned = True
                if request.lead:
                    await self._lead()
                raise
            if request.lead:
                await self._lead()
        else:
            self._running = True
            await self._lead()

    async def _lead(self) -> None:
        batch: list[Q] = []
        with anyio.CancelScope(shield=True):
            try:
                while self._queue:
                    batch, self._queue = self._take(self._queue)
                    await self._run_batch(batch)
                    for request in batch:
                        request.finished = True
                        request._wake()
                    successor = next((r for r in self._queue if not r.abandoned), None)
                    if successor is not None:
                        successor.lead = True
                        successor._wake()
                        return
                self._stop()
            except BaseException as exc:
                # run_batch must not raise; if it did anyway, answer everyone rather than
                # leave them waiting for a runner that is gone.
                self._stop()
                stranded, self._queue = [*batch, *self._queue], []
                for request in stranded:
                    if not request.finished:
                        request.error = StoreError(f"the batch runner failed: {exc!r}")
                        request.finished = True
                        request._wake()
                raise

    def _stop(self) -> None:
        self._running = False
        idle, self._idle = self._idle, None
        if idle is not None:
            idle.set()

    async def wait_idle(self) -> None:
        """Wait until no batch runs. Cancelling it only stops the wait."""
        if self._running:
            if self._idle is None:
                self._idle = anyio.Event()
            await self._idle.wait()

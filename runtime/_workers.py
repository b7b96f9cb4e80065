"""The runtime's worker tasks: the tasks that run actors with work to do.

An idle actor has no task (it sleeps in its mailbox). When a message wakes it, a worker runs
it until its mailbox is empty again. Starting an anyio task costs ~29 us on this machine (a
cancel scope and an event per task) against ~4 us to wake a parked worker, and an actor woken
for each burst of messages would pay that every time; so workers are kept, parked, and reused.
Each runs one actor at a time, and a new one starts whenever none is free, so no actor ever
waits for another. Workers beyond ``KEEP`` that a whole ``TRIM_EVERY`` seconds did not need
end (a burst of 1,000 concurrent first messages must not leave 1,000 tasks behind). They all
live in the runtime's task group: cancelling it cancels them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anyio
from anyio.abc import TaskGroup

from ._logging import get_logger

_log = get_logger("esactors.runtime")

Job = Callable[[], Awaitable[None]]

#: Parked workers always kept.
KEEP = 32
#: Seconds a parked worker beyond KEEP may go unneeded before it ends.
TRIM_EVERY = 1.0


class Workers:
    """Runs jobs (an actor's activation, or its drain of the mailbox) on reused tasks."""

    __slots__ = ("_closed", "_idle", "_low", "_tg", "_trimmer", "count")

    def __init__(self, task_group: TaskGroup) -> None:
        self._tg = task_group
        #: Parked workers' futures: each is resolved with the worker's next job, or None to
        #: let it end.
        self._idle: list[asyncio.Future[Job | None]] = []
        self._closed = False
        #: The fewest workers parked at once since the trimmer last looked: that many were not
        #: needed.
        self._low = 0
        # The trimmer's scope, while it runs (only while there are more than KEEP workers).
        self._trimmer: anyio.CancelScope | None = None
        #: Workers alive (running a job or parked).
        self.count = 0

    @property
    def closed(self) -> bool:
        """Whether the runtime has stopped taking jobs (it is ending)."""
        return self._closed

    def run(self, job: Job) -> None:
        """Run ``job`` now on a parked worker, or on a new one if none is free."""
        idle = self._idle
        while idle:
            waiter = idle.pop()
            if not waiter.done():
                waiter.set_result(job)
                if len(idle) < self._low:
                    self._low = len(idle)
                return
        self._low = 0
        self.count += 1  # counted from now: a burst starts many before any runs
        self._tg.start_soon(self._work, job, name="esactors:worker")
        if self.count > KEEP and self._trimmer is None and not self._closed:
            self._trimmer = anyio.CancelScope()
            self._tg.start_soon(self._trim, self._trimmer, name="esactors:worker-trimmer")

    async def _work(self, job: Job | None) -> None:
        try:
            while job is not None:
                try:
                    await job()
                except Exception as exc:
                    # Actors answer their own errors; this is a bug in one of them. Log it
                    # and keep the worker (and the runtime) going.
                    _log.error("actor_job_failed", exc_info=exc)
                job = None  # let the finished job (and what it holds) go before parking
                if self._closed:
                    return
                waiter: asyncio.Future[Job | None] = asyncio.get_running_loop().create_future()
                self._idle.append(waiter)
                try:
                    job = await waiter
                except BaseException:
                    if waiter in self._idle:
                        self._idle.remove(waiter)
                    raise
        finally:
            self.count -= 1

    async def _trim(self, scope: anyio.CancelScope) -> None:
        """While there are more than KEEP workers: every TRIM_EVERY seconds, let go of the
        parked ones beyond KEEP that were not needed meanwhile."""
        try:
            with scope:
                while self.count > KEEP:
                    self._low = len(self._idle)
                    await anyio.sleep(TRIM_EVERY)
                    unneeded = min(self._low, len(self._idle) - KEEP)
                    if unneeded > 0:
                        self._let_go(len(self._idle) - unneeded)
        finally:
            self._trimmer = None

    def _let_go(self, keep: int) -> None:
        idle = self._idle
        while len(idle) > keep:
            waiter = idle.pop(0)  # the longest parked first
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        """Let every parked worker end, and each busy one once its job is done."""
        self._closed = True
        if self._trimmer is not None:
            self._trimmer.cancel()
        self._let_go(0)

"""The runtime's worker tasks: the tasks that run actors with work to do.

An idle actor has no task (it sleeps in its mailbox). When a message wakes it, a worker runs
it until its mailbox is empty again. Starting an anyio task costs ~29 us on this machine (a
cancel scope and an event per task) against ~4 us to wake a parked worker, and an actor woken
for each burst of messages would pay that every time; so workers are kept, parked, and reused.
Each runs one actor at a time, and a new one starts whenever none is free, so no actor ever
waits for another. They all live in the runtime's task group: cancelling it cancels them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from anyio.abc import TaskGroup

from ._logging import get_logger

_log = get_logger("esactors.runtime")

Job = Callable[[], Awaitable[None]]


class Workers:
    """Runs jobs (an actor's activation, or its drain of the mailbox) on reused tasks."""

    __slots__ = ("_closed", "_idle", "_tg", "count")

    def __init__(self, task_group: TaskGroup) -> None:
        self._tg = task_group
        #: Parked workers' futures: each is resolved with the worker's next job, or None to
        #: let it end.
        self._idle: list[asyncio.Future[Job | None]] = []
        self._closed = False
        #: Workers alive (running a job or parked).
        self.count = 0

    def run(self, job: Job) -> None:
        """Run ``job`` now on a parked worker, or on a new one if none is free."""
        idle = self._idle
        while idle:
            waiter = idle.pop()
            if not waiter.done():
                waiter.set_result(job)
                return
        self._tg.start_soon(self._work, job, name="esactors:worker")

    async def _work(self, job: Job | None) -> None:
        self.count += 1
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

    def trim(self, keep: int) -> None:
        """Let parked workers beyond ``keep`` end (after a burst, they are not needed)."""
        idle = self._idle
        while len(idle) > keep:
            waiter = idle.pop(0)
            if not waiter.done():
                waiter.set_result(None)

    def close(self) -> None:
        """Let every parked worker end, and each busy one once its job is done."""
        self._closed = True
        self.trim(0)

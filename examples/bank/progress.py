"""A one-line progress bar, redrawn in place with ``\\r``: no dependency for a demo's needs."""

from __future__ import annotations

import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

import anyio

WIDTH = 30
#: Seconds between redraws: often enough to look live, rarely enough to cost nothing.
INTERVAL = 0.1


class Meter:
    """Counts work done toward ``total``; ``tick`` is what the workers call."""

    __slots__ = ("done", "label", "started", "total")

    def __init__(self, label: str, total: int) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.started = time.perf_counter()

    def tick(self) -> None:
        """One more unit done."""
        self.done += 1

    def line(self) -> str:
        """The bar as text, e.g. ``commands [#####.....]  50%  1,000/2,000  8,012/s``."""
        fraction = self.done / self.total if self.total else 1.0
        filled = round(WIDTH * fraction)
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        return (
            f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {fraction:4.0%} "
            f"{self.done:,}/{self.total:,} {rate:,.0f}/s"
        )


@asynccontextmanager
async def progress(
    label: str, total: int, *, quiet: bool = False, stream: TextIO | None = None
) -> AsyncIterator[Meter]:
    """Show a :class:`Meter` on ``stream`` (default stderr) while the block runs.

    On a terminal the line is redrawn every ``INTERVAL`` seconds; elsewhere (a pipe, a log)
    only the final line is written, since ``\\r`` redraws would pile up there. ``quiet`` writes
    nothing. Cancelling the block stops the redraws and still writes the final line.
    """
    out = stream if stream is not None else sys.stderr
    meter = Meter(label, total)
    live = not quiet and out.isatty()
    try:
        if not live:
            yield meter
            return
        async with anyio.create_task_group() as tg:
            tg.start_soon(_redraw, meter, out)
            try:
                yield meter
            finally:
                tg.cancel_scope.cancel()
    finally:
        if not quiet:
            # The spaces wipe what a longer earlier line left behind.
            out.write(f"\r{meter.line()}   \n" if live else f"{meter.line()}\n")
            out.flush()


async def _redraw(meter: Meter, out: TextIO) -> None:
    while True:
        out.write(f"\r{meter.line()}")
        out.flush()
        await anyio.sleep(INTERVAL)

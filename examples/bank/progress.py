"""A one-line progress bar, redrawn in place with ``\\r``: no dependency for a demo's needs."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

WIDTH = 30
#: Seconds between redraws: often enough to look live, rarely enough to cost nothing.
INTERVAL = 0.1


class Meter:
    """Counts work done toward ``total`` and, when ``live``, redraws its line as it goes.

    Redraws happen inside ``tick`` (at most every ``INTERVAL`` seconds) rather than in a task
    of their own: the bar only moves when work is done anyway, and there is no task to cancel.
    """

    __slots__ = ("done", "label", "live", "next_draw", "out", "started", "total")

    def __init__(self, label: str, total: int, out: TextIO, *, live: bool) -> None:
        self.label = label
        self.total = total
        self.out = out
        self.live = live
        self.done = 0
        self.started = time.perf_counter()
        # The first draw waits a little: a rate measured over one tick means nothing.
        self.next_draw = self.started + INTERVAL

    def tick(self) -> None:
        """One more unit done."""
        self.done += 1
        if self.live and time.perf_counter() >= self.next_draw:
            self.next_draw = time.perf_counter() + INTERVAL
            self.out.write(f"\r{self.line()}")
            self.out.flush()

    def line(self) -> str:
        """The bar as text, e.g. ``commands [#####.....]  50% 1,000/2,000 8,012/s``."""
        fraction = self.done / self.total if self.total else 1.0
        filled = round(WIDTH * fraction)
        elapsed = time.perf_counter() - self.started
        rate = self.done / elapsed if elapsed > 0 else 0.0
        return (
            f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {fraction:4.0%} "
            f"{self.done:,}/{self.total:,} {rate:,.0f}/s"
        )


@contextmanager
def progress(
    label: str, total: int, *, quiet: bool = False, stream: TextIO | None = None
) -> Iterator[Meter]:
    """A :class:`Meter` shown on ``stream`` (default stderr) while the block runs.

    On a terminal the line is redrawn in place; elsewhere (a pipe, a log) only the final line
    is written, since ``\\r`` redraws would pile up there. ``quiet`` writes nothing. The final
    line is written however the block ends, so an interrupted run shows how far it got.
    """
    out = stream if stream is not None else sys.stderr
    live = not quiet and out.isatty()
    meter = Meter(label, total, out, live=live)
    try:
        yield meter
    finally:
        if not quiet:
            # The trailing spaces wipe what a longer earlier line left behind.
            out.write(f"\r{meter.line()}   \n" if live else f"{meter.line()}\n")
            out.flush()

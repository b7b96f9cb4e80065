"""Side-by-side performance runs (``make bench``): esactors, the eventsourcing library and the
raw sqlite3 ceiling on one bank workload, then esactors and the library on PostgreSQL, and
several esactors nodes on one PostgreSQL schema; each part in a process of its own.

``python -m benchmarks --help`` lists the flags; ``benchmarks.cli.main`` is the entry point.
"""

from __future__ import annotations

from .cli import main

__all__ = ["main"]

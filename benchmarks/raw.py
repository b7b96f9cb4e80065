"""The raw ceiling: stdlib sqlite3 inserting esactors' rows into esactors' table, no framework.

The table is made by ``SQLiteEventStore`` itself (so its schema and indexes cannot drift from
the store's), the rows have the store's columns and sizes, and the file is in WAL mode with
``synchronous=FULL``. Rows are built before the clock starts: this is what the database and
its fsync allow, the bound any framework on it works under.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from time import perf_counter, time
from typing import Any

import anyio

from actors import Event
from stores import SQLiteEventStore

from .domain import AccountOpened, Deposited, Withdrawn
from .settings import Settings
from .workload import account_id, schedule

_INSERT = (
    "INSERT INTO events (stream_id, version, position, event_id, type, data, metadata, "
    "recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Rows per transaction for the group-commit ceiling.
BATCH = 1_000
#: Rows for the one-commit-per-row figure: it is fsync-bound, so a few thousand say it all.
SINGLE_ROWS = 2_000


def rows(settings: Settings) -> list[tuple[Any, ...]]:
    """One row per event of the workload (an opening per account, then one per command), as
    ``SQLiteEventStore`` writes them: uuid event ids, JSON data and causation metadata."""
    steps = schedule(settings.accounts, settings.commands, settings.seed)
    events: list[tuple[int, Event]] = [
        (account, AccountOpened()) for account in range(settings.accounts)
    ]
    for step in steps:
        amount = step.amount
        events.append(
            (step.account, Withdrawn(amount=amount) if step.withdraw else Deposited(amount=amount))
        )
    versions = [0] * settings.accounts
    now = time()
    built: list[tuple[Any, ...]] = []
    for position, (account, event) in enumerate(events, 1):
        versions[account] += 1
        command_id = str(uuid.uuid4())
        metadata = json.dumps(
            {"causation_id": command_id, "correlation_id": command_id}, separators=(",", ":")
        ).encode()
        built.append(
            (
                account_id(account),
                versions[account],
                position,
                str(uuid.uuid4()),
                event.type_name,
                event.__pydantic_serializer__.to_json(event),
                metadata,
                now,
            )
        )
    return built


async def _create(path: Path) -> None:
    async with SQLiteEventStore(path):
        pass


def _connect(path: Path) -> sqlite3.Connection:
    anyio.run(_create, path)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _chunks(items: Sequence[tuple[Any, ...]], size: int) -> Iterator[Sequence[tuple[Any, ...]]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def insert_rate(path: Path, batch: Sequence[tuple[Any, ...]], per_transaction: int) -> float:
    """Rows/s inserting ``batch`` into a new file, ``per_transaction`` rows per commit."""
    conn = _connect(path)
    try:
        start = perf_counter()
        for chunk in _chunks(batch, per_transaction):
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(_INSERT, chunk)
            conn.execute("COMMIT")
        seconds = perf_counter() - start
        (stored,) = conn.execute("SELECT COUNT(*) FROM events").fetchone()
    finally:
        conn.close()
    if stored != len(batch):
        raise AssertionError(f"raw: {stored} rows stored, {len(batch)} inserted")
    return len(batch) / seconds


def measure(settings: Settings, directory: Path) -> dict[str, float]:
    """Run the raw ceilings once on new files in ``directory``; their figures."""
    built = rows(settings)
    return {
        "executemany_rows_per_s": insert_rate(directory / "raw-batched.db", built, BATCH),
        "commit_per_row_rows_per_s": insert_rate(
            directory / "raw-single.db", built[:SINGLE_ROWS], 1
        ),
    }

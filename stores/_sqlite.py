"""SQLiteEventStore: one embedded file, WAL, group commit, gapless global positions."""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Collection, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal

import aiosqlite
import anyio

from runtime._logging import chatty, get_logger

from ._base import DEFAULT_MAX_EVENT_BYTES, check_append
from ._errors import StoreClosed, StoreError
from ._group import Append, Group, Request
from ._recent import RecentLogStore
from ._records import NewEvent, RecordedEvent
from ._sqlite_batch import KnownVersions, Plan, out_of_date, take_batch

_log = get_logger("esactors.stores.sqlite")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY,
    stream_id   TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    event_id    TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    data        BLOB    NOT NULL,
    metadata    BLOB    NOT NULL,
    recorded_at REAL    NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS events_by_type ON events (type, position);
"""
_COLUMNS = "stream_id, version, position, event_id, type, data, metadata, recorded_at"
_INSERT_JSON = """
INSERT INTO events (stream_id, version, position, event_id, type, data, metadata, recorded_at)
SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4,
       CAST(value ->> 5 AS BLOB), CAST(value ->> 6 AS BLOB), value ->> 7
FROM json_each(?)
"""
# The same, as a statement of its own (autocommit), which inserts nothing unless the log's
# head is still the one the writer remembers: see KnownVersions.
_INSERT_IF_HEAD = _INSERT_JSON + "WHERE (SELECT COALESCE(MAX(position), 0) FROM events) = ?\n"
_READ_STREAM = (
    f"SELECT {_COLUMNS} FROM events WHERE stream_id = ? AND version >= ? ORDER BY version"
)
# Many streams in one round trip. No ORDER BY: SQLite would sort every row in a temporary
# B-tree (60 -> 48 ms for 1,000 streams of 21 events); the plan walks each stream's index in
# version order anyway, and _read_streams checks that rather than trust it.
_READ_STREAMS = f"""
SELECT {", ".join("e." + c for c in _COLUMNS.split(", "))} FROM json_each(?) AS r
JOIN events AS e ON e.stream_id = r.value ->> 0 AND e.version >= r.value ->> 1
"""
_VERSIONS_JSON = """
SELECT (SELECT COALESCE(MAX(position), 0) FROM events),
       (SELECT json_group_array(json_array(stream_id, version)) FROM (
            SELECT stream_id, MAX(version) AS version FROM events
            WHERE stream_id IN (SELECT value FROM json_each(?)) GROUP BY stream_id))
"""


def _version(record: RecordedEvent) -> int:
    return record.version


class _StreamRead(Request):
    """One caller's read_stream, batched with the others waiting (e.g. many activations)."""

    __slots__ = ("from_version", "records", "stream_id")

    def __init__(self, stream_id: str, from_version: int) -> None:
        super().__init__()
        self.stream_id = stream_id
        self.from_version = from_version
        self.records: list[RecordedEvent] = []


class SQLiteEventStore(RecentLogStore):
    """An event store in one SQLite file (created on first use), in WAL mode.

    Appends from all callers are group-committed: whoever appends while no commit is running
    becomes the writer, takes every append queued at that moment, checks each expected version
    and commits them in one transaction, then hands the writer role to the next waiting caller.
    Each caller is answered only after the transaction holding its events committed.

    ``durability="full"`` (default) fsyncs every commit (``synchronous=FULL``); ``"normal"``
    may lose the last commits on power loss, never on a process crash. ``poll_interval`` is how
    often idle followers look for events appended by other processes. ``max_event_bytes``
    caps one event's data plus metadata (1 MiB by default).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: Literal["full", "normal"] = "full",
        poll_interval: float = 0.2,
        busy_timeout: float = 10.0,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        super().__init__(max_event_bytes=max_event_bytes)
        if durability not in ("full", "normal"):
            raise ValueError(f"durability must be 'full' or 'normal', got {durability!r}")
        self.path = Path(path)
        self.durability = durability
        self.poll_interval = poll_interval
        self._busy_ms = int(busy_timeout * 1000)
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._appends: Group[Append] = Group(self._commit, take_batch)
        self._known = KnownVersions()
        self._stream_reads: Group[_StreamRead] = Group(self._read_streams)
        self._open_lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"SQLiteEventStore({str(self.path)!r})"

    async def open(self) -> None:
        """Open (creating the file and schema if missing). Raises ``StoreError`` naming the path
        if it cannot be opened or written."""
        async with self._open_lock:
            if self._writer is not None:
                return
            try:
                if not self.path.exists():
                    # Created owner-only before SQLite opens it: events may be personal data.
                    os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
                writer = await self._connect()
                try:
                    await writer.execute("PRAGMA journal_mode=WAL")
                    sync = "FULL" if self.durability == "full" else "NORMAL"
                    await writer.execute(f"PRAGMA synchronous={sync}")
                    await writer.executescript(_SCHEMA)
                    reader = await self._connect()
                except BaseException:
                    await writer.close()
                    raise
            except (OSError, sqlite3.Error) as exc:
                raise StoreError(f"cannot open event store at {str(self.path)!r}: {exc}") from exc
            self._writer, self._reader = writer, reader
            self._known.forget()  # the file may have changed while closed
            self._closed = False
            if chatty():
                _log.debug("store_opened", path=str(self.path))

    async def _connect(self) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        await conn.execute(f"PRAGMA busy_timeout={self._busy_ms}")
        return conn

    async def aclose(self) -> None:
        """Close both connections (after any commit in progress); followers end."""
        await super().aclose()  # refuses new appends and ends followers
        with anyio.CancelScope(shield=True):
            # Let a commit in progress finish and answer its callers.
            with anyio.move_on_after(self._busy_ms / 1000 + 5):
                await self._appends.wait_idle()
            writer, reader = self._writer, self._reader
            self._writer = self._reader = None
            for conn in (writer, reader):
                if conn is not None:
                    await conn.close()

    async def _connection(self, which: str) -> aiosqlite.Connection:
        if self._closed:
            raise StoreClosed(f"{self!r} is closed")
        if self._writer is None:
            await self.open()
        conn = self._writer if which == "writer" else self._reader
        assert conn is not None
        return conn

    # -- appends: group commit -------------------------------------------------------------

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        check_append(stream_id, events, expected_version, self.max_event_bytes)
        if self._writer is None or self._closed:  # checked here: a coroutine call per append
            await self._connection("writer")
        request = Append(stream_id, events, expected_version)
        await self._appends.submit(request)
        if request.error is not None:
            raise request.error
        assert request.recorded is not None
        return request.recorded

    async def _commit(self, batch: list[Append]) -> None:
        writer = self._writer
        if writer is None:
            closed = StoreClosed(f"{self!r} was closed")
            for request in batch:
                request.error = closed
            return
        now = time.time()
        if await self._commit_fast(writer, batch, now):
            return
        for request in batch:
            request.error = None  # planned again below, on versions read afresh
        known = self._known
        try:
            await writer.execute("BEGIN IMMEDIATE")
            try:
                versions, head = await self._versions_and_head(writer, batch)
                if head != known.head:
                    known.forget()  # someone else wrote: nothing remembered is sure
                plan = Plan(batch, versions, head, now)
                if plan.rows:
                    await writer.execute(_INSERT_JSON, (self._json(plan),))
                await writer.execute("COMMIT")
            except BaseException:
                with anyio.CancelScope(shield=True):
                    await writer.execute("ROLLBACK")
                raise
        except Exception as exc:
            self._fail(batch, exc)
            return
        known.learn(plan.versions, plan.head)
        self._answer(plan)

    async def _commit_fast(
        self, writer: aiosqlite.Connection, batch: list[Append], now: float
    ) -> bool:
        """Commit the batch in one statement on the remembered versions; whether it did (and
        answered every caller). False: nothing was stored, the batch must go the slow way."""
        known = self._known
        versions = known.for_batch(batch)
        if versions is None or known.head is None:
            return False
        plan = Plan(batch, versions, known.head, now)
        if not plan.rows:
            # Only refusals: they stand only if nobody else wrote, which the slow way checks.
            return False
        try:
            # One statement, one parameter: SQLite parses the batch and inserts every row in
            # C. executemany binds row by row, taking the GIL for each, and stalls behind a
            # busy event loop (measured: 3.7 ms idle, 2.4 s busy per 500 rows). One statement
            # is also one thread hop: BEGIN, a versions query, INSERT and COMMIT are four, each
            # waiting for the GIL behind the busy event loop.
            cursor = await writer.execute(_INSERT_IF_HEAD, (self._json(plan), known.head))
        except sqlite3.Error as exc:
            if not out_of_date(exc):
                self._fail(batch, exc)
                return True
            inserted = 0
        except Exception as exc:
            self._fail(batch, exc)
            return True
        else:
            inserted = cursor.rowcount
        if inserted == len(plan.rows):
            known.learn(plan.versions, plan.head)
            self._answer(plan)
            return True
        if inserted != 0:  # an all-or-nothing statement did neither: trust nothing
            self._fail(batch, StoreError(f"inserted {inserted} of {len(plan.rows)} rows"))
            return True
        known.forget()  # another process wrote since this writer's last commit
        return False

    @staticmethod
    def _json(plan: Plan) -> str:
        return "[" + ",".join(plan.rows) + "]"

    def _answer(self, plan: Plan) -> None:
        if not plan.accepted:
            return
        for request, recorded in plan.accepted:
            request.recorded = recorded
            self._recent.add(recorded)
        self._notify()
        if chatty():
            _log.debug("batch_committed", appends=len(plan.accepted))

    def _fail(self, batch: list[Append], exc: Exception) -> None:
        """Answer every caller of a batch whose outcome is unknown (sqlite3.Error; aiosqlite's
        ValueError once the connection was closed under us): none may hang."""
        self._known.forget()
        for request in batch:
            # One instance per caller: a shared one would collect every caller's traceback.
            error = (
                StoreClosed(f"{self!r} was closed during the append")
                if self._closed
                else StoreError(f"append to {self!r} failed: {exc}")
            )
            error.__cause__ = exc
            request.recorded = None
            request.error = error
        _log.warning("append_failed", path=str(self.path), error=str(exc), appends=len(batch))

    async def _versions_and_head(
        self, writer: aiosqlite.Connection, batch: list[Append]
    ) -> tuple[dict[str, int], int]:
        streams = json.dumps(list({r.stream_id for r in batch}))
        # One row back, not one per stream: each fetched row costs a GIL hand-off.
        [(head, found)] = await writer.execute_fetchall(_VERSIONS_JSON, (streams,))
        versions: dict[str, int] = dict(json.loads(found)) if found else {}
        return versions, head

    # -- reads -----------------------------------------------------------------------------

    async def read_stream(self, stream_id: str, *, from_version: int = 1) -> list[RecordedEvent]:
        await self._connection("reader")
        request = _StreamRead(stream_id, from_version)
        await self._stream_reads.submit(request)
        if request.error is not None:
            raise request.error
        return request.records

    async def _read_streams(self, batch: list[_StreamRead]) -> None:
        """Read every stream of the batch in one query: activations that arrive together share
        one round trip, as appends share one commit."""
        try:
            reader = await self._connection("reader")
            if len(batch) == 1:
                [request] = batch
                rows = await self._fetch(
                    reader, _READ_STREAM, (request.stream_id, request.from_version)
                )
                request.records = [RecordedEvent(*row) for row in rows]
                return
            lowest: dict[str, int] = {}
            for r in batch:
                lowest[r.stream_id] = min(r.from_version, lowest.get(r.stream_id, r.from_version))
            wanted = json.dumps(list(lowest.items()))
            rows = await self._fetch(reader, _READ_STREAMS, (wanted,))
        except Exception as exc:
            error = (
                exc
                if isinstance(exc, StoreError)
                else StoreError(f"read from {self!r} failed: {exc}")
            )
            for request in batch:
                request.error = error
            return
        by_stream: dict[str, list[RecordedEvent]] = {}
        for row in rows:
            by_stream.setdefault(row[0], []).append(RecordedEvent(*row))
        for records in by_stream.values():
            if any(a.version >= b.version for a, b in pairwise(records)):
                records.sort(key=_version)
        for request in batch:
            records = by_stream.get(request.stream_id, [])
            request.records = [r for r in records if r.version >= request.from_version]

    async def _read_stored(
        self, after: int, types: Collection[str] | None, limit: int
    ) -> list[RecordedEvent]:
        reader = await self._connection("reader")
        if types is None:
            rows = await self._fetch(
                reader,
                f"SELECT {_COLUMNS} FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (after, limit),
            )
        else:
            names = list(types)
            if not names:
                return []
            # One type: its (type, position) index yields rows in position order. Several: the
            # index would gather every match after `after` and sort them for each page
            # (quadratic over a rebuild), so walk the log in position order instead.
            if len(names) == 1:
                where = "events WHERE type = ? AND position > ?"
                params: tuple[Any, ...] = (names[0], after, limit)
            else:
                marks = ",".join("?" * len(names))
                where = f"events NOT INDEXED WHERE type IN ({marks}) AND position > ?"
                params = (*names, after, limit)
            rows = await self._fetch(
                reader, f"SELECT {_COLUMNS} FROM {where} ORDER BY position LIMIT ?", params
            )
        return [RecordedEvent(*row) for row in rows]

    async def last_position(self) -> int:
        reader = await self._connection("reader")
        rows = await self._fetch(reader, "SELECT COALESCE(MAX(position), 0) FROM events", ())
        return int(rows[0][0])

    async def _fetch(
        self, conn: aiosqlite.Connection, sql: str, params: Sequence[Any]
    ) -> list[Any]:
        try:
            return list(await conn.execute_fetchall(sql, params))
        except sqlite3.Error as exc:
            raise StoreError(f"read from {self!r} failed: {exc}") from exc
        except ValueError as exc:  # aiosqlite: "no active connection" after close
            raise StoreClosed(f"{self!r} is closed") from exc

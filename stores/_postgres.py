"""PostgresEventStore: one table on a PostgreSQL server, shared by any number of processes,
group commit, and gapless global positions in commit order."""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import anyio

from runtime._logging import chatty, get_logger

from ._base import DEFAULT_MAX_EVENT_BYTES, check_append
from ._errors import InvalidEvent, StoreClosed, StoreError
from ._group import Append, Group
from ._postgres_batch import columns, record, take_batch
from ._postgres_sql import MAX_SCHEMA_LENGTH, MAX_TABLE_LENGTH, Statements, check_identifier
from ._recent import RecentLogStore
from ._records import NewEvent, RecordedEvent

if TYPE_CHECKING:
    import asyncpg

_log = get_logger("esactors.stores.postgres")

# How many recently committed events stay in memory for live followers (no read round trip).
# A lost LISTEN connection is tried again at most this often (followers poll meanwhile).
_RELISTEN_EVERY = 5.0


def _driver() -> ModuleType:
    try:
        import asyncpg
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            "PostgresEventStore needs the asyncpg driver: pip install 'esactors[postgres]'"
        ) from exc
    return asyncpg


def describe_dsn(dsn: str) -> str:
    """``host:port/database`` of a PostgreSQL URL, without user or password (for messages)."""
    try:
        parts = urlsplit(dsn)
        host = parts.hostname or "localhost"
        port = parts.port or 5432
    except ValueError:
        return "an unparsable PostgreSQL URL"
    database = parts.path.lstrip("/") or "(default database)"
    return f"{host}:{port}/{database}"


def _check_text(stream_id: str, event_id: str) -> None:
    # PostgreSQL text holds neither NUL nor lone surrogates; refused here, such an event id
    # would otherwise fail the whole group commit it landed in.
    if "\x00" in event_id or (not event_id.isascii() and not _encodable(event_id)):
        raise InvalidEvent(
            f"event id {event_id!r} for stream {stream_id!r} must be text PostgreSQL can store "
            "(no NUL character, valid UTF-8)"
        )


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


class PostgresEventStore(RecentLogStore):
    """An event store in one table of a PostgreSQL database (created on first use), which any
    number of processes on any number of machines may share.

    ``dsn`` is a ``postgresql://user:password@host:port/database`` URL. The events live in
    ``schema.table`` (default ``public.events``). Appends from this process are group-committed:
    whoever appends while no commit runs becomes the writer, takes every append queued at that
    moment and sends them in one call, which checks each expected version and commits them in
    one transaction (conflicting appends fail, the others commit). Positions are assigned under
    a lock held until commit, so the global log is gapless and in commit order across processes.

    Followers wake on local commits and on other processes' commits (LISTEN/NOTIFY), and also
    re-read the log every ``poll_interval`` seconds. ``pool_size`` caps the read connections;
    one more connection writes and one listens. Opening gives up after ``connect_timeout``
    seconds; a statement after ``command_timeout`` (raising ``TimeoutError``); an append waiting
    for other processes' commits after ``lock_timeout`` (raising ``StoreError``). An event
    over ``max_event_bytes`` (data + metadata) is refused with ``InvalidEvent``.
    """

    def __init__(
        self,
        dsn: str,
        *,
        schema: str = "public",
        table: str = "events",
        poll_interval: float = 1.0,
        pool_size: int = 4,
        connect_timeout: float = 5.0,
        command_timeout: float | None = 30.0,
        lock_timeout: float = 10.0,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        super().__init__(max_event_bytes=max_event_bytes)
        if not isinstance(dsn, str) or urlsplit(dsn).scheme not in ("postgresql", "postgres"):
            raise ValueError(f"dsn must be a postgresql://... URL, got {dsn!r}")
        if pool_size < 1:
            raise ValueError(f"pool_size must be at least 1, got {pool_size}")
        self._pg = _driver()
        self.dsn = dsn
        self.schema = check_identifier("schema", schema, MAX_SCHEMA_LENGTH)
        self.table = check_identifier("table", table, MAX_TABLE_LENGTH)
        self.poll_interval = poll_interval
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.lock_timeout = lock_timeout
        self._sql = Statements(schema, table)
        self._where = describe_dsn(dsn)
        self._driver_errors: tuple[type[BaseException], ...] = (
            self._pg.PostgresError,
            self._pg.InterfaceError,
            # What asyncpg raises when the server drops a connection mid-conversation.
            self._pg.InternalClientError,
            OSError,
        )
        self._failures = (*self._driver_errors, TimeoutError)
        self._writer: asyncpg.Connection | None = None
        self._writer_pid = 0
        self._pool: asyncpg.Pool | None = None
        self._listener: asyncpg.Connection | None = None
        self._relisten_at = 0.0
        self._appends: Group[Append] = Group(self._commit, take=take_batch)
        self._open_lock = anyio.Lock()

    def __repr__(self) -> str:
        return f"PostgresEventStore({self._where!r}, table={self.schema}.{self.table})"

    # -- opening and closing ---------------------------------------------------------------

    async def open(self) -> None:
        """Connect, and create the schema, table and append function if missing. Raises
        ``StoreError`` naming the server if it cannot be reached within ``connect_timeout``
        or refuses."""
        async with self._open_lock:
            if self._pool is not None:
                return
            writer = pool = None
            try:
                with anyio.fail_after(self.connect_timeout * 3):
                    writer = await self._connect(lock_timeout=self.lock_timeout)
                    if not await writer.fetchval(self._sql.exists):
                        async with writer.transaction():
                            await writer.execute(self._sql.create)
                    pool = await self._pg.create_pool(
                        self.dsn,
                        min_size=1,
                        max_size=self.pool_size,
                        timeout=self.connect_timeout,
                        command_timeout=self.command_timeout,
                        server_settings={"application_name": "esactors"},
                    )
            except BaseException as exc:
                if writer is not None:
                    writer.terminate()
                if pool is not None:
                    pool.terminate()
                if isinstance(exc, self._failures):
                    raise StoreError(
                        f"cannot open event store {self.schema}.{self.table} on PostgreSQL at "
                        f"{self._where}: {type(exc).__name__}: {exc or 'timed out'}"
                    ) from exc
                raise
            self._writer, self._pool = writer, pool
            self._writer_pid = writer.get_server_pid()
            self._closed = False
            await self._listen()
            if chatty():
                _log.debug("store_opened", server=self._where, table=self._sql.table)

    async def _connect(self, **settings: float) -> asyncpg.Connection:
        server_settings = {"application_name": "esactors"}
        for name, seconds in settings.items():
            server_settings[name] = f"{int(seconds * 1000)}ms"
        connection: asyncpg.Connection = await self._pg.connect(
            self.dsn,
            timeout=self.connect_timeout,
            command_timeout=self.command_timeout,
            server_settings=server_settings,
        )
        return connection

    async def _listen(self) -> None:
        """LISTEN on a connection of its own; without it, followers still poll."""
        self._relisten_at = time.monotonic() + _RELISTEN_EVERY
        listener = None
        try:
            with anyio.fail_after(self.connect_timeout):
                listener = await self._connect()
                await listener.add_listener(self._sql.channel, self._on_notification)
        except BaseException as exc:
            if listener is not None:
                listener.terminate()
            if isinstance(exc, self._failures):
                _log.warning("listen_failed", server=self._where, error=str(exc))
                return
            raise
        if self._closed:  # closed while connecting
            listener.terminate()
            return
        listener.add_termination_listener(self._on_listener_lost)
        self._listener = listener

    def _on_notification(self, connection: Any, pid: int, channel: str, payload: object) -> None:
        # Our own commits woke our followers already, with no round trip.
        if pid != self._writer_pid:
            self._notify()

    def _on_listener_lost(self, connection: Any) -> None:
        if self._listener is connection:
            self._listener = None
            _log.warning("listen_lost", server=self._where)

    async def aclose(self) -> None:
        """Close the connections (after any commit in progress); followers end."""
        writer, pool, listener = self._writer, self._pool, self._listener
        self._writer = self._pool = self._listener = None
        await super().aclose()
        with anyio.CancelScope(shield=True):
            # Let a commit in progress finish and answer its callers; the queue fails after it.
            with anyio.move_on_after(self.command_timeout or 30.0):
                await self._appends.wait_idle()
            for connection in (listener, writer):
                if connection is not None:
                    await self._close(connection)
            if pool is not None:
                with anyio.move_on_after(1.0) as waited:
                    await pool.close()
                if waited.cancelled_caught:
                    pool.terminate()

    @staticmethod
    async def _close(connection: asyncpg.Connection) -> None:
        try:
            await connection.close(timeout=1.0)
        except Exception:
            connection.terminate()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosed(f"{self!r} is closed")

    async def _ensure_open(self) -> None:
        self._check_open()
        if self._pool is None:
            await self.open()

    async def _writer_connection(self) -> asyncpg.Connection:
        """The writing connection, made anew if the last one was lost."""
        if self._writer is None or self._writer.is_closed():
            self._writer = await self._connect(lock_timeout=self.lock_timeout)
            self._writer_pid = self._writer.get_server_pid()
        return self._writer

    # -- appends: group commit -------------------------------------------------------------

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        check_append(stream_id, events, expected_version, self.max_event_bytes)
        for event in events:
            _check_text(stream_id, event.event_id)
        await self._ensure_open()
        request = Append(stream_id, events, expected_version)
        await self._appends.submit(request)
        if request.error is not None:
            raise request.error
        assert request.recorded is not None
        return request.recorded

    async def _commit(self, batch: list[Append]) -> None:
        if self._closed:
            closed = StoreClosed(f"{self!r} was closed")
            for request in batch:
                request.error = closed
            return
        writer = None
        try:
            writer = await self._writer_connection()
            row = await writer.fetchrow(
                self._sql.append,
                self._sql.lock_key,
                self._sql.channel,
                [r.stream_id for r in batch],
                [r.expected for r in batch],
                *columns(batch),
            )
        except self._failures as exc:
            self._commit_failed(batch, writer, exc)
            return
        assert row is not None
        for request in record(batch, row[0], row[1], row[2]):
            assert request.recorded is not None
            self._recent.add(request.recorded)
        self._notify()
        if chatty():
            _log.debug("batch_committed", appends=len(batch))

    def _commit_failed(
        self, batch: list[Append], writer: asyncpg.Connection | None, exc: BaseException
    ) -> None:
        # Every caller of the batch gets an answer: none may hang. A timeout or a lost
        # connection leaves the outcome unknown (the batch may have committed), so memory of
        # recent commits is dropped and the next batch gets a fresh connection.
        error: StoreError | TimeoutError
        if self._closed:
            error = StoreClosed(f"{self!r} was closed during the append")
        elif isinstance(exc, TimeoutError):
            error = TimeoutError(
                f"append to {self!r} timed out (connect_timeout {self.connect_timeout} s, "
                f"command_timeout {self.command_timeout} s); it may or may not have committed"
            )
        elif isinstance(exc, self._pg.LockNotAvailableError):
            error = StoreError(
                f"append to {self!r} waited over {self.lock_timeout} s for other writers: {exc}"
            )
        else:
            error = StoreError(f"append to {self!r} failed: {type(exc).__name__}: {exc}")
        error.__cause__ = exc
        for request in batch:
            request.error = error
        self._recent.clear()
        if writer is not None and (
            writer.is_closed() or not isinstance(exc, self._pg.PostgresError)
        ):
            writer.terminate()
            if self._writer is writer:
                self._writer = None  # the next batch connects again
        _log.warning("append_failed", server=self._where, error=str(exc), appends=len(batch))

    # -- reads -----------------------------------------------------------------------------

    async def read_stream(self, stream_id: str, *, from_version: int = 1) -> list[RecordedEvent]:
        rows = await self._fetch(self._sql.read_stream, stream_id, from_version)
        return [RecordedEvent(*row) for row in rows]

    async def _read_page(self, after: int, limit: int) -> list[RecordedEvent]:
        # A follower's next page is also the moment to re-make a lost LISTEN connection.
        if (
            self._listener is None
            and self._pool is not None
            and not self._closed
            and time.monotonic() >= self._relisten_at
        ):
            await self._listen()
        return await super()._read_page(after, limit)

    async def _read_stored(
        self, after: int, types: Collection[str] | None, limit: int
    ) -> list[RecordedEvent]:
        if types is None:
            rows = await self._fetch(self._sql.read_all, after, limit)
        else:
            names = list(types)
            if not names:
                return []
            rows = await self._fetch(self._sql.read_all_types, after, limit, names)
        return [RecordedEvent(*row) for row in rows]

    async def last_position(self) -> int:
        rows = await self._fetch(self._sql.last_position)
        return int(rows[0][0])

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        await self._ensure_open()
        pool = self._pool
        if pool is None:
            raise StoreClosed(f"{self!r} is closed")
        try:
            return list(await pool.fetch(sql, *args))
        except self._driver_errors as exc:
            if self._closed:
                raise StoreClosed(f"{self!r} was closed during the read") from exc
            raise StoreError(f"read from {self!r} failed: {type(exc).__name__}: {exc}") from exc

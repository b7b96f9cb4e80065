"""The PostgreSQL server of the benchmark's PostgreSQL part: where it is, whether it answers,
how durable its commits are, and a fresh schema for every part (dropped after it).

The server is ``ESACTORS_PG_DSN`` (default: the local one, as for the tests and the cluster
demo), a ``postgresql://user:password@host:port/database`` URL without a query string.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import unquote, urlsplit
from uuid import uuid4

from stores._postgres import describe_dsn

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"
#: Every schema the benchmark makes starts with this.
SCHEMA_PREFIX = "esactors_bench_"

T = TypeVar("T")


def dsn() -> str:
    """The server's URL: ``ESACTORS_PG_DSN``, or the local default."""
    return os.environ.get("ESACTORS_PG_DSN", DEFAULT_DSN)


def new_schema() -> str:
    """A schema name no other run uses."""
    return f"{SCHEMA_PREFIX}{uuid4().hex[:16]}"


def run_sync(function: Callable[..., Awaitable[T]], *args: object) -> T:
    """Run an async function to completion from synchronous code, in a thread of its own (so
    that it works whether or not the caller is inside an event loop already)."""

    async def call() -> T:
        return await function(*args)

    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, call()).result()


async def execute(url: str, *statements: str) -> None:
    """Run ``statements`` on a connection of their own."""
    import asyncpg

    connection = await asyncpg.connect(url, timeout=5)
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


async def create_schema(url: str, schema: str) -> None:
    """Create the empty schema ``schema``."""
    await execute(url, f'CREATE SCHEMA "{schema}"')


async def drop_schema(url: str, schema: str) -> None:
    """Drop ``schema`` and everything in it (if it exists)."""
    await execute(url, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@dataclass(frozen=True)
class Server:
    """What the table's header says about the server."""

    where: str
    version: str
    fsync: str
    synchronous_commit: str

    def describe(self) -> str:
        """One line for the header."""
        return (
            f"PostgreSQL {self.version} at {self.where}, fsync={self.fsync}, "
            f"synchronous_commit={self.synchronous_commit}"
        )


async def _probe(url: str) -> Server:
    import asyncpg

    connection = await asyncpg.connect(url, timeout=3)
    try:
        version = await connection.fetchval("SHOW server_version")
        fsync = await connection.fetchval("SHOW fsync")
        synchronous_commit = await connection.fetchval("SHOW synchronous_commit")
    finally:
        await connection.close()
    return Server(describe_dsn(url), str(version).split()[0], str(fsync), str(synchronous_commit))


def probe(url: str) -> Server | str:
    """The server at ``url``, or why it cannot be used (a plain sentence)."""
    try:
        import asyncpg
    except ModuleNotFoundError:
        return "the asyncpg driver is not installed (pip install -e '.[dev]')"
    try:
        return run_sync(_probe, url)
    except (OSError, TimeoutError, ValueError, asyncpg.PostgresError, asyncpg.InterfaceError) as e:
        return f"PostgreSQL at {describe_dsn(url)} is not reachable ({type(e).__name__}: {e})"


def eventsourcing_env(url: str, schema: str) -> dict[str, str]:
    """The eventsourcing library's settings for its PostgreSQL mode on the server at ``url``,
    with its tables in ``schema`` (which must exist: the library creates tables, not schemas).
    It requires every one of these but the port, the password too (empty for trust auth)."""
    parts = urlsplit(url)
    user = unquote(parts.username or "postgres")
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or user,
        "POSTGRES_HOST": parts.hostname or "localhost",
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": user,
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_SCHEMA": schema,
    }

"""The PostgreSQL server the tests use, and a fresh schema per test.

The server is ``ESACTORS_PG_DSN`` (default: the local one). When it cannot be reached, tests
that need it are skipped on a developer's machine, and fail when ``CI`` is set to a true value:
CI starts the server (``.ci/run``), so its absence there is a broken build, not a skip.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from uuid import uuid4

import pytest

from stores._postgres import describe_dsn

DEFAULT_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    """Whether the ``CI`` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes", "on")


@cache
def _unreachable(dsn: str) -> str | None:
    """Why ``dsn`` cannot be used (None: it can). Asked once per test run."""
    import asyncpg

    async def check() -> None:
        connection = await asyncpg.connect(dsn, timeout=3)
        await connection.close()

    try:
        # In a thread of its own: the caller may be running in an event loop already.
        with ThreadPoolExecutor(1) as thread:
            thread.submit(asyncio.run, check()).result()
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def postgres_dsn() -> str:
    """The server's URL; skips the test (fails it under CI) if the server is unreachable."""
    dsn = os.environ.get("ESACTORS_PG_DSN", DEFAULT_DSN)
    problem = _unreachable(dsn)
    if problem is not None:
        message = f"PostgreSQL at {describe_dsn(dsn)} is not reachable ({problem})"
        if in_ci():
            pytest.fail(f"{message}; CI must start it (.ci/run)", pytrace=False)
        pytest.skip(f"{message}; set ESACTORS_PG_DSN to run these tests")
    return dsn


def new_schema_name() -> str:
    """A schema name no other test uses."""
    return f"esactors_test_{uuid4().hex[:16]}"


async def drop_schema(dsn: str, schema: str) -> None:
    """Drop ``schema`` and everything in it (if it exists)."""
    import asyncpg

    connection = await asyncpg.connect(dsn, timeout=5)
    try:
        await connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await connection.close()


async def fresh_schema(dsn: str) -> AsyncIterator[str]:
    """A fixture body: yields an unused schema name, dropped after the test."""
    schema = new_schema_name()
    try:
        yield schema
    finally:
        await drop_schema(dsn, schema)

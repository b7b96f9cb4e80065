"""Where the demo keeps its events: a ``--db`` path (SQLite) or a ``--store`` URL."""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import anyio

from stores import EventStore, PostgresEventStore, SQLiteEventStore, store_from_url


def is_url(where: str | os.PathLike[str]) -> bool:
    """Whether ``where`` is a store URL rather than a SQLite file path."""
    return isinstance(where, str) and "://" in where


def store_for(where: str | os.PathLike[str]) -> EventStore:
    """A store (not opened) for a store URL, or for a SQLite file path."""
    if isinstance(where, str) and "://" in where:
        return store_from_url(where)
    return SQLiteEventStore(where)


def describe(where: str | os.PathLike[str]) -> str:
    """``where`` for printing: a URL loses its password."""
    if not is_url(where):
        return str(where)
    parts = urlsplit(str(where))
    if parts.password is None:
        return str(where)
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def erase(where: str | os.PathLike[str]) -> None:
    """Delete the demo's events at ``where``: the SQLite file, or the PostgreSQL schema (which
    must not be ``public``: the demo keeps its table in a schema of its own)."""
    store = store_for(where)
    if isinstance(store, SQLiteEventStore):
        for suffix in ("", "-wal", "-shm"):
            await anyio.Path(f"{store.path}{suffix}").unlink(missing_ok=True)
    elif isinstance(store, PostgresEventStore):
        if store.schema == "public":
            raise ValueError(
                f"refusing to erase the public schema of {describe(where)}: give the demo a "
                "schema of its own, e.g. ?schema=bank_demo"
            )
        import asyncpg

        connection = await asyncpg.connect(store.dsn, timeout=store.connect_timeout)
        try:
            await connection.execute(f'DROP SCHEMA IF EXISTS "{store.schema}" CASCADE')
        finally:
            await connection.close()

"""open_runtime(store="url"): the store is built from the URL (the one place runtime imports
stores, lazily)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from runtime import open_runtime
from stores import MemoryEventStore, NewEvent, PostgresEventStore, SQLiteEventStore
from tests.postgres import fresh_schema, postgres_dsn

pytestmark = pytest.mark.anyio


async def test_a_memory_url_gives_the_runtime_a_memory_store() -> None:
    async with open_runtime(store="memory://") as rt:
        assert isinstance(rt.store, MemoryEventStore)
        await rt.store.append("s", [NewEvent("Happened", b"{}")], 0)


async def test_a_sqlite_url_opens_the_file_and_closes_it_on_exit(tmp_path: Path) -> None:
    async with open_runtime(store=f"sqlite:///{tmp_path}/events.db") as rt:
        assert isinstance(rt.store, SQLiteEventStore)
        assert rt.store.path == tmp_path / "events.db"
        await rt.store.append("s", [NewEvent("Happened", b"{}")], 0)
    async with SQLiteEventStore(tmp_path / "events.db") as again:
        assert [e.version for e in await again.read_stream("s")] == [1]


@pytest.fixture
def dsn() -> str:
    return postgres_dsn()


@pytest.fixture
async def schema(dsn: str) -> AsyncIterator[str]:
    async for name in fresh_schema(dsn):
        yield name


async def test_a_postgres_url_opens_a_postgres_store(dsn: str, schema: str) -> None:
    separator = "&" if "?" in dsn else "?"
    async with open_runtime(store=f"{dsn}{separator}schema={schema}") as rt:
        assert isinstance(rt.store, PostgresEventStore)
        assert rt.store.schema == schema
        [recorded] = await rt.store.append("s", [NewEvent("Happened", b"{}")], 0)
    assert recorded.position == 1


async def test_a_bad_url_is_a_value_error_before_anything_starts() -> None:
    with pytest.raises(ValueError, match="'mysql://db'"):
        async with open_runtime(store="mysql://db"):
            pytest.fail("the runtime started")


def test_importing_runtime_does_not_import_stores() -> None:
    code = "import sys, runtime; sys.exit('stores' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0

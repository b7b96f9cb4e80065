from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from stores import (
    MemoryEventStore,
    NewEvent,
    PostgresEventStore,
    SQLiteEventStore,
    store_from_url,
)
from tests.postgres import fresh_schema, postgres_dsn


def test_memory_url_gives_a_memory_store() -> None:
    assert isinstance(store_from_url("memory://"), MemoryEventStore)


def test_sqlite_url_with_three_slashes_is_a_relative_path() -> None:
    store = store_from_url("sqlite:///data/bank.db")
    assert isinstance(store, SQLiteEventStore)
    assert store.path == Path("data/bank.db")
    assert not store.path.is_absolute()


def test_sqlite_url_with_four_slashes_is_an_absolute_path(tmp_path: Path) -> None:
    store = store_from_url(f"sqlite:///{tmp_path}/bank.db")
    assert isinstance(store, SQLiteEventStore)
    assert store.path == tmp_path / "bank.db"
    assert store.path.is_absolute()


def test_sqlite_url_options_come_from_the_query_string_and_keywords() -> None:
    store = store_from_url("sqlite:///bank.db?durability=normal&poll_interval=0.5")
    assert isinstance(store, SQLiteEventStore)
    assert (store.durability, store.poll_interval) == ("normal", 0.5)
    store = store_from_url("sqlite:///bank.db?poll_interval=0.5", poll_interval=2.0)
    assert isinstance(store, SQLiteEventStore)
    assert store.poll_interval == 2.0


def test_postgres_urls_give_a_postgres_store_with_the_query_options_taken_out() -> None:
    for scheme in ("postgresql", "postgres"):
        store = store_from_url(
            f"{scheme}://me:pw@db.example:6543/bank?schema=cluster&sslmode=disable&pool_size=2"
        )
        assert isinstance(store, PostgresEventStore)
        assert (store.schema, store.table, store.pool_size) == ("cluster", "events", 2)
        assert store.dsn == f"{scheme}://me:pw@db.example:6543/bank?sslmode=disable"


@pytest.mark.parametrize(
    "url",
    [
        "mysql://localhost/bank",
        "bank.db",
        "",
        "sqlite://bank.db",
        "sqlite:///",
        "sqlite:///bank.db?journal=off",
        "sqlite:///bank.db?poll_interval=often",
        "memory://somewhere",
        "postgresql://localhost/bank?pool_size=many",
    ],
)
def test_a_bad_url_is_a_value_error_naming_it(url: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(url))):
        store_from_url(url)


@pytest.mark.anyio
async def test_a_sqlite_url_store_opens_and_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with store_from_url("sqlite:///relative.db") as store:
        await store.append("s", [NewEvent("Happened", b"{}")], 0)
    assert (tmp_path / "relative.db").exists()


@pytest.fixture
def dsn() -> str:
    return postgres_dsn()


@pytest.fixture
async def schema(dsn: str) -> AsyncIterator[str]:
    async for name in fresh_schema(dsn):
        yield name


@pytest.mark.anyio
async def test_a_postgres_url_store_opens_and_stores_in_its_schema(dsn: str, schema: str) -> None:
    separator = "&" if "?" in dsn else "?"
    async with store_from_url(f"{dsn}{separator}schema={schema}") as store:
        [recorded] = await store.append("s", [NewEvent("Happened", b"{}")], 0)
    async with PostgresEventStore(dsn, schema=schema) as again:
        assert await again.read_all() == [recorded]

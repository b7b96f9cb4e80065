"""An event over the store's size limit is refused, naming the stream, and nothing is stored."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from stores import EventStore, InvalidEvent, MemoryEventStore, NewEvent, SQLiteEventStore

pytestmark = pytest.mark.anyio

Factory = Callable[[Path, int], EventStore]
FACTORIES: dict[str, Factory] = {
    "memory": lambda _, limit: MemoryEventStore(max_event_bytes=limit),
    "sqlite": lambda path, limit: SQLiteEventStore(path / "events.db", max_event_bytes=limit),
}


@pytest.fixture(params=sorted(FACTORIES))
async def small_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[EventStore]:
    async with FACTORIES[request.param](tmp_path, 100) as store:
        yield store


async def test_an_event_over_the_limit_is_refused_and_nothing_is_stored(
    small_store: EventStore,
) -> None:
    fits = NewEvent("Small", b'{"x":1}')
    huge = NewEvent("Huge", b'{"x":"' + b"a" * 200 + b'"}')
    with pytest.raises(InvalidEvent, match=r"'Huge' for stream 's' is 2\d\d bytes"):
        await small_store.append("s", [fits, huge], 0)
    assert await small_store.last_position() == 0
    assert len(await small_store.append("s", [fits], 0)) == 1


def test_a_limit_below_one_byte_is_refused() -> None:
    with pytest.raises(ValueError, match="max_event_bytes"):
        MemoryEventStore(max_event_bytes=0)


async def test_a_raw_nul_byte_is_refused_since_json_never_has_one(small_store: EventStore) -> None:
    with pytest.raises(InvalidEvent, match="NUL"):
        await small_store.append("s", [NewEvent("Odd", b'{"a":"x\x00y"}')], 0)
    assert await small_store.last_position() == 0

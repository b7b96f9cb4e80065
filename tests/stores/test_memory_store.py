from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from stores import EventStore, MemoryEventStore, NewEvent
from stores.testing import EventStoreContract, Reopen


class TestMemoryEventStore(EventStoreContract):
    @pytest.fixture
    async def store(self) -> AsyncIterator[EventStore]:
        async with MemoryEventStore() as store:
            yield store

    @pytest.fixture
    def reopen(self, store: EventStore) -> Reopen:
        # One object is all the storage there is: "another" store is that object, reopened if
        # the test closed it, and left open for the store fixture to close.
        assert isinstance(store, MemoryEventStore)
        memory = store

        @asynccontextmanager
        async def same_store() -> AsyncIterator[EventStore]:
            await memory.open()
            yield memory

        return same_store


@pytest.mark.anyio
async def test_events_survive_closing_the_store_object() -> None:
    store = MemoryEventStore()
    async with store:
        await store.append("s", [NewEvent("Happened", b"{}")], 0)
    async with store:
        assert [e.version for e in await store.read_stream("s")] == [1]

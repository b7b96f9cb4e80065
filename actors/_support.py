"""Small glue shared by the aggregate and projection actors."""

from __future__ import annotations

from runtime import Runtime
from stores import EventStore


def store_of(runtime: Runtime, kind: str) -> EventStore:
    """The runtime's event store, or a clear error if it was opened without one."""
    store = runtime.store
    if not isinstance(store, EventStore):
        raise TypeError(
            f"a {kind} needs an event store: open the runtime with open_runtime(store=...), "
            f"got store={store!r}"
        )
    return store

"""Small glue shared by the aggregate and projection actors."""

from __future__ import annotations

from runtime import Runtime
from stores import EventStore


def store_of(runtime: Runtime, kind: str) -> EventStore:
    """The runtime's event store, or a clear error if it was opened without one."""
    store = runtime.store
    # The protocol's isinstance check walks every member (about 35 us, on each activation):
    # two attributes tell a store from a missing one just as clearly.
    if not (hasattr(store, "append") and hasattr(store, "read_stream")):
        raise TypeError(
            f"a {kind} needs an event store: open the runtime with open_runtime(store=...), "
            f"got store={store!r}"
        )
    return store  # type: ignore[no-any-return]

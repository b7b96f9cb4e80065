"""Memory per live idle aggregate: RSS before and after activating many, in a process of its own."""

from __future__ import annotations

import gc
import os
import resource
import sys

from runtime import Runtime, open_runtime
from stores import MemoryEventStore, NewEvent

from .domain import Account, AccountOpened, GetBalance
from .esactors_side import ask_each
from .workload import account_id

#: Aggregates activated at a time: enough to keep the loop busy, few enough that the transient
#: tasks and envelopes of one wave stay small next to what the live aggregates hold.
_WAVE = 1_000


def rss_bytes() -> int:
    """This process's resident set size now (Linux), else its peak so far."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


async def _activate(rt: Runtime, ids: list[str]) -> None:
    # The refs go out of scope here: a caller holding refs is not part of an aggregate's cost.
    await ask_each([rt.get(Account, i) for i in ids], GetBalance, len(ids))


async def measure(count: int) -> dict[str, float]:
    """Activate ``count`` opened accounts with passivation off; RSS growth per live aggregate.

    Their events are stored before the first reading, so only what the live aggregates hold
    (actor, mailbox, task, state) is counted, not the store."""
    store = MemoryEventStore()
    opened = AccountOpened()
    data = opened.__pydantic_serializer__.to_json(opened)
    ids = [account_id(i) for i in range(count)]
    for stream_id in ids:
        await store.append(stream_id, [NewEvent(AccountOpened.type_name, data)], 0)
    async with open_runtime(store=store, passivate_after=None) as rt:
        gc.collect()
        before = rss_bytes()
        for start in range(0, count, _WAVE):
            await _activate(rt, ids[start : start + _WAVE])
        gc.collect()
        after = rss_bytes()
        if rt.live_actors != count:
            raise AssertionError(f"{rt.live_actors} aggregates live, expected {count}")
    return {"idle_bytes_per_aggregate": (after - before) / count}

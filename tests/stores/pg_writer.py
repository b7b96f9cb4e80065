"""A writer process for the PostgreSQL ordering test (test_postgres_ordering.py).

``python -m tests.stores.pg_writer DSN SCHEMA WRITER APPENDS SEED``: opens the store, prints
``ready``, waits for a line on stdin, then makes ``APPENDS`` appends of 1-4 events to random
streams from 8 concurrent tasks (half of them expecting the version they last saw, retrying
on a conflict) and prints one JSON line: ``[[event_id, stream_id, version, position], ...]``
for every event it committed.
"""

from __future__ import annotations

import json
import random
import sys

import anyio

from stores import NewEvent, PostgresEventStore, RecordedEvent, StreamVersionConflict

TASKS = 8
STREAMS = 12


async def main(dsn: str, schema: str, writer: int, appends: int, seed: int) -> None:
    committed: list[RecordedEvent] = []
    async with PostgresEventStore(dsn, schema=schema) as store:
        print("ready", flush=True)
        await anyio.to_thread.run_sync(sys.stdin.readline)

        async def task(index: int, count: int) -> None:
            rng = random.Random(f"{seed}/{writer}/{index}")
            known: dict[str, int] = {}
            for n in range(count):
                stream = f"stream-{rng.randrange(STREAMS)}"
                events = [
                    NewEvent("Written", json.dumps({"w": writer, "t": index, "n": n}).encode())
                    for _ in range(rng.randint(1, 4))
                ]
                checked = rng.random() < 0.5
                while True:
                    expected = known.get(stream, 0) if checked else None
                    try:
                        recorded = await store.append(stream, events, expected)
                    except StreamVersionConflict as conflict:
                        known[stream] = conflict.actual
                        continue
                    break
                known[stream] = recorded[-1].version
                committed.extend(recorded)

        share, extra = divmod(appends, TASKS)
        async with anyio.create_task_group() as tg:
            for index in range(TASKS):
                tg.start_soon(task, index, share + (index < extra))
    print(json.dumps([[e.event_id, e.stream_id, e.version, e.position] for e in committed]))


if __name__ == "__main__":
    dsn, schema, writer, appends, seed = sys.argv[1:]
    anyio.run(main, dsn, schema, int(writer), int(appends), int(seed))

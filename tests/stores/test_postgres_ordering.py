"""The global log stays ordered and gapless with several writer processes on one PostgreSQL
table, read live by a follower: the bug this store is designed against is a reader skipping an
event whose transaction committed after a later position's (see docs/architecture.md)."""

from __future__ import annotations

import json
import random
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from anyio.abc import Process
from anyio.streams.text import TextReceiveStream

from stores import PostgresEventStore, RecordedEvent
from tests.postgres import fresh_schema, postgres_dsn

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 4
APPENDS = 200  # per writer


@pytest.fixture
def dsn() -> str:
    return postgres_dsn()


@pytest.fixture
async def schema(dsn: str) -> AsyncIterator[str]:
    async for name in fresh_schema(dsn):
        yield name


async def _read_line(lines: AsyncIterator[str]) -> str:
    return await lines.__anext__()


async def _lines(process: Process) -> AsyncIterator[str]:
    assert process.stdout is not None
    buffer = ""
    async for chunk in TextReceiveStream(process.stdout):
        buffer += chunk
        while "\n" in buffer:
            line, buffer = buffer.split("\n", 1)
            yield line
    if buffer:
        yield buffer


@pytest.mark.anyio
async def test_a_live_follower_sees_every_event_of_several_writer_processes_once_in_order(
    dsn: str, schema: str
) -> None:
    seed = random.randrange(2**32)
    async with PostgresEventStore(dsn, schema=schema, poll_interval=0.5) as store:
        seen: list[RecordedEvent] = []
        batches = 0
        total: int | None = None  # known once every writer has reported
        caught_up = anyio.Event()

        async def follow() -> None:
            nonlocal batches
            async for batch in store.follow(batch_size=100):
                seen.extend(batch)
                batches += 1
                if total is not None and len(seen) >= total:
                    caught_up.set()

        written: list[list[list[object]]] = []
        with anyio.fail_after(60):
            async with anyio.create_task_group() as tg:
                tg.start_soon(follow)
                processes = [
                    await anyio.open_process(
                        [
                            sys.executable,
                            "-m",
                            "tests.stores.pg_writer",
                            dsn,
                            schema,
                            str(writer),
                            str(APPENDS),
                            str(seed),
                        ],
                        cwd=ROOT,
                    )
                    for writer in range(WRITERS)
                ]
                try:
                    outputs = [_lines(p) for p in processes]
                    for output in outputs:
                        assert await _read_line(output) == "ready"
                    for process in processes:  # all start together
                        assert process.stdin is not None
                        await process.stdin.send(b"go\n")
                    for process, output in zip(processes, outputs, strict=True):
                        written.append(json.loads(await _read_line(output)))
                        assert await process.wait() == 0
                finally:
                    for process in processes:
                        if process.returncode is None:
                            process.kill()
                        await process.aclose()
                total = sum(len(events) for events in written)
                if len(seen) < total:
                    await caught_up.wait()
                await anyio.sleep(0.1)  # nothing more may arrive
                tg.cancel_scope.cancel()

    assert all(len(events) >= APPENDS for events in written), f"seed {seed}"
    # Every event exactly once, in position order, positions 1..total with no gap.
    assert total is not None
    assert [e.position for e in seen] == list(range(1, total + 1)), f"seed {seed}"
    committed = {
        event_id: (stream, version, position)
        for events in written
        for event_id, stream, version, position in events
    }
    assert len(committed) == total
    assert {e.event_id: (e.stream_id, e.version, e.position) for e in seen} == committed
    versions: dict[str, list[int]] = {}
    for e in seen:
        versions.setdefault(e.stream_id, []).append(e.version)
    for stream, numbers in versions.items():
        assert numbers == list(range(1, len(numbers) + 1)), stream
    # It really followed live, rather than reading everything at the end.
    assert batches > 10, batches

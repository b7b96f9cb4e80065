"""One node of the cluster demo: a process with its own runtime, clients and Balances read
model, on the store every node shares. ``cluster.py`` starts the nodes and steers them through
a pipe: ready -> go -> done -> the final position -> the node's read model at that position."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

import anyio
import structlog

from runtime import open_runtime
from stores import EventStore, NewEvent, RecordedEvent, StreamVersionConflict, store_from_url

from .balances import AllBalances, Balances, GetTotals, Totals
from .workload import Tally, account_ids, open_accounts, run_clients

#: How long a node's read model may take to reach the last position of the run.
CATCH_UP_TIMEOUT = 120.0


@dataclass(frozen=True)
class NodeConfig:
    """What one node runs: ``commands`` commands from ``clients`` clients on the accounts
    ``account_ids(accounts)`` (the same ones on every node), after opening ``to_open``."""

    index: int
    url: str
    accounts: int
    to_open: Sequence[str]
    commands: int
    clients: int
    seed: int


@dataclass(frozen=True)
class NodeReport:
    """What a node did and what its read model holds at the run's last position."""

    index: int
    tally: Tally
    command_seconds: float
    #: Appends of this node that lost the race for their stream (each retried by its actor).
    conflicts: int
    balances: dict[str, int]
    totals: Totals

    @property
    def commands_per_second(self) -> float:
        """This node's workload commands per second of its command phase."""
        return self.tally.commands / self.command_seconds if self.command_seconds > 0 else 0.0


class CountingStore:
    """The node's store, counting the version conflicts its appends meet."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self.conflicts = 0

    async def __aenter__(self) -> CountingStore:
        await self.store.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.store.__aexit__(exc_type, exc, tb)

    async def append(
        self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None
    ) -> list[RecordedEvent]:
        try:
            return await self.store.append(stream_id, events, expected_version)
        except StreamVersionConflict:
            self.conflicts += 1
            raise

    async def read_stream(self, stream_id: str, *, from_version: int = 1) -> list[RecordedEvent]:
        return await self.store.read_stream(stream_id, from_version=from_version)

    async def read_all(
        self, *, after: int = 0, types: Collection[str] | None = None, limit: int = 1000
    ) -> list[RecordedEvent]:
        return await self.store.read_all(after=after, types=types, limit=limit)

    def follow(
        self, *, after: int = 0, types: Collection[str] | None = None, batch_size: int = 1000
    ) -> AsyncIterator[list[RecordedEvent]]:
        return self.store.follow(after=after, types=types, batch_size=batch_size)

    async def last_position(self) -> int:
        return await self.store.last_position()

    async def aclose(self) -> None:
        await self.store.aclose()


def run_node(config: NodeConfig, pipe: Connection) -> None:
    """The node process's entry point (``multiprocessing``, spawn)."""
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    try:
        anyio.run(_serve, config, pipe)
    except KeyboardInterrupt:
        pass  # the parent reports the interruption
    finally:
        pipe.close()


async def _receive(pipe: Connection) -> Any:
    return await anyio.to_thread.run_sync(pipe.recv)


async def _serve(config: NodeConfig, pipe: Connection) -> None:
    store = CountingStore(store_from_url(config.url))
    tally = Tally()
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(Balances)
        await open_accounts(rt, config.to_open, config.clients, tally, _nothing)
        pipe.send("ready")
        await _receive(pipe)  # go: every node is ready
        started = time.perf_counter()
        await run_clients(
            rt,
            account_ids(config.accounts),
            commands=config.commands,
            clients=config.clients,
            seed=config.seed,
            tally=tally,
            tick=_nothing,
        )
        command_seconds = time.perf_counter() - started
        pipe.send("done")
        last: int = await _receive(pipe)  # every node is done: the log is complete
        read_balances = await balances.ask(AllBalances(), after=last, timeout=CATCH_UP_TIMEOUT)
        totals = await balances.ask(GetTotals(), after=last, timeout=CATCH_UP_TIMEOUT)
    pipe.send(
        NodeReport(
            index=config.index,
            tally=tally,
            command_seconds=command_seconds,
            conflicts=store.conflicts,
            balances=read_balances,
            totals=totals,
        )
    )


def _nothing() -> None:
    pass

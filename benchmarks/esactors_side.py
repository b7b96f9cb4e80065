"""The esactors side: commands from many concurrent clients on one store (a SQLite file, or a
PostgreSQL schema for the PostgreSQL part), the live projection's lag, a read-model rebuild
from the log, and activating every aggregate again."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from time import perf_counter
from typing import Any

import anyio

from actors import Command, Committed, replay
from runtime import ActorRef, open_runtime
from stores import EventStore, SQLiteEventStore, StreamVersionConflict

from .domain import (
    Account,
    Balances,
    Deposit,
    GetBalance,
    GetClock,
    GetTotals,
    OpenAccount,
    Withdraw,
)
from .settings import Settings
from .stats import percentile
from .workload import Step, account_id, balances_after, schedule


@dataclass
class Drive:
    """What the clients saw: how long the whole workload took, each ask's latency, and when
    each committed position's reply reached its client (``perf_counter``)."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    replied_at: dict[int, float] = field(default_factory=dict)


async def drive(
    refs: Sequence[ActorRef], steps: Sequence[Step], clients: int, resends: int = 0
) -> Drive:
    """Run ``steps`` from ``clients`` concurrent clients, each asking one command at a time.

    The clients share one iterator, so commands are sent in the workload's order and commands
    to one account reach its mailbox in round order. Every reply means durably committed.

    ``resends``: how often a command is sent again when it fails with a version conflict (its
    actor ran out of retries because other processes kept winning its stream; nothing was
    stored, so sending it again is safe). Only several nodes on the same accounts need it."""
    result = Drive()
    pending = iter(steps)

    async def ask(ref: ActorRef, command: Command) -> Committed:
        for resend in range(resends):
            try:
                committed: Committed = await ref.ask(command)
            except StreamVersionConflict:
                await anyio.sleep(random.uniform(0, 0.01 * 2**resend))
            else:
                return committed
        return await ref.ask(command)

    async def client() -> None:
        for step in pending:
            command: Command = (
                Withdraw(amount=step.amount) if step.withdraw else Deposit(amount=step.amount)
            )
            sent = perf_counter()
            done = await ask(refs[step.account], command)
            replied = perf_counter()
            result.latencies.append(replied - sent)
            result.replied_at[done.position] = replied

    start = perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(min(clients, len(steps))):
            tg.start_soon(client)
    result.seconds = perf_counter() - start
    return result


async def ask_each(refs: Sequence[ActorRef], message: Callable[[], Any], clients: int) -> list[Any]:
    """Ask each ref ``message()`` from ``clients`` concurrent clients; the replies in ref order."""
    replies: list[Any] = [None] * len(refs)
    pending = iter(range(len(refs)))

    async def client() -> None:
        for index in pending:
            replies[index] = await refs[index].ask(message())

    async with anyio.create_task_group() as tg:
        for _ in range(min(clients, len(refs))):
            tg.start_soon(client)
    return replies


def lag_after_reply(
    replied_at: dict[int, float], clock: dict[int, tuple[float, float]]
) -> list[float]:
    """Per committed position: how long after its reply the projection applied it. Zero when
    the projection was first (it is woken by the commit, and may run before the client)."""
    return [max(0.0, clock[position][0] - t) for position, t in replied_at.items()]


def _check(what: str, got: Any, expected: Any) -> None:
    # The figures count only if the work was really done: every balance must match.
    if got != expected:
        raise AssertionError(f"esactors {what}: the balances do not match the workload")


async def measure(settings: Settings, directory: Path) -> dict[str, float]:
    """Run the esactors side once on a new SQLite file in ``directory``; its figures."""
    path = directory / "esactors.db"
    return await measure_on(settings, lambda: SQLiteEventStore(path), few_clients=True)


async def measure_on(
    settings: Settings, new_store: Callable[[], EventStore], *, few_clients: bool
) -> dict[str, float]:
    """Run the esactors side once on the empty store that ``new_store()`` opens (each call a
    new store object on the same data: the rebuild and the activation start cold); its figures.
    ``few_clients``: also run the second, ``settings.few_clients`` latency run."""
    ids = [account_id(i) for i in range(settings.accounts)]
    steps = schedule(settings.accounts, settings.commands, settings.seed)
    expected = balances_after(settings.accounts, steps)
    figures: dict[str, float] = {}

    async with open_runtime(store=new_store()) as rt:
        balances = await rt.spawn(Balances, clock=True)
        refs = [rt.get(Account, i) for i in ids]
        await ask_each(refs, OpenAccount, settings.clients)
        many = await drive(refs, steps, settings.clients)
        last = max(many.replied_at)
        totals = await balances.ask(GetTotals(), after=last)
        _check("read model", totals, dict(zip(ids, expected, strict=True)))
        clock = await balances.ask(GetClock())
    figures["commands_per_s"] = len(steps) / many.seconds
    figures["ask_p50_ms_many"] = percentile(many.latencies, 50) * 1000
    figures["ask_p99_ms_many"] = percentile(many.latencies, 99) * 1000
    # From the commit timestamp: how stale the read model is behind the log.
    since_commit = [clock[position][1] for position in many.replied_at]
    figures["lag_p50_ms"] = percentile(since_commit, 50) * 1000
    figures["lag_p99_ms"] = percentile(since_commit, 99) * 1000
    # From the reply: how long a client that reads its own write may have to wait.
    since_reply = lag_after_reply(many.replied_at, clock)
    figures["lag_after_reply_p99_ms"] = percentile(since_reply, 99) * 1000

    async with new_store() as store:
        events = await store.last_position()
        model = Balances()
        start = perf_counter()
        position = await replay(store, model)
        seconds = perf_counter() - start
    _check("rebuilt read model", (position, model.totals), (events, totals))
    figures["rebuild_events_per_s"] = events / seconds

    async with open_runtime(store=new_store()) as rt:
        refs = [rt.get(Account, i) for i in ids]
        start = perf_counter()
        # Every aggregate at once: each replays its stream as it activates, then answers.
        replayed = await ask_each(refs, GetBalance, len(refs))
        seconds = perf_counter() - start
        _check("activated aggregates", replayed, expected)
        figures["activation_events_per_s"] = events / seconds
        if not few_clients:
            return figures

        more = schedule(settings.accounts, settings.commands, settings.seed + 1)
        few = await drive(refs, more, settings.few_clients)
        after = [
            a + b for a, b in zip(expected, balances_after(settings.accounts, more), strict=True)
        ]
        _check("second run", await ask_each(refs, GetBalance, len(refs)), after)
    figures["commands_per_s_few"] = len(more) / few.seconds
    figures["ask_p50_ms_few"] = percentile(few.latencies, 50) * 1000
    figures["ask_p99_ms_few"] = percentile(few.latencies, 99) * 1000
    return figures

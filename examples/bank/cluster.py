"""``run_cluster``: the bank demo on several node processes sharing one store.

Every node runs its own runtime and its own clients on the *same* accounts, so one account is
commanded from several nodes at once: appends race on its stream, the losers reload and retry.
Every node keeps its own Balances read model, which must see every node's events. At the end
each node's read model, read at the last position of the run, is compared with balances
recomputed from the stored events, and the nodes' summed tallies with what the store holds.
"""

from __future__ import annotations

import heapq
import multiprocessing
import random
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import anyio

from .audit import compare, recompute
from .balances import Totals
from .node import NodeConfig, NodeReport, run_node
from .where import describe, store_for
from .workload import Tally, account_ids

TOP = 5


@dataclass(frozen=True)
class ClusterSummary:
    """The figures of one cluster run. ``problems`` is empty when every check passed."""

    store: str
    seed: int
    clients: int
    nodes: list[NodeReport]
    #: Accounts open after the run, and how many this run opened.
    accounts: int
    opened: int
    events_before: int
    events_stored: int
    #: The largest balances, from the first node's read model.
    top: list[tuple[str, int]]
    totals: Totals
    problems: list[str]
    open_seconds: float
    command_seconds: float
    check_seconds: float

    @property
    def tally(self) -> Tally:
        """The nodes' tallies added up."""
        return _added(report.tally for report in self.nodes)

    @property
    def commands_per_second(self) -> float:
        """All nodes' commands per second of wall-clock time, from "go" to the last "done"."""
        commands = self.tally.commands
        return commands / self.command_seconds if self.command_seconds > 0 else 0.0

    @property
    def consistent(self) -> bool:
        """Whether every node's read model, the stored events and the tallies agree."""
        return not self.problems


async def run_cluster(
    url: str,
    nodes: int = 3,
    accounts: int = 1000,
    commands: int = 20_000,
    clients: int = 100,
    seed: int | None = None,
    quiet: bool = False,
) -> ClusterSummary:
    """Run the demo on ``nodes`` processes sharing the store at ``url``: ``commands`` in all
    (split between the nodes), ``clients`` concurrent clients per node, on the same
    ``accounts`` accounts. Progress lines go to stderr unless ``quiet``.

    The check assumes no other program writes to the store during the run. A node that fails
    raises ``RuntimeError`` here (its traceback is on stderr); cancelling stops the nodes.
    """
    if nodes < 1 or accounts < 2 or commands < 0 or clients < 1:
        raise ValueError(
            f"need nodes >= 1, accounts >= 2, commands >= 0, clients >= 1, got "
            f"{nodes}, {accounts}, {commands}, {clients}"
        )
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    say = _Say(quiet)
    async with store_for(url) as store:
        events_before = await store.last_position()
        before = await recompute(store, until=events_before)
    missing = [a for a in account_ids(accounts) if a not in before.balances]
    share, extra = divmod(commands, nodes)
    configs = [
        NodeConfig(
            index=i + 1,
            url=url,
            accounts=accounts,
            to_open=missing[i::nodes],
            commands=share + (i < extra),
            clients=clients,
            # Each node its own commands; a seed still fixes them all.
            seed=(seed + i * 0x9E3779B9) % 2**32,
        )
        for i in range(nodes)
    ]

    started = time.perf_counter()
    with _Nodes(configs) as cluster:
        say(f"starting {nodes} nodes, opening {len(missing):,} accounts")
        await cluster.gather("ready")
        open_seconds = time.perf_counter() - started
        say(f"{nodes} nodes ready; running {commands:,} commands")
        started = time.perf_counter()
        cluster.send("go")
        await cluster.gather("done")
        command_seconds = time.perf_counter() - started
        async with store_for(url) as store:
            last = await store.last_position()
        say(f"all nodes done; waiting for every read model to reach position {last:,}")
        cluster.send(last)
        reports: list[NodeReport] = await cluster.gather(None)

    started = time.perf_counter()
    async with store_for(url) as store:
        ledger = await recompute(store, until=last)
    problems: list[str] = []
    for report in reports:
        problems += [f"node {report.index}: {p}" for p in compare(ledger, last, *_view(report))]
    summary_tally = _added(report.tally for report in reports)
    expected = before.money + summary_tally.money_in - summary_tally.money_out
    if ledger.money != expected:
        problems.append(
            f"total money {ledger.money} != {before.money} before + {summary_tally.money_in} "
            f"deposited - {summary_tally.money_out} withdrawn by the nodes' clients = {expected}"
        )
    if last - events_before != summary_tally.events:
        problems.append(
            f"the store grew by {last - events_before} events, the nodes' commands committed "
            f"{summary_tally.events}"
        )
    check_seconds = time.perf_counter() - started
    first = reports[0]
    return ClusterSummary(
        store=describe(url),
        seed=seed,
        clients=clients,
        nodes=reports,
        accounts=first.totals.accounts,
        opened=summary_tally.opened,
        events_before=events_before,
        events_stored=last,
        top=heapq.nsmallest(TOP, first.balances.items(), key=lambda item: (-item[1], item[0])),
        totals=first.totals,
        problems=problems,
        open_seconds=open_seconds,
        command_seconds=command_seconds,
        check_seconds=check_seconds,
    )


def _added(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        for name, value in vars(tally).items():
            setattr(total, name, getattr(total, name) + value)
    return total


def _view(report: NodeReport) -> tuple[dict[str, int], Totals]:
    return report.balances, report.totals


class _Say:
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, line: str) -> None:
        if not self.quiet:
            print(line, file=sys.stderr, flush=True)


class _Nodes:
    """The node processes and their pipes; leaving the block ends them."""

    def __init__(self, configs: list[NodeConfig]) -> None:
        # spawn, not fork: a forked child would inherit this process's event loop and threads.
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for config in configs:
            ours, theirs = context.Pipe()
            process = context.Process(
                target=run_node, args=(config, theirs), name=f"bank-node-{config.index}"
            )
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def __enter__(self) -> _Nodes:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        for process in self.processes:
            # After a failure the others may be waiting for a message that will not come.
            process.join(timeout=10 if exc_type is None else 0)
            if process.is_alive():
                process.terminate()
                process.join()
        for pipe in self.pipes:
            pipe.close()

    def send(self, message: object) -> None:
        for pipe in self.pipes:
            pipe.send(message)

    async def gather(self, expected: str | None) -> list[Any]:
        """One message from every node (checked against ``expected`` unless None)."""
        answers: list[Any] = [None] * len(self.pipes)
        stopped: list[int] = []

        async def receive(index: int) -> None:
            try:
                answers[index] = await anyio.to_thread.run_sync(self.pipes[index].recv)
            except EOFError:
                stopped.append(index + 1)

        async with anyio.create_task_group() as tg:
            for index in range(len(self.pipes)):
                tg.start_soon(receive, index)
        if stopped:
            raise RuntimeError(
                f"bank node(s) {', '.join(map(str, sorted(stopped)))} stopped; see the error above"
            )
        if expected is not None:
            assert all(answer == expected for answer in answers), answers
        return answers

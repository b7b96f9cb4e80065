"""Several esactors nodes on one PostgreSQL schema: the multi-node figure.

The worker process starts ``settings.nodes`` node processes (spawned: one process tree, ended
with it). Each node runs its own runtime, its own ``Balances`` read model (which follows the
whole shared log, every node's events) and its own share of the clients and commands. Two
variants, each on a new schema, dropped after it:

- *disjoint*: each node opens and commands its own range of the accounts, so no two nodes ever
  append to one stream. The total measures what the store's one shared, serialized log takes
  from several processes at once, without cross-node version conflicts.
- *shared*: every node commands every account (each opens a share of them), as the cluster
  demo does: an actor whose stream another node has moved on meets a version conflict, reloads
  the new events and decides again, so most commands cost a conflict and a re-read.

The workload is the benchmark's: ``accounts`` accounts, ``pg_commands`` commands split between
the nodes, ``clients`` clients split between them; each node's commands come in the usual
rounds (every fourth withdraws) over its accounts. The total is all nodes' commands over the
wall-clock time from "go" to the last node's "done"; each node's figure is its commands over
its own time. Every node's read model is then checked against the balances the workload must
leave, and the log's length against the commands sent.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
from collections.abc import Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from time import perf_counter
from typing import Any

import anyio
import anyio.to_thread

from examples.bank.node import CountingStore
from runtime import open_runtime
from stores import PostgresEventStore

from . import pg
from .domain import Account, Balances, GetTotals, OpenAccount
from .esactors_side import ask_each, drive
from .settings import Settings
from .workload import Step, account_id, schedule

VARIANTS = ("disjoint", "shared")
#: How often a client sends a command again after its actor ran out of conflict retries.
RESENDS = 5
#: How long the parent waits for any one answer of a node before it gives up on the run.
ANSWER_TIMEOUT = 300.0


@dataclass(frozen=True)
class Job:
    """What one node runs on ``schema``: opens ``to_open``, then (on "go") ``steps`` from
    ``clients`` clients. Account indices are the benchmark's (``account_id``)."""

    url: str
    schema: str
    accounts: int
    to_open: Sequence[int]
    steps: Sequence[Step]
    clients: int
    resends: int


@dataclass(frozen=True)
class Done:
    """A node's commands: how many, in how long, meeting how many version conflicts."""

    commands: int
    seconds: float
    conflicts: int


def plan(settings: Settings, variant: str) -> list[tuple[list[int], list[Step]]]:
    """Per node: the accounts it opens and its steps (account indices are global)."""
    nodes, accounts = settings.nodes, settings.accounts
    share, extra = divmod(settings.pg_commands, nodes)
    planned: list[tuple[list[int], list[Step]]] = []
    for node in range(nodes):
        count = share + (node < extra)
        seed = settings.seed + node
        if variant == "disjoint":
            own = list(range(accounts * node // nodes, accounts * (node + 1) // nodes))
            steps = [Step(own[s.account], s.withdraw) for s in schedule(len(own), count, seed)]
            planned.append((own, steps))
        elif variant == "shared":
            planned.append((list(range(node, accounts, nodes)), schedule(accounts, count, seed)))
        else:
            raise ValueError(f"unknown variant {variant!r}; the variants are {VARIANTS}")
    return planned


def expected_balances(accounts: int, steps: Sequence[Step]) -> dict[str, int]:
    """Every account's balance once ``steps`` (of every node) have all run."""
    balances = dict.fromkeys(map(account_id, range(accounts)), 0)
    for step in steps:
        balances[account_id(step.account)] += -step.amount if step.withdraw else step.amount
    return balances


# -- a node process ----------------------------------------------------------------------------


def serve(pipe: Connection, gc_thresholds: tuple[int, int, int] | None = None) -> None:
    """A node process's entry point: run each job the parent sends, until it sends None.
    ``gc_thresholds``: the parent's (a spawned process starts with Python's defaults)."""
    if gc_thresholds is not None:
        gc.set_threshold(*gc_thresholds)
    try:
        while (job := pipe.recv()) is not None:
            anyio.run(_run, job, pipe)
    except EOFError:
        pass  # the parent is gone
    finally:
        pipe.close()


async def _receive(pipe: Connection) -> Any:
    return await anyio.to_thread.run_sync(pipe.recv)


async def _run(job: Job, pipe: Connection) -> None:
    store = CountingStore(PostgresEventStore(job.url, schema=job.schema))
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(Balances)
        refs = [rt.get(Account, account_id(i)) for i in range(job.accounts)]
        await ask_each([refs[i] for i in job.to_open], OpenAccount, job.clients)
        pipe.send("ready")
        await _receive(pipe)  # go: every node is ready
        before = store.conflicts
        done = await drive(refs, job.steps, job.clients, job.resends)
        pipe.send(Done(len(job.steps), done.seconds, store.conflicts - before))
        last: int = await _receive(pipe)  # every node is done: the log is complete
        totals = await balances.ask(GetTotals(), after=last, timeout=ANSWER_TIMEOUT)
    pipe.send(totals)


# -- the parent (the worker process) -----------------------------------------------------------


class _Nodes:
    """The node processes and their pipes; ``close`` ends them."""

    def __init__(self, count: int) -> None:
        # spawn, not fork: a forked child would inherit this process's threads and state.
        context = multiprocessing.get_context("spawn")
        self.pipes: list[Connection] = []
        self.processes: list[Any] = []
        for index in range(count):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=serve,
                args=(theirs, gc.get_threshold()),
                name=f"bench-node-{index + 1}",
                daemon=True,
            )
            process.start()
            theirs.close()
            self.pipes.append(ours)
            self.processes.append(process)

    def send(self, messages: Sequence[object]) -> None:
        for pipe, message in zip(self.pipes, messages, strict=True):
            pipe.send(message)

    def gather(self) -> list[Any]:
        """One answer from every node, in node order."""
        answers = []
        for number, pipe in enumerate(self.pipes, 1):
            if not pipe.poll(ANSWER_TIMEOUT):
                raise RuntimeError(f"node {number} did not answer in {ANSWER_TIMEOUT:.0f} s")
            try:
                answers.append(pipe.recv())
            except (EOFError, OSError):
                raise RuntimeError(f"node {number} stopped; its error is above") from None
        return answers

    def close(self) -> None:
        for pipe in self.pipes:
            with contextlib.suppress(OSError):  # that node is gone already
                pipe.send(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.terminate()
                process.join()
        for pipe in self.pipes:
            pipe.close()


async def _last_position(url: str, schema: str) -> int:
    async with PostgresEventStore(url, schema=schema) as store:
        return await store.last_position()


def _variant(
    nodes: _Nodes, settings: Settings, variant: str, url: str, schema: str
) -> dict[str, float]:
    planned = plan(settings, variant)
    clients = max(1, settings.clients // settings.nodes)
    resends = RESENDS if variant == "shared" else 0
    nodes.send(
        [
            Job(url, schema, settings.accounts, to_open, steps, clients, resends)
            for to_open, steps in planned
        ]
    )
    assert nodes.gather() == ["ready"] * settings.nodes
    start = perf_counter()
    nodes.send(["go"] * settings.nodes)
    done: list[Done] = nodes.gather()
    seconds = perf_counter() - start
    last = pg.run_sync(_last_position, url, schema)
    nodes.send([last] * settings.nodes)
    read_models: list[dict[str, int]] = nodes.gather()

    # The figures count only if the work was really done, and every node saw all of it.
    all_steps = [step for _, steps in planned for step in steps]
    expected = expected_balances(settings.accounts, all_steps)
    if last != settings.accounts + len(all_steps):
        raise AssertionError(
            f"nodes, {variant}: {last} events stored, {settings.accounts} openings and "
            f"{len(all_steps)} commands sent"
        )
    for number, totals in enumerate(read_models, 1):
        if totals != expected:
            raise AssertionError(f"nodes, {variant}: node {number}'s read model is wrong")

    commands = sum(d.commands for d in done)
    figures = {f"{variant}_total_commands_per_s": commands / seconds}
    for number, d in enumerate(done, 1):
        figures[f"{variant}_node{number}_commands_per_s"] = d.commands / d.seconds
    conflicts = sum(d.conflicts for d in done)
    if variant == "shared":
        figures[f"{variant}_conflicts_per_command"] = conflicts / commands
    elif conflicts:
        raise AssertionError(f"nodes, {variant}: {conflicts} version conflicts on own accounts")
    return figures


def measure(settings: Settings) -> dict[str, float]:
    """Run both variants once, each on a new schema of the server at ``ESACTORS_PG_DSN``; the
    figures, ``<variant>_total_commands_per_s``, ``<variant>_node<n>_commands_per_s`` and
    ``shared_conflicts_per_command`` (the version conflicts the nodes' appends met)."""
    url = pg.dsn()
    figures: dict[str, float] = {}
    schemas: list[str] = []
    nodes = _Nodes(settings.nodes)
    try:
        for variant in VARIANTS:
            schemas.append(pg.new_schema())
            figures.update(_variant(nodes, settings, variant, url, schemas[-1]))
    finally:
        # The nodes first: a schema is dropped once no node holds a connection to it.
        nodes.close()
        for schema in schemas:
            pg.run_sync(pg.drop_schema, url, schema)
    return figures

"""``run_demo``: one run of the bank demo, from opening the store to the consistency check."""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass

from runtime import open_runtime
from stores import MemoryEventStore

from .audit import compare, recompute
from .balances import AllBalances, Balances, GetTotals, TopBalances, Totals
from .progress import progress
from .where import describe, store_for
from .workload import Tally, account_ids, open_accounts, run_clients

TOP = 5


@dataclass(frozen=True)
class Summary:
    """The figures of one run. ``problems`` is empty when the consistency check passed."""

    db_path: str
    seed: int
    clients: int
    #: Accounts open after the run, and how many this run opened.
    accounts: int
    opened: int
    commands: int
    deposits: int
    withdrawals: int
    transfers: int
    rejected: int
    compensated: int
    #: The store's last position before and after the run.
    events_before: int
    events_stored: int
    #: The largest balances, from the read model at ``events_stored``.
    top: list[tuple[str, int]]
    totals: Totals
    problems: list[str]
    open_seconds: float
    command_seconds: float
    check_seconds: float

    @property
    def commands_per_second(self) -> float:
        """Workload commands per second of the command phase."""
        return self.commands / self.command_seconds if self.command_seconds > 0 else 0.0

    @property
    def consistent(self) -> bool:
        """Whether the read model, the stored events and the clients' own count agree."""
        return not self.problems


async def run_demo(
    db_path: str | os.PathLike[str],
    accounts: int = 1000,
    commands: int = 20_000,
    clients: int = 200,
    seed: int | None = None,
    quiet: bool = False,
) -> Summary:
    """Open ``accounts`` accounts in the store at ``db_path`` (those not open yet), run
    ``commands`` random commands from ``clients`` concurrent clients, and check the result.
    ``db_path`` is a SQLite file, or a store URL (``postgresql://...``, see ``where.py``).

    ``seed`` (default: a random one, reported in the summary) fixes each client's commands.
    Progress goes to stderr unless ``quiet``. Rejected commands are counted, not raised; a
    store failure is raised. Cancelling it stops the clients (a transfer under way finishes
    first), closes the store, and skips the check. The check assumes no other program writes
    to the store during the run: it also compares the clients' own count of events and money
    with what the store holds.
    """
    if accounts < 2:
        raise ValueError(f"the demo needs at least 2 accounts for transfers, got {accounts}")
    if commands < 0 or clients < 1:
        raise ValueError(f"need commands >= 0 and clients >= 1, got {commands} and {clients}")
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    tally = Tally()
    store = store_for(db_path)
    async with open_runtime(store=store) as rt:
        events_before = await store.last_position()
        balances = await rt.spawn(Balances)
        existing = await balances.ask(AllBalances(), after=events_before)
        money_before = (await balances.ask(GetTotals(), after=events_before)).money

        started = time.perf_counter()
        missing = [a for a in account_ids(accounts) if a not in existing]
        if missing:
            with progress("opening accounts", len(missing), quiet=quiet) as meter:
                await open_accounts(rt, missing, clients, tally, meter.tick)
        open_seconds = time.perf_counter() - started

        started = time.perf_counter()
        with progress("commands", commands, quiet=quiet) as meter:
            await run_clients(
                rt,
                account_ids(accounts),
                commands=commands,
                clients=clients,
                seed=seed,
                tally=tally,
                tick=meter.tick,
            )
        command_seconds = time.perf_counter() - started

        # Every query waits for the read model to reach the last event: read-your-writes.
        events_stored = await store.last_position()
        top = await balances.ask(TopBalances(n=TOP), after=events_stored)
        read_balances = await balances.ask(AllBalances(), after=events_stored)
        totals = await balances.ask(GetTotals(), after=events_stored)

    started = time.perf_counter()
    # A store of its own, opened after the runtime closed: the check reads what is on disk,
    # not the in-memory copies the runtime's store kept for its followers. (A memory store
    # is all the storage there is: that one, reopened.)
    fresh = store if isinstance(store, MemoryEventStore) else store_for(db_path)
    async with fresh:
        ledger = await recompute(fresh, until=events_stored)
    problems = compare(ledger, events_stored, read_balances, totals)
    expected = money_before + tally.money_in - tally.money_out
    if totals.money != expected:
        problems.append(
            f"total money {totals.money} != {money_before} before + {tally.money_in} deposited "
            f"- {tally.money_out} withdrawn by the clients = {expected}"
        )
    stored = events_stored - events_before
    if stored != tally.events:
        problems.append(
            f"the store grew by {stored} events, the clients' commands committed {tally.events}"
        )
    check_seconds = time.perf_counter() - started

    return Summary(
        db_path=describe(db_path),
        seed=seed,
        clients=clients,
        accounts=totals.accounts,
        opened=tally.opened,
        commands=tally.commands,
        deposits=tally.deposits,
        withdrawals=tally.withdrawals,
        transfers=tally.transfers,
        rejected=tally.rejected,
        compensated=tally.compensated,
        events_before=events_before,
        events_stored=events_stored,
        top=top,
        totals=totals,
        problems=problems,
        open_seconds=open_seconds,
        command_seconds=command_seconds,
        check_seconds=check_seconds,
    )

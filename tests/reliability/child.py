"""The child process: a bank workload on a SQLite file that logs every reply to the side file.

``python -m tests.reliability.child --db PATH --acks PATH`` opens the accounts that are not open
yet, then runs many concurrent clients sending deposits, withdrawals, batches of deposits and
transfers until it is killed. Each client logs each reply (see ``acklog``) before its next
command, so whatever the kill interrupts, the side file claims only what was acknowledged.
"""

from __future__ import annotations

import argparse
import os
import random
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import anyio

from actors import Command, Rejected
from runtime import Runtime, open_runtime
from stores import SQLiteEventStore

from .acklog import AckLog
from .domain import MAX_BATCH, Account, Deposit, DepositBatch, OpenAccount, Withdraw

OPENING_DEPOSIT = 100
TRANSFER_PREFIX = "transfer:"


def account_ids(count: int) -> list[str]:
    """The ids of the workload's ``count`` accounts (the same in every run)."""
    return [f"acc-{i:03d}" for i in range(count)]


async def workload(
    db: Path,
    acks: Path,
    *,
    clients: int,
    accounts: int,
    seed: str,
    commands: int | None = None,
    durability: Literal["full", "normal"] = "full",
    ready_fd: int | None = None,
) -> None:
    """Open the accounts not open yet, then run ``clients`` clients of ``commands`` commands
    each (None: until killed or cancelled), logging every reply to ``acks``, on a store with the
    given ``durability``. Writes a line to ``ready_fd`` once the store is open. Cancelling it
    stops the clients; an ask under way may still commit without being logged, which the side
    file allows."""
    ids = account_ids(accounts)
    log = AckLog(acks)
    try:
        async with (
            open_runtime(store=SQLiteEventStore(db, durability=durability)) as rt,
            anyio.create_task_group() as tg,
        ):
            tg.start_soon(log.run)
            if ready_fd is not None:
                os.write(ready_fd, b"ready\n")
                os.close(ready_fd)
            async with anyio.create_task_group() as opening:
                for account_id in ids:
                    opening.start_soon(
                        send, rt, log, account_id, OpenAccount(opening_deposit=OPENING_DEPOSIT)
                    )
            async with anyio.create_task_group() as running:
                for index in range(clients):
                    rng = random.Random(f"{seed}/{index}")
                    running.start_soon(client, rt, log, ids, rng, commands)
            tg.cancel_scope.cancel()  # the clients are done: stop the log writer
    finally:
        log.close()


async def client(
    rt: Runtime, log: AckLog, ids: Sequence[str], rng: random.Random, commands: int | None
) -> None:
    """Send ``commands`` random commands (None: forever), one at a time."""
    sent = 0
    while commands is None or sent < commands:
        sent += 1
        roll = rng.random()
        if roll < 0.35:
            await send(rt, log, rng.choice(ids), Deposit(amount=rng.randint(1, 100)))
        elif roll < 0.6:
            await send(rt, log, rng.choice(ids), Withdraw(amount=rng.randint(1, 150)))
        elif roll < 0.75:
            amounts = tuple(rng.randint(1, 50) for _ in range(rng.randint(2, MAX_BATCH)))
            await send(rt, log, rng.choice(ids), DepositBatch(amounts=amounts))
        else:
            source, target = rng.sample(list(ids), 2)
            amount, correlation = rng.randint(1, 100), f"{TRANSFER_PREFIX}{uuid.uuid4()}"
            if await send(rt, log, source, Withdraw(amount=amount, correlation_id=correlation)):
                await send(rt, log, target, Deposit(amount=amount, correlation_id=correlation))


async def send(rt: Runtime, log: AckLog, account_id: str, command: Command) -> bool:
    """Ask ``command`` of the account and log the reply; True if it committed."""
    try:
        done = await rt.get(Account, account_id).ask(command)
    except Rejected:
        await log.rejected(command, account_id)
        return False
    await log.committed(command, done)
    return True


def main(argv: Sequence[str] | None = None) -> None:
    """The child's command line (run by ``tests.reliability.crash``)."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--acks", type=Path, required=True)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--accounts", type=int, default=20)
    parser.add_argument("--seed", default="0")
    parser.add_argument("--commands", type=int, default=None, help="per client (default: no end)")
    parser.add_argument("--durability", choices=["full", "normal"], default="full")
    parser.add_argument("--ready-fd", type=int, default=None)
    args = parser.parse_args(argv)
    anyio.run(
        lambda: workload(
            args.db,
            args.acks,
            clients=args.clients,
            accounts=args.accounts,
            seed=args.seed,
            commands=args.commands,
            durability=args.durability,
            ready_fd=args.ready_fd,
        )
    )


if __name__ == "__main__":
    main()

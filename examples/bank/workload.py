"""The bank's clients: open accounts, then send a random mix of deposits, withdrawals and
transfers from many concurrent clients, counting what was done and what was rejected."""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from uuid import uuid4

import anyio

from actors import Command, Committed, Rejected
from runtime import ActorRef, Runtime
from stores import StreamVersionConflict

from .domain import Account, Deposit, OpenAccount, Withdraw

#: Correlation ids of transfer legs start with this, so an audit can pair the legs up.
TRANSFER_PREFIX = "transfer:"
#: A mistyped account number: transfers to it fail after the withdrawal and are compensated,
#: so every run exercises the saga's unhappy path.
UNOPENED_ACCOUNT = "acc-unopened"

OPENING_DEPOSIT = 100
DEPOSIT_SHARE = 0.4
WITHDRAW_SHARE = 0.3  # the rest are transfers
MISDIRECTED_SHARE = 0.01  # of transfers
MAX_DEPOSIT = 100
MAX_WITHDRAWAL = 150  # above the typical balance early on, so some are rejected
MAX_TRANSFER = 100
#: How often a command is sent again when its actor ran out of conflict retries (other nodes
#: kept winning its stream). Nothing was stored then, so sending it again is safe.
RESENDS = 5


def account_ids(count: int) -> list[str]:
    """The ids of the demo's first ``count`` accounts (stable across runs)."""
    return [f"acc-{i:05d}" for i in range(count)]


@dataclass
class Tally:
    """What the clients did. ``money_in``/``money_out`` count only committed money crossing the
    bank's boundary (deposits, withdrawals, opening deposits): transfers move money inside it."""

    opened: int = 0
    deposits: int = 0
    withdrawals: int = 0
    transfers: int = 0
    rejected: int = 0
    compensated: int = 0
    money_in: int = 0
    money_out: int = 0
    #: Events the committed commands reported as stored (``len(Committed.events)``).
    events: int = 0

    @property
    def commands(self) -> int:
        """Workload commands run (a transfer counts once, whatever its legs)."""
        return self.deposits + self.withdrawals + self.transfers


class TransferOutcome(enum.Enum):
    """How a transfer ended; in every case no money was created or destroyed."""

    DONE = "done"
    REJECTED = "rejected"  # the withdrawal was refused: nothing moved
    COMPENSATED = "compensated"  # the deposit was refused: the money went back


async def transfer(source: ActorRef, target: ActorRef, amount: int) -> TransferOutcome:
    """Move ``amount`` from ``source`` to ``target``: withdraw, then deposit, and deposit back
    to ``source`` if the target refuses. Both legs share a ``transfer:`` correlation id.

    The whole saga is shielded: once the withdrawal may have been sent, stopping half-way would
    leave the money nowhere, so cancelling waits for the transfer to finish (a few ms). A store
    failure (not a ``Rejected``) on a later leg is raised: its outcome is unknown, and the
    audit's transfer check will name the transfer.
    """
    with anyio.CancelScope(shield=True):
        outcome = await _transfer_legs(source, target, amount, f"{TRANSFER_PREFIX}{uuid4()}")
    return outcome


async def _transfer_legs(
    source: ActorRef, target: ActorRef, amount: int, correlation_id: str
) -> TransferOutcome:
    try:
        await ask(source, Withdraw(amount=amount, correlation_id=correlation_id))
    except Rejected:
        return TransferOutcome.REJECTED
    try:
        await ask(target, Deposit(amount=amount, correlation_id=correlation_id))
    except Rejected:
        # Cannot be rejected in turn: the source is open (it just paid) and deposits to an
        # open account always succeed.
        await ask(source, Deposit(amount=amount, correlation_id=correlation_id))
        return TransferOutcome.COMPENSATED
    return TransferOutcome.DONE


async def ask(account: ActorRef, command: Command) -> Committed:
    """``account.ask(command)``, sent again (up to ``RESENDS`` times) if it fails with a
    ``StreamVersionConflict``: with several nodes on one store, the account's actor here may
    lose the race for its stream more often than it retries by itself."""
    for resend in range(RESENDS):
        try:
            committed: Committed = await account.ask(command)
        except StreamVersionConflict:
            await anyio.sleep(random.uniform(0, 0.01 * 2**resend))
        else:
            return committed
    return await account.ask(command)


async def open_accounts(
    rt: Runtime, ids: Sequence[str], clients: int, tally: Tally, tick: Callable[[], None]
) -> None:
    """Open ``ids`` with ``clients`` concurrent clients; an id found already open (another
    process won the race) is passed over."""

    async def client(stripe: Sequence[str]) -> None:
        for account_id in stripe:
            opening = OpenAccount(initial_deposit=OPENING_DEPOSIT)
            try:
                done = await ask(rt.get(Account, account_id), opening)
            except Rejected:
                pass
            else:
                tally.opened += 1
                tally.events += len(done.events)
                tally.money_in += OPENING_DEPOSIT
            tick()

    async with anyio.create_task_group() as tg:
        for i in range(min(clients, len(ids))):
            tg.start_soon(client, ids[i::clients])


async def run_clients(
    rt: Runtime,
    ids: Sequence[str],
    *,
    commands: int,
    clients: int,
    seed: int,
    tally: Tally,
    tick: Callable[[], None],
) -> None:
    """Run ``commands`` random commands against the accounts ``ids`` (at least two) from
    ``clients`` concurrent clients. Client ``i`` draws from its own generator seeded from
    ``seed`` and ``i``, so a seed fixes every client's commands (not their interleaving)."""
    if len(ids) < 2:
        raise ValueError(f"transfers need at least two accounts, got {len(ids)}")
    refs = [rt.get(Account, account_id) for account_id in ids]
    unopened = rt.get(Account, UNOPENED_ACCOUNT)

    async def client(index: int, count: int) -> None:
        rng = random.Random(f"{seed}/{index}")
        for _ in range(count):
            roll = rng.random()
            if roll < DEPOSIT_SHARE:
                await _deposit(rng.choice(refs), rng.randint(1, MAX_DEPOSIT), tally)
            elif roll < DEPOSIT_SHARE + WITHDRAW_SHARE:
                await _withdraw(rng.choice(refs), rng.randint(1, MAX_WITHDRAWAL), tally)
            else:
                source, target = rng.sample(refs, 2)
                if rng.random() < MISDIRECTED_SHARE:
                    target = unopened
                outcome = await transfer(source, target, rng.randint(1, MAX_TRANSFER))
                tally.transfers += 1
                if outcome is not TransferOutcome.DONE:
                    tally.rejected += 1
                if outcome is not TransferOutcome.REJECTED:
                    tally.events += 2  # a withdrawal and a deposit (to the target or back)
                if outcome is TransferOutcome.COMPENSATED:
                    tally.compensated += 1
            tick()

    share, extra = divmod(commands, clients)
    async with anyio.create_task_group() as tg:
        for index in range(clients):
            tg.start_soon(client, index, share + (index < extra))


async def _deposit(account: ActorRef, amount: int, tally: Tally) -> None:
    tally.deposits += 1
    try:
        done = await ask(account, Deposit(amount=amount))
    except Rejected:
        tally.rejected += 1
    else:
        tally.money_in += amount
        tally.events += len(done.events)


async def _withdraw(account: ActorRef, amount: int, tally: Tally) -> None:
    tally.withdrawals += 1
    try:
        done = await ask(account, Withdraw(amount=amount))
    except Rejected:
        tally.rejected += 1
    else:
        tally.money_out += amount
        tally.events += len(done.events)

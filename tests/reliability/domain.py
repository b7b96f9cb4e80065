"""The harness's own small bank: accounts, the commands the clients send, a Balances projection,
and what each command must have stored (the shape a crash must never cut).

Its own rather than ``examples.bank``'s so the harness does not move when the demo does, and so
that one command (``DepositBatch``) writes several events whose count the events themselves
state: an incomplete command can then be recognised from the store alone, acknowledged or not.
"""

from __future__ import annotations

import json

from pydantic import Field, PositiveInt

from actors import Aggregate, Command, Event, Projection, Recorded, Rejected, on

#: Most deposits one ``DepositBatch`` carries.
MAX_BATCH = 6


class OpenAccount(Command):
    """Open the account with an opening deposit (always > 0, so opening writes two events)."""

    opening_deposit: int = Field(gt=0)


class Deposit(Command):
    """Put ``amount`` into an open account."""

    amount: int = Field(gt=0)


class Withdraw(Command):
    """Take ``amount`` out of an open account that holds at least that much."""

    amount: int = Field(gt=0)


class DepositBatch(Command):
    """Several deposits in one command: all of them are stored, or none."""

    amounts: tuple[PositiveInt, ...] = Field(min_length=1, max_length=MAX_BATCH)


class AccountOpened(Event):
    """The account exists from now on; the opening deposit follows as a ``Deposited``."""


class Deposited(Event):
    """``amount`` was added to the balance."""

    amount: int


class Withdrawn(Event):
    """``amount`` was taken from the balance."""

    amount: int


class BatchStarted(Event):
    """The next ``size`` events of the stream are this batch's ``Deposited`` events."""

    size: int


class Account(Aggregate):
    """One account: opened once, then never below zero."""

    opened: bool = False
    balance: int = 0

    @on(OpenAccount)
    def open(self, cmd: OpenAccount) -> list[Event]:
        if self.opened:
            raise Rejected(f"account {self.id} is already open")
        return [AccountOpened(), Deposited(amount=cmd.opening_deposit)]

    @on(Deposit)
    def deposit(self, cmd: Deposit) -> list[Event]:
        self._require_open()
        return [Deposited(amount=cmd.amount)]

    @on(Withdraw)
    def withdraw(self, cmd: Withdraw) -> list[Event]:
        self._require_open()
        if cmd.amount > self.balance:
            raise Rejected(f"insufficient funds in {self.id}: {self.balance} < {cmd.amount}")
        return [Withdrawn(amount=cmd.amount)]

    @on(DepositBatch)
    def deposit_batch(self, cmd: DepositBatch) -> list[Event]:
        self._require_open()
        return [BatchStarted(size=len(cmd.amounts)), *(Deposited(amount=a) for a in cmd.amounts)]

    def _require_open(self) -> None:
        if not self.opened:
            raise Rejected(f"account {self.id} is not open")

    @on(AccountOpened)
    def was_opened(self, e: AccountOpened) -> None:
        self.opened = True

    @on(Deposited)
    def deposited(self, e: Deposited) -> None:
        self.balance += e.amount

    @on(Withdrawn)
    def withdrawn(self, e: Withdrawn) -> None:
        self.balance -= e.amount

    @on(BatchStarted)
    def batch_started(self, e: BatchStarted) -> None:
        pass  # the batch's money arrives with its Deposited events


class Balances(Projection):
    """Balance per account, from the global log: what the checker compares with its own fold."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}

    @on(AccountOpened)
    def opened(self, e: Recorded[AccountOpened]) -> None:
        self.balances.setdefault(e.stream_id, 0)

    @on(Deposited)
    def deposited(self, e: Recorded[Deposited]) -> None:
        self.balances[e.stream_id] = self.balances.get(e.stream_id, 0) + e.data.amount

    @on(Withdrawn)
    def withdrawn(self, e: Recorded[Withdrawn]) -> None:
        self.balances[e.stream_id] = self.balances.get(e.stream_id, 0) - e.data.amount


def expected_types(first_type: str, first_data: bytes) -> list[str] | None:
    """The event types, in order, of the one command whose first stored event has this type
    and JSON data; None if no command of this domain starts that way.

    Read from the stored JSON on purpose (not through the event classes), so the check shares
    nothing with the framework's codec.
    """
    if first_type == "AccountOpened":
        return ["AccountOpened", "Deposited"]
    if first_type == "BatchStarted":
        size = json.loads(first_data)["size"]
        return ["BatchStarted"] + ["Deposited"] * int(size)
    if first_type in ("Deposited", "Withdrawn"):
        return [first_type]
    return None

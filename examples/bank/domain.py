"""The bank's write side: account commands, the events they record, and the Account aggregate."""

from __future__ import annotations

from pydantic import Field

from actors import Aggregate, Command, Event, Rejected, on


class OpenAccount(Command):
    """Open the account, optionally with money already in it."""

    initial_deposit: int = Field(default=0, ge=0)


class Deposit(Command):
    """Put ``amount`` into an open account."""

    amount: int = Field(gt=0)


class Withdraw(Command):
    """Take ``amount`` out of an open account that holds at least that much."""

    amount: int = Field(gt=0)


class AccountOpened(Event):
    """The account exists from now on (its balance starts at 0)."""


class Deposited(Event):
    """``amount`` was added to the account's balance."""

    amount: int


class Withdrawn(Event):
    """``amount`` was taken from the account's balance."""

    amount: int


class Account(Aggregate):
    """One bank account: it must be opened before use and never goes below zero.

    Transfers are not a command here: a client withdraws from one account and deposits to the
    other (see ``workload.transfer``), tagging both legs with one correlation id.
    """

    opened: bool = False
    balance: int = 0

    @on(OpenAccount)
    def open(self, cmd: OpenAccount) -> list[Event]:
        if self.opened:
            raise Rejected(f"account {self.id} is already open")
        # The opening money is an ordinary deposit, so balances are recomputed from two event
        # types only and the total always equals deposits minus withdrawals.
        events: list[Event] = [AccountOpened()]
        if cmd.initial_deposit:
            events.append(Deposited(amount=cmd.initial_deposit))
        return events

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

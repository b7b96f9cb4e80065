"""The esactors side's bank: an Account aggregate and a Balances read model."""

from __future__ import annotations

from time import perf_counter, time

from pydantic import Field

from actors import Aggregate, Command, Event, Projection, Query, Recorded, Rejected, on


class OpenAccount(Command):
    """Open the account (balance 0)."""


class Deposit(Command):
    """Put ``amount`` into an open account."""

    amount: int = Field(gt=0)


class Withdraw(Command):
    """Take ``amount`` out of an open account that holds at least that much."""

    amount: int = Field(gt=0)


class GetBalance(Query[int]):
    """The balance, asked of the aggregate itself (activating it if it was not live)."""


class AccountOpened(Event):
    """The account exists from now on."""


class Deposited(Event):
    """``amount`` was added."""

    amount: int


class Withdrawn(Event):
    """``amount`` was taken out."""

    amount: int


class Account(Aggregate):
    """A bank account that must be opened and never goes below zero."""

    opened: bool = False
    balance: int = 0

    @on(OpenAccount)
    def open(self, cmd: OpenAccount) -> Event:
        if self.opened:
            raise Rejected(f"account {self.id} is already open")
        return AccountOpened()

    @on(Deposit)
    def deposit(self, cmd: Deposit) -> Event:
        if not self.opened:
            raise Rejected(f"account {self.id} is not open")
        return Deposited(amount=cmd.amount)

    @on(Withdraw)
    def withdraw(self, cmd: Withdraw) -> Event:
        if not self.opened:
            raise Rejected(f"account {self.id} is not open")
        if cmd.amount > self.balance:
            raise Rejected(f"insufficient funds in {self.id}")
        return Withdrawn(amount=cmd.amount)

    @on(GetBalance)
    def get_balance(self, q: GetBalance) -> int:
        return self.balance

    @on(AccountOpened)
    def was_opened(self, e: AccountOpened) -> None:
        self.opened = True

    @on(Deposited)
    def deposited(self, e: Deposited) -> None:
        self.balance += e.amount

    @on(Withdrawn)
    def withdrawn(self, e: Withdrawn) -> None:
        self.balance -= e.amount


class GetTotals(Query[dict[str, int]]):
    """Every balance the read model holds."""


class GetClock(Query[dict[int, tuple[float, float]]]):
    """Per applied position: when it was applied (``perf_counter``) and how long that was after
    its commit timestamp (seconds). Empty without a clock."""


class Balances(Projection):
    """Balances by account, from the log. With ``clock=True`` it also notes, per position, when
    it applied it and how long after the commit: that is how the live projection lag is measured.
    """

    def __init__(self, clock: bool = False) -> None:
        self.totals: dict[str, int] = {}
        self.clock: dict[int, tuple[float, float]] | None = {} if clock else None

    def _tick(self, e: Recorded[Event]) -> None:
        if self.clock is not None:
            self.clock[e.position] = (perf_counter(), time() - e.recorded_at.timestamp())

    @on(AccountOpened)
    def opened(self, e: Recorded[AccountOpened]) -> None:
        self.totals[e.stream_id] = 0
        self._tick(e)

    @on(Deposited)
    def deposited(self, e: Recorded[Deposited]) -> None:
        self.totals[e.stream_id] += e.data.amount
        self._tick(e)

    @on(Withdrawn)
    def withdrawn(self, e: Recorded[Withdrawn]) -> None:
        self.totals[e.stream_id] -= e.data.amount
        self._tick(e)

    @on(GetTotals)
    def get_totals(self, q: GetTotals) -> dict[str, int]:
        return dict(self.totals)

    @on(GetClock)
    def get_clock(self, q: GetClock) -> dict[int, tuple[float, float]]:
        return dict(self.clock or {})

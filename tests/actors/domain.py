"""A small bank domain shared by the actors tests."""

from __future__ import annotations

from dataclasses import field

from pydantic import Field

from actors import Aggregate, Command, Event, Projection, Query, Recorded, Rejected, on


class Deposit(Command):
    amount: int = Field(gt=0)


class Withdraw(Command):
    amount: int = Field(gt=0)


class Touch(Command):
    """A command that decides nothing happened."""


class Explode(Command):
    """A command whose handler fails."""


class Deposited(Event):
    amount: int


class Withdrawn(Event):
    amount: int


class Audited(Event):
    """Emitted but not handled by Account: deciding it is a programming error."""


class GetBalance(Query[int]):
    account_id: str


class GetState(Query[int]):
    """Asked of the aggregate itself."""


class GetHistory(Query[list[str]]):
    pass


class Account(Aggregate):
    balance: int = 0
    history: list[str] = field(default_factory=list)

    @on(Deposit)
    def deposit(self, cmd: Deposit) -> list[Event]:
        return [Deposited(amount=cmd.amount)]

    @on(Withdraw)
    def withdraw(self, cmd: Withdraw) -> list[Event]:
        if cmd.amount > self.balance:
            raise Rejected(f"insufficient funds: {self.balance} < {cmd.amount}")
        return [Withdrawn(amount=cmd.amount)]

    @on(Touch)
    def touch(self, cmd: Touch) -> None:
        return None

    @on(Explode)
    def explode(self, cmd: Explode) -> list[Event]:
        raise RuntimeError("boom")

    @on(Deposited)
    def deposited(self, e: Deposited) -> None:
        self.balance += e.amount
        self.history.append(f"+{e.amount}")

    @on(Withdrawn)
    def withdrawn(self, e: Withdrawn) -> None:
        self.balance -= e.amount
        self.history.append(f"-{e.amount}")

    @on(GetState)
    def get_state(self, q: GetState) -> int:
        return self.balance

    @on(GetHistory)
    def get_history(self, q: GetHistory) -> list[str]:
        return list(self.history)


class Balances(Projection):
    def __init__(self) -> None:
        self.totals: dict[str, int] = {}
        self.positions: list[int] = []

    @on(Deposited)
    def deposited(self, e: Recorded[Deposited]) -> None:
        self.totals[e.stream_id] = self.totals.get(e.stream_id, 0) + e.data.amount
        self.positions.append(e.position)

    @on(Withdrawn)
    def withdrawn(self, e: Recorded[Withdrawn]) -> None:
        self.totals[e.stream_id] -= e.data.amount
        self.positions.append(e.position)

    @on(GetBalance)
    def balance(self, q: GetBalance) -> int:
        return self.totals.get(q.account_id, 0)

    @on(GetHistory)
    def seen(self, q: GetHistory) -> list[str]:
        return [str(p) for p in self.positions]

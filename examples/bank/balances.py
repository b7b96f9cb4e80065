"""The bank's read side: the Balances projection and the queries it answers."""

from __future__ import annotations

import heapq
from dataclasses import dataclass

from pydantic import Field

from actors import Projection, Query, Recorded, on

from .domain import AccountOpened, Deposited, Withdrawn


@dataclass(frozen=True, slots=True)
class Totals:
    """Bank-wide figures: ``money`` is the sum of all balances."""

    accounts: int
    money: int
    deposited: int
    withdrawn: int


class GetBalance(Query[int | None]):
    """The balance of one account (None if the read model has never seen it)."""

    account_id: str


class TopBalances(Query[list[tuple[str, int]]]):
    """The ``n`` largest balances as (account id, balance), largest first, ties by id."""

    n: int = Field(default=5, gt=0)


class AllBalances(Query[dict[str, int]]):
    """A copy of every balance, by account id."""


class GetTotals(Query[Totals]):
    """The bank-wide :class:`Totals`."""


class Balances(Projection):
    """Balance per account, kept from the global log in position order."""

    def __init__(self) -> None:
        self.balances: dict[str, int] = {}
        self.opened = 0
        self.deposited = 0
        self.withdrawn = 0

    @on(AccountOpened)
    def account_opened(self, e: Recorded[AccountOpened]) -> None:
        self.balances.setdefault(e.stream_id, 0)
        self.opened += 1

    # .get(..., 0) rather than [...]: a handler that raises stops the projection, and a log
    # shared with other programs (examples/quickstart.py also writes bank.db) may hold money
    # events for streams this demo never opened.
    @on(Deposited)
    def add_deposit(self, e: Recorded[Deposited]) -> None:
        self.balances[e.stream_id] = self.balances.get(e.stream_id, 0) + e.data.amount
        self.deposited += e.data.amount

    @on(Withdrawn)
    def subtract_withdrawal(self, e: Recorded[Withdrawn]) -> None:
        self.balances[e.stream_id] = self.balances.get(e.stream_id, 0) - e.data.amount
        self.withdrawn += e.data.amount

    @on(GetBalance)
    def balance(self, q: GetBalance) -> int | None:
        return self.balances.get(q.account_id)

    @on(TopBalances)
    def top(self, q: TopBalances) -> list[tuple[str, int]]:
        return heapq.nsmallest(q.n, self.balances.items(), key=lambda item: (-item[1], item[0]))

    @on(AllBalances)
    def all_balances(self, q: AllBalances) -> dict[str, int]:
        return dict(self.balances)

    @on(GetTotals)
    def totals(self, q: GetTotals) -> Totals:
        return Totals(
            accounts=self.opened,
            money=sum(self.balances.values()),
            deposited=self.deposited,
            withdrawn=self.withdrawn,
        )

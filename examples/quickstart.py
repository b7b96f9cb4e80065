import anyio
from pydantic import Field

from actors import Aggregate, Command, Event, Projection, Query, Recorded, Rejected, on
from runtime import open_runtime
from stores import SQLiteEventStore


class Deposit(Command):
    amount: int = Field(gt=0)


class Withdraw(Command):
    amount: int = Field(gt=0)


class Deposited(Event):
    amount: int


class Withdrawn(Event):
    amount: int


class GetBalance(Query[int]):
    account_id: str


class Account(Aggregate):
    balance: int = 0

    @on(Deposit)
    def deposit(self, cmd: Deposit) -> list[Event]:
        return [Deposited(amount=cmd.amount)]

    @on(Withdraw)
    def withdraw(self, cmd: Withdraw) -> list[Event]:
        if cmd.amount > self.balance:
            raise Rejected("insufficient funds")
        return [Withdrawn(amount=cmd.amount)]

    @on(Deposited)
    def deposited(self, e: Deposited) -> None:
        self.balance += e.amount

    @on(Withdrawn)
    def withdrawn(self, e: Withdrawn) -> None:
        self.balance -= e.amount


class Balances(Projection):
    def __init__(self) -> None:
        self.totals: dict[str, int] = {}

    @on(Deposited)
    def deposited(self, e: Recorded[Deposited]) -> None:
        self.totals[e.stream_id] = self.totals.get(e.stream_id, 0) + e.data.amount

    @on(Withdrawn)
    def withdrawn(self, e: Recorded[Withdrawn]) -> None:
        self.totals[e.stream_id] -= e.data.amount

    @on(GetBalance)
    def balance(self, q: GetBalance) -> int:
        return self.totals.get(q.account_id, 0)


async def main() -> None:
    async with open_runtime(store=SQLiteEventStore("bank.db")) as rt:
        balances = await rt.spawn(Balances)  # catches up from the log, then follows it live
        account = rt.get(Account, "acc-1")  # a ref; the actor is activated on first message
        await account.tell(Deposit(amount=5))  # fire and forget (waits only for mailbox room)
        done = await account.ask(Deposit(amount=10))  # -> Committed(version, position, events)
        print(await balances.ask(GetBalance(account_id="acc-1"), after=done.position))  # 15


if __name__ == "__main__":
    anyio.run(main)

"""The peer: the same bank on the eventsourcing library (9.5), its documented API, on SQLite.

Synchronous, as the library is: one ``save()`` per command, each its own transaction. Run in a
process of its own. Configuration is by the library's environment variables, read from its
source: ``AGGREGATE_CACHE_MAXSIZE`` (unset: no cache), ``AGGREGATE_CACHE_FASTFORWARD``
(default y: re-read newer events of a cached aggregate on each get), and
``DEEPCOPY_FROM_AGGREGATE_CACHE`` (default y: each get copies the cached aggregate).
"""

from __future__ import annotations

from pathlib import Path
from time import perf_counter
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from .settings import Settings
from .workload import balances_after, schedule


class InsufficientFunds(Exception):
    """A withdrawal larger than the balance."""


class PeerAccount(Aggregate):
    """The bank account, with the library's explicit event classes and ``@event`` methods."""

    class Opened(Aggregate.Created):
        pass

    class Deposited(Aggregate.Event):
        amount: int

    class Withdrawn(Aggregate.Event):
        amount: int

    @event(Opened)
    def __init__(self) -> None:
        self.balance = 0

    def deposit(self, amount: int) -> None:
        """Record a deposit."""
        self._deposited(amount)

    def withdraw(self, amount: int) -> None:
        """Record a withdrawal; refused (nothing recorded) beyond the balance."""
        if amount > self.balance:
            raise InsufficientFunds(f"{self.id}: {self.balance} < {amount}")
        self._withdrawn(amount)

    # The checks stay in the command methods above: an @event body also runs on replay.
    @event(Deposited)
    def _deposited(self, amount: int) -> None:
        self.balance += amount

    @event(Withdrawn)
    def _withdrawn(self, amount: int) -> None:
        self.balance -= amount


class Bank(Application[UUID]):
    """The application service: one repository get and one save per command."""

    #: Pages of 1,000 notifications for the read-model rebuild (the default section is 10).
    log_section_size = 1000

    def open_account(self) -> UUID:
        """Open a new account; its id."""
        account = PeerAccount()
        self.save(account)
        opened: UUID = account.id
        return opened

    def deposit(self, account_id: UUID, amount: int) -> None:
        """Deposit into an account."""
        account: PeerAccount = self.repository.get(account_id)
        account.deposit(amount)
        self.save(account)

    def withdraw(self, account_id: UUID, amount: int) -> None:
        """Withdraw from an account."""
        account: PeerAccount = self.repository.get(account_id)
        account.withdraw(amount)
        self.save(account)

    def balance(self, account_id: UUID) -> int:
        """An account's balance."""
        account: PeerAccount = self.repository.get(account_id)
        return int(account.balance)


def _env(path: Path, **settings: str) -> dict[str, str]:
    return {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path), **settings}


def run_commands(app: Bank, settings: Settings) -> tuple[list[UUID], float]:
    """Open the accounts, then run the workload; the ids and the workload's commands/s."""
    ids = [app.open_account() for _ in range(settings.accounts)]
    steps = schedule(settings.accounts, settings.commands, settings.seed)
    start = perf_counter()
    for step in steps:
        if step.withdraw:
            app.withdraw(ids[step.account], step.amount)
        else:
            app.deposit(ids[step.account], step.amount)
    rate = len(steps) / (perf_counter() - start)
    expected = balances_after(settings.accounts, steps)
    if [app.balance(i) for i in ids] != expected:
        raise AssertionError("peer: the balances do not match the workload")
    return ids, rate


def synchronous_setting(app: Application[Any]) -> int:
    """``PRAGMA synchronous`` on the library's own connection (2 = FULL: fsync every commit)."""
    datastore: Any = getattr(app.recorder, "datastore")  # noqa: B009 - SQLite recorders only
    with datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        return int(cursor.fetchone()[0])


def rebuild(app: Bank) -> tuple[dict[UUID, int], int]:
    """An in-memory read model of balances from the notification log; and how many events."""
    totals: dict[UUID, int] = {}
    count = 0
    start = 1
    while True:
        notifications = app.notification_log.select(start, app.log_section_size)
        for notification in notifications:
            domain_event = app.mapper.to_domain_event(notification)
            if isinstance(domain_event, PeerAccount.Deposited):
                totals[domain_event.originator_id] += domain_event.amount
            elif isinstance(domain_event, PeerAccount.Withdrawn):
                totals[domain_event.originator_id] -= domain_event.amount
            elif isinstance(domain_event, PeerAccount.Opened):
                totals[domain_event.originator_id] = 0
        count += len(notifications)
        if len(notifications) < app.log_section_size:
            return totals, count
        start = notifications[-1].id + 1


def measure(settings: Settings, directory: Path) -> dict[str, float]:
    """Run the peer once on new SQLite files in ``directory``; its figures."""
    figures: dict[str, float] = {}
    cache = str(settings.accounts)  # every account fits

    cached = Bank(env=_env(directory / "peer-cached.db", AGGREGATE_CACHE_MAXSIZE=cache))
    _, figures["commands_per_s_cached"] = run_commands(cached, settings)
    cached.close()

    fastest_path = directory / "peer-fastest.db"
    fastest = Bank(
        env=_env(
            fastest_path,
            AGGREGATE_CACHE_MAXSIZE=cache,
            AGGREGATE_CACHE_FASTFORWARD="n",
            DEEPCOPY_FROM_AGGREGATE_CACHE="n",
        )
    )
    figures["sqlite_synchronous"] = synchronous_setting(fastest)
    ids, figures["commands_per_s_fastest"] = run_commands(fastest, settings)
    expected = {i: fastest.balance(i) for i in ids}
    fastest.close()

    # A new application without a cache: every get replays the aggregate's events.
    uncached = Bank(env=_env(fastest_path))
    events = uncached.recorder.max_notification_id() or 0
    start = perf_counter()
    replayed: list[PeerAccount] = [uncached.repository.get(i) for i in ids]
    figures["reconstruct_events_per_s"] = events / (perf_counter() - start)
    if {a.id: a.balance for a in replayed} != expected:
        raise AssertionError("peer: reconstructed balances do not match the workload")

    start = perf_counter()
    totals, count = rebuild(uncached)
    figures["rebuild_events_per_s"] = count / (perf_counter() - start)
    if totals != expected or count != events:
        raise AssertionError("peer: the rebuilt read model does not match the workload")
    uncached.close()
    return figures

"""What the fault, stateful and overload tests check after each step, against the store itself.

The state each account should have is folded here from the stored JSON (not through the
framework's codec or handlers), so a check shares nothing with the code it checks. The
aggregate under test is the harness's ``domain.Account``, with a query added so the live actor
can report its state.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from actors import Committed, Query, on
from runtime import ActorRef, Runtime
from stores import EventStore, RecordedEvent

from . import domain


@dataclass(frozen=True, slots=True)
class AccountView:
    """What an account is: open or not, its balance, and its stream's version."""

    opened: bool = False
    balance: int = 0
    version: int = 0


class GetAccount(Query[AccountView]):
    """Asked of an account's actor: its state as it holds it in memory."""


class GetBalances(Query[dict[str, int]]):
    """Asked of a :class:`CheckedBalances` projection: every balance it holds."""


class Account(domain.Account):
    """The harness's account, answering :class:`GetAccount` from its live state."""

    @on(GetAccount)
    def view(self, q: GetAccount) -> AccountView:
        return AccountView(self.opened, self.balance, self.version)


class CheckedBalances(domain.Balances):
    """The harness's balances projection, answering :class:`GetBalances`."""

    @on(GetBalances)
    def all(self, q: GetBalances) -> dict[str, int]:
        return dict(self.balances)


async def stored(store: EventStore) -> list[RecordedEvent]:
    """The whole global log, read page by page."""
    found: list[RecordedEvent] = []
    while page := await store.read_all(after=found[-1].position if found else 0, limit=1000):
        found.extend(page)
    return found


def fold(log: Iterable[RecordedEvent]) -> dict[str, AccountView]:
    """Each stream's account state, folded from the raw JSON of the log."""
    views: dict[str, AccountView] = {}
    for e in log:
        view = views.get(e.stream_id, AccountView())
        amount = int(json.loads(e.data).get("amount", 0))
        opened = view.opened or e.type == "AccountOpened"
        balance = view.balance + (amount if e.type == "Deposited" else 0)
        balance -= amount if e.type == "Withdrawn" else 0
        assert balance >= 0, f"{e.stream_id} went below zero at version {e.version}"
        views[e.stream_id] = AccountView(opened, balance, e.version)
    return views


def check_log(log: Sequence[RecordedEvent]) -> None:
    """Positions run 1..N; each stream's versions run 1..n; each command's events (one
    causation id) are one append: one stream, consecutive versions, stored once; an idempotency
    key is committed by one command per stream; no balance ever below zero."""
    assert [e.position for e in log] == list(range(1, len(log) + 1)), "positions have a gap"
    versions: dict[str, list[int]] = {}
    commands: dict[str, list[RecordedEvent]] = {}
    keys: dict[tuple[str, str], set[str]] = {}
    for e in log:
        versions.setdefault(e.stream_id, []).append(e.version)
        cause = e.metadata.get("causation_id", "")
        commands.setdefault(cause, []).append(e)
        key = e.metadata.get("idempotency_key")
        if key is not None:
            keys.setdefault((e.stream_id, key), set()).add(cause)
    for stream, seen in versions.items():
        assert seen == list(range(1, len(seen) + 1)), f"versions of {stream} have a gap: {seen}"
    for cause, events in commands.items():
        assert len({e.stream_id for e in events}) == 1, f"command {cause} wrote two streams"
        got = [e.version for e in events]
        assert got == list(range(got[0], got[0] + len(got))), f"command {cause} stored twice?"
        assert _shape_ok(events), f"command {cause} stored {[e.type for e in events]}"
    for (stream, key), causes in keys.items():
        assert len(causes) == 1, f"key {key!r} of {stream} committed by {len(causes)} commands"
    fold(log)


def _shape_ok(events: Sequence[RecordedEvent]) -> bool:
    first = events[0]
    return domain.expected_types(first.type, first.data) == [e.type for e in events]


def check_acknowledged(log: Sequence[RecordedEvent], replies: Iterable[Committed]) -> None:
    """Every ``Committed`` a caller got is stored where it said, event by event."""
    for done in replies:
        for event in done.events:
            assert event.position <= len(log), f"acknowledged position {event.position} lost"
            there = log[event.position - 1]
            assert (there.event_id, there.stream_id, there.version) == (
                event.event_id,
                event.stream_id,
                event.version,
            ), f"acknowledged {event!r} is not what the store holds"
        assert done.position <= len(log)


def check_absent(log: Sequence[RecordedEvent], command_ids: Iterable[str]) -> None:
    """None of these commands (refused, or failed before storing) stored anything."""
    causes = {e.metadata.get("causation_id") for e in log}
    found = causes.intersection(command_ids)
    assert not found, f"commands that stored nothing by their outcome are stored: {found}"


def check_present(log: Sequence[RecordedEvent], command_ids: Iterable[str]) -> None:
    """Each of these commands (committed, reply lost) is stored."""
    causes = {e.metadata.get("causation_id") for e in log}
    missing = set(command_ids) - causes
    assert not missing, f"commands that committed are not stored: {missing}"


async def consistent(
    rt: Runtime,
    store: EventStore,
    ids: Sequence[str],
    *,
    acked: Sequence[Committed] = (),
    absent: Sequence[str] = (),
    balances: ActorRef | None = None,
) -> dict[str, AccountView]:
    """Check every invariant now: the live accounts ``ids`` of ``rt`` hold what the log of
    ``store`` says, the log is well formed, ``acked`` are stored and ``absent`` are not, and
    the projection ``balances`` (if given) agrees once it reached the log's end. Returns the
    accounts as the store says they are."""
    # Ask the actors first: a command still in a mailbox (its caller timed out) is then done.
    live = {key: await rt.get(Account, key).ask(GetAccount(), timeout=5) for key in ids}
    log = await stored(store)
    check_log(log)
    truth = fold(log)
    for key in ids:
        assert live[key] == truth.get(key, AccountView()), f"{key}: actor and store disagree"
    check_acknowledged(log, acked)
    check_absent(log, absent)
    if balances is not None:
        seen = await balances.ask(GetBalances(), after=len(log), timeout=5)
        assert seen == {key: view.balance for key, view in truth.items()}
    return truth

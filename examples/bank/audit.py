"""The consistency check: balances recomputed from the stored events alone, compared with what
the read model says.

The recomputation deliberately shares nothing with the projection or the framework's codec: it
pages through ``store.read_all`` and reads the JSON itself, so a bug in either shows up here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from stores import EventStore

from .balances import Totals
from .domain import AccountOpened, Deposited, Withdrawn
from .workload import TRANSFER_PREFIX

#: How many mismatching accounts a report names before it just counts them.
SHOWN = 5


@dataclass
class Ledger:
    """Figures recomputed from the stored events."""

    balances: dict[str, int] = field(default_factory=dict)
    deposited: int = 0
    withdrawn: int = 0
    #: Global position of the last event read.
    position: int = 0
    #: "account at position p: balance b" for every moment an account went below zero.
    overdrafts: list[str] = field(default_factory=list)
    #: Transfer correlation id -> money its legs created (> 0) or destroyed (< 0), if not 0.
    unbalanced_transfers: dict[str, int] = field(default_factory=dict)

    @property
    def money(self) -> int:
        """Total money the events say the bank holds."""
        return self.deposited - self.withdrawn


async def recompute(store: EventStore, *, until: int, page: int = 1000) -> Ledger:
    """Replay the global log up to position ``until`` into a :class:`Ledger`, ``page`` events
    per read. Cancelling it just stops reading."""
    ledger = Ledger()
    transfers: dict[str, int] = {}
    balances = ledger.balances
    while ledger.position < until:
        batch = await store.read_all(
            after=ledger.position, limit=min(page, until - ledger.position)
        )
        if not batch:
            break  # fewer events than ``until``: compare() reports it
        for record in batch:
            ledger.position = record.position
            if record.type == AccountOpened.type_name:
                balances.setdefault(record.stream_id, 0)
                continue
            if record.type == Deposited.type_name:
                sign = 1
            elif record.type == Withdrawn.type_name:
                sign = -1
            else:
                continue  # another program's event in a shared log
            amount = int(json.loads(record.data)["amount"])
            balance = balances[record.stream_id] = balances.get(record.stream_id, 0) + sign * amount
            if sign > 0:
                ledger.deposited += amount
            else:
                ledger.withdrawn += amount
                if balance < 0:
                    ledger.overdrafts.append(
                        f"{record.stream_id} at position {record.position}: balance {balance}"
                    )
            correlation = record.metadata.get("correlation_id")
            if isinstance(correlation, str) and correlation.startswith(TRANSFER_PREFIX):
                transfers[correlation] = transfers.get(correlation, 0) + sign * amount
    ledger.unbalanced_transfers = {k: v for k, v in transfers.items() if v}
    return ledger


def compare(ledger: Ledger, position: int, balances: dict[str, int], totals: Totals) -> list[str]:
    """What disagrees between the ``ledger`` and the read model's ``balances`` and ``totals``
    (both read at ``position``); empty when all agree."""
    problems: list[str] = []
    if ledger.position != position:
        problems.append(
            f"the read model is at position {position}, the store ends at {ledger.position}"
        )
    differ = sorted(
        account
        for account in balances.keys() | ledger.balances.keys()
        if balances.get(account) != ledger.balances.get(account)
    )
    if differ:
        shown = ", ".join(
            f"{a}: read model {balances.get(a)}, events {ledger.balances.get(a)}"
            for a in differ[:SHOWN]
        )
        more = f" and {len(differ) - SHOWN} more" if len(differ) > SHOWN else ""
        problems.append(
            f"balances differ from the events for {len(differ)} accounts ({shown}{more})"
        )
    if totals.money != ledger.money:
        problems.append(
            f"total money {totals.money} != deposits {ledger.deposited} - withdrawals "
            f"{ledger.withdrawn} = {ledger.money}"
        )
    if (totals.deposited, totals.withdrawn) != (ledger.deposited, ledger.withdrawn):
        problems.append(
            f"read model counts deposits {totals.deposited} and withdrawals {totals.withdrawn}, "
            f"the events {ledger.deposited} and {ledger.withdrawn}"
        )
    if ledger.overdrafts:
        problems.append(f"overdrafts: {len(ledger.overdrafts)}, first {ledger.overdrafts[0]}")
    if ledger.unbalanced_transfers:
        first, net = next(iter(ledger.unbalanced_transfers.items()))
        problems.append(
            f"transfers that created or destroyed money: {len(ledger.unbalanced_transfers)}, "
            f"first {first} ({net:+})"
        )
    return problems

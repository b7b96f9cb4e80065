"""The bank demo: ``python -m examples.bank`` (or ``make demo``, ``make demo-cluster``).

Accounts are event-sourced aggregates (on SQLite by default, on any store by URL, in one
process or several), many concurrent clients deposit, withdraw and transfer, a ``Balances``
projection keeps the read model, and at the end the read model is checked against balances
recomputed from the stored events.
"""

from .balances import AllBalances, Balances, GetBalance, GetTotals, TopBalances, Totals
from .cli import main
from .demo import Summary, run_demo
from .domain import (
    Account,
    AccountOpened,
    Deposit,
    Deposited,
    OpenAccount,
    Withdraw,
    Withdrawn,
)
from .workload import transfer

__all__ = [
    "Account",
    "AccountOpened",
    "AllBalances",
    "Balances",
    "Deposit",
    "Deposited",
    "GetBalance",
    "GetTotals",
    "OpenAccount",
    "Summary",
    "TopBalances",
    "Totals",
    "Withdraw",
    "Withdrawn",
    "main",
    "run_demo",
    "transfer",
]

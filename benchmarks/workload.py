"""The workload both sides run: commands in rounds over every account, in a seeded order."""

from __future__ import annotations

import random
from typing import NamedTuple

DEPOSIT = 10
WITHDRAWAL = 1
#: Every fourth round withdraws; the three deposits before it keep every balance above zero,
#: so no command is rejected and both sides store one event per command.
WITHDRAW_EVERY = 4


class Step(NamedTuple):
    """One command of the workload: which account, and deposit or withdraw."""

    account: int
    withdraw: bool

    @property
    def amount(self) -> int:
        """The amount moved (a deposit's or a withdrawal's)."""
        return WITHDRAWAL if self.withdraw else DEPOSIT


def account_id(index: int) -> str:
    """The stream id of account ``index`` on the esactors side."""
    return f"acc-{index:06d}"


def schedule(accounts: int, commands: int, seed: int) -> list[Step]:
    """``commands`` steps in rounds: each round visits every account once in a shuffled order;
    every fourth round withdraws 1, the others deposit 10. The last round may be partial."""
    rng = random.Random(seed)
    order = list(range(accounts))
    steps: list[Step] = []
    round_number = 0
    while len(steps) < commands:
        rng.shuffle(order)
        withdraw = round_number % WITHDRAW_EVERY == WITHDRAW_EVERY - 1
        steps.extend(Step(index, withdraw) for index in order[: commands - len(steps)])
        round_number += 1
    return steps


def balances_after(accounts: int, steps: list[Step]) -> list[int]:
    """What every balance must be after ``steps``, to check that each side really did the work."""
    balances = [0] * accounts
    for step in steps:
        balances[step.account] += -step.amount if step.withdraw else step.amount
    return balances

"""The sizes of one benchmark run, shared by the parent and every worker process."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    """What every part of the benchmark runs: the same accounts and commands on each side.

    ``clients`` is the concurrency of the main esactors run (throughput, latency, lag);
    ``few_clients`` that of the second latency run. ``idle_aggregates`` is how many live
    aggregates the memory figure activates. ``seed`` fixes the shuffled order of each round.
    ``gc_threshold``, if not 0, is set as the cyclic GC's youngest-generation threshold
    (``gc.set_threshold(n, 10, 10)``; Python's default is 700) in every part's process, the
    peer's included: a tuning an application may choose, measured apart from the defaults.

    The PostgreSQL part runs the same accounts and clients with ``pg_commands`` commands (the
    same number by default; the peer's one transaction per command makes its runs the longest
    there), and its multi-node figure runs ``nodes`` node processes on one schema.
    """

    accounts: int = 1_000
    commands: int = 20_000
    clients: int = 1_000
    few_clients: int = 100
    idle_aggregates: int = 100_000
    pg_commands: int = 20_000
    nodes: int = 3
    seed: int = 2024
    gc_threshold: int = 0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "gc_threshold" and value < 0:
                raise ValueError(f"gc_threshold must be 0 (Python's default) or more, got {value}")
            if field.name not in ("seed", "gc_threshold") and value < 1:
                raise ValueError(f"{field.name} must be at least 1, got {value}")
        if self.nodes > min(self.accounts, self.pg_commands):
            raise ValueError(
                f"nodes ({self.nodes}) must not exceed accounts ({self.accounts}) nor "
                f"pg_commands ({self.pg_commands}): in the multi-node figure each node has "
                "accounts and commands of its own"
            )

    def to_json(self) -> str:
        """The settings as JSON, to hand to a worker process."""
        return json.dumps(dataclasses.asdict(self))

    def on_postgres(self) -> Settings:
        """These settings with the PostgreSQL part's number of commands."""
        return dataclasses.replace(self, commands=self.pg_commands)

    @classmethod
    def from_json(cls, text: str) -> Settings:
        """The settings a parent process handed over with :meth:`to_json`."""
        return cls(**json.loads(text))


#: ``--quick``: tiny sizes that run every part in a few seconds (smoke tests, a first look).
QUICK = Settings(
    accounts=20,
    commands=200,
    clients=20,
    few_clients=5,
    idle_aggregates=500,
    pg_commands=200,
    nodes=3,
    seed=2024,
)

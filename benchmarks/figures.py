"""What the table shows: each row's figures on both sides, and the issue's target for it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .settings import Settings


@dataclass(frozen=True)
class Target:
    """A goal from the issue, judged on the medians of the run."""

    text: str
    #: (esactors median, peer median or None) -> met?
    check: Callable[[float, float | None], bool]


def at_least_times_peer(times: float) -> Target:
    """esactors at least ``times`` the peer."""
    return Target(
        f">= {times:g}x peer", lambda ours, theirs: theirs is not None and ours >= times * theirs
    )


def at_most(limit: float, unit: str) -> Target:
    """esactors at most ``limit``."""
    return Target(f"<= {limit:,g} {unit}", lambda ours, _: ours <= limit)


def at_least(limit: float, unit: str) -> Target:
    """esactors at least ``limit``."""
    return Target(f">= {limit:,g} {unit}", lambda ours, _: ours >= limit)


@dataclass(frozen=True)
class Row:
    """One line of the table: figure keys (``part.name``) for each side, their unit, a target."""

    label: str
    ours: str
    theirs: str | None
    unit: str
    target: Target | None = None


def rows(settings: Settings) -> list[Row]:
    """The table's rows, labelled with the run's sizes: SQLite's, then PostgreSQL's."""
    return sqlite_rows(settings) + postgres_rows(settings)


def sqlite_rows(settings: Settings) -> list[Row]:
    """The rows of the SQLite part (and the idle-memory figure)."""
    many, few = f"{settings.clients:,}", f"{settings.few_clients:,}"
    return [
        Row(
            f"commands/s, {many} clients (peer: cache, no fastforward/deepcopy)",
            "esactors.commands_per_s",
            "peer.commands_per_s_fastest",
            "/s",
            at_least_times_peer(10),
        ),
        Row(
            f"commands/s, {many} clients (peer: default cache)",
            "esactors.commands_per_s",
            "peer.commands_per_s_cached",
            "/s",
        ),
        Row(f"commands/s, {few} clients", "esactors.commands_per_s_few", None, "/s"),
        Row(f"ask latency p50, {many} clients, ms", "esactors.ask_p50_ms_many", None, "ms"),
        Row(f"ask latency p99, {many} clients, ms", "esactors.ask_p99_ms_many", None, "ms"),
        Row(f"ask latency p50, {few} clients, ms", "esactors.ask_p50_ms_few", None, "ms"),
        Row(
            f"ask latency p99, {few} clients, ms",
            "esactors.ask_p99_ms_few",
            None,
            "ms",
            at_most(10, "ms"),
        ),
        Row(
            f"activate {settings.accounts:,} aggregates, events/s (peer: get, no cache)",
            "esactors.activation_events_per_s",
            "peer.reconstruct_events_per_s",
            "/s",
            at_least_times_peer(10),
        ),
        Row(
            "read-model rebuild from the log, events/s",
            "esactors.rebuild_events_per_s",
            "peer.rebuild_events_per_s",
            "/s",
            at_least(200_000, "events/s"),
        ),
        Row(
            "projection lag p99 after the reply, ms",
            "esactors.lag_after_reply_p99_ms",
            None,
            "ms",
            at_most(50, "ms"),
        ),
        Row("projection lag p50 from commit timestamp, ms", "esactors.lag_p50_ms", None, "ms"),
        Row("projection lag p99 from commit timestamp, ms", "esactors.lag_p99_ms", None, "ms"),
        Row(
            f"RSS per idle live aggregate, bytes ({settings.idle_aggregates:,} live)",
            "esactors.idle_bytes_per_aggregate",
            None,
            "B",
            at_most(5_000, "B"),
        ),
        Row(
            "commands/s as % of raw executemany ceiling",
            "esactors.ceiling_percent",
            "peer.ceiling_percent",
            "%",
            at_least(25, "%"),
        ),
    ]


def postgres_rows(settings: Settings) -> list[Row]:
    """The rows of the PostgreSQL part: esactors and the peer, then several nodes."""
    many, nodes = f"{settings.clients:,}", settings.nodes
    each = f"{max(1, settings.clients // nodes):,}"
    size = "" if settings.pg_commands == settings.commands else f", {settings.pg_commands:,} cmds"
    table = [
        Row(
            f"PG: commands/s, {many} clients{size} (peer: cache, no fastforward/deepcopy)",
            "pg-esactors.commands_per_s",
            "pg-peer.commands_per_s_fastest",
            "/s",
        ),
        Row(
            "PG: commands/s (peer: same + POSTGRES_ENABLE_DB_FUNCTIONS=y, no table lock)",
            "pg-esactors.commands_per_s",
            "pg-peer.commands_per_s_functions",
            "/s",
        ),
        Row(f"PG: ask latency p50, {many} clients, ms", "pg-esactors.ask_p50_ms_many", None, "ms"),
        Row(f"PG: ask latency p99, {many} clients, ms", "pg-esactors.ask_p99_ms_many", None, "ms"),
        Row(
            f"PG: activate {settings.accounts:,} aggregates, events/s (peer: get, no cache)",
            "pg-esactors.activation_events_per_s",
            "pg-peer.reconstruct_events_per_s",
            "/s",
        ),
        Row(
            "PG: read-model rebuild from the log, events/s",
            "pg-esactors.rebuild_events_per_s",
            "pg-peer.rebuild_events_per_s",
            "/s",
        ),
        Row(
            "PG: projection lag p99 from commit timestamp, ms", "pg-esactors.lag_p99_ms", None, "ms"
        ),
    ]
    for variant, what in (("disjoint", "disjoint accounts"), ("shared", "same accounts")):
        table.append(
            Row(
                f"PG, {nodes} nodes x {each} clients, {what}: total commands/s",
                f"pg-nodes.{variant}_total_commands_per_s",
                None,
                "/s",
            )
        )
        table += [
            Row(
                f"PG, {nodes} nodes, {what}: node {number} commands/s",
                f"pg-nodes.{variant}_node{number}_commands_per_s",
                None,
                "/s",
            )
            for number in range(1, nodes + 1)
        ]
    table.append(
        Row(
            f"PG, {nodes} nodes, same accounts: version conflicts per command",
            "pg-nodes.shared_conflicts_per_command",
            None,
            "/cmd",
        )
    )
    return table


#: The raw ceilings, printed under the table.
CEILINGS = (
    ("sqlite3 executemany, 1,000 rows per transaction", "raw.executemany_rows_per_s"),
    ("sqlite3 one row per transaction", "raw.commit_per_row_rows_per_s"),
)


def derive(run: dict[str, float]) -> None:
    """Add the figures computed from others of the same run (shares of the raw ceiling)."""
    ceiling = run.get("raw.executemany_rows_per_s")
    if not ceiling:
        return
    for side, key in (
        ("esactors", "esactors.commands_per_s"),
        ("peer", "peer.commands_per_s_fastest"),
    ):
        if key in run:
            run[f"{side}.ceiling_percent"] = 100 * run[key] / ceiling

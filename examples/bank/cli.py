"""The command line: ``python -m examples.bank [--db PATH | --store URL] [--nodes N] ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from functools import partial

import anyio
import structlog

from stores import MemoryEventStore, StoreError

from .cluster import ClusterSummary, run_cluster
from .demo import Summary, run_demo
from .where import describe, erase, store_for


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo with the given arguments and print its summary. The exit status is 0 when
    the consistency check passed, 1 when it found a mismatch or the store failed, 2 for bad
    arguments, 130 when interrupted."""
    parser = _parser()
    args = parser.parse_args(argv)
    where: str = args.store if args.store is not None else args.db
    try:
        store = store_for(where)
    except ValueError as exc:
        parser.error(str(exc))
    except ModuleNotFoundError as exc:  # the driver of an optional store
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.nodes > 1 and isinstance(store, MemoryEventStore):
        parser.error("--nodes needs a store the node processes can share, not memory://")
    # The application's choice, not the library's: only warnings and errors from esactors,
    # on stderr with the progress bar, so stdout holds just the summary.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    clients = f"{args.clients:,} clients" + (
        f" on each of {args.nodes} nodes" if args.nodes > 1 else ""
    )
    print(
        f"bank demo: {args.accounts:,} accounts, {args.commands:,} commands, "
        f"{clients}, store {describe(where)}",
        flush=True,
    )
    options = {
        "accounts": args.accounts,
        "commands": args.commands,
        "clients": args.clients,
        "seed": args.seed,
        "quiet": args.quiet,
    }
    summary: Summary | ClusterSummary
    try:
        if args.fresh:
            anyio.run(erase, where)
        if args.nodes > 1:
            summary = anyio.run(partial(run_cluster, where, args.nodes, **options))
        else:
            summary = anyio.run(partial(run_demo, where, **options))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except (StoreError, ValueError, RuntimeError) as exc:
        # Most often a store that cannot be opened: say so without a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(summary) if isinstance(summary, Summary) else report_cluster(summary))
    return 0 if summary.consistent else 1


def report(summary: Summary) -> str:
    """The summary as the lines the CLI prints."""
    s = summary
    totals = s.totals
    lines = [
        f"seed:              {s.seed} (--seed {s.seed} repeats these commands)",
        f"accounts:          {s.accounts:,} open ({s.opened:,} opened by this run)",
        f"commands run:      {s.commands:,} (deposits {s.deposits:,}, withdrawals "
        f"{s.withdrawals:,}, transfers {s.transfers:,})",
        f"commands/s:        {s.commands_per_second:,.0f} ({s.command_seconds:.2f} s)",
        f"rejected:          {s.rejected:,} (counted, not errors; {s.compensated:,} transfers "
        "to an unopened account compensated)",
        f"events stored:     {s.events_stored:,} ({s.events_stored - s.events_before:+,} this run)",
        f"total money:       {totals.money:,} = deposits {totals.deposited:,} - withdrawals "
        f"{totals.withdrawn:,}",
        f"top {len(s.top)} balances (read model, after position {s.events_stored:,}):",
        *(
            f"  {rank}. {account}  {balance:>12,}"
            for rank, (account, balance) in enumerate(s.top, 1)
        ),
        f"timings:           opening {s.open_seconds:.2f} s, commands {s.command_seconds:.2f} s, "
        f"check {s.check_seconds:.2f} s",
    ]
    if s.consistent:
        lines.append("consistency check: OK (read model = events recomputed from the store)")
    else:
        lines.append("consistency check: MISMATCH")
        lines.extend(f"  - {problem}" for problem in s.problems)
    return "\n".join(lines)


def report_cluster(summary: ClusterSummary) -> str:
    """A cluster run's summary as the lines the CLI prints."""
    s = summary
    t = s.tally
    totals = s.totals
    lines = [
        f"seed:              {s.seed} (--seed {s.seed} repeats these commands)",
        f"nodes:             {len(s.nodes)} processes, {s.clients:,} clients each, "
        "all on the same accounts",
        *(
            f"  node {n.index}:  {n.tally.commands:>9,} commands  {n.commands_per_second:>8,.0f}/s "
            f"({n.command_seconds:.2f} s)  rejected {n.tally.rejected:,}  "
            f"version conflicts {n.conflicts:,} (retried)"
            for n in s.nodes
        ),
        f"  total:   {t.commands:>9,} commands  {s.commands_per_second:>8,.0f}/s "
        f"({s.command_seconds:.2f} s wall clock)",
        f"accounts:          {s.accounts:,} open ({s.opened:,} opened by this run)",
        f"commands run:      {t.commands:,} (deposits {t.deposits:,}, withdrawals "
        f"{t.withdrawals:,}, transfers {t.transfers:,})",
        f"rejected:          {t.rejected:,} (counted, not errors; {t.compensated:,} transfers "
        "to an unopened account compensated)",
        f"events stored:     {s.events_stored:,} ({s.events_stored - s.events_before:+,} this run)",
        f"total money:       {totals.money:,} = deposits {totals.deposited:,} - withdrawals "
        f"{totals.withdrawn:,}",
        f"top {len(s.top)} balances (node 1's read model, after position {s.events_stored:,}):",
        *(
            f"  {rank}. {account}  {balance:>12,}"
            for rank, (account, balance) in enumerate(s.top, 1)
        ),
        f"timings:           opening {s.open_seconds:.2f} s, commands {s.command_seconds:.2f} s, "
        f"check {s.check_seconds:.2f} s",
    ]
    if s.consistent:
        lines.append(
            f"consistency check: OK (each of the {len(s.nodes)} nodes' read models = events "
            "recomputed from the store; the nodes' tallies add up to the store's growth)"
        )
    else:
        lines.append("consistency check: MISMATCH")
        lines.extend(f"  - {problem}" for problem in s.problems)
    return "\n".join(lines)


def _at_least(low: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m examples.bank",
        description="Bank demo: accounts as event-sourced actors, a Balances read model, and a "
        "consistency check. Running it again continues from the stored state.",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--db", metavar="PATH", default="bank.db", help="SQLite file (default: %(default)s)"
    )
    where.add_argument(
        "--store",
        metavar="URL",
        help="a store URL instead: memory://, sqlite:///relative.db, sqlite:////absolute.db, "
        "postgresql://user@host:5432/database?schema=bank_demo",
    )
    parser.add_argument(
        "--nodes",
        metavar="N",
        type=_at_least(1),
        default=1,
        help="node processes sharing the store, each with its own runtime, clients and read "
        "model, all on the same accounts; --commands is split between them (default: "
        "%(default)s)",
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="erase the demo's events first (the SQLite file, or the PostgreSQL schema, which "
        "must not be public)",
    )
    # Two at least: a transfer needs a source and a different target.
    parser.add_argument(
        "--accounts", metavar="N", type=_at_least(2), default=1000, help="default: %(default)s"
    )
    parser.add_argument(
        "--commands",
        metavar="M",
        type=_at_least(1),
        default=20_000,
        help="deposits, withdrawals and transfers to run (default: %(default)s)",
    )
    parser.add_argument(
        "--clients",
        metavar="C",
        type=_at_least(1),
        default=200,
        help="concurrent clients sending them, per node (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="fixes the commands (default: a random one)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser

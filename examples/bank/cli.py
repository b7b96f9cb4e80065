"""The command line: ``python -m examples.bank [--db PATH] [--accounts N] ...``."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from functools import partial

import anyio
import structlog

from stores import StoreError

from .demo import Summary, run_demo


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo with the given arguments and print its summary. The exit status is 0 when
    the consistency check passed, 1 when it found a mismatch or the store failed, 2 for bad
    arguments, 130 when interrupted."""
    args = _parser().parse_args(argv)
    # The application's choice, not the library's: only warnings and errors from esactors,
    # on stderr with the progress bar, so stdout holds just the summary.
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )
    print(
        f"bank demo: {args.accounts:,} accounts, {args.commands:,} commands, "
        f"{args.clients:,} clients, store {args.db}",
        flush=True,
    )
    demo = partial(
        run_demo,
        args.db,
        accounts=args.accounts,
        commands=args.commands,
        clients=args.clients,
        seed=args.seed,
        quiet=args.quiet,
    )
    try:
        summary = anyio.run(demo)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except StoreError as exc:
        # Most often a --db path that cannot be opened: say so without a traceback.
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(summary))
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
        description="Bank demo: accounts as event-sourced actors on SQLite, a Balances read "
        "model, and a consistency check. Running it again continues from the stored state.",
    )
    parser.add_argument(
        "--db", metavar="PATH", default="bank.db", help="SQLite file (default: %(default)s)"
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
        help="concurrent clients sending them (default: %(default)s)",
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="fixes the commands (default: a random one)"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser

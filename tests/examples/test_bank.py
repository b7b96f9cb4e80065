"""The bank demo (examples/bank): its domain, its consistency check, and runs end to end."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import types
from pathlib import Path

import pytest
from pydantic import ValidationError

import examples.bank
from actors import Rejected, load
from examples.bank import (
    Account,
    AllBalances,
    Balances,
    Deposit,
    GetBalance,
    GetTotals,
    OpenAccount,
    Withdraw,
    main,
    run_demo,
    transfer,
)
from examples.bank.audit import compare, recompute
from examples.bank.cli import report
from examples.bank.workload import TRANSFER_PREFIX, TransferOutcome
from runtime import open_runtime
from stores import MemoryEventStore, SQLiteEventStore

ROOT = Path(__file__).resolve().parents[2]


def test_amounts_must_be_positive() -> None:
    with pytest.raises(ValidationError):
        Deposit(amount=0)
    with pytest.raises(ValidationError):
        Withdraw(amount=-5)


@pytest.mark.anyio
async def test_an_account_refuses_use_before_opening_overdrafts_and_a_second_opening() -> None:
    async with open_runtime(store=MemoryEventStore()) as rt:
        account = rt.get(Account, "acc-1")
        with pytest.raises(Rejected, match="not open"):
            await account.ask(Deposit(amount=5))
        await account.ask(OpenAccount(initial_deposit=10))
        with pytest.raises(Rejected, match="insufficient funds"):
            await account.ask(Withdraw(amount=11))
        with pytest.raises(Rejected, match="already open"):
            await account.ask(OpenAccount())
        done = await account.ask(Withdraw(amount=10))
        assert done.version == 3  # opened, opening deposit, withdrawal


@pytest.mark.anyio
async def test_a_transfer_to_an_unopened_account_gives_the_money_back() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(Balances)
        source, nowhere = rt.get(Account, "acc-1"), rt.get(Account, "acc-nowhere")
        await source.ask(OpenAccount(initial_deposit=50))

        outcome = await transfer(source, nowhere, 30)

        assert outcome is TransferOutcome.COMPENSATED
        last = await store.last_position()
        assert await balances.ask(GetBalance(account_id="acc-1"), after=last) == 50
        assert await balances.ask(GetBalance(account_id="acc-nowhere")) is None


@pytest.mark.anyio
async def test_a_transfer_moves_money_between_accounts_and_never_overdraws() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        a, b = rt.get(Account, "acc-a"), rt.get(Account, "acc-b")
        await a.ask(OpenAccount(initial_deposit=40))
        await b.ask(OpenAccount())

        assert await transfer(a, b, 25) is TransferOutcome.DONE
        assert await transfer(a, b, 25) is TransferOutcome.REJECTED

    assert (await load(store, Account, "acc-a")).balance == 15
    assert (await load(store, Account, "acc-b")).balance == 25


@pytest.mark.anyio
async def test_the_check_names_a_balance_that_differs_from_the_events() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(Balances)
        done = await rt.get(Account, "acc-1").ask(OpenAccount(initial_deposit=7))
        totals = await balances.ask(GetTotals(), after=done.position)
    ledger = await recompute(store, until=done.position)

    assert compare(ledger, done.position, {"acc-1": 7}, totals) == []
    problems = compare(ledger, done.position, {"acc-1": 8}, totals)
    assert problems == [
        "balances differ from the events for 1 accounts (acc-1: read model 8, events 7)"
    ]
    beyond = done.position + 3
    short = await recompute(store, until=beyond)
    assert compare(short, beyond, {"acc-1": 7}, totals) == [
        f"the read model is at position {beyond}, the store ends at {done.position}"
    ]


@pytest.mark.anyio
async def test_the_check_names_a_transfer_whose_money_went_nowhere() -> None:
    store = MemoryEventStore()
    async with open_runtime(store=store) as rt:
        balances = await rt.spawn(Balances)
        account = rt.get(Account, "acc-1")
        await account.ask(OpenAccount(initial_deposit=7))
        # A transfer's first leg with no second one, as a crash between the legs would leave.
        done = await account.ask(Withdraw(amount=5, correlation_id=f"{TRANSFER_PREFIX}lost"))
        read_balances = await balances.ask(AllBalances(), after=done.position)
        totals = await balances.ask(GetTotals(), after=done.position)
    ledger = await recompute(store, until=done.position)

    assert ledger.unbalanced_transfers == {f"{TRANSFER_PREFIX}lost": -5}
    assert compare(ledger, done.position, read_balances, totals) == [
        f"transfers that created or destroyed money: 1, first {TRANSFER_PREFIX}lost (-5)"
    ]


@pytest.mark.anyio
async def test_a_run_leaves_the_read_model_equal_to_the_stored_events(tmp_path: Path) -> None:
    db = tmp_path / "bank.db"

    summary = await run_demo(db, accounts=20, commands=300, clients=10, seed=1, quiet=True)

    assert summary.problems == []
    assert summary.consistent
    assert summary.commands == 300
    assert summary.deposits + summary.withdrawals + summary.transfers == 300
    assert 0 <= summary.rejected <= 300
    assert (summary.accounts, summary.opened) == (20, 20)
    # Each opening stores two events (opened, opening deposit); rejected commands store none.
    assert summary.events_before == 0
    assert summary.events_stored >= 2 * 20  # the check also matched it to the clients' count
    assert summary.totals.money == summary.totals.deposited - summary.totals.withdrawn
    assert len(summary.top) == 5
    assert [b for _, b in summary.top] == sorted((b for _, b in summary.top), reverse=True)
    async with SQLiteEventStore(db) as store:
        richest, balance = summary.top[0]
        assert (await load(store, Account, richest)).balance == balance
    assert report(summary).endswith(
        "consistency check: OK (read model = events recomputed from the store)"
    )

    failed = dataclasses.replace(summary, problems=["total money 1 != 2"])
    assert not failed.consistent
    assert report(failed).endswith("consistency check: MISMATCH\n  - total money 1 != 2")


@pytest.mark.anyio
async def test_a_second_run_continues_from_the_stored_state(tmp_path: Path) -> None:
    db = tmp_path / "bank.db"
    first = await run_demo(db, accounts=20, commands=300, clients=10, seed=1, quiet=True)

    second = await run_demo(db, accounts=20, commands=300, clients=10, seed=2, quiet=True)

    assert second.problems == []
    assert second.opened == 0
    assert second.accounts == 20
    assert second.events_before == first.events_stored
    assert second.events_stored > first.events_stored
    assert second.totals.deposited > first.totals.deposited


def test_the_cli_runs_the_demo_and_reports_the_check(tmp_path: Path) -> None:
    db = tmp_path / "bank.db"
    command = ["-m", "examples.bank", "--accounts", "10", "--commands", "50", "--db", str(db)]
    run = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "consistency check: OK" in run.stdout
    assert "commands run:      50 " in run.stdout
    # stderr is a pipe here, so the progress bar writes only its final line.
    assert "\r" not in run.stderr
    assert "commands [##############################] 100% 50/50" in run.stderr
    assert db.exists()


def test_the_cli_refuses_fewer_than_two_accounts(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--accounts", "1"])
    assert exited.value.code == 2
    assert "must be at least 2" in capsys.readouterr().err


def test_the_bank_package_exports_exactly_its_all_each_documented() -> None:
    package = examples.bank
    public = {
        name
        for name, value in vars(package).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public == set(package.__all__)
    for name in package.__all__:
        assert getattr(package, name).__doc__, f"examples.bank.{name} has no docstring"

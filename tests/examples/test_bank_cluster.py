"""The bank demo on a store URL, and on several node processes sharing one PostgreSQL store."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from examples.bank import main, run_demo
from examples.bank.cli import report_cluster
from examples.bank.cluster import run_cluster
from examples.bank.where import describe, erase
from tests.postgres import fresh_schema, postgres_dsn

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def dsn() -> str:
    return postgres_dsn()


@pytest.fixture
async def schema(dsn: str) -> AsyncIterator[str]:
    async for name in fresh_schema(dsn):
        yield name


def _url(dsn: str, schema: str) -> str:
    return f"{dsn}{'&' if '?' in dsn else '?'}schema={schema}"


@pytest.mark.anyio
async def test_the_demo_runs_on_a_memory_url() -> None:
    summary = await run_demo("memory://", accounts=10, commands=100, clients=5, seed=1, quiet=True)
    assert summary.problems == []
    assert summary.db_path == "memory://"


@pytest.mark.anyio
async def test_the_demo_runs_on_one_node_with_a_postgres_url(dsn: str, schema: str) -> None:
    url = _url(dsn, schema)
    first = await run_demo(url, accounts=10, commands=100, clients=5, seed=1, quiet=True)
    second = await run_demo(url, accounts=10, commands=100, clients=5, seed=2, quiet=True)
    assert first.problems == second.problems == []
    assert second.events_before == first.events_stored


@pytest.mark.anyio
async def test_nodes_sharing_the_accounts_all_see_every_event_and_add_up(
    dsn: str, schema: str
) -> None:
    url = _url(dsn, schema)
    summary = await run_cluster(
        url, nodes=2, accounts=8, commands=400, clients=4, seed=3, quiet=True
    )
    assert summary.problems == []
    assert [n.index for n in summary.nodes] == [1, 2]
    assert [n.tally.commands for n in summary.nodes] == [200, 200]
    assert summary.tally.commands == 400
    assert summary.tally.opened == summary.accounts == 8
    # Both nodes command the same 8 accounts: their appends race on the same streams.
    assert sum(n.conflicts for n in summary.nodes) > 0
    assert all(n.totals == summary.totals for n in summary.nodes)
    text = report_cluster(summary)
    assert "  node 2: " in text
    assert text.endswith("the nodes' tallies add up to the store's growth)")

    again = await run_cluster(url, nodes=2, accounts=8, commands=50, clients=2, seed=4, quiet=True)
    assert again.problems == []
    assert (again.opened, again.events_before) == (0, summary.events_stored)


@pytest.mark.anyio
async def test_the_cli_runs_a_cluster_and_reports_each_node(dsn: str, schema: str) -> None:
    url = _url(dsn, schema)
    command = ["-m", "examples.bank", "--store", url, "--nodes", "2"]
    command += ["--accounts", "10", "--commands", "60", "--clients", "3", "--fresh"]
    with anyio.fail_after(120):
        run = await anyio.run_process([sys.executable, *command], cwd=ROOT, check=False)
    stdout, stderr = run.stdout.decode(), run.stderr.decode()
    assert run.returncode == 0, stderr
    assert "consistency check: OK" in stdout
    assert "  node 1: " in stdout
    assert "  node 2: " in stdout
    assert "2 nodes ready" in stderr


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--store", "memory://", "--nodes", "2"], "not memory://"),
        (["--store", "mysql://x/y"], "unknown store URL"),
        (["--store", "memory://", "--db", "x.db"], "not allowed with"),
    ],
)
def test_the_cli_refuses_stores_it_cannot_use(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(arguments)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_a_printed_url_hides_its_password() -> None:
    assert describe("postgresql://me:secret@db/bank") == "postgresql://me:***@db/bank"
    assert describe("postgresql://me@db/bank") == "postgresql://me@db/bank"
    assert describe(Path("bank.db")) == "bank.db"


@pytest.mark.anyio
async def test_erasing_refuses_the_public_schema_and_deletes_a_sqlite_file(
    tmp_path: Path,
) -> None:
    with pytest.raises(ValueError, match="public"):
        await erase("postgresql://localhost/test")
    db = tmp_path / "bank.db"
    await run_demo(db, accounts=2, commands=1, clients=1, seed=1, quiet=True)
    assert db.exists()
    await erase(db)
    assert not db.exists()
    await erase(db)  # nothing to erase is fine

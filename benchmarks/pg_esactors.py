"""The esactors side on PostgreSQL: the same run as on SQLite (``esactors_side``), on a
``PostgresEventStore`` in a schema of its own, made for the run and dropped after it."""

from __future__ import annotations

import anyio

from stores import PostgresEventStore

from . import pg
from .esactors_side import measure_on
from .settings import Settings


async def measure(settings: Settings) -> dict[str, float]:
    """Run the esactors side once on a new schema of the server at ``ESACTORS_PG_DSN``, with
    the PostgreSQL part's number of commands; its figures (no second latency run)."""
    url = pg.dsn()
    schema = pg.new_schema()
    try:
        return await measure_on(
            settings.on_postgres(),
            lambda: PostgresEventStore(url, schema=schema),
            few_clients=False,
        )
    finally:
        with anyio.CancelScope(shield=True):
            await pg.drop_schema(url, schema)

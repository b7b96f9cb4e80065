"""The peer on PostgreSQL: the same bank (``peer``) on the eventsourcing library's PostgreSQL
mode (``PERSISTENCE_MODULE=eventsourcing.postgres``, psycopg 3), with its tables in a schema
of its own, made for the run and dropped after it.

As on SQLite: one ``save()`` per command, each its own transaction, in the fastest cached
configuration (``AGGREGATE_CACHE_FASTFORWARD=n``, ``DEEPCOPY_FROM_AGGREGATE_CACHE=n``). The
library's insert, read from its source, takes ``LOCK TABLE ... IN EXCLUSIVE MODE`` in each
transaction, so that notification ids commit in order (esactors' store serializes its commits
for the same reason). It has an undocumented switch, ``POSTGRES_ENABLE_DB_FUNCTIONS=y``, that
inserts through a database function in one statement *without* that lock; it is measured too,
as a second figure, since it is the library's fastest way to write.
"""

from __future__ import annotations

from time import perf_counter

from . import pg
from .peer import Bank, PeerAccount, rebuild, run_commands
from .settings import Settings


def _env(url: str, schema: str, **settings: str) -> dict[str, str]:
    return {**pg.eventsourcing_env(url, schema), **settings}


def measure(settings: Settings) -> dict[str, float]:
    """Run the peer once on new schemas of the server at ``ESACTORS_PG_DSN``, with the
    PostgreSQL part's number of commands; its figures."""
    url = pg.dsn()
    settings = settings.on_postgres()
    cache = str(settings.accounts)  # every account fits
    fastest = {
        "AGGREGATE_CACHE_MAXSIZE": cache,
        "AGGREGATE_CACHE_FASTFORWARD": "n",
        "DEEPCOPY_FROM_AGGREGATE_CACHE": "n",
    }
    figures: dict[str, float] = {}

    schema = pg.new_schema()
    pg.run_sync(pg.create_schema, url, schema)
    try:
        app = Bank(env=_env(url, schema, **fastest))
        try:
            ids, figures["commands_per_s_fastest"] = run_commands(app, settings)
            expected = {i: app.balance(i) for i in ids}
        finally:
            app.close()

        # A new application without a cache: every get replays the aggregate's events.
        uncached = Bank(env=_env(url, schema))
        try:
            events = uncached.recorder.max_notification_id() or 0
            start = perf_counter()
            replayed: list[PeerAccount] = [uncached.repository.get(i) for i in ids]
            figures["reconstruct_events_per_s"] = events / (perf_counter() - start)
            if {a.id: a.balance for a in replayed} != expected:
                raise AssertionError("peer: reconstructed balances do not match the workload")

            start = perf_counter()
            totals, count = rebuild(uncached)
            figures["rebuild_events_per_s"] = count / (perf_counter() - start)
            if totals != expected or count != events:
                raise AssertionError("peer: the rebuilt read model does not match the workload")
        finally:
            uncached.close()
    finally:
        pg.run_sync(pg.drop_schema, url, schema)

    schema = pg.new_schema()
    pg.run_sync(pg.create_schema, url, schema)
    try:
        app = Bank(env=_env(url, schema, POSTGRES_ENABLE_DB_FUNCTIONS="y", **fastest))
        try:
            _, figures["commands_per_s_functions"] = run_commands(app, settings)
        finally:
            app.close()
    finally:
        pg.run_sync(pg.drop_schema, url, schema)
    return figures

"""The SQL of the PostgreSQL store: its schema, the append function, and the reads.

The append function is the whole ordering design (docs/architecture.md, "PostgreSQL store"):
it takes a transaction-level advisory lock, so batches from every process get their positions
one at a time in commit order, then reads the head and the streams' versions in a *new*
statement (under READ COMMITTED a new statement takes a new snapshot, which sees the batch that
held the lock before), and inserts the events whose append expected the right version, all in
one round trip. The lock is released only after the commit is visible, so positions are
assigned as head + 1, 2, ... with no gap and readers never see position n + 1 before n.
"""

from __future__ import annotations

import hashlib
import re

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# PostgreSQL truncates identifiers at 63 bytes; the table name also prefixes the function's
# and the index's names, so it is kept shorter.
MAX_SCHEMA_LENGTH = 63
MAX_TABLE_LENGTH = 40
#: Bumped whenever the append function changes, so old and new code never share one.
_FUNCTION_VERSION = 1

COLUMNS = (
    "stream_id, version, position, event_id, type, data, metadata, "
    "extract(epoch FROM recorded_at)::float8"
)


def check_identifier(kind: str, name: str, longest: int) -> str:
    """``name`` if it is a plain SQL identifier of at most ``longest`` characters."""
    if not isinstance(name, str) or len(name) > longest or not _IDENTIFIER.fullmatch(name):
        raise ValueError(
            f"{kind} must be letters, digits and _ (not starting with a digit), at most "
            f"{longest} characters, got {name!r}"
        )
    return name


def _quote(name: str) -> str:
    return f'"{name}"'


def _key(text: str) -> int:
    """A stable signed 64-bit number for ``text`` (advisory lock keys are bigint)."""
    return int.from_bytes(
        hashlib.blake2b(text.encode(), digest_size=8).digest(), "big", signed=True
    )


class Statements:
    """Every statement the store runs, for one schema and table."""

    def __init__(self, schema: str, table: str) -> None:
        s, t = _quote(schema), _quote(table)
        self.table = f"{s}.{t}"
        self.function = f"{s}.{_quote(f'{table}_append_v{_FUNCTION_VERSION}')}"
        qualified = f"{schema}.{table}"
        #: Serializes position assignment (and schema creation) for this table in every process.
        self.lock_key = _key(f"esactors:append:{qualified}")
        #: The NOTIFY channel followers LISTEN on (an identifier: at most 63 bytes).
        self.channel = f"esactors_{_key(f'esactors:channel:{qualified}') & (2**63 - 1):x}"
        self.exists = (
            f"SELECT to_regclass('{self.table}') IS NOT NULL "
            f"AND to_regproc('{self.function}') IS NOT NULL"
        )
        self.create = f"""
SELECT pg_advisory_xact_lock({self.lock_key});
CREATE SCHEMA IF NOT EXISTS {s};
CREATE TABLE IF NOT EXISTS {self.table} (
    position    bigint      PRIMARY KEY,
    stream_id   text        NOT NULL,
    version     bigint      NOT NULL,
    event_id    text        NOT NULL,
    type        text        NOT NULL,
    data        bytea       NOT NULL,
    metadata    bytea       NOT NULL,
    recorded_at timestamptz NOT NULL,
    UNIQUE (stream_id, version)
);
CREATE INDEX IF NOT EXISTS {_quote(f"{table}_by_type")} ON {self.table} (type, position);
CREATE OR REPLACE FUNCTION {self.function}(
    p_lock bigint,
    p_channel text,
    p_streams text[],
    p_expected bigint[],
    p_append int[],
    p_event_ids text[],
    p_types text[],
    p_data bytea[],
    p_metadata bytea[],
    OUT head bigint,
    OUT versions bigint[],
    OUT committed_at float8
) LANGUAGE plpgsql AS $fn$
DECLARE
    v_at timestamptz;
BEGIN
    -- Held until the transaction ends, after its commit is visible: batches from every
    -- process take positions one at a time, in commit order.
    PERFORM pg_advisory_xact_lock(p_lock);
    -- Each statement below takes a new snapshot (READ COMMITTED), taken after the lock was
    -- granted, so it sees every batch committed before: head + 1 is the next free position.
    v_at := clock_timestamp();
    committed_at := extract(epoch FROM v_at);
    SELECT coalesce(max(e.position), 0) INTO head FROM {self.table} e;
    SELECT coalesce(array_agg(coalesce(v.version, 0) ORDER BY a.n), '{{}}')
      INTO versions
      FROM unnest(p_streams) WITH ORDINALITY AS a(stream_id, n)
      LEFT JOIN LATERAL (
          SELECT max(e.version) AS version FROM {self.table} e WHERE e.stream_id = a.stream_id
      ) v ON true;
    -- One append per stream per batch (the caller sees to it); an append whose expected
    -- version is not the stream's stores nothing, the others go on.
    INSERT INTO {self.table}
        (position, stream_id, version, event_id, type, data, metadata, recorded_at)
    SELECT head + row_number() OVER (ORDER BY ev.n),
           p_streams[ev.a],
           versions[ev.a] + row_number() OVER (PARTITION BY ev.a ORDER BY ev.n),
           ev.event_id, ev.type, ev.data, ev.metadata, v_at
      FROM unnest(p_append, p_event_ids, p_types, p_data, p_metadata)
           WITH ORDINALITY AS ev(a, event_id, type, data, metadata, n)
     WHERE p_expected[ev.a] IS NULL OR p_expected[ev.a] = versions[ev.a];
    IF FOUND THEN
        -- Delivered at commit; only a wake-up, followers re-read the table.
        PERFORM pg_notify(p_channel, head::text);
    END IF;
END
$fn$;
"""
        self.append = (
            f"SELECT head, versions, committed_at "
            f"FROM {self.function}($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        )
        self.read_all = (
            f"SELECT {COLUMNS} FROM {self.table} WHERE position > $1 ORDER BY position LIMIT $2"
        )
        self.read_all_types = (
            f"SELECT {COLUMNS} FROM {self.table} WHERE position > $1 AND type = ANY($3::text[]) "
            "ORDER BY position LIMIT $2"
        )
        self.read_stream = (
            f"SELECT {COLUMNS} FROM {self.table} WHERE stream_id = $1 AND version >= $2 "
            "ORDER BY version"
        )
        self.last_position = f"SELECT coalesce(max(position), 0) FROM {self.table}"

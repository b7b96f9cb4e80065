"""The stored log read straight from the SQLite file with the stdlib ``sqlite3`` module, read-only,
and balances folded from its JSON: the independent side of every check, sharing no code with
the framework's store, codec or projections."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple


class Row(NamedTuple):
    """One stored event, as the file holds it."""

    position: int
    stream_id: str
    version: int
    event_id: str
    type: str
    data: bytes
    causation_id: str | None
    correlation_id: str | None


def read_rows(db: Path) -> list[Row]:
    """Every event in ``db``, in position order ([] if the file or its table does not exist
    yet: a kill can land before the schema is created)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'events'").fetchall()
        if not tables:
            return []
        cursor = conn.execute(
            "SELECT position, stream_id, version, event_id, type, data, metadata FROM events "
            "ORDER BY position"
        )
        rows: list[Row] = []
        for position, stream_id, version, event_id, type_, data, metadata in cursor:
            try:
                meta = json.loads(metadata)
            except ValueError:
                meta = {}  # reported as an event without a causation id
            rows.append(
                Row(
                    position,
                    stream_id,
                    version,
                    event_id,
                    type_,
                    bytes(data),
                    meta.get("causation_id"),
                    meta.get("correlation_id"),
                )
            )
        return rows
    finally:
        conn.close()


@dataclass
class Fold:
    """Balances recomputed from the rows, and the domain rules the rows break."""

    balances: dict[str, int] = field(default_factory=dict)
    #: "stream at position p: balance b" for every moment an account went below zero.
    overdrafts: list[str] = field(default_factory=list)
    #: Streams that do not start with exactly one AccountOpened, or hold unknown event types.
    malformed: list[str] = field(default_factory=list)


def fold(rows: list[Row]) -> Fold:
    """Replay ``rows`` (in position order) into balances, checking the bank's rules on the way:
    an account is opened first and once, and never goes below zero."""
    result = Fold()
    balances = result.balances
    for row in rows:
        opened = row.stream_id in balances
        if row.type == "AccountOpened":
            if opened or row.version != 1:
                result.malformed.append(f"{row.stream_id}: AccountOpened at version {row.version}")
            balances.setdefault(row.stream_id, 0)
            continue
        if not opened:
            result.malformed.append(f"{row.stream_id}: {row.type} before AccountOpened")
        if row.type == "BatchStarted":
            continue
        if row.type not in ("Deposited", "Withdrawn"):
            result.malformed.append(f"{row.stream_id}: unknown event type {row.type!r}")
            continue
        amount = int(json.loads(row.data)["amount"])
        sign = 1 if row.type == "Deposited" else -1
        balance = balances[row.stream_id] = balances.get(row.stream_id, 0) + sign * amount
        if balance < 0:
            result.overdrafts.append(
                f"{row.stream_id} at position {row.position}: balance {balance}"
            )
    return result

"""store_from_url: pick and configure a store from one string (a command-line flag, an
environment variable)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ._memory import MemoryEventStore
from ._protocol import EventStore
from ._sqlite import SQLiteEventStore

# The options each kind of URL takes in its query string, and how to read them.
_SQLITE_OPTIONS: dict[str, Callable[[str], Any]] = {
    "durability": str,
    "poll_interval": float,
    "busy_timeout": float,
    "max_event_bytes": int,
}
_POSTGRES_OPTIONS: dict[str, Callable[[str], Any]] = {
    "schema": str,
    "table": str,
    "poll_interval": float,
    "pool_size": int,
    "connect_timeout": float,
    "command_timeout": float,
    "lock_timeout": float,
    "max_event_bytes": int,
}


def store_from_url(url: str, **options: Any) -> EventStore:
    """A store (not opened yet: use ``async with`` or ``open_runtime(store=...)``) for ``url``:

    - ``memory://``: a ``MemoryEventStore``.
    - ``sqlite:///bank.db``: a ``SQLiteEventStore``; the path is what follows the third slash,
      so ``sqlite:///bank.db`` and ``sqlite:///data/bank.db`` are relative to the working
      directory and ``sqlite:////var/lib/bank.db`` (four slashes) is absolute.
    - ``postgresql://user:password@host:5432/database`` (or ``postgres://``): a
      ``PostgresEventStore``; the rest of the query string (e.g. ``sslmode``) goes to the driver.

    The store's keyword options may be given in the query string
    (``sqlite:///bank.db?durability=normal``, ``postgresql://host/db?schema=bank``) or as
    ``options``, which win. Raises ``ValueError`` naming the URL if it is not one of these.
    """
    if not isinstance(url, str):
        raise ValueError(f"a store URL must be a string, got {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise ValueError(f"cannot parse store URL {url!r}: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme == "memory":
        if parts.netloc or parts.path or parts.query:
            raise ValueError(f"a memory store URL is just 'memory://', got {url!r}")
        if options:
            raise ValueError(f"a memory store takes no options, got {sorted(options)}")
        return MemoryEventStore()
    if scheme == "sqlite":
        if parts.netloc or not parts.path.startswith("/") or parts.path == "/":
            raise ValueError(
                f"a SQLite store URL is sqlite:///relative/path.db or sqlite:////absolute/path.db "
                f"(the path follows the third slash), got {url!r}"
            )
        settings, unknown = _options(url, parts.query, _SQLITE_OPTIONS)
        if unknown:
            names = ", ".join(sorted({name for name, _ in unknown}))
            raise ValueError(
                f"store URL {url!r}: SQLite takes {', '.join(_SQLITE_OPTIONS)}, not {names}"
            )
        return SQLiteEventStore(parts.path[1:], **{**settings, **options})
    if scheme in ("postgresql", "postgres"):
        from ._postgres import PostgresEventStore  # needs the optional driver: only now

        settings, rest = _options(url, parts.query, _POSTGRES_OPTIONS)
        dsn = urlunsplit(parts._replace(query=urlencode(rest)))
        return PostgresEventStore(dsn, **{**settings, **options})
    raise ValueError(
        f"unknown store URL {url!r}: use memory://, sqlite:///path.db or "
        "postgresql://user@host/database"
    )


def _options(
    url: str, query: str, known: dict[str, Callable[[str], Any]]
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The store options in ``query``, read with ``known``; the other pairs, left as they are."""
    settings: dict[str, Any] = {}
    rest: list[tuple[str, str]] = []
    for name, value in parse_qsl(query, keep_blank_values=True, strict_parsing=False):
        read = known.get(name)
        if read is None:
            rest.append((name, value))
            continue
        try:
            settings[name] = read(value)
        except ValueError as exc:
            raise ValueError(f"store URL {url!r}: bad {name}={value!r}: {exc}") from exc
    return settings, rest

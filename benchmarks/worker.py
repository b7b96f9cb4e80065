"""One part of the benchmark, run once in a process of its own, so that no part's memory, GC
or threads weigh on another's figures.

    python -m benchmarks.worker PART SETTINGS_JSON OUT_JSON

writes the part's figures (a JSON object of numbers) to OUT_JSON. Files go to a new temporary
directory, removed afterwards; the PostgreSQL parts (``pg-*``) use the server at
``ESACTORS_PG_DSN`` instead, each in new schemas dropped afterwards.
"""

from __future__ import annotations

import gc
import json
import sys
import tempfile
from pathlib import Path

import anyio

from .settings import Settings

#: The parts a worker runs; ``cli`` maps the user's ``--only`` choices onto them.
PARTS = ("esactors", "idle", "peer", "raw", "pg-esactors", "pg-peer", "pg-nodes")


def run(part: str, settings: Settings, directory: Path) -> dict[str, float]:
    """Run ``part`` once with its files in ``directory``; its figures."""
    if part == "esactors":
        from . import esactors_side

        return anyio.run(esactors_side.measure, settings, directory)
    if part == "idle":
        from . import idle_memory

        return anyio.run(idle_memory.measure, settings.idle_aggregates)
    if part == "peer":
        # Imported only here: the eventsourcing library is installed only for benchmarking.
        from . import peer

        return peer.measure(settings, directory)
    if part == "raw":
        from . import raw

        return raw.measure(settings, directory)
    if part == "pg-esactors":
        from . import pg_esactors

        return anyio.run(pg_esactors.measure, settings)
    if part == "pg-peer":
        # The library's PostgreSQL mode also needs psycopg (the `bench` extra installs it).
        from . import pg_peer

        return pg_peer.measure(settings)
    if part == "pg-nodes":
        from . import pg_nodes

        return pg_nodes.measure(settings)
    raise ValueError(f"unknown part {part!r}; the parts are {', '.join(PARTS)}")


def main(argv: list[str]) -> int:
    """The worker's command line (see the module docstring)."""
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    part, settings_json, out = argv
    settings = Settings.from_json(settings_json)
    if settings.gc_threshold:
        gc.set_threshold(settings.gc_threshold, 10, 10)
    with tempfile.TemporaryDirectory(prefix=f"esactors-bench-{part}-") as directory:
        figures = run(part, settings, Path(directory))
    Path(out).write_text(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""What the figures were measured on: cores, Python, SQLite, the peer's version, the disk."""

from __future__ import annotations

import os
import platform
import sqlite3
import tempfile
from importlib import metadata
from pathlib import Path


def peer_version() -> str | None:
    """The installed eventsourcing version, or None when it is not installed."""
    try:
        return metadata.version("eventsourcing")
    except metadata.PackageNotFoundError:
        return None


def filesystem_of(path: str) -> str:
    """The filesystem type holding ``path`` (from /proc/mounts), or "unknown".

    It matters: on tmpfs an fsync costs nothing and every durable figure would flatter."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    best, kind = "", "unknown"
    real = os.path.realpath(path)
    for line in mounts:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1]
        inside = real == point or real.startswith(point.rstrip("/") + "/")
        if inside and len(point) > len(best):
            best, kind = point, fields[2]
    return kind


def describe() -> dict[str, object]:
    """The machine and software, as JSON-ready data."""
    temp = tempfile.gettempdir()
    return {
        "cores": os.cpu_count(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "sqlite": sqlite3.sqlite_version,
        "eventsourcing": peer_version(),
        "temp_dir": temp,
        "temp_filesystem": filesystem_of(temp),
    }

"""The side file of acknowledged commands: one JSON line per reply, fsynced before the client
that got the reply sends its next command, so the file never claims more than was acknowledged.

Lines from all clients are written and fsynced together (group fsync, as the store group-commits):
one fsync per moment rather than one per command keeps the side file from being the bottleneck.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import anyio

from actors import Command, Committed

Outcome = Literal["committed", "rejected"]


@dataclass(frozen=True, slots=True)
class Ack:
    """One acknowledged command, as the side file records it.

    For a committed command ``version`` and ``position`` are those of its last event and
    ``events`` how many it wrote; a rejected command has no events and 0 for all three.
    """

    outcome: Outcome
    command_id: str
    command: str
    stream_id: str
    version: int = 0
    position: int = 0
    events: int = 0


class AckLog:
    """Appends acks to the side file; :meth:`run` is the task that writes and fsyncs them."""

    def __init__(self, path: Path) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._lines: list[bytes] = []
        self._written = anyio.Event()  # set once the lines queued so far are on disk
        self._wake = anyio.Event()

    def close(self) -> None:
        """Close the file (after :meth:`run` has stopped)."""
        os.close(self._fd)

    async def committed(self, command: Command, done: Committed) -> None:
        """Record that ``command`` committed as ``done``; returns once the line is fsynced.
        Cancelling it abandons the wait, not the line."""
        await self._add(
            Ack(
                "committed",
                command.command_id,
                type(command).__name__,
                done.stream_id,
                done.version,
                done.position,
                len(done.events),
            )
        )

    async def rejected(self, command: Command, stream_id: str) -> None:
        """Record that ``command`` was rejected; returns once the line is fsynced. Cancelling
        it abandons the wait, not the line."""
        await self._add(Ack("rejected", command.command_id, type(command).__name__, stream_id))

    async def _add(self, ack: Ack) -> None:
        self._lines.append(json.dumps(asdict(ack), separators=(",", ":")).encode() + b"\n")
        written = self._written
        self._wake.set()
        await written.wait()

    async def run(self) -> None:
        """Write and fsync whatever is queued, again and again, until cancelled. A write error
        is raised here (and so ends the workload): an ack must never be silently dropped."""
        while True:
            await self._wake.wait()
            self._wake = anyio.Event()
            lines, written = self._lines, self._written
            self._lines, self._written = [], anyio.Event()
            # In a thread: an fsync blocks for milliseconds and the clients' commands go on.
            await anyio.to_thread.run_sync(self._write, b"".join(lines))
            written.set()

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        os.fsync(self._fd)


def repair(path: Path) -> int:
    """Cut a line the kill tore half-way off the end of the side file, so the next run appends
    after a whole line; returns how many bytes were cut. A torn line was never acknowledged to
    its client as logged (the fsync had not returned), so nothing is claimed by dropping it."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep < len(data):
        with path.open("r+b") as f:
            f.truncate(keep)
            os.fsync(f.fileno())
    return len(data) - keep


def read(path: Path) -> list[Ack]:
    """Every ack in the side file (none if it does not exist). Raises ``ValueError`` naming the
    line for anything that is not a whole, well-formed ack: call :func:`repair` first."""
    if not path.exists():
        return []
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        raise ValueError(f"{path}: the last line is torn (call repair() first)")
    acks: list[Ack] = []
    for number, line in enumerate(data.splitlines(), 1):
        try:
            ack = Ack(**json.loads(line))
            if ack.outcome not in ("committed", "rejected"):
                raise ValueError(f"unknown outcome {ack.outcome!r}")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not an ack: {line[:200]!r} ({exc})") from exc
        acks.append(ack)
    return acks

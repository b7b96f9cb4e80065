"""What a projection reports about itself: GetProjectionStatus and its reply."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ._messages import Query


@dataclass(frozen=True, slots=True)
class ParkedEvent:
    """A dead letter: an event a projection's handler kept failing on, set aside."""

    projection: str
    position: int
    stream_id: str
    version: int
    type: str
    error: str


@dataclass(frozen=True, slots=True)
class ProjectionStatus:
    """Where a projection is: ``running`` (applying events), ``retrying`` (a handler failed,
    waiting to try the event again) or ``stopped`` (gave up on the event at ``position + 1``:
    ``error`` says why; queries are still answered from the model as it is)."""

    name: str
    state: Literal["running", "retrying", "stopped"]
    position: int
    parked: tuple[ParkedEvent, ...]
    error: str | None


class GetProjectionStatus(Query[ProjectionStatus]):
    """Every projection answers this query with its :class:`ProjectionStatus`."""

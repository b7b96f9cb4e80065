"""The domain-facing framework: messages, aggregates, projections and their actors.

``Aggregate`` and ``Projection`` subclasses are run by a ``runtime.Runtime``
(``rt.get(Account, id)``, ``rt.spawn(Balances)``) over an event store from ``stores``.
"""

from ._aggregate import Aggregate
from ._errors import ProjectionStopped, Rejected
from ._handlers import on
from ._messages import Command, Event, Message, Query
from ._projection import Projection
from ._recorded import Committed, Recorded
from ._replay import load, replay
from ._status import GetProjectionStatus, ParkedEvent, ProjectionStatus

__all__ = [
    "Aggregate",
    "Command",
    "Committed",
    "Event",
    "GetProjectionStatus",
    "Message",
    "ParkedEvent",
    "Projection",
    "ProjectionStatus",
    "ProjectionStopped",
    "Query",
    "Recorded",
    "Rejected",
    "load",
    "on",
    "replay",
]

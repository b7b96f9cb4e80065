"""The domain-level error: a command refused by its aggregate (see ``runtime`` for the tree)."""

from __future__ import annotations

from runtime import ActorStopped, EsactorsError


class Rejected(EsactorsError):
    """Raised by a command handler to refuse the command; nothing is stored, the caller of
    ``ask`` gets this error, and the aggregate keeps its state."""


class ProjectionStopped(ActorStopped):
    """The projection stopped applying events (a handler kept failing on one), so it will not
    reach the position a query asked for with ``after=``."""

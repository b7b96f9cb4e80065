"""The domain-level error: a command refused by its aggregate (see ``runtime`` for the tree)."""

from __future__ import annotations

from runtime import EsactorsError


class Rejected(EsactorsError):
    """Raised by a command handler to refuse the command; nothing is stored, the caller of
    ``ask`` gets this error, and the aggregate keeps its state."""

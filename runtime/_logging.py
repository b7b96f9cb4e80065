"""Logging through structlog; the library never configures it.

Warnings and errors are always emitted. Debug and info facts (``actor_activated``,
``events_appended``...) are emitted only once the application has called
``structlog.configure()``: an application that never did gets structlog's print-everything
default, and a library should not fill its stdout with lifecycle chatter.
"""

from __future__ import annotations

from typing import Any

import structlog


def get_logger(name: str) -> Any:
    """A structlog logger named after the emitting part of esactors."""
    return structlog.get_logger(name)


def chatty() -> bool:
    """Whether debug/info facts should be emitted (the application configured structlog)."""
    return structlog.is_configured()

"""The errors esactors raises, under one root.

::

    EsactorsError                  root: catch this to catch anything the library raises
    ├── ActorStopped               the actor stopped, or could not start, before handling it
    ├── MailboxFull                tell_nowait() found no room in the actor's mailbox
    ├── UnhandledMessage           the actor has no handler for that message type
    ├── Rejected        (actors)   a command handler refused the command; nothing was stored
    └── StoreError      (stores)   the event store failed; see ``stores`` for its subtree

Timeouts raise the builtin :class:`TimeoutError`. Exceptions raised by user handlers reach the
caller of ``ask`` unchanged.
"""

from __future__ import annotations


class EsactorsError(Exception):
    """Root of every error raised by esactors."""


class ActorStopped(EsactorsError):
    """The actor stopped, or failed to start, before it handled the message."""


class MailboxFull(EsactorsError):
    """``tell_nowait`` found the actor's mailbox full (use ``tell`` to wait for room)."""


class UnhandledMessage(EsactorsError, TypeError):
    """The actor has no handler for the message's type."""

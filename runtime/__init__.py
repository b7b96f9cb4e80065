"""Generic async actor machinery: the runtime, actor refs, mailboxes and the error root.

This package knows nothing of events: ``actors`` builds aggregates and projections on it.
"""

from ._behavior import ActorContext, ActorType, Behavior, Request
from ._envelope import Envelope
from ._errors import ActorStopped, EsactorsError, MailboxFull, UnhandledMessage
from ._ref import ActorRef
from ._runtime import Runtime, open_runtime

__all__ = [
    "ActorContext",
    "ActorRef",
    "ActorStopped",
    "ActorType",
    "Behavior",
    "Envelope",
    "EsactorsError",
    "MailboxFull",
    "Request",
    "Runtime",
    "UnhandledMessage",
    "open_runtime",
]

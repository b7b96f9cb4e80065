"""``@on(Type)`` and the per-class tables that route messages and events to handlers."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ._messages import Command, Event, Query

F = TypeVar("F", bound=Callable[..., Any])
_MARK = "__esactors_on__"


def on(*message_types: type) -> Callable[[F], F]:
    """Mark a method as the handler of the given Command, Event or Query types.

    On an aggregate: a command handler decides (returns events or raises ``Rejected``), an
    event handler evolves the state, a query handler answers from the state. On a projection:
    an event handler receives ``Recorded[E]``, a query handler answers from the read model.
    """
    if not message_types:
        raise TypeError("@on() needs at least one message type")
    for t in message_types:
        if not (isinstance(t, type) and issubclass(t, Command | Event | Query)):
            raise TypeError(f"@on() takes Command, Event or Query subclasses, got {t!r}")

    def mark(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):
            # Handlers run between two events or commands with nothing else interleaved; an
            # await inside one would let a query see a half-applied event.
            raise TypeError(
                f"@on handler {fn.__qualname__} must be a plain function, not async def"
            )
        setattr(fn, _MARK, (*getattr(fn, _MARK, ()), *message_types))
        return fn

    return mark


class Handlers:
    """The handlers of one class, by message type (commands, queries) or type name (events)."""

    __slots__ = ("commands", "events", "queries")

    def __init__(self) -> None:
        self.commands: dict[type, Callable[..., Any]] = {}
        self.queries: dict[type, Callable[..., Any]] = {}
        #: type name -> (event class, handler)
        self.events: dict[str, tuple[type[Event], Callable[..., Any]]] = {}

    @classmethod
    def collect(cls, owner: type) -> Handlers:
        """Gather the ``@on`` methods of ``owner`` and its bases (a subclass's handler wins)."""
        handlers = cls()
        for klass in reversed(owner.__mro__):
            seen: dict[object, str] = {}
            for name, fn in vars(klass).items():
                for t in getattr(fn, _MARK, ()):
                    key = t.type_name if issubclass(t, Event) else t
                    if key in seen:
                        raise TypeError(
                            f"{t.__name__} has two handlers in {klass.__qualname__}: "
                            f"{seen[key]} and {name}"
                        )
                    seen[key] = name
                    if issubclass(t, Event):
                        handlers.events[t.type_name] = (t, fn)
                    elif issubclass(t, Command):
                        handlers.commands[t] = fn
                    else:
                        handlers.queries[t] = fn
        return handlers

    def for_message(self, message: object) -> Callable[..., Any] | None:
        """The command or query handler for ``message`` (by exact type, then its bases)."""
        t = type(message)
        table = self.commands if isinstance(message, Command) else self.queries
        fn = table.get(t)
        if fn is None:
            for base in t.__mro__[1:]:
                fn = table.get(base)
                if fn is not None:
                    table[t] = fn  # cache for the next message of this type
                    break
        return fn

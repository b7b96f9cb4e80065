"""Aggregate: the base class of the user's event-sourced entities."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from ._handlers import Handlers

if TYPE_CHECKING:
    from runtime import Behavior, Runtime


class Aggregate:
    """An event-sourced entity, run as an actor: one per id, one command at a time.

    Subclasses declare their state as annotated class attributes with defaults (the class is
    made a dataclass, so mutable defaults need ``field(default_factory=...)``), command
    handlers ``@on(SomeCommand)`` that return events (or raise ``Rejected``) without changing
    the state, and event handlers ``@on(SomeEvent)`` that change it. Every event type a command
    handler returns needs an event handler (it may do nothing): that is how replay knows it.

    Class settings: ``passivate_after`` (idle seconds before the actor stops; default the
    runtime's) and ``max_conflict_retries`` (re-decide after another writer won).

    An ask to an idle aggregate is handled in the asking task (no hand-off to the actor's
    task and back; messages sent meanwhile wait their turn as usual). So cancelling that ask
    (or its ``timeout``) cancels the command where it is: once the command has decided, the
    store has taken its events and they commit all the same (the aggregate re-reads its stream
    before its next message); a command cancelled before that (while it waits to retry after
    a version conflict with another process) stores nothing. Sent again with the same
    ``idempotency_key``, it is stored once either way.
    """

    actor_kind: ClassVar[str] = "aggregate"
    passivate_after: ClassVar[float | Literal["runtime"] | None] = "runtime"
    max_conflict_retries: ClassVar[int] = 10
    __handlers__: ClassVar[Handlers]

    _id: str
    _version: int

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(cls)
        cls.__handlers__ = Handlers.collect(cls)
        if cls.__handlers__.commands or cls.__handlers__.events:
            cls.actor_kind = cls.__name__

    @property
    def id(self) -> str:
        """The aggregate's id (its stream id)."""
        return self._id

    @property
    def version(self) -> int:
        """How many events the aggregate has applied (its stream's version)."""
        return self._version

    @classmethod
    def create_behavior(cls, runtime: Runtime, key: str, *args: Any, **kwargs: Any) -> Behavior:
        """Runtime hook: the actor that runs the aggregate ``key`` of this class."""
        from ._aggregate_actor import AggregateActor

        if args or kwargs:
            raise TypeError(f"{cls.__name__} is activated by rt.get({cls.__name__}, id), not spawn")
        return AggregateActor(cls, runtime, key)

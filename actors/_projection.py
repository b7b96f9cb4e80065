"""Projection: the base class of read models that follow the global log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from ._handlers import Handlers

if TYPE_CHECKING:
    from runtime import Behavior, Runtime


class Projection:
    """A read model kept up to date from the store's global log, run as an actor.

    Subclasses write their own ``__init__`` (``rt.spawn(Type, *args)`` passes the args), event
    handlers ``@on(SomeEvent)`` that receive ``Recorded[SomeEvent]``, and query handlers
    ``@on(SomeQuery)`` that answer from the model. Events are applied one at a time in global
    position order, from ``start_after`` (0: the origin) through what is stored, then live.
    Event types without a handler are passed over without being decoded.

    A query asked with ``after=position`` is answered once that position has been applied.

    If an event handler raises, the event is tried again ``retry_limit`` times, waiting
    ``retry_backoff`` seconds, doubled each time; then, by ``on_failure``, the projection either
    stops applying events (``"stop"``, the default) or parks the event as a dead letter and goes
    on (``"park"``). It never skips an event silently: both are logged with the event's position,
    and ``GetProjectionStatus`` reports the state, the position and the parked events. A handler
    should not change the model before it can fail, since it may run again.
    """

    actor_kind: ClassVar[str] = "projection"
    #: The global position to start after (events at or before it are not applied).
    start_after: ClassVar[int] = 0
    #: How many events are read from the store at a time while catching up.
    batch_size: ClassVar[int] = 1000
    #: How many times an event whose handler raised is tried again.
    retry_limit: ClassVar[int] = 3
    #: Seconds before the first retry, doubled for each next one.
    retry_backoff: ClassVar[float] = 0.1
    #: After the retries: stop applying events, or park the event and go on.
    on_failure: ClassVar[Literal["stop", "park"]] = "stop"
    __handlers__: ClassVar[Handlers]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.__handlers__ = Handlers.collect(cls)
        if cls.__handlers__.commands:
            names = ", ".join(t.__name__ for t in cls.__handlers__.commands)
            raise TypeError(f"projection {cls.__name__} cannot handle commands ({names})")
        if cls.on_failure not in ("stop", "park"):
            raise TypeError(
                f"projection {cls.__name__}: on_failure must be 'stop' or 'park', "
                f"got {cls.on_failure!r}"
            )

    @classmethod
    def create_behavior(cls, runtime: Runtime, key: str, *args: Any, **kwargs: Any) -> Behavior:
        """Runtime hook: the actor that runs a new instance of this projection."""
        from ._projection_actor import ProjectionActor

        return ProjectionActor(cls(*args, **kwargs), runtime, key)

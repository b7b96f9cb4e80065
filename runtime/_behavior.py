"""What the runtime runs: a Behavior, built by an actor type's ``create_behavior`` hook.

The runtime knows nothing of aggregates or projections: ``rt.get(Account, "acc-1")`` asks the
``Account`` class for a Behavior and then only starts, feeds and stops it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from anyio.abc import TaskGroup

from ._envelope import Envelope

if TYPE_CHECKING:
    from ._runtime import Runtime

R_co = TypeVar("R_co", covariant=True)


class Request(Protocol[R_co]):
    """A message whose reply has type ``R_co``: ``ask`` is typed from it (see ``actors.Query``)."""

    def __reply__(self) -> R_co: ...


class ActorContext:
    """What a behavior gets from the runtime when it starts."""

    __slots__ = ("_task_group", "key", "kind", "runtime")

    def __init__(self, runtime: Runtime, kind: str, key: str, task_group: TaskGroup | None) -> None:
        self.runtime = runtime
        self.kind = kind
        self.key = key
        self._task_group = task_group

    @property
    def task_group(self) -> TaskGroup:
        """The actor's own task group: helper tasks started here are cancelled when it stops.
        Only for behaviors that set ``uses_task_group = True``."""
        if self._task_group is None:
            raise RuntimeError(
                f"{self.kind} {self.key!r} has no task group: its behavior must set "
                "uses_task_group = True to start helper tasks"
            )
        return self._task_group


class Behavior(Protocol):
    """The code of one live actor. Messages are handed to ``receive`` one at a time."""

    #: Seconds without a message after which the actor is passivated; None: never.
    idle_timeout: float | None

    # Optional: ``uses_task_group = True`` gives ``started()`` a task group for helper tasks
    # (ActorContext.task_group); without it the actor runs lighter, with none.
    #
    # Optional: ``def can_run_in_caller(self) -> bool``. While it returns True and the actor is
    # idle (waiting, nothing queued), ``ask`` calls ``receive`` in the asking task instead of
    # queueing the message and waking the actor's task: two task switches fewer per message.
    # Messages sent meanwhile queue up and are handled after it, by the actor's task, and the
    # actor does not stop before it ends. Cancelling that ``ask`` cancels ``receive`` where it
    # is, so a behavior says yes only when that is safe.

    async def started(self, ctx: ActorContext) -> None:
        """Activate (e.g. replay state). An exception fails the messages waiting for this actor."""

    async def receive(self, envelope: Envelope) -> None:
        """Handle one message and answer it with ``envelope.resolve``/``fail`` (now or later).

        An exception escaping ``receive`` is sent to the caller; the actor keeps running."""

    async def stopped(self) -> None:
        """Release what the actor holds; envelopes it still keeps must be failed here.

        Called once the actor stops, whether it stopped normally, crashed, or failed to start."""


@runtime_checkable
class ActorType(Protocol):
    """A class that can be started as an actor (``Aggregate`` and ``Projection`` subclasses)."""

    #: How the runtime names actors of this type in logs and errors.
    actor_kind: ClassVar[str]

    @classmethod
    def create_behavior(cls, runtime: Runtime, key: str, *args: Any, **kwargs: Any) -> Behavior:
        """Build the behavior of the actor ``key`` of this type."""
        ...

"""A tiny scriptable actor type for the runtime tests: it records what the runtime does to it.

``probe_type()`` makes a fresh actor class per test, so no state leaks between tests. Each
message carries the code the actor runs for it (``run``), so a test reads as the messages it
sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, TypeVar

import anyio
import anyio.lowlevel

from runtime import ActorContext, ActorRef, Envelope, Runtime

R = TypeVar("R")

#: Whether probes keep a task group (and so their task, parked when idle) unless their script
#: says: the runtime tests run once each way (tests/runtime/conftest.py).
TASK_GROUP_BY_DEFAULT = False


class Script:
    """What one test's probe actors share: how they start, and a record of what happened."""

    def __init__(
        self,
        *,
        start_errors: list[Exception] | None = None,
        start_gate: anyio.Event | None = None,
        on_start: Callable[[ActorContext], Awaitable[None]] | None = None,
        run_in_caller: bool = False,
        task_group: bool | None = None,
    ) -> None:
        #: Raised by ``started()``, one per activation, until the list is used up.
        self.start_errors = list(start_errors or [])
        #: ``started()`` waits for this event first.
        self.start_gate = start_gate
        #: Run at the beginning of ``started()`` (e.g. to start a helper task).
        self.on_start = on_start
        #: What the probes' ``can_run_in_caller`` answers.
        self.run_in_caller = run_in_caller
        #: Whether the probes keep a task group (None: TASK_GROUP_BY_DEFAULT).
        self.task_group = task_group
        self.created: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
        self.started: list[str] = []
        self.stopped: list[str] = []
        self.received: list[tuple[str, Any]] = []
        self.trace: list[str] = []

    def values(self, key: str) -> list[Any]:
        """The ``value`` of each message actor ``key`` received, in order."""
        return [getattr(m, "value", None) for k, m in self.received if k == key]


class ProbeBase:
    """Base of the per-test probe types (see ``probe_type``)."""

    actor_kind: ClassVar[str] = "probe"
    script: ClassVar[Script]

    @classmethod
    def create_behavior(
        cls, runtime: Runtime, key: str, *args: Any, **kwargs: Any
    ) -> ProbeBehavior:
        cls.script.created.append((key, args, kwargs))
        return ProbeBehavior(cls.script, runtime, key)


def probe_type(script: Script | None = None) -> type[ProbeBase]:
    """A fresh actor type named ``Probe`` that records into ``script``."""

    class Probe(ProbeBase):
        pass

    Probe.script = script if script is not None else Script()
    return Probe


class ProbeBehavior:
    def __init__(self, script: Script, runtime: Runtime, key: str) -> None:
        self.script = script
        # A task group for helper tasks (StartHelper, on_start hooks); without one the actor
        # sleeps with no task when idle.
        self.uses_task_group = (
            script.task_group if script.task_group is not None else TASK_GROUP_BY_DEFAULT
        )
        self.key = key
        self.idle_timeout: float | None = runtime.passivate_after
        self.ctx: ActorContext | None = None
        self.count = 0

    async def started(self, ctx: ActorContext) -> None:
        self.ctx = ctx
        if self.script.on_start is not None:
            await self.script.on_start(ctx)
        if self.script.start_gate is not None:
            await self.script.start_gate.wait()
        if self.script.start_errors:
            raise self.script.start_errors.pop(0)
        self.script.started.append(self.key)

    async def receive(self, envelope: Envelope) -> None:
        message: Msg[Any] = envelope.message
        self.script.received.append((self.key, message))
        envelope.resolve(await message.run(self))

    async def stopped(self) -> None:
        self.script.stopped.append(self.key)

    def can_run_in_caller(self) -> bool:
        return self.script.run_in_caller


class Msg(Generic[R]):
    """A probe message: ``run`` is what the actor does with it, its result the reply."""

    def __reply__(self) -> R:
        raise NotImplementedError  # only declares the reply type for ask()

    async def run(self, actor: ProbeBehavior) -> R:
        raise NotImplementedError


@dataclass(frozen=True)
class Echo(Msg[int]):
    """Replies its value."""

    value: int

    async def run(self, actor: ProbeBehavior) -> int:
        return self.value


@dataclass(frozen=True)
class Bump(Msg[int]):
    """Counts in the actor's memory and replies the count."""

    async def run(self, actor: ProbeBehavior) -> int:
        actor.count += 1
        return actor.count


@dataclass(frozen=True)
class Fail(Msg[None]):
    """Raises its error."""

    error: Exception

    async def run(self, actor: ProbeBehavior) -> None:
        raise self.error


@dataclass(frozen=True)
class Hold(Msg[int]):
    """Sets ``entered``, waits for ``gate``, then replies its value."""

    gate: anyio.Event = field(default_factory=anyio.Event)
    value: int = -1
    entered: anyio.Event = field(default_factory=anyio.Event)

    async def run(self, actor: ProbeBehavior) -> int:
        self.entered.set()
        await self.gate.wait()
        return self.value


@dataclass(frozen=True)
class Step(Msg[int]):
    """Traces its start and end around a few checkpoints, so an overlap would show."""

    value: int

    async def run(self, actor: ProbeBehavior) -> int:
        actor.script.trace.append(f"start {self.value}")
        for _ in range(3):
            await anyio.lowlevel.checkpoint()
        actor.script.trace.append(f"end {self.value}")
        return self.value


@dataclass(frozen=True)
class WhichTask(Msg[int]):
    """Replies the id of the task that handles it."""

    async def run(self, actor: ProbeBehavior) -> int:
        return anyio.get_current_task().id


@dataclass(frozen=True)
class StartHelper(Msg[None]):
    """Starts a helper task in the actor's task group that raises ``error`` once ``trigger``."""

    trigger: anyio.Event
    error: Exception

    async def run(self, actor: ProbeBehavior) -> None:
        assert actor.ctx is not None
        actor.ctx.task_group.start_soon(self._crash)

    async def _crash(self) -> None:
        await self.trigger.wait()
        raise self.error


async def ask_into(ref: ActorRef, message: Msg[Any], outcomes: list[object]) -> None:
    """Ask and keep the reply or the exception in ``outcomes`` (for asks run as tasks)."""
    try:
        outcomes.append(await ref.ask(message))
    except Exception as exc:
        outcomes.append(exc)


async def wait_until(predicate: Callable[[], bool], timeout: float = 1.0) -> None:
    """Poll until ``predicate()`` holds; TimeoutError after ``timeout`` seconds."""
    # Polling: the runtime state tests wait on (is_live, stopped()) has no event to wait for.
    with anyio.fail_after(timeout):
        while not predicate():  # noqa: ASYNC110
            await anyio.sleep(0.005)

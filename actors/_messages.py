"""The messages users define: Command, Event and Query[R], frozen pydantic models."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from stores._ids import new_id

from ._recorded import Committed

R = TypeVar("R")


class Message(BaseModel):
    """Base of every message: immutable, and unknown fields are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Command(Message):
    """A request to change an aggregate; ``ask`` replies :class:`Committed`.

    ``command_id`` becomes the causation id of the events it produces; ``correlation_id``
    (default: the command id) is copied to them so a whole flow can be traced.

    ``idempotency_key``: a command whose key this aggregate has already committed is not run
    again; ``ask`` replies the original ``Committed``. The key is stored with the events, so this
    holds across passivation and restarts. (A command that produced no events stores nothing,
    so it simply runs again.)
    """

    command_id: str = Field(default_factory=new_id)
    correlation_id: str | None = None
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)

    def __reply__(self) -> Committed:
        raise NotImplementedError  # a typing marker: ask() on a Command returns Committed


class Event(Message):
    """Something that happened. Stored as JSON under its ``type_name`` (default: the class name;
    set ``type_name: ClassVar[str] = "..."`` to keep the stored name when renaming the class)."""

    type_name: ClassVar[str]

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if "type_name" not in cls.__dict__:
            cls.type_name = cls.__name__


class Query(Message, Generic[R]):
    """A question to an actor; ``ask`` replies the handler's value, typed ``R``."""

    def __reply__(self) -> R:
        raise NotImplementedError  # a typing marker: ask() on a Query[R] returns R

"""Events to stored JSON and back, once each: no pickle, no eval, names not import paths."""

from __future__ import annotations

import json
from json.encoder import encode_basestring as _json_string
from typing import Any, TypeVar

from pydantic import ValidationError

from stores import EventDecodeError, NewEvent, RecordedEvent, UnknownEventType

from ._messages import Command, Event

E = TypeVar("E", bound=Event)


def encode(event: Event, metadata: bytes) -> NewEvent:
    """The NewEvent for ``event`` (its JSON made once, the object kept for local readers)."""
    return NewEvent(
        event.type_name,
        event.__pydantic_serializer__.to_json(event),
        metadata=metadata,
        payload=event,
    )


def metadata_of(command: Command) -> bytes:
    """The metadata JSON of the events ``command`` causes (made once per command)."""
    causation = _json_string(command.command_id)
    correlation = _json_string(command.correlation_id) if command.correlation_id else causation
    key = command.idempotency_key
    if key is None:
        return f'{{"causation_id":{causation},"correlation_id":{correlation}}}'.encode()
    return (
        f'{{"causation_id":{causation},"correlation_id":{correlation},'
        f'"idempotency_key":{_json_string(key)}}}'
    ).encode()


_KEY_MARK = b'"idempotency_key"'


def idempotency_key_of(record: RecordedEvent) -> str | None:
    """The idempotency key stored with ``record``, if any (the JSON is parsed only if there)."""
    if _KEY_MARK not in record.metadata_json:
        return None
    key = json.loads(record.metadata_json).get("idempotency_key")
    return key if isinstance(key, str) else None


def decode(record: RecordedEvent, event_type: type[E]) -> E:
    """The event object of ``record``; reuses the object from an in-process append."""
    payload = record.payload
    if type(payload) is event_type:
        return payload
    try:
        return event_type.model_validate_json(record.data)
    except ValidationError as exc:
        raise EventDecodeError(
            f"stored event does not match {event_type.__name__}: {exc}",
            stream_id=record.stream_id,
            version=record.version,
            type=record.type,
        ) from exc


def unknown(record: RecordedEvent, reader: str) -> UnknownEventType:
    return UnknownEventType(
        f"{reader} has no @on handler for this stored event type",
        stream_id=record.stream_id,
        version=record.version,
        type=record.type,
    )


def known_types(events: dict[str, tuple[type[Event], Any]]) -> str:
    return ", ".join(sorted(events)) or "none"

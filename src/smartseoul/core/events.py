"""Typed, versioned events: the only way domains tell each other what happened.

An event travels as a CloudEvents-like envelope (``id``, ``type``, ``time``, ``source``, ``data``).
``type`` is a versioned name such as ``tracking.sos.raised.v1``; a consumer that does not know a
type still receives it as a :class:`GenericEvent`, so the console ticker shows every event.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartseoul.core.db import utcnow

EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+\.v[0-9]+$")

_REGISTRY: dict[str, type[Event]] = {}


class MalformedEvent(ValueError):
    """Bytes on the bus that are not a valid envelope."""


class Event(BaseModel):
    """Base of every event; subclasses set ``type_name`` and add their fields as the data."""

    model_config = ConfigDict(frozen=True)

    type_name: ClassVar[str] = ""
    transient: ClassVar[bool] = False
    """A transient event is news only while it is sent (a liveness beat, the latest boxes): the bus
    delivers it to the subscribers listening at that moment and never stores it, so there is no
    replay, no durable delivery, no de-duplication and no redelivery; a handler that fails on one
    is logged. Everything another domain must not miss stays durable (the default)."""
    id: UUID = Field(default_factory=uuid4)
    time: datetime = Field(default_factory=utcnow)
    source: str = "smartseoul"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name", "")
        if name:
            if not EVENT_NAME.match(name):
                raise ValueError(f"event type {name!r} must look like domain.thing.happened.v1")
            _REGISTRY[name] = cls

    @property
    def type(self) -> str:
        return self.type_name

    def data(self) -> dict[str, Any]:
        """The event's own fields, without the envelope."""
        return self.model_dump(mode="json", exclude={"id", "time", "source"})

    def envelope(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "time": self.time.isoformat(),
            "source": self.source,
            "data": self.data(),
        }

    def to_bytes(self) -> bytes:
        return json.dumps(self.envelope(), ensure_ascii=False, separators=(",", ":")).encode()


class GenericEvent(Event):
    """An event whose type this process does not know; the data is kept as it came."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: str
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.event_type

    def data(self) -> dict[str, Any]:
        return dict(self.payload)


def event_types() -> dict[str, type[Event]]:
    """Every event type registered by an imported module, by name."""
    return dict(_REGISTRY)


def decode_event(raw: bytes) -> Event:
    """Parse an envelope back into its typed event, or a GenericEvent for unknown types.

    Raises MalformedEvent for anything else: not JSON, no valid ``type``, no ``id``, or data that
    does not fit the type's fields.
    """
    try:
        envelope = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise MalformedEvent(f"not JSON: {error}") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("data", {}), dict):
        raise MalformedEvent("envelope must be an object with an object 'data'")
    name = envelope.get("type")
    if not isinstance(name, str) or not EVENT_NAME.match(name):
        raise MalformedEvent(f"bad event type {name!r}")
    if "id" not in envelope:  # a made-up id would defeat de-duplication and idempotent consumers
        raise MalformedEvent(f"{name}: envelope without an id")
    common = {key: envelope[key] for key in ("id", "time", "source") if key in envelope}
    cls = _REGISTRY.get(name)
    try:
        if cls is None:
            return GenericEvent(event_type=name, payload=envelope.get("data", {}), **common)
        return cls(**common, **envelope.get("data", {}))
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "envelope"
        raise MalformedEvent(f"{name}: {where}: {first['msg']}") from None


def subject_matches(pattern: str, name: str) -> bool:
    """NATS subject matching on dotted names: ``*`` is one token, ``>`` the rest (one or more)."""
    pattern_tokens = pattern.split(".")
    name_tokens = name.split(".")
    for index, token in enumerate(pattern_tokens):
        if token == ">":
            return len(name_tokens) > index
        if index >= len(name_tokens) or (token != "*" and token != name_tokens[index]):
            return False
    return len(pattern_tokens) == len(name_tokens)

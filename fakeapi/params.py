"""Reads Bot API method parameters from query strings, forms, multipart bodies and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from .errors import bad_request

FREE_TEXT = frozenset(
    {
        "text",
        "caption",
        "title",
        "description",
        "short_description",
        "question",
        "explanation",
        "name",
        "first_name",
        "last_name",
        "address",
        "query",
        "quote",
        "phone_number",
        "vcard",
        "emoji",
        "secret_token",
        "url",
        "callback_query_id",
        "inline_message_id",
        "file_id",
        "language_code",
        "custom_title",
        "business_connection_id",
        "action",
        "parse_mode",
        "sticker_set_name",
        "payload",
        "provider_token",
        "currency",
        "start_parameter",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "message_effect_id",
        "question_parse_mode",
        "explanation_parse_mode",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "ip_address",
    }
)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request: what the bot uploaded."""

    filename: str
    content: bytes
    content_type: str


class Params:
    """Decoded method parameters, keeping raw form strings so free text survives intact."""

    def __init__(self, values: dict[str, Any], raw: dict[str, str] | None = None) -> None:
        self.values = values
        self.raw = raw or {}
        self.alive: Callable[[], bool] = lambda: True

    @classmethod
    def from_form(cls, fields: dict[str, Any]) -> Params:
        """Decode form fields: JSON for structured values, raw strings for free text."""
        values: dict[str, Any] = {}
        raw: dict[str, str] = {}
        for name, value in fields.items():
            if isinstance(value, str):
                raw[name] = value
                values[name] = value if name in FREE_TEXT else _maybe_json(value)
            else:
                values[name] = value
        return cls(values, raw)

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) is not None

    def get(self, name: str, default: Any = None) -> Any:
        """The decoded value, or default when missing."""
        value = self.values.get(name)
        return default if value is None else value

    def text(self, name: str, default: str | None = None) -> str | None:
        """The value as a string, exactly as sent when it came from a form."""
        if name in self.raw:
            return self.raw[name]
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        """The value as an int; a non-numeric value is a Bad Request."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise bad_request(f"invalid {name} specified")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        """The value as a float, or None when missing."""
        value = self.values.get(name)
        if value is None:
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        """The value as a bool (Telegram accepts true/false/1/0)."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() in ("true", "1")
        return bool(value)

    def structured(self, name: str) -> Any:
        """A structured value, decoding it if it still is a JSON string."""
        value = self.values.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value

    def upload(self, name: str) -> UploadedFile | None:
        """The uploaded file sent for a field, if any."""
        return self.attachment(self.values.get(name))

    def attachment(self, value: Any) -> UploadedFile | None:
        """Resolve a value that is an upload or an ``attach://name`` reference; else None."""
        if isinstance(value, UploadedFile):
            return value
        if isinstance(value, str) and value.startswith("attach://"):
            attached = self.values.get(value.removeprefix("attach://"))
            if isinstance(attached, UploadedFile):
                return attached
            raise bad_request(f"file {value} not found in the request")
        return None

    def public(self) -> dict[str, Any]:
        """A copy of the decoded values for the call log."""
        return dict(self.values)


def _maybe_json(value: str) -> Any:
    """json.loads with a fallback to the raw string."""
    try:
        return json.loads(value)
    except ValueError:
        return value


async def read_params(request: web.Request) -> Params:
    """Collect parameters from the query string and the body, whatever its encoding."""
    fields: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json() if request.can_read_body else {}
        except ValueError:
            raise bad_request("can't parse JSON object") from None
        if not isinstance(body, dict):
            raise bad_request("can't parse JSON object")
        params = Params.from_form(fields)
        params.values.update(body)
        for name in body:
            params.raw.pop(name, None)
        return params
    if request.can_read_body:
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                fields[name] = UploadedFile(
                    filename=value.filename,
                    content=value.file.read(),
                    content_type=value.content_type,
                )
            else:
                fields[name] = value
    return Params.from_form(fields)

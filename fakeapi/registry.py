"""The table of Bot API methods the fake answers, filled by the modules in ``methods``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .params import Params

if TYPE_CHECKING:
    from .core import FakeTelegram

Handler = Callable[["FakeTelegram", Params], Awaitable[Any]]

_METHODS: dict[str, tuple[str, Handler]] = {}


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: method, decoded params, and the result or the ApiError."""

    method: str
    params: dict[str, Any]
    ok: bool
    result_or_error: Any


def api_method(name: str) -> Callable[[Handler], Handler]:
    """Register a handler under a Bot API method name (matched case-insensitively)."""

    def register(handler: Handler) -> Handler:
        _METHODS[name.lower()] = (name, handler)
        return handler

    return register


def lookup(name: str) -> tuple[str, Handler] | None:
    """The canonical name and handler for a method name, or None if unknown."""
    return _METHODS.get(name.lower())


def method_names() -> list[str]:
    """All implemented method names."""
    return sorted(canonical for canonical, _ in _METHODS.values())

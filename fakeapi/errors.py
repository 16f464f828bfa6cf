"""Bot API error values, raised by method handlers and rendered as Telegram's JSON errors."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal the fake answers with ``{"ok": false, ...}`` and the matching HTTP status."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        """The response body Telegram would send for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body

    def __repr__(self) -> str:
        return f"ApiError({self.code}, {self.description!r})"


def bad_request(reason: str) -> ApiError:
    """A 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 error with Telegram's "Forbidden: " prefix."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 flood-control error carrying ``retry_after`` like the real API."""
    return ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        {"retry_after": retry_after},
    )


def conflict(reason: str) -> ApiError:
    """A 409 error with Telegram's "Conflict: " prefix."""
    return ApiError(409, f"Conflict: {reason}")


def not_found_method() -> ApiError:
    """The 404 Telegram answers for a method name it does not know."""
    return ApiError(404, "Not Found: method not found")

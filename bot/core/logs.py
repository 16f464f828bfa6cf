"""Logging set-up: levels from settings, libraries that could leak secrets or personal data kept
quiet, secrets redacted from every line, one line of text or (LOG_FORMAT=json) one JSON object per
record with the update id and handler name, and PTB's start-up warning about our deliberate
per-chat conversations silenced."""

from __future__ import annotations

import functools
import logging
import re
import traceback
import warnings
from collections.abc import Awaitable, Callable, Iterable
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pythonjsonlogger.json import JsonFormatter
from telegram.ext import Application, BaseHandler, ConversationHandler
from telegram.warnings import PTBUserWarning

QUIET = (
    "httpx",
    "httpcore",
    "apscheduler",
    "aiosqlite",
    "asyncio",
    "alembic.runtime.plugins",
    "sqlalchemy",
)
"""httpx logs every request URL, and Telegram URLs contain the bot token; SQLAlchemy at INFO or
DEBUG logs statements and result rows (descriptions, names); the rest is noise."""
BOT_TOKEN = re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}")
"""A Telegram bot token wherever it appears (in a request URL, an error message)."""
REDACTED = "[redacted]"
UPDATE_ID: ContextVar[int | None] = ContextVar("pact_log_update_id", default=None)
"""The update being handled (set by bot/core/metrics.py observe around its unit of work)."""
HANDLER: ContextVar[str | None] = ContextVar("pact_log_handler", default=None)
"""The qualified name of the handler callback running now (set by name_handlers' wrappers)."""
JSON_FIELDS = (
    "time",
    "level",
    "logger",
    "message",
    "update_id",
    "handler",
    "exc_info",
    "stack_info",
)
"""Everything a JSON line may hold: no extras, so no library can add contents or user ids."""


class Redactor(logging.Filter):
    """Replaces bot tokens and the given secrets in a record's message and traceback text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.formatter = logging.Formatter()

    def clean(self, text: str) -> str:
        """The text without any secret."""
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return BOT_TOKEN.sub(REDACTED, text)

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place (message formatted first), then let it through."""
        message = record.getMessage()
        cleaned = self.clean(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self.clean(record.stack_info)
        return True


class InUpdate:
    """Lines logged inside carry this update id (and the handler's name while one runs).

    A class rather than a generator function: it wraps every update."""

    __slots__ = ("_handler", "_token", "_update_id")

    def __init__(self, update_id: int | None) -> None:
        self._update_id = update_id

    def __enter__(self) -> None:
        self._token, self._handler = UPDATE_ID.set(self._update_id), HANDLER.set(None)

    def __exit__(self, *_exc: object) -> None:
        HANDLER.reset(self._handler)
        UPDATE_ID.reset(self._token)


Callback = Callable[..., Awaitable[Any]]


def named(callback: Callback) -> Callback:
    """The callback, with lines logged while it runs carrying its qualified name.

    When it raises, the name stays set for the rest of the update (InUpdate ends it), so the
    error handler's line says which handler failed.
    """
    inner = getattr(callback, "func", callback)  # a functools.partial names its function
    name = f"{inner.__module__}.{getattr(inner, '__qualname__', type(inner).__qualname__)}"

    @functools.wraps(callback)
    async def run(*args: Any, **kwargs: Any) -> Any:
        token = HANDLER.set(name)
        result = await callback(*args, **kwargs)
        HANDLER.reset(token)
        return result

    return run


def name_handlers(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Wrap every registered handler's callback (conversation steps too) with ``named``."""

    def wrap(handler: BaseHandler[Any, Any, Any]) -> None:
        if isinstance(handler, ConversationHandler):
            for steps in handler.states.values():
                for inner in steps:
                    wrap(inner)
            for inner in (*handler.entry_points, *handler.fallbacks):
                wrap(inner)
        elif not hasattr(handler.callback, "__wrapped__"):
            handler.callback = named(handler.callback)

    for handlers in app.handlers.values():
        for handler in handlers:
            wrap(handler)


class JsonLines(JsonFormatter):
    """One JSON object per record: JSON_FIELDS only, the time in UTC, tracebacks redacted."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
        self.redactor = redactor

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """ISO 8601 in UTC, to the millisecond."""
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")

    def formatException(self, ei: Any) -> str:
        """The traceback with secrets redacted (the formatter re-formats it from exc_info)."""
        return self.redactor.clean(str(super().formatException(ei)))

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        """The fixed fields, the update and handler when inside one; nothing else."""
        super().add_fields(log_data, record, message_dict)
        log_data["update_id"] = UPDATE_ID.get()
        log_data["handler"] = HANDLER.get()
        for key in list(log_data):
            if key not in JSON_FIELDS or log_data[key] is None:
                del log_data[key]


def error_chain(error: BaseException) -> list[BaseException]:
    """The error and the errors it was raised from or during, innermost cause first."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain[::-1]


def frames_only(error: BaseException) -> str:
    """A traceback of files, lines and code, with type names but no messages (no user data)."""
    parts: list[str] = []
    for link in error_chain(error):
        parts.append("".join(traceback.format_tb(link.__traceback__)))
        parts.append(f"{type(link).__module__}.{type(link).__qualname__} (message withheld)\n")
    header = "Traceback (most recent call last; causes first; messages withheld):\n"
    return header + "".join(parts).rstrip()


def origin(error: BaseException) -> str:
    """Where it failed: the innermost frame in a feature ("bot/cases/report.py:31 f"), else ours."""
    project = Path(__file__).resolve().parent.parent.parent
    machinery = [project / "bot" / "core", project / "bot" / "kit"]
    ours = [
        (path, frame)
        for frame in traceback.extract_tb(error.__traceback__)
        if (path := Path(frame.filename).resolve()).is_relative_to(project)
        and ".venv" not in path.parts
    ]
    in_features = [
        (path, frame)
        for path, frame in ours
        if path.is_relative_to(project / "bot")
        and not any(path.is_relative_to(folder) for folder in machinery)
    ]
    if not (in_features or ours):
        return "unknown place"
    path, frame = (in_features or ours)[-1]
    return f"{path.relative_to(project)}:{frame.lineno} {frame.name}"


def failure(error: BaseException | None) -> str:
    """An error as a log line may show it: its type, where it happened, its frames; no message."""
    if error is None:
        return "no error recorded"
    return f"{type(error).__name__} in {origin(error)}\n{frames_only(error)}"


def configure(level: str, secrets: Iterable[str] = (), fmt: str = "text") -> None:
    """One-line records (text, or JSON when `fmt` is "json") on stderr, no update contents,
    `secrets` and bot tokens redacted."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    redactor = Redactor(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redactor)
        if fmt == "json":
            handler.setFormatter(JsonLines(redactor))
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    chosen = logging.getLevelName(level.upper())
    # PTB logs every Bot API call with its parameters (message texts, chat ids) at DEBUG.
    logging.getLogger("telegram").setLevel(max(logging.INFO, chosen))
    logging.getLogger("alembic").setLevel(max(logging.INFO, chosen))
    # Our conversations track per chat and user on purpose; PTB warns about each one at start.
    warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)

"""A fake Telegram Bot API server on loopback, for end-to-end tests and the playground."""

from .core import FakeTelegram
from .errors import ApiError
from .files import StoredFile
from .html import HtmlParseError, parse_html
from .message import FakeMessage
from .registry import ApiCall
from .updates import UpdateDropped
from .users import FakeGroup, FakeUser
from .webhook import WebhookDelivery

__all__ = [
    "ApiCall",
    "ApiError",
    "FakeGroup",
    "FakeMessage",
    "FakeTelegram",
    "FakeUser",
    "HtmlParseError",
    "StoredFile",
    "UpdateDropped",
    "WebhookDelivery",
    "parse_html",
]

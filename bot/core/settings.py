"""Runtime configuration: one pydantic-settings object read from the environment and `.env`."""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SUPPORTED_LOCALES = ("sq", "en")
ROLES = ("fetch", "work", "send")
"""What one of several processes may do: fetch updates, handle them, send the outbox."""
ROLES_TEXT = ", ".join(ROLES)


class MissingTokenError(RuntimeError):
    """Raised when something needs Telegram but BOT_TOKEN is not set."""

    def __init__(self) -> None:
        super().__init__(
            "BOT_TOKEN is not set. Talk to @BotFather in Telegram (/newbot), copy the token it "
            "gives you and put it in the BOT_TOKEN environment variable or in .env "
            "(see .env.example). Without a token, try the bot with `pact-bot playground`."
        )


WEBHOOK_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,256}")
"""At least 32 characters (guessing is hopeless) of the alphabet Telegram allows, at most 256."""


def check_webhook_secret(secret: str, error: type[Exception]) -> None:
    """Raise `error` with how to make a good WEBHOOK_SECRET when this one is missing or weak."""
    if WEBHOOK_SECRET_SHAPE.fullmatch(secret):
        return
    problem = "contains characters other than A-Z, a-z, 0-9, _ and -"
    if not secret:
        problem = "is not set"
    elif not 32 <= len(secret) <= 256:
        problem = f"has {len(secret)} characters"
    raise error(
        f"WEBHOOK_SECRET {problem}. Webhook mode needs a secret of 32-256 characters, only "
        "A-Z, a-z, 0-9, _ and -. Make one with `python -c 'import secrets; "
        "print(secrets.token_urlsafe(32))'` and put it in WEBHOOK_SECRET (environment or .env)."
    )


class Settings(BaseSettings):
    """Everything the bot reads from its environment; secrets stay SecretStr."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", env_ignore_empty=True
    )
    """An empty value (`STAFF_CHAT_ID=` as in .env.example) means unset, not an invalid number."""

    bot_token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///./data/pact.sqlite3"
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    staff_chat_id: int | None = None
    timezone: str = "Europe/Tirane"
    default_locale: str = "sq"

    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8080
    health_port: int | None = Field(
        default=None, validation_alias=AliasChoices("health_port", "web_port")
    )
    """Port of the HTTP server (/healthz, /metrics, the public site) besides the webhook's;
    HEALTH_PORT or WEB_PORT."""
    public_url: str | None = None
    """Where the public site is reached from outside (https://…), for links in messages."""
    public_refresh_minutes: int = Field(default=15, ge=1)
    """The public site's figures are rebuilt this often; a page view runs no heavy query."""
    suppression_threshold: int = Field(default=10, ge=1)
    """Report-card cells with fewer respondents are never shown (bot, site, exports): "< 10"."""

    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    """`json`: one JSON object per line (time, level, logger, message, update id, handler)."""
    metrics_token: SecretStr | None = None
    """When set, GET /metrics needs `Authorization: Bearer <token>`."""
    controller_name: str = (
        "ANTTARC – Albanian National Training and Technical Assistance Resource Center"
    )
    controller_contact: str = ""
    case_retention_months: int = Field(default=24, ge=1)
    case_review_days: int = Field(default=5, ge=1)
    staff_idle_days: int = Field(default=3, ge=1)
    campaign_weekly_cap: int = Field(default=3, ge=1)
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    broadcast_rate: float = Field(default=30.0, ge=0)
    broadcast_concurrency: int = Field(default=64, ge=1)
    progress_edit_seconds: float = Field(default=3.0, ge=0)
    idp_postal_address: str = 'Rr. "Abdi Toptani", Nd. 5, 1001 Tiranë'
    commissioner_decision_days: int = Field(default=15, ge=1)
    max_concurrent_updates: int = Field(default=32, ge=1)
    reminder_poll_seconds: int = Field(default=60, ge=0)
    telegram_rate_limit: bool = True

    updates_per_minute: int = Field(default=30, ge=1)
    cases_per_day: int = Field(default=3, ge=1)
    files_per_case: int = Field(default=10, ge=1)
    draft_expiry_days: int = Field(default=7, ge=1)
    image_max_pixels: int = Field(default=12_600_000, ge=1_000_000)
    cleanings_at_once: int = Field(default=2, ge=1)
    inbox_backlog: int = Field(default=200, ge=1)
    """Fetching pauses while this many stored updates are not handled yet (bot/core/inbox.py)."""
    inbox_attempts: int = Field(default=5, ge=1)
    """A stored update whose transaction failed this often is given up (logged)."""
    shutdown_drain_seconds: float = Field(default=8.0, ge=0)
    """At SIGTERM, handling in progress gets this long; the rest waits in the inbox."""
    process_role: str = "all"
    """`all`: one process does everything. Otherwise this is one of several processes sharing
    PostgreSQL (bot/core/cluster.py), doing some of `fetch`, `work`, `send` (comma-separated)."""
    db_connect_timeout: float = Field(default=5.0, gt=0)
    """Seconds to open a database connection before the update fails with an apology."""
    db_pool_timeout: float = Field(default=5.0, gt=0)
    """Seconds to wait for a free pooled connection."""
    db_command_timeout: float = Field(default=10.0, ge=0)
    """Seconds one statement may take (SQLite: how long to wait for a lock); 0: no limit."""

    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        """Accept ADMIN_IDS as "1,2,3" as well as a JSON list."""
        if isinstance(value, str):
            return frozenset(
                int(part) for part in value.replace(";", ",").split(",") if part.strip()
            )
        return value

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        """Only the locales we ship catalogs for."""
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        """Fail at start, not at the first reminder, on a misspelt zone."""
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as error:
            raise ValueError(f"TIMEZONE {value!r} is not a known time zone") from error
        return value

    @field_validator("process_role")
    @classmethod
    def _known_roles(cls, value: str) -> str:
        """`all`, or a comma-separated choice of fetch, work and send."""
        parts = {part.strip().lower() for part in value.split(",") if part.strip()}
        if parts == {"all"}:
            return "all"
        if not parts or parts - set(ROLES):
            raise ValueError(f"`all`, or some of {ROLES_TEXT} separated by commas")
        return ",".join(role for role in ROLES if role in parts)

    @property
    def tz(self) -> ZoneInfo:
        """The configured zone as a tzinfo."""
        return ZoneInfo(self.timezone)

    @property
    def webhook_mode(self) -> bool:
        """Webhook when WEBHOOK_URL is set, polling otherwise."""
        return bool(self.webhook_url)

    def require_token(self) -> str:
        """The token, or a clear error telling how to get one."""
        if self.bot_token is None or not self.bot_token.get_secret_value().strip():
            raise MissingTokenError
        return self.bot_token.get_secret_value().strip()

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_strong(cls, value: SecretStr | None) -> SecretStr | None:
        """A set WEBHOOK_SECRET must be long enough to be unguessable; checked at start."""
        if value is not None and value.get_secret_value():
            check_webhook_secret(value.get_secret_value(), ValueError)
        return value

    def require_webhook_secret(self) -> str:
        """The secret Telegram must send back; webhook mode refuses to run without a strong one."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        check_webhook_secret(secret, RuntimeError)
        return secret

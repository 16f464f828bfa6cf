"""Logging set-up: levels from settings, and libraries that could leak secrets kept quiet."""

from __future__ import annotations

import logging

QUIET = ("httpx", "httpcore", "apscheduler", "aiosqlite", "asyncio", "alembic.runtime.plugins")
"""httpx logs every request URL, and Telegram URLs contain the bot token."""


def configure(level: str) -> None:
    """Plain one-line records on stderr; never update contents (no personal data in logs)."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True
    )
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    chosen = logging.getLevelName(level.upper())
    logging.getLogger("telegram").setLevel(max(logging.INFO, chosen))
    logging.getLogger("alembic").setLevel(max(logging.INFO, chosen))

"""Logging set-up: levels from settings, libraries that could leak secrets kept quiet, and
PTB's start-up warning about our deliberate per-chat conversations silenced."""

from __future__ import annotations

import logging
import warnings

from telegram.warnings import PTBUserWarning

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
    # Our conversations track per chat and user on purpose; PTB warns about each one at start.
    warnings.filterwarnings("ignore", "If 'per_message=False'", PTBUserWarning)

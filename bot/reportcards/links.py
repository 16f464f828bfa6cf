"""The ways into a round's survey: an invitation's button and a `/start crc_<round>` link."""

from __future__ import annotations

from bot.kit.codec import ButtonCodec

OPEN_SURVEY = ButtonCodec("crc:go:", int)
"""The button under an invitation (or anywhere): opens the survey of round <id>."""
DEEP_LINK_PREFIX = "crc_"
"""`/start crc_<round id>`: the payload of the survey's link."""


def deep_link(bot_username: str, round_id: int) -> str:
    """The t.me link that opens a round's survey in the bot."""
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}{round_id}"

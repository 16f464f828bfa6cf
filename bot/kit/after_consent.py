"""A flow refused for want of consent goes on once the person has agreed (onboarding offers it)."""

from __future__ import annotations

from bot.core.application import PactContext
from bot.kit.ui import Button

KEY = "after_consent"
"""user_data: the button that re-enters the refused flow, and its label's msgid."""


def remember(context: PactContext, data: str, label: str) -> None:
    """The flow the person tried (its entry button's data) and the label (an N_ msgid)."""
    context.user_data[KEY] = {"data": data, "label": label}


def forget(context: PactContext) -> None:
    """Nothing to go on with (the person refused, or may not use the flow)."""
    context.user_data.pop(KEY, None)


def take(context: PactContext) -> Button | None:
    """The button back into the refused flow, translated, once; None when there is none."""
    pending = context.user_data.pop(KEY, None)
    if not isinstance(pending, dict) or not pending.get("data"):
        return None
    return (context.t.gettext(pending.get("label") or "▶️ Continue"), pending["data"])

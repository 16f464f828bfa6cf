"""Reminders that are due."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement

from db.models import Reminder


def due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """Not yet sent, not cancelled, and its moment has come."""
    return (Reminder.sent_at.is_(None), Reminder.cancelled_at.is_(None), Reminder.due_at <= now)

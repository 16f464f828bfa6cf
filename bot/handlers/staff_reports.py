"""/export and /stats for staff: within each member's municipalities and corruption permission."""

from __future__ import annotations

import io
from datetime import date, timedelta

from telegram import InputFile, Update

from bot.access import current_member
from bot.application import PactContext
from bot.i18n import N_, Translator
from bot.services import export as exports
from bot.services.filters import Scope
from bot.ui import answer, keyboard, send
from db.models import StaffMember
from db.repositories import audit

EXPORT = "stf:exp:"
PERIODS = {
    "month": N_("This month"),
    "last": N_("Last month"),
    "year": N_("This year"),
    "all": N_("Everything"),
}


def period(key: str, today: date) -> tuple[date | None, date | None]:
    """The first and last day of a named period (Tirana calendar)."""
    if key == "month":
        return today.replace(day=1), today
    if key == "last":
        last_day = today.replace(day=1) - timedelta(days=1)
        return last_day.replace(day=1), last_day
    if key == "year":
        return today.replace(month=1, day=1), today
    return None, None


def scope_for(member: StaffMember, start: date | None, end: date | None) -> Scope:
    """What this member may see, for a period."""
    ids = tuple(member.municipality_ids) if member.municipality_ids is not None else None
    return Scope(start=start, end=end, municipality_ids=ids, include_corruption=member.corruption)


def period_buttons(t: Translator, prefix: str) -> list[list[tuple[str, str]]]:
    """The periods as two rows of buttons."""
    items = [(t.gettext(label), f"{prefix}{key}") for key, label in PERIODS.items()]
    return [items[:2], items[2:]]


async def export_command(update: Update, context: PactContext) -> None:
    """/export: choose the period."""
    t = context.t
    await send(
        update,
        context,
        t.gettext("Export cases and requests for:"),
        keyboard(*period_buttons(t, EXPORT)),
    )


async def export_period(update: Update, context: PactContext) -> None:
    """Send the two CSV files and audit the export."""
    query = await answer(update)
    member = current_member(context)
    assert member is not None
    key = (query.data or "").removeprefix(EXPORT)
    key = key if key in PERIODS else "all"
    settings = context.services.settings
    now = context.services.clock.now()
    today = now.astimezone(settings.tz).date()
    scope = scope_for(member, *period(key, today))
    session = context.scope.session
    assert update.effective_chat is not None
    for kind, content in (
        ("cases", await exports.cases_csv(session, scope, settings.tz, context.t.locale)),
        ("rti", await exports.rti_csv(session, scope, settings.tz)),
    ):
        await context.bot.send_document(
            update.effective_chat.id,
            InputFile(io.BytesIO(content), filename=exports.filename(kind, scope, today)),
        )
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=member.user_id,
        action="export",
        subject_type="export",
        subject_id=None,
        after={
            "period": key,
            "municipality_ids": list(scope.municipality_ids) if scope.municipality_ids else None,
            "corruption": scope.include_corruption,
        },
    )

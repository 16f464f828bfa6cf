"""/scorecard (admins): a municipality's month at a glance, to preview before publishing."""

from __future__ import annotations

from datetime import date, timedelta

from markupsafe import Markup
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.broadcasting import sender as delivery
from bot.campaigns.services import audience, campaigns
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import Translator, escaped_within
from bot.kit import pickers
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, edit_or_send, keyboard, rows_of, send
from bot.staff.services import stats
from bot.staff.services.filters import Scope
from bot.staff.services.permissions import Permission
from db.models import Authority, AuthorityKind, CaseStatus, Topic

MONTHS = ("last", "this")
SHOW, PUBLISH = ButtonCodec("adm:sc:", int, MONTHS), ButtonCodec("adm:scp:", int, MONTHS)
"""A municipality's scorecard, previewed or published, of last month or this month so far."""


def month_bounds(today: date, previous: bool) -> tuple[date, date]:
    """This month so far, or the whole previous month."""
    first = today.replace(day=1)
    if not previous:
        return first, today
    last = first - timedelta(days=1)
    return last.replace(day=1), last


def render(
    t: Translator,
    town: Authority,
    start: date,
    figures: stats.CaseStats,
    rti_rows: list[stats.AuthorityRti],
) -> str:
    """The scorecard text."""
    resolved = dict(figures.by_status).get(CaseStatus.RESOLVED.value, 0)
    rti = rti_rows[0] if rti_rows else None
    return Markup("\n").join(
        [
            t.gettext(
                "<b>Scorecard: Municipality of {name}</b>, {month}",
                name=town.name,
                month=t.month(start),
            ),
            _requests_line(t, rti),
            _complaints_line(t, figures, resolved),
            t.gettext("Citizen monitoring: counts of reports made through the bot."),
        ]
    )


def _requests_line(t: Translator, rti: stats.AuthorityRti | None) -> str:
    """Requests sent, answered and how fast; what there is not yet to measure is said in words."""
    if rti is None or not rti.requests:
        return t.gettext("Requests for information: none sent")
    if rti.answer_rate is None or rti.median_days_to_answer is None:
        return t.gettext(
            "Requests for information: {sent} sent, no answer yet", sent=t.number(rti.requests)
        )
    return t.gettext(
        "Requests for information: {sent} sent, answer rate {rate}, median {days} days to answer",
        sent=rti.requests,
        rate=f"{round(rti.answer_rate * 100)}%",
        days=t.number(round(rti.median_days_to_answer, 1)),
    )


def _complaints_line(t: Translator, figures: stats.CaseStats, resolved: int) -> str:
    """Reports received and resolved, and how fast; no median before the first resolution."""
    if not figures.total:
        return t.gettext("Complaints: none received")
    if figures.median_days_to_resolution is None:
        return t.gettext(
            "Complaints: {received} received, none resolved yet", received=figures.total
        )
    return t.gettext(
        "Complaints: {received} received, {resolved} resolved, median {days} days to resolve",
        received=figures.total,
        resolved=resolved,
        days=t.number(round(figures.median_days_to_resolution, 1)),
    )


async def scorecard_command(update: Update, context: PactContext) -> None:
    """/scorecard: choose a programme municipality."""
    towns = [
        a
        for a in await pickers.all_sorted(context)
        if a.kind == AuthorityKind.MUNICIPALITY and a.in_programme
    ]
    buttons = [(a.name, SHOW.data(a.id, "last")) for a in towns]
    rows = rows_of(buttons, 3)
    await send(
        update, context, context.t.gettext("Scorecard of which municipality?"), keyboard(*rows)
    )


async def scorecard_show(update: Update, context: PactContext) -> None:
    """The scorecard of last month or this month so far."""
    query = update.callback_query
    assert query is not None
    number, which = SHOW.parse(query.data) or (None, None)
    town = await context.scope.session.get(Authority, number) if number is not None else None
    if town is None or town.kind != AuthorityKind.MUNICIPALITY:
        await stale_button(update, context)
        return
    await answer(update)
    t = context.t
    settings = context.services.settings
    today = context.services.clock.now().astimezone(settings.tz).date()
    start, end = month_bounds(today, previous=which != "this")
    scope = Scope(start=start, end=end, municipality_ids=(town.id,))
    session = context.scope.session
    figures = await stats.case_stats(session, scope, settings.tz)
    rti_rows = await stats.rti_stats(session, scope, settings.tz)
    other = "this" if which != "this" else "last"
    label = t.gettext("This month so far") if other == "this" else t.gettext("Last month")
    reach = await audience.count(
        session, audience.Audience(topics=(Topic.SERVICES,), municipality_ids=(town.id,))
    )
    await edit_or_send(
        update,
        context,
        render(t, town, start, figures, rti_rows),
        keyboard(
            [(label, SHOW.data(town.id, other))],
            [
                (
                    t.ngettext(
                        "📣 Publish to {count} subscriber",
                        "📣 Publish to {count} subscribers",
                        reach,
                    ),
                    PUBLISH.data(town.id, which),
                )
            ],
        ),
    )


async def publish(update: Update, context: PactContext) -> None:
    """Send the scorecard as a broadcast to the municipality's "services" subscribers."""
    query = update.callback_query
    assert query is not None
    number, which = PUBLISH.parse(query.data) or (None, None)
    town = await context.scope.session.get(Authority, number) if number is not None else None
    member = current_member(context)
    if town is None or town.kind != AuthorityKind.MUNICIPALITY or member is None:
        await stale_button(update, context)
        return
    await answer(update)
    services = context.services
    now = services.clock.now()
    start, end = month_bounds(now.astimezone(services.settings.tz).date(), previous=which != "this")
    scope = Scope(start=start, end=end, municipality_ids=(town.id,))
    session = context.scope.session
    figures = await stats.case_stats(session, scope, services.settings.tz)
    rti_rows = await stats.rti_stats(session, scope, services.settings.tz)
    texts = {
        code: render(services.i18n.translator(code), town, start, figures, rti_rows)
        for code in ("sq", "en")
    }
    await campaigns.create_broadcast(
        session,
        title=escaped_within(f"Scorecard {town.name} {start:%Y-%m}", 100),
        text_sq=texts["sq"],
        text_en=texts["en"],
        topic=Topic.SERVICES,
        municipality_ids=[town.id],
        send_at=now,
        by_user_id=member.user_id,
        progress_chat_id=update.effective_chat.id if update.effective_chat else None,
        now=now,
    )
    delivery.kick_when_committed(context.application)
    await send(
        update,
        context,
        context.t.gettext("Scheduled: it goes out now (quiet hours and weekly limits apply)."),
    )


def routes() -> list[routing.Route]:
    """/scorecard, its preview and publishing: admins only."""
    return routing.staff(
        Permission.ADMIN,
        CommandHandler("scorecard", scorecard_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(scorecard_show, pattern=SHOW.pattern),
        CallbackQueryHandler(publish, pattern=PUBLISH.pattern),
    )

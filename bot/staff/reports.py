"""/export and /stats for staff: within each member's municipalities and corruption permission."""

from __future__ import annotations

import asyncio
import io
import tempfile
from datetime import date, timedelta
from pathlib import Path

from markupsafe import Markup
from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.cases import views as case_views
from bot.cases.services import case_rules
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, join_lines, plain
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, keyboard, send
from bot.staff.services import charts, export_files, stats
from bot.staff.services.filters import Scope
from bot.staff.services.permissions import Permission
from db.models import CaseStatus, StaffMember
from db.repositories import audit

PERIODS = {
    "month": N_("This month"),
    "last": N_("Last month"),
    "year": N_("This year"),
    "all": N_("Everything"),
}
EXPORT = ButtonCodec("ex:period:", tuple(PERIODS))


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


def period_buttons(t: Translator, button: ButtonCodec) -> list[list[tuple[str, str]]]:
    """The periods as two rows of buttons."""
    items = [(t.gettext(label), button.data(key)) for key, label in PERIODS.items()]
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
    """Send cases and requests, each as zipped CSV and as .xlsx (in parts by period when over
    Telegram's upload limit), built off the event loop, and audit the export."""
    query = await answer(update)
    member = current_member(context)
    assert member is not None
    key = EXPORT.parse(query.data) or "all"
    settings = context.services.settings
    now = context.services.clock.now()
    today = now.astimezone(settings.tz).date()
    scope = scope_for(member, *period(key, today))
    session = context.scope.session
    assert update.effective_chat is not None
    with tempfile.TemporaryDirectory(prefix="pact-export-") as folder:
        for kind in ("cases", "rti"):
            files = await export_files.write_tables(
                session, kind, scope, settings.tz, context.t, Path(folder), today
            )
            for file in export_files.captioned(context.t, files):
                with file.path.open("rb") as content:
                    document = InputFile(content, filename=file.name)
                await context.bot.send_document(
                    update.effective_chat.id, document, caption=file.caption, parse_mode=None
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


STATS = ButtonCodec("vw:period:", tuple(PERIODS))


def _status_label(t: Translator, key: str) -> str:
    """A status in the staff member's language."""
    return t.gettext(case_views.STATUS[CaseStatus(key)]) if key in set(CaseStatus) else key


def municipality_label(t: Translator, name: str) -> str:
    """A municipality's name; cases without one (corruption reports about other institutions)
    get their own words, never a dash. Plain text (charts)."""
    if name == stats.NO_MUNICIPALITY:
        return plain(t.gettext("No municipality (corruption reports)"))
    return name


def category_label(t: Translator, key: str) -> str:
    """A category key in the staff member's language. Plain text (charts)."""
    if key == stats.CORRUPTION:
        return plain(t.gettext("Corruption report"))
    found = case_rules.category(key)
    return found.label(t.locale) if found else plain(t.gettext("No category"))


def month_label(t: Translator, key: str) -> str:
    """A "YYYY-MM" month in words in the staff member's language (Babel): "shkurt 2026"."""
    year, month = key.split("-")
    return t.month(date(int(year), int(month), 1))


def _whole(value: float) -> int | None:
    """A median rounded to one decimal, as a whole number when it is one (for ngettext)."""
    rounded = round(value, 1)
    return int(rounded) if rounded == int(rounded) else None


def medians(t: Translator, figures: stats.CaseStats) -> list[Markup]:
    """The two medians (ngettext for whole numbers), or what there is not yet to measure."""
    hours, days = figures.median_hours_to_first_action, figures.median_days_to_resolution
    if hours is None:
        to_act = t.gettext("Median time to the first staff action: no staff action yet")
    elif (whole := _whole(hours)) is not None:
        to_act = t.ngettext(
            "Median time to the first staff action: {count} hour",
            "Median time to the first staff action: {count} hours",
            whole,
        )
    else:
        to_act = t.gettext(
            "Median time to the first staff action: {amount} hours",
            amount=t.number(round(hours, 1)),
        )
    if days is None:
        to_resolve = t.gettext("Median time to resolution: no resolved cases yet")
    elif (whole := _whole(days)) is not None:
        to_resolve = t.ngettext(
            "Median time to resolution: {count} day",
            "Median time to resolution: {count} days",
            whole,
        )
    else:
        to_resolve = t.gettext(
            "Median time to resolution: {amount} days", amount=t.number(round(days, 1))
        )
    return [to_act, to_resolve]


def _rti_line(t: Translator, row: stats.AuthorityRti) -> Markup:
    """One authority's requests: sent, answered (with the rate), median days to answer."""
    rate = "" if row.answer_rate is None else f" ({round(row.answer_rate * 100)}%)"
    line = Markup("• {}: {} · {}{}").format(row.authority, row.requests, row.answered, rate)
    if row.median_days_to_answer is None:
        return line + Markup(" · ") + t.gettext("no answer yet")
    return line + Markup(" · ") + t.number(round(row.median_days_to_answer, 1))


def summary(t: Translator, figures: stats.CaseStats, rti_rows: list[stats.AuthorityRti]) -> Markup:
    """The text part of /stats."""
    lines = [
        t.gettext("<b>Statistics</b>"),
        t.ngettext("{count} case", "{count} cases", figures.total),
        *medians(t, figures),
        "",
        t.gettext("<b>By municipality</b>"),
        *(
            Markup("• {}: {}").format(municipality_label(t, name), t.number(n))
            for name, n in figures.by_municipality[:15]
        ),
        "",
        t.gettext("<b>By category</b>"),
        *(
            Markup("• {}: {}").format(category_label(t, key), t.number(n))
            for key, n in figures.by_category[:15]
        ),
        "",
        t.gettext("<b>By status</b>"),
        *(
            Markup("• {}: {}").format(_status_label(t, key), t.number(n))
            for key, n in figures.by_status
        ),
    ]
    if rti_rows:
        lines += [
            "",
            t.gettext(
                "<b>Requests for information</b> (sent · answered, with rate · median days to "
                "answer)"
            ),
            *(_rti_line(t, row) for row in rti_rows[:15]),
        ]
    lines.append("")
    lines.append(t.gettext("Citizen monitoring: counts of reports made through the bot."))
    return join_lines(lines)


def chart_series(
    t: Translator, figures: stats.CaseStats
) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """Each chart's file name, title and labelled items, in the staff member's language."""
    return [
        (
            "municipalities.png",
            plain(t.gettext("Cases by municipality")),
            [(municipality_label(t, name), n) for name, n in figures.by_municipality],
        ),
        (
            "categories.png",
            plain(t.gettext("Cases by category")),
            [(category_label(t, key), n) for key, n in figures.by_category],
        ),
        (
            "months.png",
            plain(t.gettext("Cases per month")),
            [(month_label(t, key), n) for key, n in figures.by_month],
        ),
    ]


async def stats_command(update: Update, context: PactContext) -> None:
    """/stats: choose the period."""
    t = context.t
    await send(update, context, t.gettext("Statistics for:"), keyboard(*period_buttons(t, STATS)))


async def stats_period(update: Update, context: PactContext) -> None:
    """Figures as text, then the charts (drawn off the event loop)."""
    query = await answer(update)
    member = current_member(context)
    assert member is not None and update.effective_chat is not None
    t = context.t
    key = STATS.parse(query.data) or "all"
    settings = context.services.settings
    today = context.services.clock.now().astimezone(settings.tz).date()
    scope = scope_for(member, *period(key, today))
    session = context.scope.session
    figures = await stats.case_stats(session, scope, settings.tz)
    rti_rows = await stats.rti_stats(session, scope, settings.tz)
    await send(update, context, summary(t, figures, rti_rows))
    empty, other = plain(t.gettext("No data")), plain(t.gettext("Others"))
    for name, title, items in chart_series(t, figures):
        if name == "months.png":
            picture = await asyncio.to_thread(charts.line_chart, title, items, empty_label=empty)
        else:
            picture = await asyncio.to_thread(
                charts.bar_chart, title, items, empty_label=empty, other_label=other
            )
        await context.bot.send_photo(
            update.effective_chat.id, InputFile(io.BytesIO(picture), filename=name)
        )


def routes() -> list[routing.Route]:
    """/export (the export permission) and /stats (the statistics permission) with periods."""
    private = filters.ChatType.PRIVATE
    return [
        *routing.staff(
            Permission.EXPORT,
            CommandHandler("export", export_command, filters=private),
            CallbackQueryHandler(export_period, pattern=EXPORT.pattern),
        ),
        *routing.staff(
            Permission.STATS,
            CommandHandler("stats", stats_command, filters=private),
            CallbackQueryHandler(stats_period, pattern=STATS.pattern),
        ),
    ]

"""/rcresults (report-card staff): a round's results by municipality, its chart, files and card.

Staff reach a round from /rcresults or from any button carrying ``RESULTS`` ("crc:res:<round>",
the rounds screen links it). Every press reloads the round and recomputes its results; nothing
in the button is trusted beyond the ids, and a staff member limited to some municipalities sees
only those. Publishing a card needs the round closed and a confirmation showing its reach.
"""

from __future__ import annotations

import asyncio
import io

from sqlalchemy import select
from telegram import InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.broadcasting import sender as delivery
from bot.campaigns.services import audience
from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_, escaped_within, plain
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, edit_or_send, keyboard, list_label, rows_of, send
from bot.reportcards import card_pdf, results_chart
from bot.reportcards import results_views as views
from bot.reportcards.services import results
from bot.staff.services import spreadsheets
from bot.staff.services.permissions import Permission
from bot.transparency import snapshot
from bot.transparency.services import figures
from db.models import Authority, ReportCardRound
from db.repositories import audit

RESULTS = ButtonCodec("crc:res:", int)
"""A round's results (the entry the rounds screen links to)."""
MUNICIPALITY = ButtonCodec("crr:m:", int, int)
CHART = ButtonCodec("crr:ch:", int, int)
PDF = ButtonCodec("crr:pdf:", int, int)
SUGGESTIONS = ButtonCodec("crr:sg:", int, int)
PUBLISH = ButtonCodec("crr:pub:", int, int)
CONFIRM = ButtonCodec("crr:ok:", int, int)
UNPUBLISH = ButtonCodec("crr:unp:", int, int)
UNPUBLISH_YES = ButtonCodec("crr:unpok:", int, int)
FORMATS = ("csv", "xlsx")
EXPORT = ButtonCodec("crr:x:", int, FORMATS)
LISTED = 20
"""Rounds /rcresults lists, newest first."""


async def launched_round(context: PactContext, round_id: int | None) -> ReportCardRound | None:
    """A launched round by id (None for anything else: results exist only after launch)."""
    if round_id is None:
        return None
    found = await context.scope.session.get(ReportCardRound, round_id)
    return found if found is not None and found.launched_at is not None else None


async def round_results(context: PactContext, round: ReportCardRound) -> results.RoundResults:
    """The round's results, only the municipalities the staff member may see."""
    found = await results.round_results(
        context.scope.session, round, context.services.settings.suppression_threshold
    )
    member = current_member(context)
    allowed = member.municipality_ids if member is not None else None
    if allowed is None:
        return found
    return results.RoundResults(
        found.round_id,
        found.threshold,
        [m for m in found.municipalities if m.municipality_id in allowed],
    )


async def names_of(context: PactContext, ids: list[int]) -> dict[int, str]:
    """Municipality names by id."""
    rows = await context.scope.session.execute(
        select(Authority.id, Authority.name).where(Authority.id.in_(ids))
    )
    return {number: name for number, name in rows.all()}


async def one_municipality(
    update: Update, context: PactContext, codec: ButtonCodec
) -> tuple[ReportCardRound, results.RoundResults, results.MunicipalityResults, str] | None:
    """The round and municipality a button names, re-checked; None (and the stale answer) when
    the round is gone, not launched, or the municipality not one of it the member may see."""
    query = update.callback_query
    assert query is not None
    round_id, municipality_id = codec.parse(query.data) or (None, None)
    round = await launched_round(context, round_id)
    if round is None:
        await stale_button(update, context)
        return None
    found = await round_results(context, round)
    municipality = next(
        (m for m in found.municipalities if m.municipality_id == municipality_id), None
    )
    if municipality is None:
        await stale_button(update, context)
        return None
    name = (await names_of(context, [municipality.municipality_id])).get(
        municipality.municipality_id, "?"
    )
    return round, found, municipality, name


async def rounds_command(update: Update, context: PactContext) -> None:
    """/rcresults: the launched rounds, newest first."""
    t = context.t
    rows = await context.scope.session.execute(
        select(ReportCardRound)
        .where(ReportCardRound.launched_at.is_not(None))
        .order_by(ReportCardRound.opens_on.desc(), ReportCardRound.id.desc())
        .limit(LISTED)
    )
    rounds = list(rows.scalars())
    buttons = [[(list_label(views.round_button_label(t, r)), RESULTS.data(r.id))] for r in rounds]
    await send(update, context, views.rounds_text(t, rounds), keyboard(*buttons))


async def show_round(update: Update, context: PactContext) -> None:
    """A round's respondents per municipality, with its municipalities and the files."""
    query = update.callback_query
    assert query is not None
    round = await launched_round(context, RESULTS.parse(query.data))
    if round is None:
        await stale_button(update, context)
        return
    await answer(update)
    t = context.t
    found = await round_results(context, round)
    ids = [m.municipality_id for m in found.municipalities]
    names = await names_of(context, ids)
    done = await results.published(context.scope.session, round.id)
    towns = [(names.get(i, "?"), MUNICIPALITY.data(round.id, i)) for i in ids]
    await edit_or_send(
        update,
        context,
        views.round_text(t, round, found, names, done),
        keyboard(
            *rows_of(towns, 3),
            [
                (t.gettext("⬇️ CSV"), EXPORT.data(round.id, "csv")),
                (t.gettext("⬇️ XLSX"), EXPORT.data(round.id, "xlsx")),
            ],
        ),
    )


async def show_municipality(update: Update, context: PactContext) -> None:
    """One municipality's figures per service, and what can be done with them."""
    loaded = await one_municipality(update, context, MUNICIPALITY)
    if loaded is None:
        return
    round, found, municipality, name = loaded
    await answer(update)
    t = context.t
    ids = (round.id, municipality.municipality_id)
    is_published = municipality.municipality_id in await results.published(
        context.scope.session, round.id
    )
    rows = [[(t.gettext("📊 Chart"), CHART.data(*ids)), (t.gettext("📄 PDF card"), PDF.data(*ids))]]
    if municipality.respondents is not None:
        rows.append([(t.gettext("💬 Suggestions"), SUGGESTIONS.data(*ids))])
        if round.closed_at is not None and not is_published:
            rows.append([(t.gettext("📣 Publish the card"), PUBLISH.data(*ids))])
    if is_published:
        rows.append([(t.gettext("🗑 Remove from the public page"), UNPUBLISH.data(*ids))])
    rows.append([(t.gettext("⬅️ All municipalities"), RESULTS.data(round.id))])
    await edit_or_send(
        update,
        context,
        views.municipality_text(t, round, municipality, name, found.threshold, is_published),
        keyboard(*rows),
    )


async def send_chart(update: Update, context: PactContext) -> None:
    """The satisfaction index per service as a picture (suppressed services without a bar)."""
    loaded = await one_municipality(update, context, CHART)
    if loaded is None:
        return
    round, found, municipality, name = loaded
    await answer(update)
    t = context.t
    title = plain(
        t.gettext(
            "Satisfaction index (0-100): {municipality}, {round}",
            municipality=name,
            round=views.round_title(t.locale, round),
        )
    )
    picture = await asyncio.to_thread(
        results_chart.index_chart,
        title,
        views.chart_items(t, municipality, found.threshold),
        plain(views.monitoring_label(t)),
    )
    assert update.effective_chat is not None
    await context.bot.send_photo(
        update.effective_chat.id,
        InputFile(io.BytesIO(picture), filename=f"report-card-{round.id}.png"),
    )


async def send_pdf(update: Update, context: PactContext) -> None:
    """The one-page PDF card in the staff member's language."""
    loaded = await one_municipality(update, context, PDF)
    if loaded is None:
        return
    round, found, municipality, name = loaded
    await answer(update)
    content = await asyncio.to_thread(
        card_pdf.card_pdf, context.t, round, municipality, name, found.threshold
    )
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(
            io.BytesIO(content),
            filename=f"report-card-{round.id}-{municipality.municipality_id}.pdf",
        ),
    )


async def show_suggestions(update: Update, context: PactContext) -> None:
    """The open suggestions of a municipality whose total is shown, without anyone's details."""
    loaded = await one_municipality(update, context, SUGGESTIONS)
    if loaded is None:
        return
    round, found, municipality, name = loaded
    await answer(update)
    texts = await results.suggestions(
        context.scope.session, round, municipality.municipality_id, found.threshold
    )
    await send(update, context, views.suggestions_text(context.t, name, texts, found.threshold))


async def send_export(update: Update, context: PactContext) -> None:
    """The aggregates as CSV or XLSX (no response rows; suppressed cells stay so), audited."""
    query = update.callback_query
    assert query is not None
    round_id, kind = EXPORT.parse(query.data) or (None, None)
    round = await launched_round(context, round_id)
    member = current_member(context)
    if round is None or member is None:
        await stale_button(update, context)
        return
    await answer(update)
    t = context.t
    settings = context.services.settings
    found = await round_results(context, round)
    names = await names_of(context, [m.municipality_id for m in found.municipalities])
    header, rows = views.table(t, round, found, names)
    if kind == "csv":
        content = await asyncio.to_thread(spreadsheets.to_csv, header, rows, settings.tz)
    else:
        content = await asyncio.to_thread(
            spreadsheets.to_xlsx, f"report-card-{round.id}", header, rows, settings.tz
        )
    assert update.effective_chat is not None
    await context.bot.send_document(
        update.effective_chat.id,
        InputFile(io.BytesIO(content), filename=views.file_name(round, kind)),
        caption=plain(views.monitoring_label(t)),
        parse_mode=None,
    )
    await audit.record(
        context.scope.session,
        at=context.services.clock.now(),
        actor_kind="staff",
        actor_user_id=member.user_id,
        action="report_card.export",
        subject_type="report_card_round",
        subject_id=round.id,
        after={
            "format": kind,
            "municipality_ids": [m.municipality_id for m in found.municipalities],
        },
    )


async def ask_publish(update: Update, context: PactContext) -> None:
    """Confirm publishing, with how many subscribers it reaches now."""
    loaded = await one_municipality(update, context, PUBLISH)
    if loaded is None:
        return
    round, _found, municipality, name = loaded
    await answer(update)
    t = context.t
    reach = await audience.count(
        context.scope.session, results.card_audience(municipality.municipality_id)
    )
    ids = (round.id, municipality.municipality_id)
    await edit_or_send(
        update,
        context,
        views.publish_question(t, name, reach),
        keyboard(
            [(t.gettext("✅ Publish"), CONFIRM.data(*ids))],
            [(t.gettext("⬅️ Back"), MUNICIPALITY.data(*ids))],
        ),
    )


PAGE_LINK = N_("🌐 See it on the public page")


def page_link(context: PactContext, name: str) -> list[dict[str, str]] | None:
    """A button to the municipality's page on the public site, when the site has an address."""
    public = context.services.settings.public_url
    if not public:
        return None
    sq, en = (context.services.i18n.translator(code) for code in ("sq", "en"))
    return [
        {
            "kind": "link",
            "label_sq": plain(sq.gettext(PAGE_LINK)),
            "label_en": plain(en.gettext(PAGE_LINK)),
            "url": f"{public.rstrip('/')}/sq/m/{figures.slug(name)}",
        }
    ]


REFUSALS = {
    results.Refusal.NOT_CLOSED: N_("The round is not closed yet: cards are published once it is."),
    results.Refusal.PUBLISHED: N_("This card is already published."),
    results.Refusal.TOO_FEW: N_("Too few responses in this municipality to publish a card."),
    results.Refusal.NOT_IN_ROUND: N_("This municipality is not part of the round."),
}


async def confirm_publish(update: Update, context: PactContext) -> None:
    """Publish the card: a publication row and a broadcast in Albanian and English."""
    loaded = await one_municipality(update, context, CONFIRM)
    member = current_member(context)
    if loaded is None:
        return
    if member is None:
        await stale_button(update, context)
        return
    round, found, municipality, name = loaded
    await answer(update)
    services = context.services
    texts = {
        code: views.card_text(
            services.i18n.translator(code), round, municipality, name, found.threshold
        )
        for code in ("sq", "en")
    }
    outcome = await results.publish(
        context.scope.session,
        round,
        municipality,
        title=escaped_within(f"Report card {name} {round.opens_on:%Y-%m}", 100),
        text_sq=texts["sq"],
        text_en=texts["en"],
        by_user_id=member.user_id,
        now=services.clock.now(),
        progress_chat_id=update.effective_chat.id if update.effective_chat else None,
        buttons=page_link(context, name),
    )
    t = context.t
    if isinstance(outcome, results.Refusal):
        await edit_or_send(update, context, t.gettext(REFUSALS[outcome]))
        return
    delivery.kick_when_committed(context.application)
    snapshot.rebuild_when_committed(context.application)
    await edit_or_send(
        update,
        context,
        t.gettext(
            "Published. The card of {municipality} goes out now (quiet hours and weekly limits "
            "apply) and appears on the public page.",
            municipality=name,
        ),
    )


async def ask_unpublish(update: Update, context: PactContext) -> None:
    """Confirm taking a published card off the public page."""
    loaded = await one_municipality(update, context, UNPUBLISH)
    if loaded is None:
        return
    round, _found, municipality, name = loaded
    await answer(update)
    t = context.t
    ids = (round.id, municipality.municipality_id)
    await edit_or_send(
        update,
        context,
        views.unpublish_question(t, name),
        keyboard(
            [(t.gettext("🗑 Remove"), UNPUBLISH_YES.data(*ids))],
            [(t.gettext("⬅️ Back"), MUNICIPALITY.data(*ids))],
        ),
    )


async def confirm_unpublish(update: Update, context: PactContext) -> None:
    """Take the card off the public page (it may be published again)."""
    loaded = await one_municipality(update, context, UNPUBLISH_YES)
    member = current_member(context)
    if loaded is None:
        return
    if member is None:
        await stale_button(update, context)
        return
    round, _found, municipality, name = loaded
    await answer(update)
    removed = await results.unpublish(
        context.scope.session,
        round.id,
        municipality.municipality_id,
        member.user_id,
        context.services.clock.now(),
    )
    if removed:
        snapshot.rebuild_when_committed(context.application)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "The card of {municipality} is no longer on the public page. It can be published "
            "again.",
            municipality=name,
        )
        if removed
        else t.gettext("This card is not published."),
        keyboard(
            [(t.gettext("⬅️ Back"), MUNICIPALITY.data(round.id, municipality.municipality_id))]
        ),
    )


def routes() -> list[routing.Route]:
    """/rcresults and every results button: staff with the report-card permission."""
    return routing.staff(
        Permission.REPORT_CARDS,
        CommandHandler("rcresults", rounds_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_round, pattern=RESULTS.pattern),
        CallbackQueryHandler(show_municipality, pattern=MUNICIPALITY.pattern),
        CallbackQueryHandler(send_chart, pattern=CHART.pattern),
        CallbackQueryHandler(send_pdf, pattern=PDF.pattern),
        CallbackQueryHandler(show_suggestions, pattern=SUGGESTIONS.pattern),
        CallbackQueryHandler(send_export, pattern=EXPORT.pattern),
        CallbackQueryHandler(ask_publish, pattern=PUBLISH.pattern),
        CallbackQueryHandler(confirm_publish, pattern=CONFIRM.pattern),
        CallbackQueryHandler(ask_unpublish, pattern=UNPUBLISH.pattern),
        CallbackQueryHandler(confirm_unpublish, pattern=UNPUBLISH_YES.pattern),
    )

"""Report-card rounds for staff: /reportcards, the new-round wizard, wording, launch and closing.

/reportcards lists the rounds; "New round" is a bot.kit.wizard (rounds_admin.mmd): Albanian
title → English title or Skip → services → municipalities → opening day → closing day →
preview → Save as draft. A draft's card edits the question wording (a second wizard: question →
which wording → the new text), launches it (the invitation broadcast) or deletes it; an open
round can be closed early. Every button is re-read against the database (bot/reportcards/
services/rounds.py); all of it needs Permission.REPORT_CARDS.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.broadcasting import sender as delivery
from bot.core import routing
from bot.core.access import acting_user_id
from bot.core.application import PactContext
from bot.core.i18n import Translator, join_lines, shorten
from bot.kit import wizard
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, close_buttons, edit_or_send, keyboard, rows_of, send
from bot.reportcards import links
from bot.reportcards import rounds_views as views
from bot.reportcards.results import RESULTS
from bot.reportcards.services import rounds
from bot.staff.services.permissions import Permission
from db.models import ReportCardRound

LIST, NEW = "rcr:list", "rcr:new"
CARD = ButtonCodec("rcr:card:", int)
LAUNCH, LAUNCH_YES = ButtonCodec("rcr:launch:", int), ButtonCodec("rcr:launchok:", int)
CLOSE, CLOSE_YES = ButtonCodec("rcr:close:", int), ButtonCodec("rcr:closeok:", int)
DELETE, DELETE_YES = ButtonCodec("rcr:del:", int), ButtonCodec("rcr:delok:", int)
QUESTIONS = ButtonCodec("rcr:qs:", int)
SHOWN = 20
PREFIX, QPREFIX = "rcr:w:", "rcr:q:"
DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")


def _today(context: PactContext) -> date:
    """The calendar day in the bot's time zone."""
    return rounds.local_today(context.services.clock.now(), context.services.settings.tz)


def parse_day(typed: str) -> date | None:
    """A typed date: 2026-12-07, 07.12.2026 or 07/12/2026."""
    for form in DATE_FORMATS:
        try:
            return datetime.strptime(typed.strip(), form).date()
        except ValueError:
            continue
    return None


# --- the new-round wizard ------------------------------------------------------------------------


async def ask_title_sq(context: PactContext, draft: dict) -> wizard.Question:
    """The Albanian title ("New report-card round." the first time)."""
    t = context.t
    ask = t.gettext(
        "Send the round's title in Albanian (at most {limit} characters), for example "
        "“Karta e raportimit, pranverë 2027”.",
        limit=rounds.MAX_TITLE,
    )
    if draft.get("title_sq"):
        return wizard.Question(ask)
    return wizard.Question(t.gettext("<b>New report-card round.</b>") + "\n" + ask)


async def ask_title_en(context: PactContext, draft: dict) -> wizard.Question:
    """The English title, or Skip (English readers then see the Albanian one)."""
    return wizard.Question(context.t.gettext("Now the title in English, or skip."))


async def ask_services(context: PactContext, draft: dict) -> wizard.Question:
    """The services as toggles; at least one."""
    t = context.t
    chosen = set(draft.get("services") or [])
    buttons = [
        (("✅ " if key in chosen else "⬜ ") + views.service_name(t, key), f"{PREFIX}s:{key}")
        for key in rounds.service_keys()
    ]
    rows = rows_of(buttons, per_row=1)
    if chosen:
        rows.append([(t.gettext("Continue ➡️"), f"{PREFIX}sok")])
    return wizard.Question(
        t.gettext("Which services does the round ask about? Choose one or more."), rows
    )


async def toggle_service(
    update: Update, context: PactContext, draft: dict, value: str
) -> wizard.Move:
    """Turn one service on or off (unknown keys change nothing)."""
    keys = rounds.service_keys()
    if value in keys:
        chosen = set(draft.get("services") or []) ^ {value}
        draft["services"] = [key for key in keys if key in chosen]
    return wizard.REDRAW


async def services_done(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """At least one service: go on."""
    if not draft.get("services"):
        return wizard.retry(context.t.gettext("Please choose at least one service."))
    await close_buttons(update)
    return wizard.NEXT


async def ask_places(context: PactContext, draft: dict) -> wizard.Question:
    """The programme municipalities as toggles, with a shortcut for all of them."""
    t = context.t
    found = await rounds.programme_municipalities(context.scope.session)
    chosen = set(draft.get("places") or [])
    every = bool(found) and chosen >= {m.id for m in found}
    rows: list[list[Button]] = [
        [
            (
                ("✅ " if every else "⬜ ") + t.gettext("All {count}", count=len(found)),
                f"{PREFIX}mall",
            )
        ]
    ]
    rows += rows_of(
        [(("✅ " if m.id in chosen else "⬜ ") + m.name, f"{PREFIX}m:{m.id}") for m in found],
        per_row=3,
    )
    if chosen:
        rows.append([(t.gettext("Continue ➡️"), f"{PREFIX}mok")])
    return wizard.Question(
        t.gettext("In which municipalities? Subscribers there are invited. Choose one or more."),
        rows,
    )


async def toggle_place(
    update: Update, context: PactContext, draft: dict, value: str
) -> wizard.Move:
    """Turn one municipality on or off (only programme municipalities count)."""
    known = {m.id for m in await rounds.programme_municipalities(context.scope.session)}
    if value.isdigit() and int(value) in known:
        draft["places"] = sorted(set(draft.get("places") or []) ^ {int(value)})
    return wizard.REDRAW


async def toggle_all(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """All programme municipalities, or none again."""
    known = {m.id for m in await rounds.programme_municipalities(context.scope.session)}
    draft["places"] = [] if set(draft.get("places") or []) >= known else sorted(known)
    return wizard.REDRAW


async def places_done(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """At least one municipality: go on."""
    if not draft.get("places"):
        return wizard.retry(context.t.gettext("Please choose at least one municipality."))
    await close_buttons(update)
    return wizard.NEXT


def _next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _first_of_next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _date_hint(t: Translator, today: date) -> str:
    return t.gettext(
        "Choose a day or type a date (for example {example}).",
        example=(today + timedelta(days=7)).strftime("%d.%m.%Y"),
    )


async def ask_opens(context: PactContext, draft: dict) -> wizard.Question:
    """The first day people can answer: today, tomorrow, next Monday, the 1st, or typed."""
    t = context.t
    today = _today(context)
    choices = [
        (t.gettext("Today"), today),
        (t.gettext("Tomorrow"), today + timedelta(days=1)),
        (t.gettext("Monday {date}", date=t.date(_next_monday(today))), _next_monday(today)),
        (t.date(_first_of_next_month(today)), _first_of_next_month(today)),
    ]
    rows = rows_of([(label, f"{PREFIX}od:{day.isoformat()}") for label, day in choices])
    return wizard.Question(
        t.gettext("<b>When does it open?</b>") + "\n" + _date_hint(t, today), rows
    )


def _set_opens(context: PactContext, draft: dict, day: date | None) -> str | None:
    """Store the opening day; why not, if it cannot be (a closing day before it is dropped)."""
    t = context.t
    if day is None:
        return t.gettext("I could not read that date. Please write it like 07.12.2026.")
    if day < _today(context):
        return t.gettext("That day has passed. Please choose today or a later day.")
    draft["opens"] = day.isoformat()
    if draft.get("closes") and date.fromisoformat(draft["closes"]) <= day:
        draft.pop("closes")  # asked again: the preview finds it missing
    return None


async def opens_button(
    update: Update, context: PactContext, draft: dict, value: str
) -> wizard.Move:
    """An opening-day button."""
    problem = _set_opens(context, draft, _iso(value))
    if problem:
        return wizard.retry(problem)
    await close_buttons(update)
    return wizard.NEXT


async def opens_typed(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """A typed opening day."""
    problem = _set_opens(context, draft, parse_day(text))
    return wizard.retry(problem) if problem else wizard.NEXT


def _iso(value: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


async def ask_closes(context: PactContext, draft: dict) -> wizard.Question:
    """The last day people can answer: two, three or four weeks, or typed."""
    t = context.t
    opens = date.fromisoformat(draft["opens"])
    rows = [
        [
            (
                t.ngettext(
                    "{count} week: until {date}",
                    "{count} weeks: until {date}",
                    weeks,
                    date=t.date(last),
                ),
                f"{PREFIX}cd:{last.isoformat()}",
            )
        ]
        for weeks in (2, 3, 4)
        for last in [opens + timedelta(days=7 * weeks - 1)]
    ]
    return wizard.Question(
        t.gettext(
            "<b>When does it close?</b> The last day people can answer (it opens on {date}).",
            date=t.date(opens),
        )
        + "\n"
        + _date_hint(t, _today(context)),
        rows,
    )


def _set_closes(context: PactContext, draft: dict, day: date | None) -> str | None:
    t = context.t
    if day is None:
        return t.gettext("I could not read that date. Please write it like 07.12.2026.")
    if day <= date.fromisoformat(draft["opens"]):
        return t.gettext("The closing day must come after the opening day.")
    draft["closes"] = day.isoformat()
    return None


async def closes_button(
    update: Update, context: PactContext, draft: dict, value: str
) -> wizard.Move:
    """A closing-day button."""
    problem = _set_closes(context, draft, _iso(value))
    if problem:
        return wizard.retry(problem)
    await close_buttons(update)
    return wizard.NEXT


async def closes_typed(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """A typed closing day."""
    problem = _set_closes(context, draft, parse_day(text))
    return wizard.retry(problem) if problem else wizard.NEXT


async def _names(context: PactContext, ids: list[int]) -> tuple[list[str], bool]:
    """The municipalities' names in programme order, and whether they are all of them."""
    found = await rounds.programme_municipalities(context.scope.session)
    chosen = set(ids)
    return [m.name for m in found if m.id in chosen], {m.id for m in found} <= chosen


async def ask_preview(context: PactContext, draft: dict) -> wizard.Question:
    """The round as it will be saved, with Save and a change button per answer."""
    t = context.t
    names, every = await _names(context, draft["places"])
    places = (
        t.gettext("all {count} programme municipalities", count=len(names))
        if every
        else ", ".join(names)
    )
    lines = [
        t.gettext("<b>Preview</b>"),
        t.gettext("🇦🇱 {title}", title=draft["title_sq"]),
        t.gettext("🇬🇧 {title}", title=draft.get("title_en") or "—"),
        t.gettext(
            "<b>Services:</b> {services}",
            services=", ".join(views.service_name(t, key) for key in draft["services"]),
        ),
        t.gettext("<b>Municipalities:</b> {places}", places=places),
        t.gettext(
            "<b>Open:</b> {opens} – {closes} (both days included)",
            opens=t.date(date.fromisoformat(draft["opens"])),
            closes=t.date(date.fromisoformat(draft["closes"])),
        ),
        "",
        t.gettext("The default questions are used; you can change their wording before launch."),
    ]
    return wizard.Question(
        join_lines(lines),
        [
            [(t.gettext("💾 Save as draft"), f"{PREFIX}save")],
            *rows_of(
                [
                    WIZARD.edit_button(t.gettext("✏️ Title"), "round.title_sq"),
                    WIZARD.edit_button(t.gettext("✏️ English title"), "round.title_en"),
                    WIZARD.edit_button(t.gettext("✏️ Services"), "round.services"),
                    WIZARD.edit_button(t.gettext("✏️ Municipalities"), "round.places"),
                    WIZARD.edit_button(t.gettext("✏️ Opening day"), "round.opens"),
                    WIZARD.edit_button(t.gettext("✏️ Closing day"), "round.closes"),
                ]
            ),
        ],
    )


async def save(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """Store the draft round (checked once more), then show its card."""
    if WIZARD.first_missing(draft) is not None:
        return wizard.goto(WIZARD.preview)
    session = context.scope.session
    definition = rounds.Definition(
        title_sq=draft["title_sq"],
        title_en=draft.get("title_en"),
        services=list(draft["services"]),
        municipality_ids=list(draft["places"]),
        opens_on=date.fromisoformat(draft["opens"]),
        closes_on=date.fromisoformat(draft["closes"]),
    )
    known = {m.id for m in await rounds.programme_municipalities(session)}
    trouble = rounds.problem(definition, _today(context), known)
    t = context.t
    if trouble is not None:
        await close_buttons(update)
        await send(update, context, t.gettext("Please check this answer again."))
        return wizard.goto(RECHECK[trouble], editing=True)
    await close_buttons(update)
    WIZARD.drop(context)
    round_ = await rounds.create(
        session,
        definition,
        by_user_id=await acting_user_id(update, context),
        now=context.services.clock.now(),
    )
    text, markup = await _card(context, round_)
    await send(
        update,
        context,
        t.gettext("💾 Round #{number} saved as a draft.", number=round_.id) + "\n\n" + text,
        markup,
    )
    return wizard.END


RECHECK = {
    rounds.DefinitionProblem.TITLE: "round.title_sq",
    rounds.DefinitionProblem.SERVICES: "round.services",
    rounds.DefinitionProblem.MUNICIPALITIES: "round.places",
    rounds.DefinitionProblem.OPENS_IN_PAST: "round.opens",
    rounds.DefinitionProblem.CLOSES_BEFORE_OPENING: "round.closes",
}
"""The step to ask again when a saved definition is refused (e.g. the opening day passed)."""

WIZARD = wizard.Wizard(
    name="report_card_round",
    prefix=PREFIX,
    draft_key="report_card_round_draft",
    steps=(
        wizard.Step(
            "round.title_sq",
            ask_title_sq,
            (wizard.OnText(wizard.text_answer(rounds.MAX_TITLE, "title_sq")),),
            keys=("title_sq",),
            label=f"Albanian title (at most {rounds.MAX_TITLE} characters)",
        ),
        wizard.Step(
            "round.title_en",
            ask_title_en,
            (wizard.OnText(wizard.text_answer(rounds.MAX_TITLE, "title_en")),),
            keys=("title_en",),
            optional=True,
            label="English title or Skip",
        ),
        wizard.Step(
            "round.services",
            ask_services,
            (
                wizard.OnButton("s:", toggle_service, exact=False),
                wizard.OnButton("sok", services_done),
            ),
            keys=("services",),
            label="services toggled (at least one), Continue",
        ),
        wizard.Step(
            "round.places",
            ask_places,
            (
                wizard.OnButton("mall", toggle_all),
                wizard.OnButton("m:", toggle_place, exact=False),
                wizard.OnButton("mok", places_done),
            ),
            keys=("places",),
            label="programme municipalities toggled or All (at least one), Continue",
        ),
        wizard.Step(
            "round.opens",
            ask_opens,
            (wizard.OnButton("od:", opens_button, exact=False), wizard.OnText(opens_typed)),
            keys=("opens",),
            label="opening day: a button or typed, not in the past",
        ),
        wizard.Step(
            "round.closes",
            ask_closes,
            (wizard.OnButton("cd:", closes_button, exact=False), wizard.OnText(closes_typed)),
            keys=("closes",),
            label="closing day: a button or typed, after the opening day",
        ),
        wizard.Step(
            "round.preview",
            ask_preview,
            (wizard.OnButton("save", save),),
            goes={"[*]": "Save as draft (then its card: questions, launch, delete)"},
        ),
    ),
    branches={
        "new round": (
            "round.title_sq",
            "round.title_en",
            "round.services",
            "round.places",
            "round.opens",
            "round.closes",
            "round.preview",
        )
    },
    branch_of=lambda draft: "new round",
    entries=(
        wizard.Entry(
            fresh=lambda context: {"services": [], "places": []},
            button=NEW,
            label="➕ New round (/reportcards)",
        ),
    ),
    preview="round.preview",
    resume_text=lambda t: t.gettext(
        "You have a report-card round in progress. Continue where you stopped?"
    ),
    discarded=lambda t: t.gettext("Your draft round was discarded."),
    title="New report-card round (bot/reportcards/rounds_admin.py): staff with the\n"
    "report-card permission, every step re-checked (bot/core/access.py).",
)
"""The new-round wizard: titles, services, municipalities, dates, preview, save as draft."""


# --- the question wording (a draft round only) ---------------------------------------------

FIELD = re.compile(r"^(?:(?P<option>[0-9]{1,2}))?(?P<language>sq|en)$")


def _field(draft: dict) -> rounds.Field | None:
    """The wording being changed, from the draft."""
    chosen = draft.get("field")
    if not isinstance(chosen, dict) or not draft.get("code"):
        return None
    return rounds.Field(draft["code"], chosen.get("language", ""), chosen.get("option"))


async def _editable(context: PactContext, draft: dict) -> ReportCardRound | str:
    """The draft round being edited, or why it cannot be."""
    round_ = await rounds.get(context.scope.session, draft.get("round_id") or 0)
    if round_ is None:
        return "gone"
    if round_.launched_at is not None:
        return "launched"
    return round_


async def ask_question_list(context: PactContext, draft: dict) -> wizard.Question:
    """The round's questions, one button each, Reset and Done."""
    t = context.t
    round_ = await _editable(context, draft)
    if isinstance(round_, str):
        return wizard.Question(
            views.refusal(t, round_), [[(t.gettext("✅ Done"), f"{QPREFIX}done")]]
        )
    rows = [
        [(views.question_label(t, number, q), f"{QPREFIX}c:{q['code']}")]
        for number, q in enumerate(round_.questions, start=1)
    ]
    rows.append([(t.gettext("↩️ Reset to the default"), f"{QPREFIX}reset")])
    rows.append([(t.gettext("✅ Done"), f"{QPREFIX}done")])
    return wizard.Question(views.questions_text(t, round_), rows)


async def reset_screen(context: PactContext, draft: dict, _arg: object) -> wizard.Question:
    """Confirm the reset."""
    t = context.t
    return wizard.Question(
        t.gettext("Put back the default wording of every question? Your changes are lost."),
        [[(t.gettext("↩️ Yes, reset"), f"{QPREFIX}resetok")]],
    )


async def pick_question(
    update: Update, context: PactContext, draft: dict, code: str
) -> wizard.Move:
    """A question: its wordings."""
    round_ = await _editable(context, draft)
    if isinstance(round_, str):
        return await _refused(update, context, round_)
    if rounds.question(round_.questions, code) is None:
        return wizard.REDRAW
    draft["code"] = code
    draft.pop("field", None)
    return wizard.goto("questions.field")


async def ask_reset(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """Reset: confirm first."""
    return wizard.show("reset")


async def reset(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """Put back the default set."""
    try:
        await rounds.reset_questions(
            context.scope.session,
            draft.get("round_id") or 0,
            by_user_id=await acting_user_id(update, context),
            now=context.services.clock.now(),
        )
    except rounds.RoundError as error:
        return await _refused(update, context, error.reason)
    await close_buttons(update)
    await send(update, context, context.t.gettext("↩️ The default questions are back."))
    return wizard.goto("questions.list")


async def done(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """Back to the round's card."""
    await close_buttons(update)
    QWIZARD.drop(context)
    round_ = await rounds.get(context.scope.session, draft.get("round_id") or 0)
    if round_ is None:
        await list_command(update, context)
    else:
        text, markup = await _card(context, round_)
        await send(update, context, text, markup)
    return wizard.END


async def _refused(update: Update, context: PactContext, reason: str) -> wizard.Move:
    """The round was launched or deleted meanwhile: say so and leave."""
    QWIZARD.drop(context)
    await close_buttons(update)
    await send(update, context, views.refusal(context.t, reason))
    return wizard.END


async def ask_field(context: PactContext, draft: dict) -> wizard.Question:
    """One question in both languages; a button per wording."""
    t = context.t
    round_ = await _editable(context, draft)
    found = None if isinstance(round_, str) else rounds.question(round_.questions, draft["code"])
    if isinstance(round_, str) or found is None:
        return wizard.Question(
            views.refusal(t, round_ if isinstance(round_, str) else "gone"),
            [[(t.gettext("✅ Done"), f"{QPREFIX}done")]],
        )
    number = round_.questions.index(found) + 1
    rows: list[list[Button]] = [
        [
            (t.gettext("✏️ 🇦🇱 Question"), f"{QPREFIX}f:sq"),
            (t.gettext("✏️ 🇬🇧 Question"), f"{QPREFIX}f:en"),
        ]
    ]
    for index, _option in enumerate(found.get("options") or []):
        rows.append(
            [
                (t.gettext("✏️ 🇦🇱 Answer {number}", number=index + 1), f"{QPREFIX}f:{index}sq"),
                (t.gettext("✏️ 🇬🇧 Answer {number}", number=index + 1), f"{QPREFIX}f:{index}en"),
            ]
        )
    text = views.question_text(t, found, number)
    if draft.pop("saved", None):
        text = t.gettext("✅ Saved.") + "\n\n" + text
    return wizard.Question(text, rows)


async def pick_field(update: Update, context: PactContext, draft: dict, value: str) -> wizard.Move:
    """Which wording to change."""
    round_ = await _editable(context, draft)
    if isinstance(round_, str):
        return await _refused(update, context, round_)
    match = FIELD.match(value)
    if match is None:
        return wizard.REDRAW
    option = match["option"]
    field = rounds.Field(draft.get("code", ""), match["language"], int(option) if option else None)
    if not rounds.field_exists(round_.questions, field):
        return wizard.REDRAW
    draft["field"] = {"language": field.language, "option": field.option}
    await close_buttons(update)
    return wizard.goto("questions.text")


async def ask_text(context: PactContext, draft: dict) -> wizard.Question:
    """Ask for the new wording, showing the current one."""
    t = context.t
    round_ = await _editable(context, draft)
    field = _field(draft)
    if isinstance(round_, str) or field is None or not rounds.field_exists(round_.questions, field):
        return wizard.Question(
            views.refusal(t, round_ if isinstance(round_, str) else "gone"),
            [[(t.gettext("✅ Done"), f"{QPREFIX}done")]],
        )
    found = rounds.question(round_.questions, field.code)
    assert found is not None
    now = rounds.current_wording(round_.questions, field)
    rows: list[list[Button]] = []
    if field.language == "en" and now:
        rows.append([(t.gettext("🗑 No English (show the Albanian)"), f"{QPREFIX}clear")])
    return wizard.Question(views.wording_prompt(t, found, field, now), rows)


async def _store(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """Store new wording; a refusal is explained and the step stays."""
    field = _field(draft)
    if field is None:
        return wizard.goto("questions.list")
    try:
        await rounds.set_wording(
            context.scope.session,
            draft.get("round_id") or 0,
            field,
            text,
            by_user_id=await acting_user_id(update, context),
            now=context.services.clock.now(),
        )
    except rounds.RoundError as error:
        if error.reason == "field":
            return wizard.goto("questions.list")
        return await _refused(update, context, error.reason)
    except ValueError as error:
        return wizard.retry(views.wording_problem(context.t, rounds.WordingProblem(str(error))))
    draft["saved"] = True
    draft.pop("field", None)
    return wizard.goto("questions.field")


async def wording_typed(
    update: Update, context: PactContext, draft: dict, text: str
) -> wizard.Move:
    """The new wording, typed."""
    if not text:
        return wizard.retry(context.t.gettext("Please type your answer as text."))
    return await _store(update, context, draft, text)


async def clear_english(update: Update, context: PactContext, draft: dict, _: str) -> wizard.Move:
    """No English wording: English readers see the Albanian."""
    field = _field(draft)
    if field is None or field.language != "en":
        return wizard.goto("questions.list")
    await close_buttons(update)
    return await _store(update, context, draft, "")


QWIZARD = wizard.Wizard(
    name="report_card_questions",
    prefix=QPREFIX,
    draft_key="report_card_questions_draft",
    steps=(
        wizard.Step(
            "questions.list",
            ask_question_list,
            (
                wizard.OnButton("c:", pick_question, exact=False),
                wizard.OnButton("reset", ask_reset),
                wizard.OnButton("resetok", reset),
                wizard.OnButton("done", done),
            ),
            screens=(wizard.Screen("reset", reset_screen, "Reset to the default?"),),
        ),
        wizard.Step(
            "questions.field",
            ask_field,
            (wizard.OnButton("f:", pick_field, exact=False), wizard.OnButton("done", done)),
            back=lambda draft: "questions.list",
        ),
        wizard.Step(
            "questions.text",
            ask_text,
            (
                wizard.OnButton("clear", clear_english),
                wizard.OnButton("done", done),
                wizard.OnText(wording_typed),
            ),
            back=lambda draft: "questions.field",
        ),
    ),
    branches={"questions": ("questions.list",)},
    branch_of=lambda draft: "questions",
    entries=(),
    preview="questions.list",
    resume_text=lambda t: t.gettext("Continue editing the questions?"),
    discarded=lambda t: t.gettext("Stopped editing the questions; the changes made are kept."),
)
"""Changing a draft round's question wording: a question → which wording → the new text."""


async def open_questions(update: Update, context: PactContext) -> object:
    """A draft's "Questions" button: the question list (refused once launched)."""
    await answer(update)
    query = update.callback_query
    assert query is not None
    round_id = QUESTIONS.parse(query.data)
    round_ = await rounds.get(context.scope.session, round_id) if round_id else None
    if round_ is None:
        await stale_button(update, context)
        return None
    if round_.launched_at is not None:
        await send(update, context, views.refusal(context.t, "launched"))
        return None
    await close_buttons(update)
    context.user_data[QWIZARD.draft_key] = {"round_id": round_.id}
    return await QWIZARD.ask(update, context, "questions.list")


def _questions_conversation() -> ConversationHandler:
    """The wording wizard's conversation, entered from a round's card (the button names it)."""
    conversation = QWIZARD.conversation()
    conversation.entry_points.append(
        CallbackQueryHandler(open_questions, pattern=QUESTIONS.pattern)
    )
    return conversation


# --- the list and a round's card -----------------------------------------------------------------


async def _listing(context: PactContext) -> tuple[str, InlineKeyboardMarkup]:
    """The newest rounds, a button each, and New round."""
    t = context.t
    found = await rounds.listing(context.scope.session, SHOWN)
    rows: list[list[Button]] = [[(t.gettext("➕ New round"), NEW)]]
    rows += [
        [(shorten(f"#{round_.id} {views.title(t, round_)}", 48), CARD.data(round_.id))]
        for round_, _count in found
    ]
    return views.listing_text(t, found, _today(context)), keyboard(*rows)


async def list_command(update: Update, context: PactContext) -> None:
    """/reportcards."""
    text, markup = await _listing(context)
    await send(update, context, text, markup)


async def list_button(update: Update, context: PactContext) -> None:
    """Back to the list."""
    await answer(update)
    text, markup = await _listing(context)
    await edit_or_send(update, context, text, markup)


async def _card(context: PactContext, round_: ReportCardRound) -> tuple[str, InlineKeyboardMarkup]:
    """A round's card with what can be done now."""
    t = context.t
    session = context.scope.session
    today = _today(context)
    names, every = await _names(context, round_.municipality_ids)
    state = rounds.status(round_, today)
    username = context.bot.username if round_.launched_at is not None else None
    text = views.card_text(
        t,
        round_,
        today,
        await rounds.responses(session, round_.id),
        names,
        every,
        survey_link=links.deep_link(username, round_.id) if username else None,
    )
    rows: list[list[Button]] = []
    if state == rounds.Status.DRAFT:
        rows += [
            [(t.gettext("✏️ Questions"), QUESTIONS.data(round_.id))],
            [(t.gettext("🚀 Launch…"), LAUNCH.data(round_.id))],
            [(t.gettext("🗑 Delete draft…"), DELETE.data(round_.id))],
        ]
    elif state in (rounds.Status.SCHEDULED, rounds.Status.OPEN, rounds.Status.ENDED):
        rows.append([(t.gettext("🔒 Close now…"), CLOSE.data(round_.id))])
    if round_.launched_at is not None:
        rows.append([(t.gettext("📊 Results"), RESULTS.data(round_.id))])
    rows.append([(t.gettext("⬅️ All rounds"), LIST)])
    return text, keyboard(*rows)


async def _loaded(
    update: Update, context: PactContext, codec: ButtonCodec
) -> ReportCardRound | None:
    """The round a button points at; the stale-button answer when it is gone."""
    query = update.callback_query
    assert query is not None
    round_id = codec.parse(query.data)
    round_ = await rounds.get(context.scope.session, round_id) if round_id else None
    if round_ is None:
        await stale_button(update, context)
    return round_


async def show_card(update: Update, context: PactContext) -> None:
    """A round's card."""
    round_ = await _loaded(update, context, CARD)
    if round_ is None:
        return
    await answer(update)
    text, markup = await _card(context, round_)
    await edit_or_send(update, context, text, markup)


def _back_to_card(t: Translator, round_: ReportCardRound) -> Button:
    return (t.gettext("⬅️ Back"), CARD.data(round_.id))


async def confirm_launch(update: Update, context: PactContext) -> None:
    """How many subscribers are invited and when; Launch or Back."""
    round_ = await _loaded(update, context, LAUNCH)
    if round_ is None:
        return
    t = context.t
    today = _today(context)
    if round_.launched_at is not None:
        await answer(update, views.refusal(t, "launched"), alert=True)
        return
    await answer(update)
    back = _back_to_card(t, round_)
    if round_.closes_on < today:
        await edit_or_send(update, context, views.refusal(t, "ended"), keyboard([back]))
        return
    reach = await rounds.reach(context.scope.session, round_)
    await edit_or_send(
        update,
        context,
        views.launch_text(t, round_, reach, today),
        keyboard([(t.gettext("🚀 Launch"), LAUNCH_YES.data(round_.id))], [back]),
    )


async def launch(update: Update, context: PactContext) -> None:
    """Launch: the salt and the invitation broadcast; the questions freeze."""
    round_ = await _loaded(update, context, LAUNCH_YES)
    if round_ is None:
        return
    t = context.t
    services = context.services
    now = services.clock.now()
    i18n = services.i18n
    try:
        launched = await rounds.launch(
            context.scope.session,
            round_.id,
            title=views.broadcast_title(round_),
            text_sq=views.invitation(i18n.translator("sq"), round_),
            text_en=views.invitation(i18n.translator("en"), round_),
            by_user_id=await acting_user_id(update, context),
            now=now,
            tz=services.settings.tz,
        )
    except rounds.RoundError as error:
        await answer(update, views.refusal(t, error.reason), alert=True)
        return
    await answer(update)
    if launched.opens_on <= _today(context):
        delivery.kick_when_committed(context.application)
    text, markup = await _card(context, launched)
    note = (
        t.gettext("🚀 Launched. The invitation is going out now.")
        if launched.opens_on <= _today(context)
        else t.gettext(
            "🚀 Launched. The invitation goes out on {date}.", date=t.date(launched.opens_on)
        )
    )
    await edit_or_send(update, context, note + "\n\n" + text, markup)


async def confirm_close(update: Update, context: PactContext) -> None:
    """Close early: confirm."""
    round_ = await _loaded(update, context, CLOSE)
    if round_ is None:
        return
    t = context.t
    if round_.launched_at is None or round_.closed_at is not None:
        await answer(update, t.gettext("This round is not open."), alert=True)
        return
    await answer(update)
    await edit_or_send(
        update,
        context,
        views.close_text(t, round_),
        keyboard(
            [(t.gettext("🔒 Close now"), CLOSE_YES.data(round_.id))],
            [_back_to_card(t, round_)],
        ),
    )


async def close(update: Update, context: PactContext) -> None:
    """Close now: no more answers, respondent codes wiped."""
    round_ = await _loaded(update, context, CLOSE_YES)
    if round_ is None:
        return
    t = context.t
    closed = await rounds.close(
        context.scope.session,
        round_.id,
        by_user_id=await acting_user_id(update, context),
        now=context.services.clock.now(),
    )
    if closed is None:
        await answer(update, t.gettext("This round is not open."), alert=True)
        return
    await answer(update)
    text, markup = await _card(context, closed)
    await edit_or_send(update, context, t.gettext("🔒 Closed.") + "\n\n" + text, markup)


async def confirm_delete(update: Update, context: PactContext) -> None:
    """Delete a draft: confirm."""
    round_ = await _loaded(update, context, DELETE)
    if round_ is None:
        return
    t = context.t
    if round_.launched_at is not None:
        await answer(update, t.gettext("A launched round cannot be deleted."), alert=True)
        return
    await answer(update)
    await edit_or_send(
        update,
        context,
        views.delete_text(t, round_),
        keyboard(
            [(t.gettext("🗑 Delete"), DELETE_YES.data(round_.id))],
            [_back_to_card(t, round_)],
        ),
    )


async def delete(update: Update, context: PactContext) -> None:
    """Delete the draft, then the list."""
    round_ = await _loaded(update, context, DELETE_YES)
    if round_ is None:
        return
    t = context.t
    deleted = await rounds.delete_draft(
        context.scope.session,
        round_.id,
        by_user_id=await acting_user_id(update, context),
        now=context.services.clock.now(),
    )
    if not deleted:
        await answer(update, t.gettext("A launched round cannot be deleted."), alert=True)
        return
    await answer(update)
    text, markup = await _listing(context)
    await edit_or_send(update, context, t.gettext("🗑 Draft deleted.") + "\n\n" + text, markup)


def routes() -> list[routing.Route]:
    """/reportcards, its two wizards and its buttons: the report-card permission."""
    return [
        routing.staff_flow(WIZARD.conversation(), Permission.REPORT_CARDS, WIZARD.draft_key),
        routing.staff_flow(_questions_conversation(), Permission.REPORT_CARDS, QWIZARD.draft_key),
        *routing.staff(
            Permission.REPORT_CARDS,
            CommandHandler("reportcards", list_command, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(list_button, pattern=f"^{LIST}$"),
            CallbackQueryHandler(show_card, pattern=CARD.pattern),
            CallbackQueryHandler(confirm_launch, pattern=LAUNCH.pattern),
            CallbackQueryHandler(launch, pattern=LAUNCH_YES.pattern),
            CallbackQueryHandler(confirm_close, pattern=CLOSE.pattern),
            CallbackQueryHandler(close, pattern=CLOSE_YES.pattern),
            CallbackQueryHandler(confirm_delete, pattern=DELETE.pattern),
            CallbackQueryHandler(delete, pattern=DELETE_YES.pattern),
        ),
    ]

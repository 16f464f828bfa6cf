"""Answering a Citizen Report Card round, one tap at a time, on the wizard kernel (survey.mmd).

Ways in: the invitation's button (links.OPEN_SURVEY), the link `/start crc_<round>` and the menu's
entry while a round is open; each re-reads the round. Steps: the age band (only when none is
known), the municipality (skipped when the person's campaign place is one of the round's), then
one step that walks the services: the screening question, and for a service used, each of the
round's questions about it ("Service 2 of 3"); then the optional suggestion and the summary with
Edit and Send. The walk's position is in the draft ("at"), so Back inside it goes one question
back (its own Back handler; at its first question Back leaves for the step before, as the
kernel's does) and a restart resumes at the same question. Someone who already answered starts
from their stored answers, at the summary.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from markupsafe import Markup
from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    filters,
)

from bot.account import views as account_views
from bot.account.services import accounts
from bot.account.services.consent import has_consent, is_minor
from bot.campaigns.services import campaigns
from bot.cases.services import case_rules
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import N_, plain, shorten
from bot.kit import after_consent, menu
from bot.kit import wizard as wz
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, close_buttons, keyboard, rows_of, send, send_after_commit
from bot.kit.wizard import END, NEXT, OnButton, OnText, Question, Step
from bot.reportcards import links
from bot.reportcards import survey_views as views
from bot.reportcards.services import questions as qs
from bot.reportcards.services import responses
from bot.reportcards.services.responses import RoundState
from bot.rti import views as rti_views
from db.models import AgeBand, Authority, ReportCardRound

PREFIX = "crc:"
DRAFT = "report_card_draft"
AGE, MUNICIPALITY, SERVICES = "crc.age", "crc.municipality", "crc.services"
SUGGESTION, PREVIEW = "crc.suggestion", "crc.preview"

AGE_CHOICE = ButtonCodec(f"{PREFIX}age:", AgeBand)
PLACE = ButtonCodec(f"{PREFIX}m:", int)
ANSWER = ButtonCodec(f"{PREFIX}a:", int, int, int)
"""An answer at a place of the walk: service index, question index, value."""
DONT_KNOW = ButtonCodec(f"{PREFIX}dk:", int, int)
FIX = ButtonCodec(f"{PREFIX}fix:", int)
"""From the summary: answer one service again."""
SEND, CHANGE_PLACE, CHANGE_NOTE = f"{PREFIX}send", f"{PREFIX}place", f"{PREFIX}note"
DEEP_LINK = re.compile(rf"^/start(@\w+)?\s+{re.escape(links.DEEP_LINK_PREFIX)}([0-9]{{1,10}})\s*$")
"""`/start crc_<round>` (the payload Telegram sends when the link is opened)."""
CONTINUE_LABEL = N_("📋 Continue to the report card")
"""The way back in once the privacy notice is accepted (bot/kit/after_consent.py)."""


# --- the round and the walk ---------------------------------------------------------------


def _today(context: PactContext) -> date:
    """Today in the bot's time zone."""
    return responses.local_today(context.services.clock.now(), context.services.settings.tz)


async def _round(context: PactContext, draft: dict) -> ReportCardRound | None:
    """The draft's round, read again."""
    round_id = draft.get("round")
    return await responses.get(context.scope.session, round_id) if round_id else None


def _service_name(key: str, locale: str) -> str:
    """A service (a case category) by name in a locale."""
    category = case_rules.category(key)
    return category.label(locale) if category else key


def _given(draft: dict, service: str) -> dict[str, int]:
    """The answers about one service held in the draft."""
    return draft.setdefault("answers", {}).setdefault(service, {})


def _at(draft: dict) -> tuple[int, int]:
    """Where the walk stands: (service index, question index; 0 is the screening question)."""
    at = draft.get("at") or [0, 0]
    return int(at[0]), int(at[1])


def _last_of(round_: ReportCardRound, draft: dict, index: int) -> tuple[int, int]:
    """The last place of a service: its last question if used, else its screening question."""
    used = _given(draft, round_.services[index]).get(qs.SCREENING) == 1
    return index, (len(responses.per_service(round_)) - 1 if used else 0)


def _end(round_: ReportCardRound, draft: dict) -> list[int]:
    """The walk's last place (where Back from the suggestion returns to)."""
    return list(_last_of(round_, draft, len(round_.services) - 1))


def _gap(round_: ReportCardRound, draft: dict) -> int | None:
    """The first service without a screening answer, or None."""
    for index, service in enumerate(round_.services):
        if _given(draft, service).get(qs.SCREENING) not in (0, 1):
            return index
    return None


def _order(draft: dict) -> tuple[str, ...]:
    """The step ids of the draft's branch."""
    return WIZARD.order(draft)


def _branch(draft: dict) -> str:
    """Age asked or known, place asked or known; stored answers start at the summary."""
    if draft.get("answered_on") and not draft.get("ask_age"):
        return LOADED
    if draft.get("ask_age"):
        return AGE_AND_PLACE if draft.get("ask_place") else AGE_ONLY
    return PLACE_ONLY if draft.get("ask_place") else KNOWN


def _before(draft: dict, step_id: str) -> str | None:
    """The step before one in the branch; the summary for steps reached only from it."""
    order = _order(draft)
    if step_id not in order:
        return PREVIEW
    index = order.index(step_id)
    return order[index - 1] if index else None


def _services_back(draft: dict) -> str | None:
    """Back from the walk: inside it (its own Back handler moves), else the step before it."""
    if _at(draft) != (0, 0):
        return SERVICES
    return _before(draft, SERVICES)


# --- admission: the round, consent and age ------------------------------------------------


async def _admit(update: Update, context: PactContext, round_id: int) -> dict | None:
    """A new draft for the round, or None once the person has been told why not."""
    t = context.t
    session = context.scope.session
    round_ = await responses.get(session, round_id)
    state = responses.state(round_, _today(context))
    if state is not RoundState.OPEN:
        await send(update, context, views.unavailable(t, state, round_), menu.menu_markup(t))
        return None
    assert round_ is not None
    user = context.user_row
    if is_minor(user):
        after_consent.forget(context)
        await send(update, context, views.under_16(t), menu.menu_markup(t))
        return None
    if user is None or not has_consent(user):
        after_consent.remember(context, links.OPEN_SURVEY.data(round_id), CONTINUE_LABEL)
        await send(
            update,
            context,
            views.consent_needed(t),
            keyboard(
                [(t.gettext("✅ I agree"), account_views.ACCEPT)],
                [(t.gettext("📄 Full privacy notice"), account_views.FULL)],
            ),
        )
        return None
    ask_age = user.age_band not in responses.TAKING_PART
    draft: dict[str, Any] = {"round": round_.id, "ask_age": ask_age, "answers": {}, "at": [0, 0]}
    stored = await responses.held(session, round_, user)
    if stored is not None:
        draft.update(
            municipality_id=stored.municipality_id,
            answers=stored.answers,
            answered_on=stored.submitted_on.isoformat(),
            at=[0, 0] if ask_age else _end(round_, {"answers": stored.answers}),
        )
        if stored.suggestion:
            draft["suggestion"] = stored.suggestion
        return draft
    subscription = await campaigns.subscription(session, user)
    place = subscription.municipality_id if subscription else None
    if place in round_.municipality_ids:
        draft["municipality_id"] = place
    else:
        draft["ask_place"] = True
    return draft


async def _start(update: Update, context: PactContext, draft: dict) -> object:
    """Keep the new draft and ask its first question (stored answers: the summary)."""
    context.user_data[DRAFT] = draft
    round_ = await _round(context, draft)
    assert round_ is not None
    t = context.t
    if _branch(draft) == LOADED:
        await send(update, context, views.already_answered(t, _answered_on(draft)))
        return await WIZARD.ask(update, context, PREVIEW)
    await send(update, context, views.intro(t, round_, len(round_.services)))
    return await WIZARD.ask(update, context, WIZARD.first(draft))


def _answered_on(draft: dict) -> date:
    """The day stored answers were sent."""
    return date.fromisoformat(draft["answered_on"])


def _round_pressed(update: Update) -> int | None:
    """The round an entry names: the button's or the link's."""
    query = update.callback_query
    if query is not None:
        return links.OPEN_SURVEY.parse(query.data)
    message = update.effective_message
    found = DEEP_LINK.match(message.text or "") if message else None
    return int(found.group(2)) if found else None


async def begin(update: Update, context: PactContext) -> object:
    """Any way in: check the round and the person, then offer to continue or start."""
    if update.callback_query is not None:
        await answer(update)
    round_id = _round_pressed(update)
    if round_id is None:
        await stale_button(update, context)
        return ConversationHandler.END
    prepared = await _admit(update, context, round_id)
    if prepared is None:
        return ConversationHandler.END
    draft = context.user_data.get(DRAFT)
    if draft and draft.get("round") == round_id:
        t = context.t
        await send(
            update,
            context,
            WIZARD.resume_text(t),
            keyboard(
                [
                    (t.gettext("▶️ Continue"), f"{PREFIX}resume"),
                    (t.gettext("🔄 Start again"), f"{PREFIX}restart"),
                ]
            ),
        )
        return WIZARD.resume_state
    return await _start(update, context, prepared)


async def restart(update: Update, context: PactContext) -> object:
    """ "Start again": a new draft for the same round, checked again."""
    await answer(update)
    await close_buttons(update)
    old = WIZARD.drop(context) or {}
    prepared = await _admit(update, context, old["round"]) if old.get("round") else None
    if prepared is None:
        return ConversationHandler.END
    return await _start(update, context, prepared)


async def _still_open(update: Update, context: PactContext, draft: dict) -> bool:
    """Every answer re-reads the round; closed or gone, the draft goes and the person is told."""
    round_ = await _round(context, draft)
    state = responses.state(round_, _today(context))
    if state is RoundState.OPEN:
        return True
    await close_buttons(update)
    WIZARD.drop(context)
    await send(
        update, context, views.unavailable(context.t, state, round_), menu.menu_markup(context.t)
    )
    return False


# --- the age band -------------------------------------------------------------------------


async def ask_age(context: PactContext, draft: dict) -> Question:
    """The age band, one tap."""
    t = context.t
    buttons = [
        (t.gettext(label), AGE_CHOICE.data(band))
        for band, label in account_views.AGE_LABELS.items()
    ]
    return Question(views.age_question(t), [buttons[:2], buttons[2:]])


async def choose_age(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Kept in the profile (audited, as /privacy does); under 16 ends the survey kindly."""
    band = AGE_CHOICE.parse(AGE_CHOICE.prefix + value)
    if band is None:
        return wz.goto(AGE)
    if not await _still_open(update, context, draft):
        return END
    t = context.t
    await accounts.correct_age_band(context.scope.session, context.actor(update), band)
    await close_buttons(update, Markup("✔️ {}").format(t.gettext(account_views.AGE_LABELS[band])))
    if band is AgeBand.UNDER_16:
        WIZARD.drop(context)
        after_consent.forget(context)
        await send(update, context, views.under_16(t), menu.menu_markup(t))
        return END
    draft["age"] = band.value
    return NEXT


# --- the municipality ---------------------------------------------------------------------


async def _municipalities(context: PactContext, round_: ReportCardRound) -> list[Authority]:
    """The round's municipalities, in its order."""
    session = context.scope.session
    found = [await session.get(Authority, m) for m in round_.municipality_ids]
    return [a for a in found if a is not None]


async def ask_municipality(context: PactContext, draft: dict) -> Question:
    """The round's municipalities as buttons (the chosen one marked)."""
    t = context.t
    round_ = await _round(context, draft)
    if round_ is None:
        return Question(views.unavailable(t, RoundState.UNKNOWN, None))
    buttons = [
        (
            ("✔️ " if a.id == draft.get("municipality_id") else "")
            + rti_views.authority_label(t, a),
            PLACE.data(a.id),
        )
        for a in await _municipalities(context, round_)
    ]
    return Question(views.municipality_question(t), rows_of(buttons))


async def choose_municipality(
    update: Update, context: PactContext, draft: dict, value: str
) -> wz.Move:
    """One of the round's municipalities (checked against the round)."""
    if not await _still_open(update, context, draft):
        return END
    round_ = await _round(context, draft)
    place = PLACE.parse(PLACE.prefix + value)
    authority = await context.scope.session.get(Authority, place) if place else None
    if round_ is None or authority is None or authority.id not in round_.municipality_ids:
        return wz.goto(MUNICIPALITY)
    draft["municipality_id"] = authority.id
    await close_buttons(
        update, Markup("✔️ {}").format(rti_views.authority_label(context.t, authority))
    )
    return NEXT


# --- the walk through the services --------------------------------------------------------


async def ask_services(context: PactContext, draft: dict) -> Question:
    """The question at the walk's place, under "Service n of m"."""
    t = context.t
    round_ = await _round(context, draft)
    if round_ is None:
        return Question(views.unavailable(t, RoundState.UNKNOWN, None))
    asked = responses.per_service(round_)
    index, number = _at(draft)
    index = min(index, len(round_.services) - 1)
    number = min(number, len(asked) - 1)
    service = round_.services[index]
    name = _service_name(service, t.locale)
    header = views.progress(t, round_, index + 1, len(round_.services), name)
    question = asked[number]
    text = views.question_text(t, header, question, name, number, len(asked) - 1)
    chosen = _given(draft, service).get(question["code"])

    def mark(label: str, value: int) -> str:
        return ("✔️ " if chosen == value else "") + plain(label)

    kind = question["kind"]
    if kind == "yes_no":
        rows = [
            [
                (mark(t.gettext("Yes"), 1), ANSWER.data(index, number, 1)),
                (mark(t.gettext("No"), 0), ANSWER.data(index, number, 0)),
            ]
        ]
    elif kind == "scale5":
        rows = [
            [(mark(t.gettext(views.SCALE_LABELS[value]), value), ANSWER.data(index, number, value))]
            for value in qs.values_of(question)
        ]
        rows.append([(views.no_answer_label(t, question), DONT_KNOW.data(index, number))])
    else:
        rows = [
            [(mark(qs.option_text(option, t.locale), value), ANSWER.data(index, number, value))]
            for value, option in enumerate(question.get("options") or [])
        ]
        rows.append([(views.no_answer_label(t, question), DONT_KNOW.data(index, number))])
    return Question(text, rows)


def _forward(round_: ReportCardRound, draft: dict) -> bool:
    """Move the walk one place on; False when it is over (the last service is done)."""
    index, number = _at(draft)
    used = _given(draft, round_.services[index]).get(qs.SCREENING) == 1
    if used and number + 1 < len(responses.per_service(round_)):
        draft["at"] = [index, number + 1]
        return True
    if index + 1 < len(round_.services) and not draft.get(wz.EDITING):
        draft["at"] = [index + 1, 0]
        return True
    return False


async def _answered(
    update: Update, context: PactContext, draft: dict, pressed: tuple[int, int], value: int | None
) -> wz.Move:
    """Store (or clear, for "Don't know") the answer at the walk's place, then move on."""
    if not await _still_open(update, context, draft):
        return END
    round_ = await _round(context, draft)
    assert round_ is not None
    asked = responses.per_service(round_)
    index, number = pressed
    if pressed != _at(draft) or index >= len(round_.services) or number >= len(asked):
        await close_buttons(update)
        return wz.goto(SERVICES)  # an older question's button: ask the current one again
    question = asked[number]
    given = _given(draft, round_.services[index])
    if value is None:
        if question["kind"] not in ("scale5", "choice"):
            return wz.goto(SERVICES)
        given.pop(question["code"], None)
    elif value not in qs.values_of(question):
        return wz.goto(SERVICES)
    else:
        given[question["code"]] = value
    if question["code"] == qs.SCREENING and value == 0:
        for code in list(given):
            if code != qs.SCREENING:
                given.pop(code)
    if _forward(round_, draft):
        return wz.REDRAW
    await close_buttons(update)
    if draft.get(wz.EDITING):
        return NEXT
    draft["at"] = _end(round_, draft)
    return NEXT


async def choose_answer(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A tap on an answer."""
    parsed = ANSWER.parse(ANSWER.prefix + value)
    if parsed is None:
        return wz.goto(SERVICES)
    index, number, chosen = parsed
    return await _answered(update, context, draft, (index, number), chosen)


async def dont_know(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """ "Don't know" (or "Prefer not to say" about payments): nothing is stored for it."""
    parsed = DONT_KNOW.parse(DONT_KNOW.prefix + value)
    if parsed is None:
        return wz.goto(SERVICES)
    return await _answered(update, context, draft, parsed, None)


async def services_back(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Back inside the walk: one question back; at its start, the step before it."""
    round_ = await _round(context, draft)
    index, number = _at(draft)
    if round_ is None or (index, number) == (0, 0):
        target = _before(draft, SERVICES)
        await close_buttons(update)
        if target is None:
            return wz.goto(SERVICES)
        draft.pop(wz.EDITING, None)
        return wz.goto(target)
    if number > 0:
        draft["at"] = [index, number - 1]
    else:
        draft["at"] = list(_last_of(round_, draft, index - 1))
    return wz.REDRAW


# --- the suggestion -----------------------------------------------------------------------


async def ask_suggestion(context: PactContext, draft: dict) -> Question:
    """The round's open question (optional)."""
    t = context.t
    round_ = await _round(context, draft)
    question = responses.question(round_, qs.SUGGESTION) if round_ else None
    if question is None:
        return Question(t.gettext("Any suggestion? (optional)"))
    limit = t.gettext("At most {limit} characters.", limit=qs.SUGGESTION_MAX)
    return Question(Markup("{}\n\n{}").format(qs.text_of(question, t.locale), limit))


async def suggestion(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """Typed text within the limit."""
    t = context.t
    if not text:
        return wz.retry(t.gettext("Please type your answer as text."))
    if len(text) > qs.SUGGESTION_MAX:
        return wz.retry(views.suggestion_too_long(t, len(text)))
    draft["suggestion"] = text
    return NEXT


# --- the summary and sending --------------------------------------------------------------


async def ask_preview(context: PactContext, draft: dict) -> Question:
    """Every answer, with Send and a change button for each part."""
    t = context.t
    round_ = await _round(context, draft)
    if round_ is None:
        return Question(views.unavailable(t, RoundState.UNKNOWN, None))
    place = await context.scope.session.get(Authority, draft.get("municipality_id") or 0)
    services = [(_service_name(key, t.locale), _given(draft, key)) for key in round_.services]
    text = views.summary(
        t,
        round_,
        place.name if place else "—",
        services,
        responses.per_service(round_),
        draft.get("suggestion"),
    )
    fixes = [("✏️ " + name, FIX.data(index)) for index, (name, _given_) in enumerate(services)]
    return Question(
        text,
        [
            [(t.gettext("✅ Send my answers"), SEND)],
            *rows_of(fixes),
            [
                (t.gettext("✏️ Municipality"), CHANGE_PLACE),
                (t.gettext("✏️ Suggestion"), CHANGE_NOTE),
            ],
        ],
    )


async def fix_service(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Answer one service again, then back to the summary."""
    round_ = await _round(context, draft)
    index = FIX.parse(FIX.prefix + value)
    if round_ is None or index is None or index >= len(round_.services):
        return wz.goto(PREVIEW)
    await close_buttons(update)
    draft["at"] = [index, 0]
    return wz.goto(SERVICES, editing=True)


async def change_place(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Choose the municipality again, then back to the summary."""
    await close_buttons(update)
    return wz.goto(MUNICIPALITY, editing=True)


async def change_note(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Write or skip the suggestion again, then back to the summary."""
    await close_buttons(update)
    return wz.goto(SUGGESTION, editing=True)


async def submit(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Store the response (or replace the earlier one); thanks only once it is committed."""
    if not await _still_open(update, context, draft):
        return END
    round_ = await _round(context, draft)
    assert round_ is not None
    gap = _gap(round_, draft)
    if gap is not None:
        await close_buttons(update)
        draft["at"] = [gap, 0]
        return wz.goto(SERVICES, editing=True)
    if draft.get("municipality_id") not in round_.municipality_ids:
        await close_buttons(update)
        return wz.goto(MUNICIPALITY, editing=True)
    user = context.user_row
    if user is None or not has_consent(user) or is_minor(user):
        await close_buttons(update)
        WIZARD.drop(context)
        t = context.t
        await send(
            update, context, views.under_16(t) if is_minor(user) else views.consent_needed(t)
        )
        return END
    submission = responses.Submission(
        municipality_id=draft["municipality_id"],
        answers={service: dict(_given(draft, service)) for service in round_.services},
        suggestion=draft.get("suggestion"),
    )
    outcome = await responses.submit(
        context.scope.session,
        round_.id,
        user,
        submission,
        context.services.clock.now(),
        context.services.settings.tz,
    )
    t = context.t
    if outcome is responses.Outcome.INVALID:
        return wz.retry(
            t.gettext("Some answers no longer fit this report card. Please check them.")
        )
    await close_buttons(update)
    if outcome is responses.Outcome.EXCLUDED:
        return wz.goto(AGE)
    kept = WIZARD.drop(context)
    if outcome is responses.Outcome.CLOSED:
        await send(
            update, context, views.unavailable(t, RoundState.CLOSED, round_), menu.menu_markup(t)
        )
        return END
    context.scope.after_rollback.append(lambda: context.user_data.setdefault(DRAFT, kept))
    send_after_commit(
        update,
        context,
        views.thanks(t, outcome is responses.Outcome.REPLACED),
        keyboard([menu.menu_button(t)]),
    )
    return END


# --- the wizard ---------------------------------------------------------------------------

AGE_AND_PLACE = "age band unknown, place to choose"
AGE_ONLY = "age band unknown, place known"
PLACE_ONLY = "place to choose"
KNOWN = "place known (the campaign place is one of the round's)"
LOADED = "answered before: starts at the summary with the stored answers"

STEPS = (
    Step(
        AGE,
        ask_age,
        accepts=(OnButton("age:", choose_age, exact=False),),
        keys=("age",),
        back=lambda draft: _before(draft, AGE),
        label="16 or over (kept in the profile, audited)",
        goes={"[*]": "under 16: told kindly, nothing stored"},
    ),
    Step(
        MUNICIPALITY,
        ask_municipality,
        accepts=(OnButton("m:", choose_municipality, exact=False),),
        keys=("municipality_id",),
        back=lambda draft: _before(draft, MUNICIPALITY),
        label="one of the round's municipalities",
    ),
    Step(
        SERVICES,
        ask_services,
        accepts=(
            OnButton("back", services_back),
            OnButton("a:", choose_answer, exact=False),
            OnButton("dk:", dont_know, exact=False),
        ),
        keys=("answers",),
        back=_services_back,
        label="each service: used? (no: next service), then its questions "
        "(1-5 or Don't know, choices); Back: one question back",
    ),
    Step(
        SUGGESTION,
        ask_suggestion,
        accepts=(OnText(suggestion),),
        keys=("suggestion",),
        optional=True,
        back=lambda draft: _before(draft, SUGGESTION),
        label=f"text up to {qs.SUGGESTION_MAX} characters, or Skip",
    ),
    Step(
        PREVIEW,
        ask_preview,
        accepts=(
            OnButton("send", submit),
            OnButton("fix:", fix_service, exact=False),
            OnButton("place", change_place),
            OnButton("note", change_note),
        ),
        back=lambda draft: _before(draft, PREVIEW),
        goes={
            SERVICES: "✏️ a service: its questions again, then back here",
            MUNICIPALITY: "✏️ Municipality",
            SUGGESTION: "✏️ Suggestion",
            "[*]": "Send: stored (a second time: replaces the answers); closed meanwhile: refused",
        },
    ),
)

WIZARD = wz.Wizard(
    name="report_card_survey",
    prefix=PREFIX,
    draft_key=DRAFT,
    steps=STEPS,
    branches={
        AGE_AND_PLACE: (AGE, MUNICIPALITY, SERVICES, SUGGESTION, PREVIEW),
        AGE_ONLY: (AGE, SERVICES, SUGGESTION, PREVIEW),
        PLACE_ONLY: (MUNICIPALITY, SERVICES, SUGGESTION, PREVIEW),
        KNOWN: (SERVICES, SUGGESTION, PREVIEW),
        LOADED: (PREVIEW,),
    },
    branch_of=_branch,
    # The ways in, for the diagram: conversation() answers them with begin (the round is in the
    # button's data or the link's payload), which makes the draft after checking the round.
    entries=(
        wz.Entry(
            fresh=lambda context: {},
            button=f"{links.OPEN_SURVEY.prefix}<round>",
            label="invitation or menu button crc:go:<round> (round open, consent, 16+)",
        ),
        wz.Entry(
            fresh=lambda context: {},
            command="start",
            label="link /start crc_<round> (round open, consent, 16+)",
        ),
    ),
    preview=PREVIEW,
    resume_text=lambda t: t.gettext(
        "You have started this report card. Continue where you stopped?"
    ),
    discarded=lambda t: t.gettext(
        "Your unsent report-card answers were discarded (answers already sent stay as they were)."
    ),
    title=(
        "Citizen Report Card survey (bot/reportcards/survey.py). The walk through the services\n"
        "is one step; its place is in the draft, so a restart resumes at the same question."
    ),
)


def conversation() -> ConversationHandler:
    """The kernel's steps with the survey's own ways in (a round in the data) and "Start again"."""
    kernel = WIZARD.conversation()
    states = dict(kernel.states)
    states[WIZARD.resume_state] = [
        CallbackQueryHandler(restart, pattern=f"^{re.escape(PREFIX)}restart$"),
        *states[WIZARD.resume_state],
    ]
    return ConversationHandler(
        name=WIZARD.name,
        persistent=True,
        allow_reentry=True,
        entry_points=[
            CallbackQueryHandler(begin, pattern=links.OPEN_SURVEY.pattern),
            CommandHandler(
                "start", begin, filters=filters.ChatType.PRIVATE & filters.Regex(DEEP_LINK)
            ),
        ],
        states=states,
        fallbacks=kernel.fallbacks,
    )


def routes() -> list[routing.Route]:
    """The survey, open to everyone (its link after another flow: survey_link.py)."""
    return routing.citizen(conversation())


def menu_rows(context: PactContext, rounds: list[ReportCardRound]) -> list[list[Button]]:
    """The menu's entries for open rounds (bot/account/menu.py shows them)."""
    t = context.t
    return [
        [
            (
                t.gettext("📋 Report card: {title}", title=shorten(views.title(r, t.locale), 40)),
                links.OPEN_SURVEY.data(r.id),
            )
        ]
        for r in rounds
    ]

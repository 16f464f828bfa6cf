"""Polls: the /poll composer and /polls results for staff, and the vote buttons for everyone.

/poll (a bot.kit.wizard): Albanian question → English question or Skip → options, one per line →
preview → save, then send to "Polls and surveys" subscribers now or later (see polls.mmd). Votes
arrive on buttons under the broadcast ("pv:{poll}:{option}"); one per person, changeable until
closed.
"""

from __future__ import annotations

import asyncio
import io

from markupsafe import Markup
from telegram import InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.account import views as account_views
from bot.broadcasting import sender as delivery
from bot.broadcasting.message import VOTE
from bot.broadcasting.services import received
from bot.campaigns import subscribe as campaign_handlers
from bot.campaigns.services import audience, campaigns, polls
from bot.core import routing
from bot.core.access import acting_user_id
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, escaped_within, join_lines, plain, shorten
from bot.core.runtime import after_commit_effect
from bot.kit import wizard
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, close_buttons, edit_or_send, keyboard, rows_of, send
from bot.staff.services import charts
from bot.staff.services.permissions import Permission
from db.models import AgeBand, BroadcastKind, Poll, Role, Topic

SEND = ButtonCodec("sb:poll:send:", int)
SHOW = ButtonCodec("sb:poll:show:", int)
RESULTS = ButtonCodec("sb:poll:res:", int)
CLOSE = ButtonCodec("sb:poll:close:", int)
LIST, LATER = "sb:poll:list", "sb:poll:later"
SHOWN = 20
SEGMENTS = (
    ("by_municipality", N_("By municipality")),
    ("by_age_band", N_("By age")),
    ("by_role", N_("By role")),
)


async def ask_question_sq(context: PactContext, draft: dict) -> wizard.Question:
    """The Albanian question ("New poll." the first time)."""
    t = context.t
    if draft.get("sq"):
        return wizard.Question(
            t.gettext(
                "Send the question in Albanian (at most {limit} characters).",
                limit=polls.MAX_QUESTION,
            )
        )
    return wizard.Question(
        t.gettext(
            "New poll. Send the question in Albanian (at most {limit} characters).",
            limit=polls.MAX_QUESTION,
        )
    )


async def ask_question_en(context: PactContext, draft: dict) -> wizard.Question:
    """The English question; English readers see the Albanian one when it is skipped."""
    return wizard.Question(context.t.gettext("Now the question in English, or skip."))


def _options_help(t: Translator) -> str:
    """How to type the options."""
    return t.gettext(
        "Send the options, one per line: {low} to {high}, each at most {limit} characters. "
        "To add an English label, write “Albanian | English”.",
        low=polls.MIN_OPTIONS,
        high=polls.MAX_OPTIONS,
        limit=polls.MAX_OPTION,
    )


async def ask_options(context: PactContext, draft: dict) -> wizard.Question:
    """The options, one per line."""
    return wizard.Question(_options_help(context.t))


def options_error(t: Translator, error: polls.OptionsError) -> str:
    """What is wrong with the typed options."""
    problem, detail = error.problem, error.detail
    if problem == polls.OptionsProblem.TOO_FEW:
        return t.gettext(
            "A poll needs at least {low} options; you sent {count}.",
            low=polls.MIN_OPTIONS,
            count=error.count,
        )
    if problem == polls.OptionsProblem.TOO_MANY:
        return t.gettext(
            "A poll can have at most {high} options; you sent {count}.",
            high=polls.MAX_OPTIONS,
            count=error.count,
        )
    if problem == polls.OptionsProblem.TOO_LONG:
        return t.gettext(
            "“{option}” is longer than {limit} characters.", option=detail, limit=polls.MAX_OPTION
        )
    if problem == polls.OptionsProblem.REPEATED:
        return t.gettext("“{option}” is there twice.", option=detail)
    return t.gettext("“{line}” has no Albanian text before “|”.", line=detail)


async def options(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """The options; a mistake is explained and the question is kept."""
    t = context.t
    try:
        draft["options"] = polls.parse_options(text)
    except polls.OptionsError as error:
        return wizard.retry(
            Markup("\n\n").join(
                [
                    options_error(t, error),
                    t.gettext("Your question is kept. Please send all the options again."),
                    _options_help(t),
                ]
            )
        )
    return wizard.NEXT


def _draft_text(t: Translator, draft: dict) -> Markup:
    """The poll as staff will see it before saving."""
    lines = [t.gettext("<b>Preview</b>"), Markup("🇦🇱 {}").format(draft["sq"])]
    if draft.get("en"):
        lines.append(Markup("🇬🇧 {}").format(draft["en"]))
    lines.append("")
    for number, option in enumerate(draft["options"], start=1):
        english = f" / {option['en']}" if option.get("en") else ""
        lines.append(Markup("{}. {}{}").format(number, option["sq"], english))
    return Markup("\n").join(lines)


async def ask_preview(context: PactContext, draft: dict) -> wizard.Question:
    """The poll with save and a change button per answer."""
    t = context.t
    return wizard.Question(
        _draft_text(t, draft),
        [
            [(t.gettext("✅ Save poll"), f"{WIZARD.prefix}save")],
            *rows_of(
                [
                    WIZARD.edit_button(t.gettext("✏️ Change the question"), "poll.question_sq"),
                    WIZARD.edit_button(
                        t.gettext("✏️ Change the English question"), "poll.question_en"
                    ),
                ]
            ),
            [WIZARD.edit_button(t.gettext("✏️ Change the options"), "poll.options")],
        ],
    )


def share_button(t: Translator, poll_id: int) -> Button:
    """Send the poll to "Polls and surveys" subscribers."""
    topic = campaign_handlers.topic_label(t, Topic.POLLS)
    return (t.gettext("📣 Send to “{topic}” subscribers now", topic=topic), SEND.data(poll_id))


async def save(update: Update, context: PactContext, draft: dict, _value: str) -> wizard.Move:
    """Store the poll, then offer to send it (outside the flow)."""
    if WIZARD.first_missing(draft) is not None:
        return wizard.goto(WIZARD.preview)
    await close_buttons(update)
    WIZARD.drop(context)
    poll = await polls.create(
        context.scope.session,
        question_sq=draft["sq"],
        question_en=draft.get("en"),
        options=draft["options"],
        by_user_id=await acting_user_id(update, context),
        now=context.services.clock.now(),
    )
    t = context.t
    await send(
        update,
        context,
        t.gettext("Poll #{number} saved.", number=poll.id),
        keyboard([share_button(t, poll.id)], [(t.gettext("Later"), LATER)]),
    )
    return wizard.END


WIZARD = wizard.Wizard(
    name="poll_composer",
    prefix="sb:poll:",
    draft_key="poll_draft",
    steps=(
        wizard.Step(
            "poll.question_sq",
            ask_question_sq,
            (wizard.OnText(wizard.text_answer(polls.MAX_QUESTION, "sq")),),
            keys=("sq",),
            label=f"Albanian question (at most {polls.MAX_QUESTION} characters)",
        ),
        wizard.Step(
            "poll.question_en",
            ask_question_en,
            (wizard.OnText(wizard.text_answer(polls.MAX_QUESTION, "en")),),
            keys=("en",),
            optional=True,
            label="English question or Skip",
        ),
        wizard.Step(
            "poll.options",
            ask_options,
            (wizard.OnText(options),),
            keys=("options",),
            label=f"{polls.MIN_OPTIONS}–{polls.MAX_OPTIONS} options, one per line "
            "(a mistake keeps the question)",
        ),
        wizard.Step(
            "poll.preview",
            ask_preview,
            (wizard.OnButton("save", save),),
            goes={"[*]": "Save (then send to subscribers now or later, outside the flow)"},
        ),
    ),
    branches={"new poll": ("poll.question_sq", "poll.question_en", "poll.options", "poll.preview")},
    branch_of=lambda draft: "new poll",
    entries=(wizard.Entry(fresh=lambda context: {}, command="poll"),),
    preview="poll.preview",
    resume_text=lambda t: t.gettext("You have a poll in progress. Continue where you stopped?"),
    discarded=lambda t: t.gettext("Your draft poll was discarded."),
    title="/poll (bot/campaigns/polls.py): staff with the broadcast permission,\n"
    "every step re-checked (bot/core/access.py).",
)
"""The /poll composer: Albanian question, English question or Skip, options, preview, save."""


def invitation(t: Translator, poll: Poll) -> Markup:
    """The broadcast text of a poll in one language."""
    return Markup("\n\n").join(
        [
            Markup("🗳 <b>{}</b>").format(polls.question(poll, t.locale)),
            t.gettext("Tap your answer below. You can change it until the poll closes."),
        ]
    )


async def send_poll(update: Update, context: PactContext) -> None:
    """Broadcast the poll to "Polls and surveys" subscribers now."""
    query = update.callback_query
    assert query is not None
    session = context.scope.session
    poll_id = SEND.parse(query.data)
    poll = await polls.get(session, poll_id) if poll_id else None
    if poll is None:
        await stale_button(update, context)
        return
    t = context.t
    if poll.closed_at is not None:
        await answer(update, t.gettext("This poll is closed."), alert=True)
        return
    await answer(update)
    await close_buttons(update)
    now = context.services.clock.now()
    i18n = context.services.i18n
    await campaigns.create_broadcast(
        session,
        title=escaped_within(poll.question_sq, 60),
        text_sq=invitation(i18n.translator("sq"), poll),
        text_en=invitation(i18n.translator("en"), poll),
        topic=Topic.POLLS,
        municipality_ids=None,
        send_at=now,
        by_user_id=await acting_user_id(update, context),
        now=now,
        buttons=[{"kind": "poll", "poll_id": poll.id}],
        progress_chat_id=update.effective_chat.id if update.effective_chat else None,
    )
    delivery.kick_when_committed(context.application)
    reach = await audience.count(session, audience.Audience(topics=(Topic.POLLS.value,)))
    await send(
        update,
        context,
        t.ngettext(
            "Scheduled: the poll goes out now to {count} person (quiet hours apply).",
            "Scheduled: the poll goes out now to {count} people (quiet hours apply).",
            reach,
        ),
        keyboard([(t.gettext("📊 Results"), SHOW.data(poll.id))]),
    )


async def later(update: Update, context: PactContext) -> None:
    """Keep the poll unsent; /polls has it."""
    await answer(update)
    await close_buttons(update, "✔️ " + context.t.gettext("Later"))
    await send(
        update,
        context,
        context.t.gettext(
            "Saved. Send it later from /polls, or attach it to a message in /broadcast."
        ),
    )


async def vote(update: Update, context: PactContext) -> None:
    """A tap on a poll option (of a poll sent to this person): store or change the answer."""
    query = update.callback_query
    assert query is not None
    pressed = VOTE.parse(query.data)
    session = context.scope.session
    poll_id, option = pressed if pressed is not None else (None, 0)
    poll = await polls.get(session, poll_id) if poll_id is not None else None
    if poll is None or option >= len(poll.options):
        await stale_button(update, context)
        return
    t = context.t
    if poll.closed_at is not None:
        await answer(update, t.gettext("This poll is closed."), alert=True)
        return
    if not await campaign_handlers.require_campaign_consent(update, context):
        return
    assert context.user_row is not None
    if not await received.was_sent_button(session, context.user_row.id, "poll", poll.id):
        await stale_button(update, context)
        return
    outcome, _poll = await polls.vote(
        session, poll.id, option, context.user_row, context.services.clock.now()
    )
    choice = polls.label(poll.options[option], t.locale)
    if outcome == polls.Vote.NEW:  # the thanks only once the vote is stored
        thanks = t.gettext("Thank you! Your answer: {answer}", answer=choice)
        after_commit_effect(lambda: answer(update, thanks))
    elif outcome == polls.Vote.CHANGED:
        changed = t.gettext("Answer changed. Your answer now: {answer}", answer=choice)
        after_commit_effect(lambda: answer(update, changed))
    elif outcome == polls.Vote.SAME:
        await answer(update, t.gettext("Your answer is already: {answer}", answer=choice))
    elif outcome == polls.Vote.CLOSED:
        await answer(update, t.gettext("This poll is closed."), alert=True)
    else:
        await stale_button(update, context)


async def list_command(update: Update, context: PactContext) -> None:
    """/polls."""
    text, markup = await _listing(context)
    await send(update, context, text, markup)


async def list_button(update: Update, context: PactContext) -> None:
    """Back to the list."""
    await answer(update)
    text, markup = await _listing(context)
    await edit_or_send(update, context, text, markup)


async def _listing(context: PactContext) -> tuple[str, InlineKeyboardMarkup | None]:
    """The newest polls with their votes, one button each."""
    t = context.t
    found = await polls.listing(context.scope.session, SHOWN)
    if not found:
        return t.gettext("No polls yet. Create one with /poll."), None
    lines = [t.gettext("<b>Polls</b>")]
    rows: list[list[Button]] = []
    for poll, votes in found:
        mark = "🔒" if poll.closed_at else "🗳"
        short = shorten(polls.question(poll, t.locale), 40)
        lines.append(
            Markup("{} #{} {} · {}").format(
                mark, poll.id, short, t.ngettext("{count} vote", "{count} votes", votes)
            )
        )
        rows.append([(f"{mark} #{poll.id} {short}", SHOW.data(poll.id))])
    return join_lines(lines), keyboard(*rows)


def segment_label(t: Translator, segment: str, value: str | None) -> str:
    """A municipality, age band or role as people read it (plain text); "Not given" if missing."""
    if value is None:
        return plain(t.gettext("Not given"))
    if segment == "by_age_band" and value in set(AgeBand):
        return plain(t.gettext(account_views.AGE_LABELS[AgeBand(value)]))
    if segment == "by_role" and value in set(Role):
        return plain(t.gettext(account_views.ROLE_LABELS[Role(value)]))
    if segment == "by_municipality" and value.startswith(polls.REGION):
        return plain(t.gettext("Region of {region}", region=value.removeprefix(polls.REGION)))
    return value


def totals_lines(t: Translator, poll: Poll, results: polls.Results) -> list[Markup]:
    """One numbered line per option: votes and share."""
    return [
        t.gettext(
            "{number}. {option}: {votes} ({share}%)",
            number=number,
            option=polls.label(option, t.locale),
            votes=t.number(votes),
            share=polls.percent(votes, results.total),
        )
        for number, (option, votes) in enumerate(
            zip(poll.options, results.totals, strict=True), start=1
        )
    ]


def results_text(t: Translator, poll: Poll, results: polls.Results) -> Markup:
    """Totals per option and the breakdowns by municipality, age band and role."""
    state = (
        t.gettext("Closed on {date}", date=t.date(poll.closed_at))
        if poll.closed_at
        else t.gettext("Open for votes")
    )
    lines = [
        Markup("🗳 <b>{}</b>").format(polls.question(poll, t.locale)),
        Markup("{} · {}").format(state, t.ngettext("{count} vote", "{count} votes", results.total)),
    ]
    if not results.total:
        return Markup("\n").join([*lines, "", t.gettext("No votes yet.")])
    lines += ["", *totals_lines(t, poll, results)]
    columns = " · ".join(str(number) for number in range(1, len(poll.options) + 1))
    for segment, title in SEGMENTS:
        lines += [
            "",
            t.gettext(
                "<b>{segment}</b> (votes for options {columns})",
                segment=t.gettext(title),
                columns=columns,
            ),
        ]
        for value, counts in getattr(results, segment):
            label = segment_label(t, segment, value)
            lines.append(Markup("{}: {}").format(label, " · ".join(t.number(n) for n in counts)))
    return join_lines(lines)


def _card_markup(t: Translator, poll: Poll, results: polls.Results) -> InlineKeyboardMarkup:
    """Send results, close, send the poll, back."""
    rows: list[list[Button]] = []
    if results.total:
        rows.append([(t.gettext("📣 Send results to participants"), RESULTS.data(poll.id))])
    if poll.closed_at is None:
        rows.append([share_button(t, poll.id)])
        rows.append([(t.gettext("🔒 Close poll"), CLOSE.data(poll.id))])
    rows.append([(t.gettext("⬅️ Back"), LIST)])
    return keyboard(*rows)


async def _loaded(update: Update, context: PactContext, button: ButtonCodec) -> Poll | None:
    """The poll a staff button points at; the stale-button answer if it is gone."""
    query = update.callback_query
    assert query is not None
    poll_id = button.parse(query.data)
    poll = await polls.get(context.scope.session, poll_id) if poll_id else None
    if poll is None:
        await stale_button(update, context)
    return poll


async def show(update: Update, context: PactContext) -> None:
    """A poll's results as a chart and as text with the actions."""
    poll = await _loaded(update, context, SHOW)
    if poll is None:
        return
    await answer(update)
    t = context.t
    results = await polls.results(context.scope.session, poll)
    if results.total:
        await _send_chart(update, context, poll, results)
    await send(update, context, results_text(t, poll, results), _card_markup(t, poll, results))


async def _send_chart(
    update: Update, context: PactContext, poll: Poll, results: polls.Results
) -> None:
    """Votes per option and per segment as one picture (drawn off the event loop)."""
    t = context.t
    picture = await asyncio.to_thread(
        charts.poll_chart,
        polls.question(poll, t.locale)[:80],
        [polls.label(option, t.locale)[:30] for option in poll.options],
        results.totals,
        [
            (
                t.gettext(title),
                [(segment_label(t, segment, v), c) for v, c in getattr(results, segment)],
            )
            for segment, title in SEGMENTS
        ],
        empty_label=t.gettext("No votes yet."),
    )
    assert update.effective_chat is not None
    await context.bot.send_photo(
        update.effective_chat.id, InputFile(io.BytesIO(picture), filename=f"poll-{poll.id}.png")
    )


async def close(update: Update, context: PactContext) -> None:
    """Stop accepting votes."""
    poll = await _loaded(update, context, CLOSE)
    if poll is None:
        return
    await answer(update)
    session = context.scope.session
    await polls.close(
        session, poll, context.services.clock.now(), await acting_user_id(update, context)
    )
    t = context.t
    results = await polls.results(session, poll)
    await edit_or_send(
        update,
        context,
        Markup("\n\n").join(
            [t.gettext("🔒 Closed. Votes are no longer accepted."), results_text(t, poll, results)]
        ),
        _card_markup(t, poll, results),
    )


def summary(t: Translator, poll: Poll, results: polls.Results) -> Markup:
    """The results as participants receive them: totals only."""
    return Markup("\n").join(
        [
            t.gettext("📊 <b>Results</b>: {question}", question=polls.question(poll, t.locale)),
            "",
            *totals_lines(t, poll, results),
            "",
            t.ngettext(
                "{count} person answered. Thank you for taking part!",
                "{count} people answered. Thank you for taking part!",
                results.total,
            ),
        ]
    )


async def send_results(update: Update, context: PactContext) -> None:
    """A results broadcast to everyone who voted (with consent (c))."""
    poll = await _loaded(update, context, RESULTS)
    if poll is None:
        return
    session = context.scope.session
    results = await polls.results(session, poll)
    t = context.t
    if not results.total:
        await answer(update, t.gettext("No votes yet."), alert=True)
        return
    await answer(update)
    now = context.services.clock.now()
    i18n = context.services.i18n
    await campaigns.create_broadcast(
        session,
        title=escaped_within(f"results: {poll.question_sq}", 100),
        text_sq=summary(i18n.translator("sq"), poll, results),
        text_en=summary(i18n.translator("en"), poll, results),
        topic=Topic.POLLS,
        municipality_ids=None,
        send_at=now,
        by_user_id=await acting_user_id(update, context),
        now=now,
        kind=BroadcastKind.POLL_RESULTS,
        audience={"poll_id": poll.id},
        progress_chat_id=update.effective_chat.id if update.effective_chat else None,
    )
    delivery.kick_when_committed(context.application)
    reach = await audience.count(session, audience.Audience(poll_id=poll.id))
    await send(
        update,
        context,
        t.ngettext(
            "Scheduled: the results go out now to {count} participant.",
            "Scheduled: the results go out now to {count} participants.",
            reach,
        ),
    )


def routes() -> list[routing.Route]:
    """Voting for everyone; the /poll composer, /polls and its buttons: the broadcast permission."""
    private = filters.ChatType.PRIVATE
    return [
        routing.staff_flow(WIZARD.conversation(), Permission.BROADCAST, WIZARD.draft_key),
        *routing.citizen(CallbackQueryHandler(vote, pattern=VOTE.pattern)),
        *routing.staff(
            Permission.BROADCAST,
            CommandHandler("polls", list_command, filters=private),
            CallbackQueryHandler(list_button, pattern=f"^{LIST}$"),
            CallbackQueryHandler(show, pattern=SHOW.pattern),
            CallbackQueryHandler(send_poll, pattern=SEND.pattern),
            CallbackQueryHandler(later, pattern=f"^{LATER}$"),
            CallbackQueryHandler(send_results, pattern=RESULTS.pattern),
            CallbackQueryHandler(close, pattern=CLOSE.pattern),
        ),
    ]

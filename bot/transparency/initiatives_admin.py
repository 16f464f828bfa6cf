"""/initiatives for admins: the programme's funded initiatives, listed, added, edited, removed.

Adding is a wizard on the kernel (bot/kit/wizard.py, diagram initiatives_admin.mmd): grant round
→ organisation → municipality (region, then municipality) → topic → start month → end month or
skip → grant size band → public link or skip → preview (edit any answer) → save. Edit on an
initiative's card opens the same preview filled in (the initiative's id in the draft); Remove asks
first. The public site lists them (bot/transparency/services/initiatives.py).
"""

from __future__ import annotations

from datetime import date

from markupsafe import Markup
from telegram import InlineKeyboardMarkup, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler, filters

from bot.core import routing
from bot.core.access import acting_user_id
from bot.core.application import PactContext
from bot.core.i18n import Translator, join_lines, shorten
from bot.kit import pickers, wizard
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, close_buttons, edit_or_send, keyboard, list_label, send
from bot.staff.services.permissions import Permission
from bot.transparency import snapshot
from bot.transparency.services import initiatives as service
from db.models import GrantBand, Initiative

PREFIX, KEY = "adm:in:", "initiative_draft"
"""Every button of this feature starts with PREFIX; the wizard's draft is user_data[KEY]."""
ROUND, ORGANISATION, TOWN, TOPIC, START, END, BAND, LINK, PREVIEW = (
    "initiative.round",
    "initiative.organisation",
    "initiative.town",
    "initiative.topic",
    "initiative.start",
    "initiative.end",
    "initiative.band",
    "initiative.link",
    "initiative.preview",
)
GRANT_ROUND, REGION, PICK, GRANT_BAND, SAVE = "gr:", "rg:", "m:", "b:", "save"
ADD, LIST = "adm:in:add", "adm:in:list"
SHOW, EDIT, DROP, DROP_YES = (
    ButtonCodec(prefix, int)
    for prefix in ("adm:in:show:", "adm:in:ed:", "adm:in:rm:", "adm:in:rmy:")
)
"""An initiative (by id): its card, edit it, remove it, removal confirmed."""
EDITING_ID = "initiative_id"
"""Draft key: the initiative being edited (absent while adding a new one)."""


def _month_example(context: PactContext) -> str:
    """This month as staff would type it, for the examples."""
    today = context.services.clock.now().astimezone(context.services.settings.tz).date()
    return service.month_text(today)


async def _ask_round(context: PactContext, draft: dict) -> wizard.Question:
    """Round 1, 2 or 3."""
    t = context.t
    return wizard.Question(
        t.gettext("Funded initiative. In which grant round was it funded?"),
        [
            [
                (t.gettext("Round {number}", number=n), f"{PREFIX}{GRANT_ROUND}{n}")
                for n in service.ROUNDS
            ]
        ],
    )


async def _round(update: Update, context: PactContext, draft: dict, raw: str) -> wizard.Move:
    """A round button; any other number is a forged button."""
    t = context.t
    if not raw.isdigit() or int(raw) not in service.ROUNDS:
        await answer(update, t.gettext("This button is no longer active."))
        return wizard.STAY
    await answer(update)
    await close_buttons(update, "✔️ " + t.gettext("Round {number}", number=int(raw)))
    draft["round"] = int(raw)
    return wizard.NEXT


async def _ask_organisation(context: PactContext, draft: dict) -> wizard.Question:
    """The organisation's name."""
    return wizard.Question(
        context.t.gettext(
            "Which organisation carries it out? Type its name as it should appear on the public "
            "page."
        )
    )


async def _ask_town(context: PactContext, draft: dict) -> wizard.Question:
    """The regions of the programme."""
    return wizard.Question(
        context.t.gettext("In which municipality?"), pickers.region_rows(PREFIX + REGION)
    )


async def _town(update: Update, context: PactContext, draft: dict, raw: str) -> wizard.Move:
    """A programme municipality, re-checked in the database."""
    t = context.t
    chosen = (
        await service.programme_municipality(context.scope.session, int(raw))
        if raw.isdigit()
        else None
    )
    if chosen is None:
        await answer(update, t.gettext("This button is no longer active."))
        return wizard.STAY
    await answer(update)
    await close_buttons(update, "✔️ " + t.gettext("Municipality of {name}", name=chosen.name))
    draft["town"] = chosen.id
    return wizard.NEXT


async def _ask_topic(context: PactContext, draft: dict) -> wizard.Question:
    """What the initiative is about."""
    return wizard.Question(
        context.t.gettext(
            "What is it about? One or two sentences for the public page, for example: "
            "“Monitoring the municipal budget with young people”."
        )
    )


async def _ask_start(context: PactContext, draft: dict) -> wizard.Question:
    """The month it starts."""
    return wizard.Question(
        context.t.gettext(
            "When does it start? Type the month and year, for example {example}.",
            example=_month_example(context),
        )
    )


async def _start(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """A month; while editing, an end now before the start is asked again."""
    t = context.t
    month = service.parse_month(text)
    if month is None:
        return wizard.retry(
            t.gettext("Type the month and year like {example}.", example=_month_example(context))
        )
    draft["starts_on"] = month.isoformat()
    ends = draft.get("ends_on")
    if ends and date.fromisoformat(ends) < month:
        draft.pop("ends_on")
        await send(
            update,
            context,
            t.gettext("The end month was before the new start: please give it again."),
        )
        return wizard.goto(END, editing=True)
    return wizard.NEXT


async def _ask_end(context: PactContext, draft: dict) -> wizard.Question:
    """The month it ends, or skip when it is open-ended or not known yet."""
    return wizard.Question(
        context.t.gettext(
            "When does it end? Type the month and year, for example {example}, or skip if it "
            "is not known yet.",
            example=service.month_text(date.fromisoformat(draft["starts_on"])),
        )
    )


async def _end(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """A month not before the start, stored as its last day."""
    t = context.t
    month = service.parse_month(text)
    if month is None:
        return wizard.retry(
            t.gettext("Type the month and year like {example}.", example=_month_example(context))
        )
    starts = date.fromisoformat(draft["starts_on"])
    if month < starts:
        return wizard.retry(
            t.gettext(
                "It cannot end before it starts ({start}). Type a later month, or skip.",
                start=service.month_text(starts),
            )
        )
    draft["ends_on"] = service.month_end(month).isoformat()
    return wizard.NEXT


async def _ask_band(context: PactContext, draft: dict) -> wizard.Question:
    """The grant size, in bands (the exact amount is not published)."""
    t = context.t
    return wizard.Question(
        t.gettext("How large is the grant? Only the band is published."),
        [
            [(service.band_label(t, band), f"{PREFIX}{GRANT_BAND}{band.value}")]
            for band in GrantBand
        ],
    )


async def _band(update: Update, context: PactContext, draft: dict, raw: str) -> wizard.Move:
    """A band button; anything else is a forged button."""
    t = context.t
    if raw not in {band.value for band in GrantBand}:
        await answer(update, t.gettext("This button is no longer active."))
        return wizard.STAY
    await answer(update)
    await close_buttons(update, "✔️ " + service.band_label(t, GrantBand(raw)))
    draft["band"] = raw
    return wizard.NEXT


async def _ask_link(context: PactContext, draft: dict) -> wizard.Question:
    """An optional public link."""
    return wizard.Question(
        context.t.gettext(
            "A public link about it (the organisation's page, a report), starting with https://, "
            "or skip."
        )
    )


async def _link(update: Update, context: PactContext, draft: dict, text: str) -> wizard.Move:
    """An http(s) web address."""
    link = service.valid_link(text)
    if link is None:
        return wizard.retry(
            context.t.gettext(
                "That is not a web link. Type an address starting with https:// or http://, "
                "for example https://example.org/project, or skip."
            )
        )
    draft["link"] = link
    return wizard.NEXT


def _fields(draft: dict) -> service.Fields:
    """The draft's answers as the service's fields."""
    return service.Fields(
        grant_round=int(draft["round"]),
        organisation=draft["organisation"],
        municipality_id=int(draft["town"]),
        topic=draft["topic"],
        starts_on=date.fromisoformat(draft["starts_on"]),
        ends_on=date.fromisoformat(draft["ends_on"]) if draft.get("ends_on") else None,
        grant_band=GrantBand(draft["band"]),
        link=draft.get("link") or None,
    )


def _period(t: Translator, starts_on: date, ends_on: date | None) -> str:
    """ "03/2025 – 12/2025", or "from 03/2025"."""
    if ends_on is None:
        return t.gettext("from {start}", start=service.month_text(starts_on))
    return t.gettext(
        "{start} – {end}", start=service.month_text(starts_on), end=service.month_text(ends_on)
    )


def _details(t: Translator, fields: service.Fields, municipality: str) -> list[str]:
    """An initiative's lines, as on its card and the preview."""
    return [
        t.gettext("<b>{organisation}</b>", organisation=fields.organisation),
        t.gettext(
            "Round {number} · Municipality of {name}", number=fields.grant_round, name=municipality
        ),
        t.gettext("Topic: {topic}", topic=fields.topic),
        t.gettext("Period: {period}", period=_period(t, fields.starts_on, fields.ends_on)),
        t.gettext("Grant: {band}", band=service.band_label(t, fields.grant_band)),
        t.gettext("Link: {link}", link=fields.link) if fields.link else t.gettext("Link: none"),
    ]


async def _municipality_name(context: PactContext, municipality_id: int) -> str:
    """A programme municipality's name ("?" if it is gone: the preview then asks again)."""
    found = await service.programme_municipality(context.scope.session, municipality_id)
    return found.name if found else "?"


async def _ask_preview(context: PactContext, draft: dict) -> wizard.Question:
    """Everything entered, with save and an edit button per answer."""
    t = context.t
    fields = _fields(draft)
    edit = WIZARD.edit_button
    head = (
        t.gettext("<b>Preview of your changes</b>")
        if draft.get(EDITING_ID)
        else t.gettext("<b>Preview</b>")
    )
    lines = [
        head,
        "",
        *_details(t, fields, await _municipality_name(context, fields.municipality_id)),
    ]
    return wizard.Question(
        join_lines(lines),
        [
            [(t.gettext("✅ Save initiative"), PREFIX + SAVE)],
            [edit(t.gettext("✏️ Round"), ROUND), edit(t.gettext("✏️ Organisation"), ORGANISATION)],
            [edit(t.gettext("✏️ Municipality"), TOWN), edit(t.gettext("✏️ Topic"), TOPIC)],
            [edit(t.gettext("✏️ Start"), START), edit(t.gettext("✏️ End"), END)],
            [edit(t.gettext("✏️ Grant"), BAND), edit(t.gettext("✏️ Link"), LINK)],
        ],
    )


async def _save(update: Update, context: PactContext, draft: dict, _value: str) -> wizard.Move:
    """Store a new initiative or the changes to an existing one, then show its card."""
    if WIZARD.first_missing(draft) is not None:
        return wizard.goto(PREVIEW)
    t = context.t
    session = context.scope.session
    fields = _fields(draft)
    if await service.programme_municipality(session, fields.municipality_id) is None:
        draft.pop("town", None)
        return wizard.goto(TOWN, editing=True)
    now = context.services.clock.now()
    by = await acting_user_id(update, context)
    editing = draft.get(EDITING_ID)
    await close_buttons(update)
    WIZARD.drop(context)
    if editing:
        initiative = await service.get(session, int(editing))
        if initiative is None:
            await send(update, context, t.gettext("This initiative was removed meanwhile."))
            return wizard.END
        changed = await service.update(session, initiative, fields, by_user_id=by, now=now)
        note = t.gettext("Changes saved.") if changed else t.gettext("Nothing changed.")
    else:
        initiative = await service.create(session, fields, by_user_id=by, now=now)
        note = t.gettext("Initiative saved. It appears on the public page in a moment.")
    snapshot.rebuild_when_committed(context.application)
    text, markup = await _card(context, initiative)
    await send(update, context, Markup("{}\n\n{}").format(note, text), markup)
    return wizard.END


WIZARD = wizard.Wizard(
    name="initiative_editor",
    prefix=PREFIX,
    draft_key=KEY,
    title=(
        "/initiatives → Add (bot/transparency/initiatives_admin.py): admins, every step\n"
        "re-checked. Edit on an initiative's card opens the preview filled in."
    ),
    steps=(
        wizard.Step(
            ROUND,
            _ask_round,
            (wizard.OnButton(GRANT_ROUND, _round, exact=False, answer=False),),
            keys=("round",),
            label="round 1, 2 or 3",
        ),
        wizard.Step(
            ORGANISATION,
            _ask_organisation,
            (wizard.OnText(wizard.text_answer(service.MAX_ORGANISATION, "organisation")),),
            keys=("organisation",),
            label="organisation (up to 200 characters)",
        ),
        wizard.Step(
            TOWN,
            _ask_town,
            (
                wizard.OnButton(REGION, pickers.open_region, exact=False),
                wizard.OnButton(PICK, _town, exact=False, answer=False),
            ),
            keys=("town",),
            screens=(pickers.municipality_screen(PREFIX + PICK),),
            label="a programme municipality",
        ),
        wizard.Step(
            TOPIC,
            _ask_topic,
            (wizard.OnText(wizard.text_answer(service.MAX_TOPIC, "topic")),),
            keys=("topic",),
            label="topic (up to 300 characters)",
        ),
        wizard.Step(
            START,
            _ask_start,
            (wizard.OnText(_start),),
            keys=("starts_on",),
            label="start month (MM/YYYY)",
            goes={END: "editing: the end is now before the start"},
        ),
        wizard.Step(
            END,
            _ask_end,
            (wizard.OnText(_end),),
            keys=("ends_on",),
            optional=True,
            label="end month, not before the start",
        ),
        wizard.Step(
            BAND,
            _ask_band,
            (wizard.OnButton(GRANT_BAND, _band, exact=False, answer=False),),
            keys=("band",),
            label="grant size band",
        ),
        wizard.Step(
            LINK,
            _ask_link,
            (wizard.OnText(_link),),
            keys=("link",),
            optional=True,
            label="public http(s) link",
        ),
        wizard.Step(
            PREVIEW,
            _ask_preview,
            (wizard.OnButton(SAVE, _save),),
            goes={
                TOWN: "save, but the municipality left the programme meanwhile",
                "[*]": "save (new, or the edited initiative), then its card",
            },
        ),
    ),
    branches={"add": (ROUND, ORGANISATION, TOWN, TOPIC, START, END, BAND, LINK, PREVIEW)},
    branch_of=lambda draft: "add",
    entries=(
        wizard.Entry(
            fresh=lambda context: {},
            button=ADD,
            matches=lambda draft: EDITING_ID not in draft,
            label="➕ Add initiative",
        ),
    ),
    preview=PREVIEW,
    resume_text=lambda t: t.gettext(
        "You have an initiative in progress. Continue where you stopped?"
    ),
    discarded=lambda t: t.gettext("Your draft initiative was discarded."),
)


def _draft_of(initiative: Initiative) -> dict:
    """An existing initiative as a complete draft (its id kept), to edit from the preview."""
    draft: dict = {
        EDITING_ID: initiative.id,
        "round": initiative.grant_round,
        "organisation": initiative.organisation,
        "town": initiative.municipality_id,
        "topic": initiative.topic,
        "starts_on": initiative.starts_on.isoformat(),
        "band": GrantBand(initiative.grant_band).value,
    }
    if initiative.ends_on is not None:
        draft["ends_on"] = initiative.ends_on.isoformat()
    if initiative.link:
        draft["link"] = initiative.link
    return draft


async def _loaded(update: Update, context: PactContext, button: ButtonCodec) -> Initiative | None:
    """The initiative a button points at; the stale-button answer if it is gone."""
    query = update.callback_query
    assert query is not None
    initiative_id = button.parse(query.data)
    found = await service.get(context.scope.session, initiative_id) if initiative_id else None
    if found is None:
        await stale_button(update, context)
    return found


async def edit_entry(update: Update, context: PactContext) -> object:
    """Edit on a card: the initiative as a draft, straight to its preview."""
    initiative = await _loaded(update, context, EDIT)
    if initiative is None:
        return ConversationHandler.END
    await answer(update)
    await close_buttons(update)
    old = WIZARD.drop(context)
    if old and old.get(EDITING_ID) != initiative.id:
        await send(update, context, context.t.gettext("Your draft initiative was discarded."))
    context.user_data[KEY] = _draft_of(initiative)
    return await WIZARD.ask(update, context, PREVIEW)


def conversation() -> ConversationHandler:
    """The wizard's conversation, with Edit on a card as one more way in."""
    base = WIZARD.conversation()
    return ConversationHandler(
        name=base.name,
        persistent=True,
        allow_reentry=True,
        entry_points=[*base.entry_points, CallbackQueryHandler(edit_entry, pattern=EDIT.pattern)],
        states=base.states,
        fallbacks=base.fallbacks,
    )


async def _card(context: PactContext, initiative: Initiative) -> tuple[str, InlineKeyboardMarkup]:
    """One initiative with Edit, Remove and Back to the list."""
    t = context.t
    name = await _municipality_name(context, initiative.municipality_id)
    fields = _fields(_draft_of(initiative))
    rows: list[list[Button]] = [
        [(t.gettext("✏️ Edit"), EDIT.data(initiative.id))],
        [(t.gettext("🗑 Remove"), DROP.data(initiative.id))],
        [(t.gettext("⬅️ Back"), LIST)],
    ]
    return join_lines(_details(t, fields, name)), keyboard(*rows)


async def _listing(context: PactContext) -> tuple[str, InlineKeyboardMarkup]:
    """Every initiative by round and municipality, a button each, and Add."""
    t = context.t
    found = await service.listing(context.scope.session)
    add = [(t.gettext("➕ Add initiative"), ADD)]
    if not found:
        text = t.gettext(
            "No funded initiatives yet. Add the programme's sub-grants here: they are listed on "
            "the public page per municipality."
        )
        return text, keyboard(add)
    lines = [t.gettext("<b>Funded initiatives</b>")]
    rows: list[list[Button]] = [add]
    current = None
    for item in found:
        initiative = item.initiative
        if initiative.grant_round != current:
            current = initiative.grant_round
            lines += ["", t.gettext("<b>Round {number}</b>", number=current)]
        lines.append(
            Markup("• {}: {} ({})").format(
                item.municipality,
                shorten(initiative.organisation, 60),
                _period(t, initiative.starts_on, initiative.ends_on),
            )
        )
        label = list_label(
            f"{initiative.grant_round} · {item.municipality} · {initiative.organisation}"
        )
        rows.append([(label, SHOW.data(initiative.id))])
    return join_lines(lines), keyboard(*rows)


async def list_command(update: Update, context: PactContext) -> None:
    """/initiatives."""
    text, markup = await _listing(context)
    await send(update, context, text, markup)


async def list_button(update: Update, context: PactContext) -> None:
    """Back to the list."""
    await answer(update)
    text, markup = await _listing(context)
    await edit_or_send(update, context, text, markup)


async def show(update: Update, context: PactContext) -> None:
    """An initiative's card."""
    initiative = await _loaded(update, context, SHOW)
    if initiative is None:
        return
    await answer(update)
    text, markup = await _card(context, initiative)
    await edit_or_send(update, context, text, markup)


async def remove(update: Update, context: PactContext) -> None:
    """Ask before removing."""
    initiative = await _loaded(update, context, DROP)
    if initiative is None:
        return
    await answer(update)
    t = context.t
    await edit_or_send(
        update,
        context,
        t.gettext(
            "Remove “{organisation}” (round {number})? It disappears from the public page and "
            "the open data.",
            organisation=initiative.organisation,
            number=initiative.grant_round,
        ),
        keyboard(
            [(t.gettext("Yes, remove it"), DROP_YES.data(initiative.id))],
            [(t.gettext("No, keep it"), SHOW.data(initiative.id))],
        ),
    )


async def remove_confirmed(update: Update, context: PactContext) -> None:
    """Remove, audited, then the list."""
    query = update.callback_query
    assert query is not None
    initiative_id = DROP_YES.parse(query.data)
    t = context.t
    removed = initiative_id is not None and await service.remove(
        context.scope.session,
        initiative_id,
        by_user_id=await acting_user_id(update, context),
        now=context.services.clock.now(),
    )
    if not removed:
        await stale_button(update, context)
        return
    snapshot.rebuild_when_committed(context.application)
    await answer(update, t.gettext("Removed."))
    text, markup = await _listing(context)
    await edit_or_send(
        update, context, Markup("{}\n\n{}").format(t.gettext("Removed."), text), markup
    )


def routes() -> list[routing.Route]:
    """The editor, /initiatives and its buttons: admins only."""
    private = filters.ChatType.PRIVATE
    return [
        routing.staff_flow(conversation(), Permission.ADMIN, KEY),
        *routing.staff(
            Permission.ADMIN,
            CommandHandler("initiatives", list_command, filters=private),
            CallbackQueryHandler(list_button, pattern=f"^{LIST}$"),
            CallbackQueryHandler(show, pattern=SHOW.pattern),
            CallbackQueryHandler(remove, pattern=DROP.pattern),
            CallbackQueryHandler(remove_confirmed, pattern=DROP_YES.pattern),
        ),
    ]

"""Request builder: authority → information → format → where to answer → name → preview.

One question at a time; every step has Back and Cancel; answers live in user_data (persisted in
the database), so a restart resumes at the same step. See rti_builder.mmd.
"""

from __future__ import annotations

from markupsafe import Markup
from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.account import menu, onboarding
from bot.account.services.consent import has_consent, is_minor
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import shorten
from bot.core.runtime import after_commit_effect
from bot.kit import flow, pickers
from bot.kit.ui import Button, answer, close_buttons, keyboard, send
from bot.rti import views
from bot.rti.letter_sending import send_prepared_request
from bot.rti.services import requests as rti
from db.models import Authority
from db.repositories import authorities as authorities_repo

# States
RESUME, AUTHORITY, INFORMATION, PERSONAL, FORMAT, CHANNEL, ADDRESS, NAME, PREVIEW = range(9)

START = "rti:new"
PREFIX = "rtb:"
REGION, OTHER_MUNICIPALITY, OTHER_BODY, PICK = "rtb:region:", "rtb:om", "rtb:ob", "rtb:auth:"
FORMAT_CB, CHANNEL_CB, EDIT = "rtb:fmt:", "rtb:ch:", "rtb:edit:"
BACK, CANCEL, KEEP, REWRITE = "rtb:back", "rtb:cancel", "rtb:keep", "rtb:rewrite"
CREATE, RESUME_CB, RESTART = "rtb:create", "rtb:resume", "rtb:restart"
DRAFT = "rti_draft"
MIN_INFORMATION = 10

PREVIOUS = {
    INFORMATION: AUTHORITY,
    PERSONAL: INFORMATION,
    FORMAT: INFORMATION,
    CHANNEL: FORMAT,
    ADDRESS: CHANNEL,
    NAME: ADDRESS,
    PREVIEW: NAME,
}


def _draft(context: PactContext) -> dict:
    """The answers so far (JSON-friendly: persisted between restarts)."""
    return context.user_data.setdefault(DRAFT, {})


def _nav(context: PactContext) -> list[Button]:
    """Back and Cancel, under every question."""
    t = context.t
    return [(t.gettext("⬅️ Back"), BACK), (t.gettext("✖️ Cancel"), CANCEL)]


async def start(update: Update, context: PactContext) -> int:
    """Entry: needs consent (the request carries the person's name); offers to resume a draft."""
    if update.callback_query:
        await answer(update)
    t = context.t
    user = context.user_row
    if is_minor(user):
        await send(
            update,
            context,
            t.gettext(
                "A request for information must carry the requester's name. Under 16, please "
                "ask a parent or guardian to make the request. You can still read the guide."
            ),
            menu.menu_markup(t),
        )
        return ConversationHandler.END
    if not has_consent(user):
        await send(
            update,
            context,
            t.gettext(
                "To prepare a request I need to keep your answers, including your name, which "
                "the law requires. Please agree to the privacy notice first."
            ),
            keyboard(
                [(t.gettext("✅ I agree"), onboarding.ACCEPT)],
                [(t.gettext("📄 Full privacy notice"), onboarding.FULL)],
            ),
        )
        return ConversationHandler.END
    draft = context.user_data.get(DRAFT)
    if draft:
        await send(
            update,
            context,
            t.gettext("You have a request in progress. Continue where you stopped?"),
            keyboard(
                [(t.gettext("▶️ Continue"), RESUME_CB), (t.gettext("🔄 Start again"), RESTART)]
            ),
        )
        return RESUME
    return await ask_authority(update, context)


async def resume(update: Update, context: PactContext) -> int:
    """Continue at the step the draft stopped at."""
    await answer(update)
    await close_buttons(update)
    return await ASK[_draft(context).get("step", AUTHORITY)](update, context)


async def restart(update: Update, context: PactContext) -> int:
    """Drop the draft and begin again."""
    await answer(update)
    await close_buttons(update)
    context.user_data.pop(DRAFT, None)
    return await ask_authority(update, context)


async def ask_authority(update: Update, context: PactContext) -> int:
    """Which authority: type a name, or choose a region of the programme."""
    t = context.t
    _draft(context)["step"] = AUTHORITY
    await send(
        update,
        context,
        t.gettext(
            "<b>1/5 · Which authority?</b>\nType part of its name (for example: fushe arrez), "
            "or choose a region."
        ),
        keyboard(
            *pickers.region_rows(REGION),
            [(t.gettext("Other municipality"), OTHER_MUNICIPALITY)],
            [(t.gettext("Other public body"), OTHER_BODY)],
            [(t.gettext("✖️ Cancel"), CANCEL)],
        ),
    )
    return AUTHORITY


async def _choose_from(
    update: Update, context: PactContext, found: list[Authority], text: str
) -> int:
    """Offer authorities as buttons, two per row."""
    rows = pickers.choice_rows(context.t, found, PICK)
    await send(update, context, text, keyboard(*rows, _nav(context)))
    return AUTHORITY


async def region(update: Update, context: PactContext) -> int:
    """Programme municipalities of one region."""
    query = await answer(update)
    name = (query.data or "").removeprefix(REGION)
    found = await pickers.in_region(context, name)
    return await _choose_from(update, context, found, context.t.gettext("Choose the municipality:"))


async def other_municipality(update: Update, context: PactContext) -> int:
    """Municipalities outside the programme: too many for buttons, so type."""
    await answer(update)
    await send(update, context, context.t.gettext("Type the name of the municipality:"))
    return AUTHORITY


async def other_body(update: Update, context: PactContext) -> int:
    """Public bodies other than municipalities."""
    await answer(update)
    found = await pickers.others(context)
    return await _choose_from(
        update,
        context,
        found,
        context.t.gettext("Choose the public body, or type part of its name:"),
    )


async def search(update: Update, context: PactContext) -> int:
    """Typed text in the authority step: search the directory."""
    t = context.t
    text = (update.effective_message.text or "") if update.effective_message else ""
    found = await pickers.search(context, text)
    if not found:
        await send(
            update,
            context,
            t.gettext(
                "I found no authority for “{text}”. Try another part of the name.",
                text=shorten(text, 50),
            ),
            keyboard(_nav(context)),
        )
        return AUTHORITY
    return await _choose_from(update, context, found, t.gettext("Did you mean:"))


async def pick(update: Update, context: PactContext) -> int:
    """Authority chosen: show what we know of its contacts, then ask for the information."""
    query = await answer(update)
    raw = (query.data or "").removeprefix(PICK)
    authority = (
        await authorities_repo.get(context.scope.session, int(raw)) if raw.isdigit() else None
    )
    if authority is None:
        return await ask_authority(update, context)
    _draft(context)["authority_id"] = authority.id
    t = context.t
    await send(
        update,
        context,
        views.authority_card(t, authority),
        keyboard([(t.gettext("⚠️ This contact is wrong"), f"{views.WRONG_CONTACT}{authority.id}")]),
    )
    return await _after(update, context, INFORMATION)


async def ask_information(update: Update, context: PactContext) -> int:
    """What information, with concrete examples."""
    t = context.t
    _draft(context)["step"] = INFORMATION
    await send(
        update,
        context,
        t.gettext(
            "<b>2/5 · What information do you want?</b>\nDescribe the documents or data, for "
            "example:\n• the 2026 budget of the municipality\n• the contracts for the road to "
            "the village X\n• the minutes of the last council meeting\nNo reason is needed "
            "(art. 3)."
        ),
        keyboard(_nav(context)),
    )
    return INFORMATION


async def information(update: Update, context: PactContext) -> int:
    """Check length and whether it sounds like a personal matter."""
    t = context.t
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    if len(text) > rti.MAX_INFORMATION:
        await send(
            update,
            context,
            t.gettext(
                "That is {length} characters; the limit is {limit}. Please shorten it and send "
                "it again.",
                length=t.number(len(text)),
                limit=t.number(rti.MAX_INFORMATION),
            ),
        )
        return INFORMATION
    if len(text) < MIN_INFORMATION:
        await send(update, context, t.gettext("Please describe the information in a few words."))
        return INFORMATION
    draft = _draft(context)
    draft["information"] = text
    if rti.looks_personal(text):
        await send(
            update,
            context,
            t.gettext(
                "This looks like a personal matter. The law covers public information that "
                "an authority holds; for your own file or application, ask the office that "
                "handles it. Continue anyway?"
            ),
            keyboard([(t.gettext("Continue anyway"), KEEP), (t.gettext("✏️ Rewrite"), REWRITE)]),
        )
        return PERSONAL
    return await _after(update, context, FORMAT)


async def keep_personal(update: Update, context: PactContext) -> int:
    """The person keeps the text despite the warning."""
    await answer(update)
    await close_buttons(update)
    return await _after(update, context, FORMAT)


async def rewrite(update: Update, context: PactContext) -> int:
    """Ask for the text again."""
    await answer(update)
    await close_buttons(update)
    return await ask_information(update, context)


async def ask_format(update: Update, context: PactContext) -> int:
    """Preferred format (art. 11)."""
    t = context.t
    _draft(context)["step"] = FORMAT
    await send(
        update,
        context,
        t.gettext("<b>3/5 · In what form?</b>\nInformation sent electronically is free (art. 13)."),
        keyboard(
            [(t.gettext("📧 Electronic copy"), f"{FORMAT_CB}{rti.Format.ELECTRONIC}")],
            [(t.gettext("📄 Paper copy"), f"{FORMAT_CB}{rti.Format.PAPER}")],
            [(t.gettext("🏛 Consult on site"), f"{FORMAT_CB}{rti.Format.ON_SITE}")],
            _nav(context),
        ),
    )
    return FORMAT


async def choose_format(update: Update, context: PactContext) -> int:
    """Format chosen."""
    query = await answer(update)
    value = (query.data or "").removeprefix(FORMAT_CB)
    if value not in set(rti.Format):
        return await ask_format(update, context)
    _draft(context)["format"] = value
    await close_buttons(update, "✔️ " + context.t.gettext(views.FORMATS[value]))
    return await _after(update, context, CHANNEL)


async def ask_channel(update: Update, context: PactContext) -> int:
    """Where the answer should go."""
    t = context.t
    _draft(context)["step"] = CHANNEL
    await send(
        update,
        context,
        t.gettext("<b>4/5 · Where should the authority send the answer?</b>"),
        keyboard(
            [
                (t.gettext("📧 E-mail"), f"{CHANNEL_CB}{rti.Channel.EMAIL}"),
                (t.gettext("📮 Postal address"), f"{CHANNEL_CB}{rti.Channel.POST}"),
            ],
            _nav(context),
        ),
    )
    return CHANNEL


async def choose_channel(update: Update, context: PactContext) -> int:
    """Channel chosen: ask for the address."""
    query = await answer(update)
    value = (query.data or "").removeprefix(CHANNEL_CB)
    if value not in set(rti.Channel):
        return await ask_channel(update, context)
    _draft(context)["channel"] = value
    await close_buttons(update)
    return await ask_address(update, context)


async def ask_address(update: Update, context: PactContext) -> int:
    """The e-mail or postal address for the answer."""
    t = context.t
    draft = _draft(context)
    draft["step"] = ADDRESS
    text = (
        t.gettext("Type your e-mail address:")
        if draft.get("channel") == rti.Channel.EMAIL
        else t.gettext("Type your postal address (street, building, town):")
    )
    await send(update, context, text, keyboard(_nav(context)))
    return ADDRESS


async def address(update: Update, context: PactContext) -> int:
    """Validate and keep the address."""
    t = context.t
    text = (update.effective_message.text or "").strip() if update.effective_message else ""
    draft = _draft(context)
    if draft.get("channel") == rti.Channel.EMAIL and not rti.valid_email(text):
        await send(
            update,
            context,
            t.gettext("That does not look like an e-mail address. Please type it again."),
        )
        return ADDRESS
    if len(text) < 5 or len(text) > rti.MAX_ADDRESS:
        await send(
            update,
            context,
            t.gettext(
                "Please type a full address of at most {limit} characters.", limit=rti.MAX_ADDRESS
            ),
        )
        return ADDRESS
    draft["address"] = text
    return await _after(update, context, NAME)


async def ask_name(update: Update, context: PactContext) -> int:
    """Full name, explaining why the law needs it."""
    t = context.t
    _draft(context)["step"] = NAME
    await send(
        update,
        context,
        t.gettext(
            "<b>5/5 · Your name and surname</b>\nThe law asks for the requester's identity "
            "(art. 11). I keep it only with this request, under your consent; you can delete "
            "it any time with /privacy."
        ),
        keyboard(_nav(context)),
    )
    return NAME


async def name(update: Update, context: PactContext) -> int:
    """Validate the name."""
    text = (
        " ".join((update.effective_message.text or "").split()) if update.effective_message else ""
    )
    if not rti.valid_name(text):
        await send(update, context, context.t.gettext("Please type your name and surname."))
        return NAME
    _draft(context)["name"] = text
    return await _after(update, context, PREVIEW)


async def preview(update: Update, context: PactContext) -> int:
    """Everything at once, with an edit button per answer."""
    t = context.t
    draft = _draft(context)
    missing = _first_missing(draft)
    if missing is not None:
        draft["editing"] = True  # once answered, back to the preview (which checks again)
        return await ASK[missing](update, context)
    draft.pop("editing", None)
    draft["step"] = PREVIEW
    authority = await authorities_repo.get(context.scope.session, draft["authority_id"])
    if authority is None:
        return await ask_authority(update, context)
    form = views.FORMATS[draft["format"]]
    text = Markup("\n").join(
        [
            t.gettext("<b>Check your request</b>"),
            t.gettext("To: {authority}", authority=views.authority_label(t, authority)),
            t.gettext("Information: {text}", text=draft["information"]),
            t.gettext("Form: {format}", format=t.gettext(form)),
            t.gettext("Answer to: {address}", address=draft["address"]),
            t.gettext("Name: {name}", name=draft["name"]),
        ]
    )
    await send(
        update,
        context,
        text,
        keyboard(
            [(t.gettext("✅ Make the request"), CREATE)],
            [
                (t.gettext("✏️ Authority"), f"{EDIT}{AUTHORITY}"),
                (t.gettext("✏️ Information"), f"{EDIT}{INFORMATION}"),
            ],
            [
                (t.gettext("✏️ Form"), f"{EDIT}{FORMAT}"),
                (t.gettext("✏️ Address"), f"{EDIT}{CHANNEL}"),
                (t.gettext("✏️ Name"), f"{EDIT}{NAME}"),
            ],
            _nav(context),
        ),
    )
    return PREVIEW


async def edit(update: Update, context: PactContext) -> int:
    """Change one answer, then come back to the preview."""
    query = await answer(update)
    raw = (query.data or "").removeprefix(EDIT)
    step = int(raw) if raw.isdigit() and int(raw) in ASK else PREVIEW
    await close_buttons(update)
    _draft(context)["editing"] = True
    return await ASK[step](update, context)


async def create(update: Update, context: PactContext) -> int:
    """Store the request, send the letter and the ways to send it."""
    await answer(update)
    await close_buttons(update)
    draft = _draft(context)
    user = context.user_row
    if user is None or not has_consent(user):
        context.user_data.pop(DRAFT, None)
        return await start(update, context)
    missing = _first_missing(draft)
    if missing is not None:
        return await ASK[missing](update, context)
    request = await rti.create(
        context.scope.session,
        user,
        rti.Draft(
            authority_id=draft["authority_id"],
            information=draft["information"],
            format=rti.Format(draft["format"]),
            channel=rti.Channel(draft["channel"]),
            address=draft["address"],
            name=draft["name"],
        ),
        context.services.clock.now(),
    )
    kept = context.user_data.pop(DRAFT, None)
    context.scope.after_rollback.append(lambda: context.user_data.setdefault(DRAFT, kept))
    await context.scope.session.get(Authority, request.authority_id)  # the letter needs it
    # The number and the letter only once the request is stored (never for a rolled-back one).
    after_commit_effect(lambda: send_prepared_request(update, context, request))
    return ConversationHandler.END


async def _after(update: Update, context: PactContext, step: int) -> int:
    """Go to the next question, or back to the preview when editing one answer."""
    if _draft(context).get("editing") and _complete(_draft(context)):
        return await preview(update, context)
    return await ASK[step](update, context)


REQUIRED = (
    (AUTHORITY, "authority_id"),
    (INFORMATION, "information"),
    (FORMAT, "format"),
    (CHANNEL, "channel"),
    (ADDRESS, "address"),
    (NAME, "name"),
)
"""Each answer the request needs, with the step that asks for it, in the builder's order."""


def _first_missing(draft: dict) -> int | None:
    """The first step whose answer a torn draft lacks, or None when the preview can be shown."""
    return next((step for step, key in REQUIRED if not draft.get(key)), None)


def _complete(draft: dict) -> bool:
    """Whether every answer is there (so the preview can be shown)."""
    return all(
        key in draft
        for key in ("authority_id", "information", "format", "channel", "address", "name")
    )


async def back(update: Update, context: PactContext) -> int:
    """One step back; from the first step, leave the builder keeping nothing."""
    await answer(update)
    await close_buttons(update)
    step = _draft(context).get("step", AUTHORITY)
    if step == AUTHORITY:
        context.user_data.pop(DRAFT, None)
        await menu.show_menu(update, context)
        return ConversationHandler.END
    _draft(context).pop("editing", None)
    return await ASK[PREVIOUS[step]](update, context)


async def use_buttons(update: Update, context: PactContext) -> int:
    """Something other than a button press where a button is expected: ask again."""
    await send(update, context, context.t.gettext("Please use the buttons."))
    return await ASK[_draft(context).get("step", AUTHORITY)](update, context)


async def type_text(update: Update, context: PactContext) -> int:
    """A photo, sticker or voice note where text is expected."""
    await send(update, context, context.t.gettext("Please type your answer as text."))
    return _draft(context).get("step", AUTHORITY)


ASK = {
    AUTHORITY: ask_authority,
    INFORMATION: ask_information,
    PERSONAL: ask_information,
    FORMAT: ask_format,
    CHANNEL: ask_channel,
    ADDRESS: ask_address,
    NAME: ask_name,
    PREVIEW: preview,
}


def conversation() -> ConversationHandler:
    """The builder as a persistent ConversationHandler."""
    text = filters.TEXT & ~filters.COMMAND
    other = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    nav: list[BaseHandler] = [
        CallbackQueryHandler(back, pattern=f"^{BACK}$"),
        CallbackQueryHandler(flow.cancel_button, pattern=f"^{CANCEL}$"),
    ]
    buttons_only: list[BaseHandler] = [
        MessageHandler(text, use_buttons),
        MessageHandler(other, use_buttons),
    ]
    text_only: list[BaseHandler] = [MessageHandler(other, type_text)]
    return ConversationHandler(
        name="rti_builder",
        persistent=True,
        allow_reentry=True,
        entry_points=[CallbackQueryHandler(start, pattern=f"^{START}$")],
        states={
            RESUME: [
                CallbackQueryHandler(resume, pattern=f"^{RESUME_CB}$"),
                CallbackQueryHandler(restart, pattern=f"^{RESTART}$"),
                *buttons_only,
            ],
            AUTHORITY: [
                CallbackQueryHandler(region, pattern=f"^{REGION}"),
                CallbackQueryHandler(other_municipality, pattern=f"^{OTHER_MUNICIPALITY}$"),
                CallbackQueryHandler(other_body, pattern=f"^{OTHER_BODY}$"),
                CallbackQueryHandler(pick, pattern=f"^{PICK}"),
                MessageHandler(text, search),
                *nav,
                *text_only,
            ],
            INFORMATION: [MessageHandler(text, information), *nav, *text_only],
            PERSONAL: [
                CallbackQueryHandler(keep_personal, pattern=f"^{KEEP}$"),
                CallbackQueryHandler(rewrite, pattern=f"^{REWRITE}$"),
                *buttons_only,
            ],
            FORMAT: [
                CallbackQueryHandler(choose_format, pattern=f"^{FORMAT_CB}"),
                *nav,
                *buttons_only,
            ],
            CHANNEL: [
                CallbackQueryHandler(choose_channel, pattern=f"^{CHANNEL_CB}"),
                *nav,
                *buttons_only,
            ],
            ADDRESS: [MessageHandler(text, address), *nav, *text_only],
            NAME: [MessageHandler(text, name), *nav, *text_only],
            PREVIEW: [
                CallbackQueryHandler(create, pattern=f"^{CREATE}$"),
                CallbackQueryHandler(edit, pattern=f"^{EDIT}"),
                *nav,
                *buttons_only,
            ],
        },
        fallbacks=flow.exits(),
    )


def routes() -> list[routing.Route]:
    """The request builder, open to everyone."""
    return routing.citizen(conversation())

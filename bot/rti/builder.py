"""Request builder: authority → information → format → where to answer → name → preview.

One question at a time on the wizard kernel (bot/kit/wizard.py): every step has Back and Cancel,
the region lists, search results and institution list are sub-screens of the authority step
(Back returns to the screen before them), and answers live in user_data (persisted in the
database), so a restart resumes at the same step. See builder.mmd.
"""

from __future__ import annotations

from markupsafe import Markup
from telegram import Update

from bot.account import views as account_views
from bot.account.services.consent import has_consent, is_minor
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import N_, shorten
from bot.core.runtime import after_commit_effect
from bot.kit import after_consent, menu, pickers
from bot.kit import wizard as wz
from bot.kit.codec import ButtonCodec
from bot.kit.ui import close_buttons, keyboard, send
from bot.kit.wizard import END, NEXT, OnButton, OnText, Question, Screen, Step
from bot.rti import views
from bot.rti.letter_sending import send_prepared_request
from bot.rti.services import requests as rti
from db.models import Authority
from db.repositories import authorities as authorities_repo

START = "rti:new"
PREFIX = "rtb:"
REGION = ButtonCodec(f"{PREFIX}region:", str)
PICK = ButtonCodec(f"{PREFIX}auth:", int)
FORMAT = ButtonCodec(f"{PREFIX}fmt:", rti.Format)
CHANNEL = ButtonCodec(f"{PREFIX}ch:", rti.Channel)
OTHER_MUNICIPALITY, OTHER_BODY = f"{PREFIX}om", f"{PREFIX}ob"
KEEP, REWRITE, CREATE = f"{PREFIX}keep", f"{PREFIX}rewrite", f"{PREFIX}create"
DRAFT = "rti_draft"
MIN_INFORMATION = 10
MAX_SEARCH = 100
"""Typed search text kept for the results screen (longer than any authority's name)."""

AUTHORITY_STEP, INFORMATION_STEP, FORMAT_STEP = "rti.authority", "rti.information", "rti.format"
CHANNEL_STEP, ADDRESS_STEP, NAME_STEP = "rti.channel", "rti.address", "rti.name"
PREVIEW_STEP = "rti.preview"


def _on(button: ButtonCodec | str, handle: wz.ButtonHandler) -> OnButton:
    """The kernel's accept for a codec's buttons (its handler reads the value with the codec) or
    for one fixed button; the kernel's key is the data after PREFIX."""
    data = button.prefix if isinstance(button, ButtonCodec) else button
    if not data.startswith(PREFIX):
        raise ValueError(f"{data!r} is not a button of this wizard ({PREFIX!r})")
    return OnButton(data[len(PREFIX) :], handle, exact=not isinstance(button, ButtonCodec))


def _pressed(update: Update) -> str:
    """The pressed button's data."""
    query = update.callback_query
    return (query.data or "") if query else ""


# --- entry ----------------------------------------------------------------------------------


async def admit(update: Update, context: PactContext) -> bool:
    """Only with consent (the request carries the person's name), and not under 16."""
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
        return False
    if not has_consent(user):
        after_consent.remember(context, START, N_("✍️ Continue your request"))
        await send(
            update,
            context,
            t.gettext(
                "To prepare a request I need to keep your answers, including your name, which "
                "the law requires. Please agree to the privacy notice first."
            ),
            keyboard(
                [(t.gettext("✅ I agree"), account_views.ACCEPT)],
                [(t.gettext("📄 Full privacy notice"), account_views.FULL)],
            ),
        )
        return False
    return True


# --- 1/5 the authority, with its sub-screens ------------------------------------------------


async def ask_authority(context: PactContext, draft: dict) -> Question:
    """Which authority: type a name, or choose a region of the programme."""
    t = context.t
    return Question(
        t.gettext(
            "<b>1/5 · Which authority?</b>\nType part of its name (for example: fushe arrez), "
            "or choose a region."
        ),
        [
            *pickers.region_rows(REGION.prefix),
            [(t.gettext("Other municipality"), OTHER_MUNICIPALITY)],
            [(t.gettext("Other public body"), OTHER_BODY)],
        ],
    )


async def region_screen(context: PactContext, draft: dict, name: str) -> Question:
    """Programme municipalities of one region."""
    found = await pickers.in_region(context, name)
    return Question(
        context.t.gettext("Choose the municipality:"),
        pickers.choice_rows(context.t, found, PICK.prefix),
    )


async def municipality_screen(context: PactContext, draft: dict, arg: object) -> Question:
    """Municipalities outside the programme: too many for buttons, so type."""
    return Question(context.t.gettext("Type the name of the municipality:"))


async def bodies_screen(context: PactContext, draft: dict, arg: object) -> Question:
    """Public bodies other than municipalities."""
    found = await pickers.others(context)
    return Question(
        context.t.gettext("Choose the public body, or type part of its name:"),
        pickers.choice_rows(context.t, found, PICK.prefix),
    )


async def results_screen(context: PactContext, draft: dict, text: str) -> Question:
    """What a typed name found, or that it found nothing."""
    t = context.t
    found = await pickers.search(context, text)
    if not found:
        return Question(
            t.gettext(
                "I found no authority for “{text}”. Try another part of the name.",
                text=shorten(text, 50),
            )
        )
    return Question(
        pickers.results_header(t, text, found), pickers.choice_rows(t, found, PICK.prefix)
    )


async def region(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A region pressed: its municipalities."""
    name = REGION.parse(_pressed(update))
    return wz.show("region", name) if name else wz.goto(AUTHORITY_STEP)


async def other_municipality(
    update: Update, context: PactContext, draft: dict, value: str
) -> wz.Move:
    """ "Other municipality": ask to type its name."""
    return wz.show("municipality")


async def other_body(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """ "Other public body": the list of them."""
    return wz.show("bodies")


async def search(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """Typed text in the authority step: search the directory."""
    return wz.show("results", text[:MAX_SEARCH])


async def pick(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Authority chosen: show what we know of its contacts, then ask for the information."""
    authority_id = PICK.parse(_pressed(update))
    authority = (
        await authorities_repo.get(context.scope.session, authority_id) if authority_id else None
    )
    if authority is None:
        return wz.goto(AUTHORITY_STEP)
    draft["authority_id"] = authority.id
    t = context.t
    await send(
        update,
        context,
        views.authority_card(t, authority),
        keyboard(
            [(t.gettext("⚠️ This contact is wrong"), views.CONTACT_IS_WRONG.data(authority.id))]
        ),
    )
    return NEXT


# --- 2/5 the information, with the personal-matter warning ----------------------------------


async def ask_information(context: PactContext, draft: dict) -> Question:
    """What information, with concrete examples."""
    return Question(
        context.t.gettext(
            "<b>2/5 · What information do you want?</b>\nDescribe the documents or data, for "
            "example:\n• the 2026 budget of the municipality\n• the contracts for the road to "
            "the village X\n• the minutes of the last council meeting\nNo reason is needed "
            "(art. 3)."
        )
    )


async def personal_screen(context: PactContext, draft: dict, arg: object) -> Question:
    """The text sounds like a personal matter: say where that goes, offer to keep or rewrite."""
    t = context.t
    return Question(
        t.gettext(
            "This looks like a personal matter. The law covers public information that "
            "an authority holds; for your own file or application, ask the office that "
            "handles it. Continue anyway?"
        ),
        [[(t.gettext("Continue anyway"), KEEP), (t.gettext("✏️ Rewrite"), REWRITE)]],
    )


async def information(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """Check length and whether it sounds like a personal matter."""
    t = context.t
    if len(text) > rti.MAX_INFORMATION:
        return wz.retry(
            t.gettext(
                "That is {length} characters; the limit is {limit}. Please shorten it and send "
                "it again.",
                length=t.number(len(text)),
                limit=t.number(rti.MAX_INFORMATION),
            )
        )
    if len(text) < MIN_INFORMATION:
        return wz.retry(t.gettext("Please describe the information in a few words."))
    draft["information"] = text
    return wz.show("personal") if rti.looks_personal(text) else NEXT


async def keep_personal(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """The person keeps the text despite the warning."""
    await close_buttons(update)
    return NEXT if draft.get("information") else wz.goto(INFORMATION_STEP)


async def rewrite(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Ask for the text again."""
    await close_buttons(update)
    return wz.goto(INFORMATION_STEP)


# --- 3/5 the format, 4/5 where the answer goes ----------------------------------------------


async def ask_format(context: PactContext, draft: dict) -> Question:
    """Preferred format (art. 11)."""
    t = context.t
    return Question(
        t.gettext("<b>3/5 · In what form?</b>\nInformation sent electronically is free (art. 13)."),
        [
            [(t.gettext("📧 Electronic copy"), FORMAT.data(rti.Format.ELECTRONIC))],
            [(t.gettext("📄 Paper copy"), FORMAT.data(rti.Format.PAPER))],
            [(t.gettext("🏛 Consult on site"), FORMAT.data(rti.Format.ON_SITE))],
        ],
    )


async def choose_format(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Format chosen."""
    chosen = FORMAT.parse(_pressed(update))
    if chosen is None:
        return wz.goto(FORMAT_STEP)
    draft["format"] = str(chosen)
    await close_buttons(update, "✔️ " + context.t.gettext(views.FORMATS[chosen]))
    return NEXT


async def ask_channel(context: PactContext, draft: dict) -> Question:
    """Where the answer should go."""
    t = context.t
    return Question(
        t.gettext("<b>4/5 · Where should the authority send the answer?</b>"),
        [
            [
                (t.gettext("📧 E-mail"), CHANNEL.data(rti.Channel.EMAIL)),
                (t.gettext("📮 Postal address"), CHANNEL.data(rti.Channel.POST)),
            ]
        ],
    )


async def choose_channel(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Channel chosen: always ask for the address (an address of another kind is dropped)."""
    chosen = CHANNEL.parse(_pressed(update))
    if chosen is None:
        return wz.goto(CHANNEL_STEP)
    if draft.get("channel") != chosen:
        draft.pop("address", None)
    draft["channel"] = str(chosen)
    await close_buttons(update)
    return wz.goto(ADDRESS_STEP, editing=bool(draft.get(wz.EDITING)))


async def ask_address(context: PactContext, draft: dict) -> Question:
    """The e-mail or postal address for the answer."""
    t = context.t
    if draft.get("channel") == rti.Channel.EMAIL:
        return Question(t.gettext("Type your e-mail address:"))
    return Question(t.gettext("Type your postal address (street, building, town):"))


async def address(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """Validate and keep the address."""
    t = context.t
    if draft.get("channel") == rti.Channel.EMAIL and not rti.valid_email(text):
        return wz.retry(
            t.gettext("That does not look like an e-mail address. Please type it again.")
        )
    if len(text) < 5 or len(text) > rti.MAX_ADDRESS:
        return wz.retry(
            t.gettext(
                "Please type a full address of at most {limit} characters.", limit=rti.MAX_ADDRESS
            )
        )
    draft["address"] = text
    return NEXT


# --- 5/5 the name ---------------------------------------------------------------------------


async def ask_name(context: PactContext, draft: dict) -> Question:
    """Full name, explaining why the law needs it."""
    return Question(
        context.t.gettext(
            "<b>5/5 · Your name and surname</b>\nThe law asks for the requester's identity "
            "(art. 11). I keep it only with this request, under your consent; you can delete "
            "it any time with /privacy."
        )
    )


async def name(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """Validate the name (inner runs of spaces become one)."""
    text = " ".join(text.split())
    if not rti.valid_name(text):
        return wz.retry(context.t.gettext("Please type your name and surname."))
    draft["name"] = text
    return NEXT


# --- the preview and the request ------------------------------------------------------------


async def preview(context: PactContext, draft: dict) -> Question:
    """Everything at once, with an edit button per answer."""
    t = context.t
    authority = await authorities_repo.get(context.scope.session, draft["authority_id"])
    to = views.authority_label(t, authority) if authority else ""
    lines = [
        t.gettext("<b>Check your request</b>"),
        t.gettext("To: {authority}", authority=to),
        t.gettext("Information: {text}", text=draft["information"]),
        t.gettext("Form: {format}", format=t.gettext(views.FORMATS[draft["format"]])),
        t.gettext("Answer to: {address}", address=draft["address"]),
        t.gettext("Name: {name}", name=draft["name"]),
    ]
    return Question(
        Markup("\n").join(lines),
        [
            [(t.gettext("✅ Make the request"), CREATE)],
            [
                WIZARD.edit_button(t.gettext("✏️ Authority"), AUTHORITY_STEP),
                WIZARD.edit_button(t.gettext("✏️ Information"), INFORMATION_STEP),
            ],
            [
                WIZARD.edit_button(t.gettext("✏️ Form"), FORMAT_STEP),
                WIZARD.edit_button(t.gettext("✏️ Address"), CHANNEL_STEP),
                WIZARD.edit_button(t.gettext("✏️ Name"), NAME_STEP),
            ],
        ],
    )


async def create(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Store the request, send the letter and the ways to send it."""
    await close_buttons(update)
    if not await admit(update, context):
        WIZARD.drop(context)
        return END
    authority_id = draft.get("authority_id")
    if authority_id and await authorities_repo.get(context.scope.session, authority_id) is None:
        draft.pop("authority_id")
    if WIZARD.first_missing(draft) is not None:
        return wz.goto(PREVIEW_STEP)
    user = context.user_row
    assert user is not None  # admitted: consent means a stored person
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
    kept = WIZARD.drop(context)
    context.scope.after_rollback.append(lambda: context.user_data.setdefault(DRAFT, kept))
    await context.scope.session.get(Authority, request.authority_id)  # the letter needs it
    # The number and the letter only once the request is stored (never for a rolled-back one).
    after_commit_effect(lambda: send_prepared_request(update, context, request))
    return END


# --- the wizard -----------------------------------------------------------------------------

STEPS = (
    Step(
        AUTHORITY_STEP,
        ask_authority,
        accepts=(
            _on(REGION, region),
            _on(OTHER_MUNICIPALITY, other_municipality),
            _on(OTHER_BODY, other_body),
            _on(PICK, pick),
            OnText(search),
        ),
        keys=("authority_id",),
        screens=(
            Screen("region", region_screen, "region: its municipalities"),
            Screen("municipality", municipality_screen, "other municipality: type its name"),
            Screen("bodies", bodies_screen, "other public body: the list"),
            Screen("results", results_screen, "typed name: search results"),
        ),
        label="authority picked (contact card shown)",
    ),
    Step(
        INFORMATION_STEP,
        ask_information,
        accepts=(
            _on(KEEP, keep_personal),
            _on(REWRITE, rewrite),
            OnText(information),
        ),
        keys=("information",),
        screens=(Screen("personal", personal_screen, "looks personal: continue or rewrite"),),
        label="text ok (10..3000 chars)",
    ),
    Step(
        FORMAT_STEP,
        ask_format,
        accepts=(_on(FORMAT, choose_format),),
        keys=("format",),
        label="electronic / paper / on site",
    ),
    Step(
        CHANNEL_STEP,
        ask_channel,
        accepts=(_on(CHANNEL, choose_channel),),
        keys=("channel",),
        label="e-mail / post",
    ),
    Step(
        ADDRESS_STEP,
        ask_address,
        accepts=(OnText(address),),
        keys=("address",),
        label="valid address",
    ),
    Step(NAME_STEP, ask_name, accepts=(OnText(name),), keys=("name",), label="name and surname"),
    Step(
        PREVIEW_STEP,
        preview,
        accepts=(_on(CREATE, create),),
        goes={"[*]": "make the request (row + text + PDF + ways to send)"},
    ),
)

WIZARD = wz.Wizard(
    name="rti_builder",
    prefix=PREFIX,
    draft_key=DRAFT,
    steps=STEPS,
    branches={"request": tuple(step.id for step in STEPS)},
    branch_of=lambda draft: "request",
    entries=(
        wz.Entry(
            fresh=lambda context: {},
            button=START,
            admit=admit,
            label="Ask for information (consent, 16+)",
        ),
    ),
    preview=PREVIEW_STEP,
    resume_text=lambda t: t.gettext("You have a request in progress. Continue where you stopped?"),
    discarded=lambda t: t.gettext("Your draft request was discarded."),
    title=(
        "Request builder (bot/rti/builder.py). State and answers are persisted (bot_state), so a\n"
        'restart resumes at the same step; "Ask for information" again offers to resume a draft.'
    ),
)


def routes() -> list[routing.Route]:
    """The request builder, open to everyone."""
    return routing.citizen(WIZARD.conversation())

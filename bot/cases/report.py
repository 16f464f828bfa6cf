"""Reporting: a service problem or corruption, one question at a time (see report.mmd).

Service: municipality → unit → category → what happened → where → photos → identification →
preview → (similar open cases?) → send. Corruption: safety notes → institution → what happened →
when → evidence → identification → preview → send. Answers are persisted between restarts.
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

from bot.account import menu
from bot.account.services.consent import has_consent, is_minor
from bot.cases import evidence_intake
from bot.cases import views as case_views
from bot.cases.report_texts import identity_text, safety_text, sent_text
from bot.cases.services import case_rules, evidence, quota
from bot.cases.services.evidence import PRIVATE_MODES
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import Translator, shorten
from bot.kit import flow, pickers
from bot.kit.ui import Button, answer, close_buttons, keyboard, rows_of, send, send_after_commit
from bot.staff import workspace as staff_cases
from db.models import Case, CaseKind, Identification
from db.repositories import authorities as authorities_repo

# States
(
    RESUME,
    MUNICIPALITY,
    UNIT,
    CATEGORY,
    INSTITUTION,
    DESCRIPTION,
    WHEN,
    LOCATION,
    FILES,
    IDENTITY,
    PREVIEW,
    SIMILAR,
) = range(12)

SERVICE_STEPS = (MUNICIPALITY, UNIT, CATEGORY, DESCRIPTION, LOCATION, FILES, IDENTITY, PREVIEW)
CORRUPTION_STEPS = (INSTITUTION, DESCRIPTION, WHEN, FILES, IDENTITY, PREVIEW)

START_SERVICE, START_CORRUPTION = "menu:service", "menu:corruption"
P = "rp:"
REGION, OTHER_MUNICIPALITY, PICK = "rp:region:", "rp:om", "rp:muni:"
UNIT_CB, CATEGORY_CB, IDENTITY_CB, EDIT = "rp:unit:", "rp:cat:", "rp:id:", "rp:edit:"
SKIP, DONE, BACK, CANCEL = "rp:skip", "rp:done", "rp:back", "rp:cancel"
SEND, SEND_FORWARD, FOLLOW, DIFFERENT = "rp:send", "rp:sendfw", "rp:follow:", "rp:new"
RESUME_CB, RESTART, GO = "rp:resume", "rp:restart", "rp:go"
DRAFT = "report_draft"
MAX_SHORT = 200
DONE_WORDS = {"done", "gata", "mbarova", "u krye"}


def _draft(context: PactContext) -> dict:
    """The answers so far (JSON-friendly: persisted between restarts)."""
    return context.user_data.setdefault(DRAFT, {})


def _steps(context: PactContext) -> tuple[int, ...]:
    """The steps of this kind of report."""
    return CORRUPTION_STEPS if _draft(context).get("kind") == CaseKind.CORRUPTION else SERVICE_STEPS


def _nav(context: PactContext) -> list[Button]:
    """Back and Cancel under every question."""
    t = context.t
    return [(t.gettext("⬅️ Back"), BACK), (t.gettext("✖️ Cancel"), CANCEL)]


async def start_service(update: Update, context: PactContext) -> int:
    """Menu → Report a service problem."""
    return await _start(update, context, CaseKind.SERVICE)


async def start_corruption(update: Update, context: PactContext) -> int:
    """Menu → Report corruption."""
    return await _start(update, context, CaseKind.CORRUPTION)


async def _start(update: Update, context: PactContext, kind: CaseKind) -> int:
    """Offer to resume a draft of the same kind, or begin."""
    await answer(update)
    t = context.t
    draft = context.user_data.get(DRAFT)
    if draft and draft.get("kind") == kind:
        await send(
            update,
            context,
            t.gettext("You have a report in progress. Continue where you stopped?"),
            keyboard(
                [(t.gettext("▶️ Continue"), RESUME_CB), (t.gettext("🔄 Start again"), RESTART)]
            ),
        )
        return RESUME
    context.user_data[DRAFT] = {"kind": kind, "files": [], "received": 0}
    if not has_consent(context.user_row):
        await send(update, context, _memory_only_note(t))
    if kind == CaseKind.CORRUPTION:
        await send(
            update,
            context,
            safety_text(t),
            keyboard([(t.gettext("Continue ➡️"), GO)], [(t.gettext("✖️ Cancel"), CANCEL)]),
        )
        return RESUME
    return await ask(update, context, MUNICIPALITY)


def _memory_only_note(t: Translator) -> str:
    """Why the draft of someone without consent is not kept through a restart."""
    return t.gettext(
        "Because you have not agreed to the privacy notice, I keep your answers only in memory "
        "until you send the report: nothing is stored, and a restart of the bot loses them."
    )


async def resume(update: Update, context: PactContext) -> int:
    """Continue at the saved step (or begin after the safety notes)."""
    await answer(update)
    await close_buttons(update)
    return await ask(update, context, _draft(context).get("step", _steps(context)[0]))


async def restart(update: Update, context: PactContext) -> int:
    """Drop the draft and begin again."""
    kind = CaseKind(_draft(context).get("kind", CaseKind.SERVICE))
    await close_buttons(update)
    context.user_data.pop(DRAFT, None)
    return await _start(update, context, kind)


async def ask(update: Update, context: PactContext, step: int) -> int:
    """Ask the question of a step."""
    _draft(context)["step"] = step
    return await QUESTIONS[step](update, context)


async def _next(update: Update, context: PactContext, current: int) -> int:
    """The following step, or the preview when one answer was being edited."""
    draft = _draft(context)
    if draft.get("editing"):
        return await ask(update, context, PREVIEW)
    steps = _steps(context)
    return await ask(update, context, steps[steps.index(current) + 1])


async def back(update: Update, context: PactContext) -> int:
    """One step back; from the first, leave (nothing was stored)."""
    await answer(update)
    await close_buttons(update)
    draft = _draft(context)
    draft.pop("editing", None)
    steps = _steps(context)
    step = draft.get("step", steps[0])
    if step not in steps or steps.index(step) == 0:
        context.user_data.pop(DRAFT, None)
        await menu.show_menu(update, context)
        return ConversationHandler.END
    return await ask(update, context, steps[steps.index(step) - 1])


# --- municipality and unit -------------------------------------------------------------------


async def ask_municipality(update: Update, context: PactContext) -> int:
    """Which municipality: a region's buttons, or type part of the name."""
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "<b>Which municipality?</b>\nChoose the region, or type part of the name (for "
            "example: vau i dejes)."
        ),
        keyboard(
            *pickers.region_rows(REGION),
            [(t.gettext("Other municipality"), OTHER_MUNICIPALITY)],
            [(t.gettext("✖️ Cancel"), CANCEL)],
        ),
    )
    return MUNICIPALITY


async def region(update: Update, context: PactContext) -> int:
    """Programme municipalities of a region."""
    query = await answer(update)
    found = await pickers.in_region(context, (query.data or "").removeprefix(REGION))
    rows = pickers.choice_rows(context.t, found, PICK)
    await send(
        update,
        context,
        context.t.gettext("Choose the municipality:"),
        keyboard(*rows, _nav(context)),
    )
    return MUNICIPALITY


async def other_municipality(update: Update, context: PactContext) -> int:
    """Type the name."""
    await answer(update)
    await send(update, context, context.t.gettext("Type the name of the municipality:"))
    return MUNICIPALITY


async def search_municipality(update: Update, context: PactContext) -> int:
    """Typed name: matching municipalities."""
    t = context.t
    found = await pickers.search(context, flow.typed_text(update), municipalities_only=True)
    if not found:
        await send(
            update,
            context,
            t.gettext(
                "I found no municipality for “{text}”. Try another part of the name.",
                text=shorten(flow.typed_text(update), 50),
            ),
            keyboard(_nav(context)),
        )
        return MUNICIPALITY
    rows = pickers.choice_rows(t, found, PICK)
    await send(update, context, t.gettext("Did you mean:"), keyboard(*rows, _nav(context)))
    return MUNICIPALITY


async def pick_municipality(update: Update, context: PactContext) -> int:
    """Municipality chosen."""
    query = await answer(update)
    raw = (query.data or "").removeprefix(PICK)
    authority = (
        await authorities_repo.get(context.scope.session, int(raw)) if raw.isdigit() else None
    )
    if authority is None or authority.kind != "municipality":
        return await ask(update, context, MUNICIPALITY)
    draft = _draft(context)
    if draft.get("municipality_id") != authority.id:
        draft.pop("unit", None)
    draft["municipality_id"] = authority.id
    await close_buttons(
        update, "✔️ " + context.t.gettext("Municipality of {name}", name=authority.name)
    )
    return await _next(update, context, MUNICIPALITY)


async def ask_unit(update: Update, context: PactContext) -> int:
    """The administrative unit or village, optional; units are those of the chosen municipality."""
    t = context.t
    authority = await authorities_repo.get(
        context.scope.session, _draft(context).get("municipality_id", 0)
    )
    units = (authority.units or "").split(";") if authority and authority.units else []
    buttons = [(unit, f"{UNIT_CB}{index}") for index, unit in enumerate(units)]
    rows = rows_of(buttons, 3)
    await send(
        update,
        context,
        t.gettext(
            "<b>Which administrative unit or village?</b> Choose, type the village, or skip."
        ),
        keyboard(*rows, [(t.gettext("Skip"), SKIP)], _nav(context)),
    )
    return UNIT


async def pick_unit(update: Update, context: PactContext) -> int:
    """A unit button (by its position in the municipality's list)."""
    query = await answer(update)
    authority = await authorities_repo.get(
        context.scope.session, _draft(context).get("municipality_id", 0)
    )
    units = (authority.units or "").split(";") if authority and authority.units else []
    raw = (query.data or "").removeprefix(UNIT_CB)
    if not raw.isdigit() or int(raw) >= len(units):
        return await ask(update, context, UNIT)
    _draft(context)["unit"] = units[int(raw)]
    await close_buttons(update, Markup("✔️ {}").format(units[int(raw)]))
    return await _next(update, context, UNIT)


async def typed_unit(update: Update, context: PactContext) -> int:
    """A typed village or unit."""
    text = flow.typed_text(update)
    if len(text) > 100:
        await send(
            update, context, context.t.gettext("Please use at most {limit} characters.", limit=100)
        )
        return UNIT
    _draft(context)["unit"] = text
    return await _next(update, context, UNIT)


async def skip(update: Update, context: PactContext) -> int:
    """Skip an optional step."""
    await answer(update)
    await close_buttons(update)
    step = _draft(context).get("step", UNIT)
    if step == UNIT:
        _draft(context).pop("unit", None)
    if step == LOCATION:
        for key in ("latitude", "longitude", "location_text"):
            _draft(context).pop(key, None)
    return await _next(update, context, step)


# --- category -------------------------------------------------------------------------------


async def ask_category(update: Update, context: PactContext) -> int:
    """The service category (categories.md)."""
    t = context.t
    buttons = [(c.label(t.locale), f"{CATEGORY_CB}{c.key}") for c in case_rules.categories()]
    rows = rows_of(buttons)
    await send(
        update,
        context,
        t.gettext("<b>What is the problem about?</b>"),
        keyboard(*rows, _nav(context)),
    )
    return CATEGORY


async def pick_category(update: Update, context: PactContext) -> int:
    """Category chosen; say who handles it when it is not the municipality."""
    query = await answer(update)
    chosen = case_rules.category((query.data or "").removeprefix(CATEGORY_CB))
    if chosen is None:
        return await ask(update, context, CATEGORY)
    t = context.t
    _draft(context)["category"] = chosen.key
    await close_buttons(update, Markup("✔️ {}").format(chosen.label(t.locale)))
    if not chosen.municipal:
        await send(
            update,
            context,
            t.gettext(
                "Good to know: the municipality is not the main body for this. Who handles it: "
                "{who}. We still record your report and the team will tell you where to turn.",
                who=chosen.responsible(t.locale),
            ),
        )
    return await _next(update, context, CATEGORY)


# --- corruption: institution and when --------------------------------------------------------


async def ask_institution(update: Update, context: PactContext) -> int:
    """Which institution or office."""
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "<b>Which institution or office?</b> For example: the municipality's urban "
            "planning office, a school, a health centre."
        ),
        keyboard(_nav(context)),
    )
    return INSTITUTION


async def institution(update: Update, context: PactContext) -> int:
    """Keep the institution (short text)."""
    return await _short(update, context, "institution", INSTITUTION)


async def ask_when(update: Update, context: PactContext) -> int:
    """When it happened, in the person's own words."""
    t = context.t
    await send(
        update,
        context,
        t.gettext("<b>When did it happen?</b> A date or roughly (for example: last week)."),
        keyboard(_nav(context)),
    )
    return WHEN


async def when(update: Update, context: PactContext) -> int:
    """Keep the time (short text)."""
    return await _short(update, context, "when", WHEN)


async def _short(update: Update, context: PactContext, key: str, step: int) -> int:
    """A short free-text answer of at most 200 characters."""
    text = flow.typed_text(update)
    if not text or len(text) > MAX_SHORT:
        await send(
            update,
            context,
            context.t.gettext("Please answer in at most {limit} characters.", limit=MAX_SHORT),
        )
        return step
    _draft(context)[key] = text
    return await _next(update, context, step)


# --- what happened ---------------------------------------------------------------------------


async def ask_description(update: Update, context: PactContext) -> int:
    """What happened: text or a voice note."""
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "<b>What happened?</b> Write it (at most {limit} characters) or send a voice note. "
            "Do not include health, religion, political views or other people's personal "
            "data unless it is needed.",
            limit=t.number(case_rules.MAX_TEXT),
        ),
        keyboard(_nav(context)),
    )
    return DESCRIPTION


async def description(update: Update, context: PactContext) -> int:
    """Text description, with a clear message when too long."""
    t = context.t
    text = flow.typed_text(update)
    if len(text) > case_rules.MAX_TEXT:
        await send(
            update,
            context,
            t.gettext(
                "That is {length} characters; the limit is {limit}. Please shorten it and send "
                "it again.",
                length=t.number(len(text)),
                limit=t.number(case_rules.MAX_TEXT),
            ),
        )
        return DESCRIPTION
    if len(text) < 5:
        await send(update, context, t.gettext("Please describe the problem in a few words."))
        return DESCRIPTION
    draft = _draft(context)
    draft["description"] = text
    draft.pop("voice", None)
    return await _next(update, context, DESCRIPTION)


async def voice_description(update: Update, context: PactContext) -> int:
    """A voice note instead of text."""
    voice = update.effective_message.voice if update.effective_message else None
    if voice is None:
        return DESCRIPTION
    draft = _draft(context)
    draft["voice"] = voice.file_id
    draft.pop("description", None)
    if draft.get("identification") in PRIVATE_MODES:
        return await _ask_about_voice(update, context, draft["identification"])
    draft["voice_warned"] = True
    t = context.t
    await send(update, context, t.gettext("🎙 Voice note received.") + "\n" + _voice_warning(t))
    return await _next(update, context, DESCRIPTION)


# --- location --------------------------------------------------------------------------------


async def ask_location(update: Update, context: PactContext) -> int:
    """Where: share a location, type an address or landmark, or skip."""
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "<b>Where exactly?</b> Share a location (📎 → Location), type an address or a "
            "landmark, or skip."
        ),
        keyboard([(t.gettext("Skip"), SKIP)], _nav(context)),
    )
    return LOCATION


async def shared_location(update: Update, context: PactContext) -> int:
    """A Telegram location."""
    location = update.effective_message.location if update.effective_message else None
    if location is None:
        return LOCATION
    draft = _draft(context)
    draft["latitude"], draft["longitude"] = location.latitude, location.longitude
    draft.pop("location_text", None)
    await send(update, context, context.t.gettext("📍 Location received."))
    return await _next(update, context, LOCATION)


async def typed_location(update: Update, context: PactContext) -> int:
    """An address or landmark."""
    text = flow.typed_text(update)
    if len(text) > 300:
        await send(
            update,
            context,
            context.t.gettext("Please answer in at most {limit} characters.", limit=300),
        )
        return LOCATION
    draft = _draft(context)
    draft["location_text"] = text
    draft.pop("latitude", None)
    draft.pop("longitude", None)
    return await _next(update, context, LOCATION)


# --- photos and evidence ---------------------------------------------------------------------


async def ask_files(update: Update, context: PactContext) -> int:
    """Photos (service) or evidence (corruption): up to five, optional."""
    t = context.t
    corruption = _draft(context).get("kind") == CaseKind.CORRUPTION
    text = (
        t.gettext(
            "<b>Evidence?</b> Send photos, PDFs, other documents or voice notes (up to "
            "{limit}), then tap Done. Every file reaches the team under a neutral name "
            "(evidence-1.jpg). I remove hidden data from images (place, camera, date) and PDFs "
            "(author, title). Word files and other documents can carry your name inside: they "
            "are kept only in named reports. A voice can identify you.",
            limit=case_rules.MAX_PHOTOS,
        )
        if corruption
        else t.gettext(
            "<b>Photos?</b> Send up to {limit} photos, then tap Done (or tap Done now if you "
            "have none).",
            limit=case_rules.MAX_PHOTOS,
        )
    )
    await send(update, context, text, keyboard([(t.gettext("✔️ Done"), DONE)], _nav(context)))
    return FILES


def _files(context: PactContext) -> list[dict]:
    return _draft(context).setdefault("files", [])


async def _refuse_file(update: Update, context: PactContext) -> int | None:
    """Count an upload against FILES_PER_CASE (across edits); a state when it is not taken."""
    draft = _draft(context)
    t = context.t
    limit = context.services.settings.files_per_case
    if draft.get("received", 0) >= limit:
        await send(
            update,
            context,
            t.ngettext(
                "You have already sent {count} file for this report, the most one report can "
                "take. No more files can be added.",
                "You have already sent {count} files for this report, the most one report can "
                "take. No more files can be added.",
                limit,
            ),
        )
        return await _next(update, context, FILES)
    if len(_files(context)) >= case_rules.MAX_PHOTOS:
        return await _added(update, context)
    draft["received"] = draft.get("received", 0) + 1
    return None


async def _added(update: Update, context: PactContext) -> int:
    """Count files; move on automatically at the limit."""
    count = len(_files(context))
    t = context.t
    if count >= case_rules.MAX_PHOTOS:
        await send(
            update,
            context,
            t.gettext("That is the limit of {limit} files.", limit=case_rules.MAX_PHOTOS),
        )
        return await _next(update, context, FILES)
    await send(
        update,
        context,
        t.ngettext(
            "{count} file received. Send more or tap Done.",
            "{count} files received. Send more or tap Done.",
            count,
        ),
        keyboard([(t.gettext("✔️ Done"), DONE)]),
    )
    return FILES


async def photo(update: Update, context: PactContext) -> int:
    """A photo (already recompressed by Telegram)."""
    message = update.effective_message
    if message is None or not message.photo:
        return FILES
    if (refused := await _refuse_file(update, context)) is not None:
        return refused
    _files(context).append({"kind": "photo", "file_id": message.photo[-1].file_id})
    return await _added(update, context)


async def document(update: Update, context: PactContext) -> int:
    """A document judged by its content, cleaned and shown back under a neutral name."""
    message = update.effective_message
    doc = message.document if message else None
    if doc is None:
        return FILES
    if (refused := await _refuse_file(update, context)) is not None:
        return refused
    corruption = _draft(context).get("kind") == CaseKind.CORRUPTION
    item = await evidence_intake.take_document(
        update,
        context,
        number=len(_files(context)) + 1,
        mode=_private_or_chosen_mode(context),
        images_only=not corruption,
    )
    if item is None:
        return FILES
    _files(context).append(item)
    return await _added(update, context)


async def voice_evidence(update: Update, context: PactContext) -> int:
    """A voice note as evidence (corruption)."""
    voice = update.effective_message.voice if update.effective_message else None
    if voice is None or _draft(context).get("kind") != CaseKind.CORRUPTION:
        await send(update, context, context.t.gettext("Please send photos here."))
        return FILES
    if (refused := await _refuse_file(update, context)) is not None:
        return refused
    _files(context).append({"kind": "voice", "file_id": voice.file_id})
    if _draft(context).get("identification") in PRIVATE_MODES:
        return await _ask_about_voice(update, context, _draft(context)["identification"])
    if not _draft(context).get("voice_warned"):
        _draft(context)["voice_warned"] = True
        await send(update, context, _voice_warning(context.t))
    return await _added(update, context)


async def files_done(update: Update, context: PactContext) -> int:
    """Done with files (button or the word "done")."""
    if update.callback_query:
        await answer(update)
        await close_buttons(update)
    elif flow.typed_text(update).lower() not in DONE_WORDS:
        await send(update, context, context.t.gettext("Send photos, or tap Done."))
        return FILES
    return await _next(update, context, FILES)


# --- identification --------------------------------------------------------------------------


def _allowed_modes(context: PactContext) -> list[Identification]:
    """The identification modes this person may choose for this kind of report."""
    return case_rules.allowed_identifications(
        context.user_row, CaseKind(_draft(context).get("kind", CaseKind.SERVICE))
    )


async def ask_identity(update: Update, context: PactContext) -> int:
    """How to be identified, with what each choice means."""
    t = context.t
    modes = _allowed_modes(context)
    labels = {
        Identification.NAMED: t.gettext("👤 Named"),
        Identification.CONFIDENTIAL: t.gettext("🔒 Confidential"),
        Identification.ANONYMOUS: t.gettext("🕶 Anonymous"),
    }
    rows = [[(labels[mode], f"{IDENTITY_CB}{mode}")] for mode in modes]
    note = ""
    if modes == [Identification.ANONYMOUS]:
        note = "\n\n" + (
            t.gettext("Under 16 you can report only anonymously.")
            if is_minor(context.user_row)
            else t.gettext(
                "To report with your name or confidentially, first agree to the privacy "
                "notice (/privacy). You can report anonymously now."
            )
        )
    await send(update, context, identity_text(t) + note, keyboard(*rows, _nav(context)))
    return IDENTITY


async def pick_identity(update: Update, context: PactContext) -> int:
    """Mode chosen; anonymous and confidential drop uncleanable documents and ask about voice."""
    query = await answer(update)
    raw = (query.data or "").removeprefix(IDENTITY_CB)
    if raw in (KEEP_VOICE, TEXT_INSTEAD):
        return await _voice_answer(update, context, raw)
    if raw not in set(Identification) or Identification(raw) not in _allowed_modes(context):
        return await ask(update, context, IDENTITY)
    mode = Identification(raw)
    await close_buttons(update, "✔️ " + context.t.gettext(case_views.IDENTIFICATION[mode]))
    if mode in PRIVATE_MODES:
        await _drop_named_only_files(update, context)
        if _holds_voice(context):
            return await _ask_about_voice(update, context, mode)
    _draft(context)["identification"] = raw
    return await _next(update, context, IDENTITY)


# --- what could identify an anonymous or confidential reporter --------------------------------

KEEP_VOICE, TEXT_INSTEAD = "voice:keep", "voice:text"


def _private_or_chosen_mode(context: PactContext) -> Identification | None:
    """The identification already chosen, anonymous when it is the only choice, else None."""
    chosen = _draft(context).get("identification")
    if chosen in set(Identification):
        return Identification(chosen)
    only_anonymous = _allowed_modes(context) == [Identification.ANONYMOUS]
    return Identification.ANONYMOUS if only_anonymous else None


def _holds_voice(context: PactContext) -> bool:
    """Whether the draft has a voice note (as the description or as evidence)."""
    draft = _draft(context)
    return bool(draft.get("voice")) or any(item.get("kind") == "voice" for item in _files(context))


def _voice_warning(t: Translator) -> str:
    """Said when a voice note arrives: a voice can identify the person."""
    return t.gettext(
        "⚠️ A voice can identify you. If you want to report anonymously or confidentially, "
        "writing is safer; I will ask you again before the report is sent."
    )


async def _drop_named_only_files(update: Update, context: PactContext) -> None:
    """Remove documents that were not cleaned (kept in named reports only) and say why."""
    files = _files(context)
    kept = [item for item in files if not evidence.named_only(item)]
    dropped = len(files) - len(kept)
    if not dropped:
        return
    files[:] = kept
    await send(
        update,
        context,
        context.t.ngettext(
            "I removed {count} document from this report: Word files and other documents can "
            "carry the author's name inside, and I cannot remove it. You can add a PDF or a "
            "photo of the page instead with ✏️ Files.",
            "I removed {count} documents from this report: Word files and other documents can "
            "carry the author's name inside, and I cannot remove it. You can add PDFs or "
            "photos of the pages instead with ✏️ Files.",
            dropped,
        ),
    )


async def _ask_about_voice(update: Update, context: PactContext, mode: Identification) -> int:
    """Before an anonymous or confidential report keeps a voice note: keep it or write instead."""
    t = context.t
    draft = _draft(context)
    draft["pending_identification"] = Identification(mode).value
    draft["step"] = IDENTITY
    await send(
        update,
        context,
        t.gettext(
            "<b>Your report has a voice note.</b> A voice can identify you, even in an "
            "anonymous or confidential report: people who know you may recognise it. Keep the "
            "voice note, or write the text instead?"
        ),
        keyboard(
            [(t.gettext("🎙 Keep the voice note"), f"{IDENTITY_CB}{KEEP_VOICE}")],
            [(t.gettext("✍️ Write text instead"), f"{IDENTITY_CB}{TEXT_INSTEAD}")],
            _nav(context),
        ),
    )
    return IDENTITY


async def _voice_answer(update: Update, context: PactContext, choice: str) -> int:
    """Keep the voice and go on, or drop every voice note and write the description instead."""
    draft = _draft(context)
    pending = draft.pop("pending_identification", None)
    if pending not in set(Identification) or Identification(pending) not in _allowed_modes(context):
        return await ask(update, context, IDENTITY)
    t = context.t
    draft["identification"] = pending
    if choice == KEEP_VOICE:
        await close_buttons(update, "✔️ " + t.gettext("🎙 Keep the voice note"))
        return await _next(update, context, IDENTITY)
    await close_buttons(update, "✔️ " + t.gettext("✍️ Write text instead"))
    draft.pop("voice", None)
    draft["files"] = [item for item in _files(context) if item.get("kind") != "voice"]
    draft["editing"] = True
    await send(
        update,
        context,
        t.gettext(
            "I removed the voice notes. Please write what happened, including what the voice "
            "notes said."
        ),
    )
    return await ask(update, context, DESCRIPTION)


# --- preview and sending ---------------------------------------------------------------------


REQUIRED = {
    CaseKind.SERVICE: ((MUNICIPALITY, ("municipality_id",)), (CATEGORY, ("category",))),
    CaseKind.CORRUPTION: ((INSTITUTION, ("institution",)), (WHEN, ("when",))),
}
"""The answers each kind needs before the preview (besides what happened and identification)."""


def _first_missing(draft: dict) -> int | None:
    """The first step a torn draft lacks an answer for (no kind: a service report), or None."""
    draft.setdefault("kind", CaseKind.SERVICE)
    steps = CORRUPTION_STEPS if draft["kind"] == CaseKind.CORRUPTION else SERVICE_STEPS
    needed = [
        *REQUIRED[CaseKind(draft["kind"])],
        (DESCRIPTION, ("description", "voice")),
        (IDENTITY, ("identification",)),
    ]
    missing = [step for step, keys in needed if not any(draft.get(key) for key in keys)]
    return min(missing, key=steps.index) if missing else None


async def preview(update: Update, context: PactContext) -> int:
    """The whole report with an Edit button per answer (a missing answer is asked first)."""
    t = context.t
    draft = _draft(context)
    missing = _first_missing(draft)
    if missing is not None:
        draft["editing"] = True  # once answered, back to the preview (which checks again)
        return await ask(update, context, missing)
    draft.pop("editing", None)
    draft["step"] = PREVIEW
    lines = [t.gettext("<b>Check your report</b>")]
    edit_rows: list[Button] = []
    if draft["kind"] == CaseKind.SERVICE:
        authority = await authorities_repo.get(
            context.scope.session, draft.get("municipality_id", 0)
        )
        town = t.gettext("Municipality of {name}", name=authority.name) if authority else "?"
        lines.append(
            t.gettext(
                "Place: {place}",
                place=town + (f", {draft['unit']}" if draft.get("unit") else ""),
            )
        )
        chosen = case_rules.category(draft.get("category"))
        lines.append(
            t.gettext("Problem: {category}", category=chosen.label(t.locale) if chosen else "?")
        )
        edit_rows += [
            (t.gettext("✏️ Place"), f"{EDIT}{MUNICIPALITY}"),
            (t.gettext("✏️ Problem"), f"{EDIT}{CATEGORY}"),
        ]
    else:
        lines.append(t.gettext("Institution: {name}", name=draft.get("institution", "")))
        lines.append(t.gettext("When: {when}", when=draft.get("when", "")))
        edit_rows += [
            (t.gettext("✏️ Institution"), f"{EDIT}{INSTITUTION}"),
            (t.gettext("✏️ When"), f"{EDIT}{WHEN}"),
        ]
    lines.append(
        t.gettext("What happened: {text}", text=draft["description"])
        if draft.get("description")
        else t.gettext("What happened: 🎙 voice note")
    )
    if draft["kind"] == CaseKind.SERVICE:
        if draft.get("latitude") is not None:
            lines.append(t.gettext("Where: 📍 shared location"))
        elif draft.get("location_text"):
            lines.append(t.gettext("Where: {place}", place=draft["location_text"]))
    lines.append(t.ngettext("{count} file", "{count} files", len(draft.get("files", []))))
    mode = Identification(draft["identification"])
    lines.append(
        t.gettext("Identification: {mode}", mode=t.gettext(case_views.IDENTIFICATION[mode]))
    )
    send_rows = [[(t.gettext("📨 Send"), SEND)]]
    if mode is Identification.NAMED:
        send_rows.append(
            [(t.gettext("📨 Send, and the institution may see my name"), SEND_FORWARD)]
        )
    await send(
        update,
        context,
        Markup("\n").join(lines),
        keyboard(
            *send_rows,
            edit_rows,
            [
                (t.gettext("✏️ What happened"), f"{EDIT}{DESCRIPTION}"),
                (t.gettext("✏️ Files"), f"{EDIT}{FILES}"),
                (t.gettext("✏️ Identification"), f"{EDIT}{IDENTITY}"),
            ],
            _nav(context),
        ),
    )
    return PREVIEW


async def edit(update: Update, context: PactContext) -> int:
    """Change one answer, then come back to the preview."""
    query = await answer(update)
    await close_buttons(update)
    raw = (query.data or "").removeprefix(EDIT)
    step = int(raw) if raw.isdigit() and int(raw) in _steps(context) else PREVIEW
    draft = _draft(context)
    if step == FILES and draft.get("received", 0) < context.services.settings.files_per_case:
        draft["files"] = []  # replaced; "received" still counts every upload (FILES_PER_CASE)
    draft["editing"] = True
    return await ask(update, context, step)


async def send_report(update: Update, context: PactContext) -> int:
    """Before storing a service report, offer to follow a similar open case of someone else.

    Only named service cases are offered, shown by category, place and date (never anyone's
    words), and the offered ids are kept in the draft: `follow_existing` accepts only those.
    """
    query = await answer(update)
    await close_buttons(update)
    draft = _draft(context)
    draft["forward"] = query.data == SEND_FORWARD
    draft.pop("offered", None)
    if draft["kind"] == CaseKind.SERVICE and has_consent(context.user_row):
        similar = await case_rules.similar_open(
            context.scope.session,
            draft.get("municipality_id"),
            draft.get("category"),
            context.services.clock.now(),
            context.user_row,
        )
        if similar:
            t = context.t
            draft["offered"] = [case.id for case in similar]
            lines = [t.gettext("Similar open cases were reported here in the last 30 days:")]
            rows: list[list[Button]] = []
            for case in similar:
                where = case_views.place(t, case, typed_unit_visible=False)  # not theirs
                lines.append(
                    Markup("• {} · {} · {} · {}").format(
                        case.reference, case_views.what(t, case), where, t.date(case.created_at)
                    )
                )
                rows.append(
                    [
                        (
                            t.gettext(
                                "Same problem — add me to {reference}", reference=case.reference
                            ),
                            f"{FOLLOW}{case.id}",
                        )
                    ]
                )
            rows.append([(t.gettext("It is a different problem"), DIFFERENT)])
            await send(update, context, Markup("\n").join(lines), keyboard(*rows))
            return SIMILAR
    return await _store(update, context)


async def follow_existing(update: Update, context: PactContext) -> int:
    """Same problem: follow an offered case instead of opening a new one; any other id is stale."""
    query = update.callback_query
    assert query is not None
    raw = (query.data or "").removeprefix(FOLLOW)
    offered = _draft(context).get("offered") or []
    session, user = context.scope.session, context.user_row
    case = await session.get(Case, int(raw)) if raw.isdigit() and int(raw) in offered else None
    if (
        case is None
        or user is None
        or not case_rules.followable(case)
        or await case_rules.is_reporter(session, case, user)
    ):
        await query.answer(context.t.gettext("This button is no longer active."))
        return SIMILAR
    await answer(update)
    await close_buttons(update)
    await case_rules.follow(session, case, user, context.services.clock.now())
    context.user_data.pop(DRAFT, None)
    t = context.t
    send_after_commit(
        update,
        context,
        t.gettext(
            "You now follow case {reference}. I will tell you when its status changes.",
            reference=case.reference,
        ),
        keyboard(*case_views.card_buttons(t, case, reporter=False)),
    )
    return ConversationHandler.END


async def different(update: Update, context: PactContext) -> int:
    """A different problem: forget the offered cases and store the new case."""
    await answer(update)
    await close_buttons(update)
    _draft(context).pop("offered", None)
    return await _store(update, context)


async def _over_daily_quota(update: Update, context: PactContext) -> bool:
    """Refuse a report beyond CASES_PER_DAY (the draft stays); else count this one (no case id)."""
    assert update.effective_user is not None
    settings = context.services.settings
    secret = quota.secret_from(settings.require_token())
    args = (secret, update.effective_user.id, context.services.clock.now(), settings.tz)
    if await quota.used_today(context.scope.session, *args) < settings.cases_per_day:
        await quota.count_report(context.scope.session, *args)
        return False
    t = context.t
    await send(
        update,
        context,
        t.ngettext(
            "You have already sent {count} report today, the most one person can send in a day. "
            "Your report is kept as a draft: send it tomorrow from the menu (Continue).",
            "You have already sent {count} reports today, the most one person can send in a day. "
            "Your report is kept as a draft: send it tomorrow from the menu (Continue).",
            settings.cases_per_day,
        ),
        menu.menu_markup(t),
    )
    return True


async def _store(update: Update, context: PactContext) -> int:
    """Store the case in this update's single transaction and tell the reporter what happens."""
    draft = _draft(context)
    missing = _first_missing(draft)
    if missing is not None:
        return await ask(update, context, missing)
    mode = Identification(draft["identification"])
    if mode not in _allowed_modes(context):
        return await ask(update, context, IDENTITY)
    new = case_rules.NewCase(
        kind=CaseKind(draft["kind"]),
        identification=mode,
        description=draft.get("description"),
        municipality_id=draft.get("municipality_id"),
        unit=draft.get("unit"),
        category=draft.get("category"),
        institution=draft.get("institution"),
        happened_when=draft.get("when"),
        latitude=draft.get("latitude"),
        longitude=draft.get("longitude"),
        location_text=draft.get("location_text"),
        forward_consent=bool(draft.get("forward")),
        reporter_display=update.effective_user.full_name if update.effective_user else None,
        attachments=[case_rules.Attachment(**item) for item in draft.get("files", [])],
    )
    if draft.get("voice"):
        new.attachments.insert(0, case_rules.Attachment(kind="voice", file_id=draft["voice"]))
    if await _over_daily_quota(update, context):
        return ConversationHandler.END
    reporter = None if mode is Identification.ANONYMOUS else context.user_row
    created = await case_rules.create(
        context.scope.session, new, reporter, context.services.clock.now()
    )
    kept = context.user_data.pop(DRAFT, None)
    # Should the commit fail, the answers are put back: "what you had already sent is kept".
    context.scope.after_rollback.append(lambda: context.user_data.setdefault(DRAFT, kept))
    t = context.t
    send_after_commit(
        update,
        context,
        sent_text(t, created.case, created.secret_code, context.services.settings.case_review_days),
        menu.menu_markup(t),
    )
    await staff_cases.post_card(context.bot, context.services, context.scope.session, created.case)
    return ConversationHandler.END


# --- leaving and wrong input -----------------------------------------------------------------


async def use_buttons(update: Update, context: PactContext) -> int:
    """Input where a button is expected: say so and ask again."""
    await send(update, context, context.t.gettext("Please use the buttons."))
    return await ask(update, context, _draft(context).get("step", _steps(context)[0]))


async def type_text(update: Update, context: PactContext) -> int:
    """A sticker, photo or file where text is expected."""
    await send(update, context, context.t.gettext("Please type your answer as text."))
    return _draft(context).get("step", _steps(context)[0])


QUESTIONS = {
    MUNICIPALITY: ask_municipality,
    UNIT: ask_unit,
    CATEGORY: ask_category,
    INSTITUTION: ask_institution,
    DESCRIPTION: ask_description,
    WHEN: ask_when,
    LOCATION: ask_location,
    FILES: ask_files,
    IDENTITY: ask_identity,
    PREVIEW: preview,
}


def conversation() -> ConversationHandler:
    """Both report kinds as one persistent conversation."""
    text = filters.TEXT & ~filters.COMMAND
    anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
    nav: list[BaseHandler] = [
        CallbackQueryHandler(back, pattern=f"^{BACK}$"),
        CallbackQueryHandler(flow.cancel_button, pattern=f"^{CANCEL}$"),
    ]
    buttons_only: list[BaseHandler] = [MessageHandler(anything, use_buttons)]
    text_only: list[BaseHandler] = [MessageHandler(anything & ~filters.TEXT, type_text)]
    return ConversationHandler(
        name="report",
        persistent=True,
        allow_reentry=True,
        entry_points=[
            CallbackQueryHandler(start_service, pattern=f"^{START_SERVICE}$"),
            CallbackQueryHandler(start_corruption, pattern=f"^{START_CORRUPTION}$"),
        ],
        states={
            RESUME: [
                CallbackQueryHandler(resume, pattern=f"^({RESUME_CB}|{GO})$"),
                CallbackQueryHandler(restart, pattern=f"^{RESTART}$"),
                CallbackQueryHandler(flow.cancel_button, pattern=f"^{CANCEL}$"),
                *buttons_only,
            ],
            MUNICIPALITY: [
                CallbackQueryHandler(region, pattern=f"^{REGION}"),
                CallbackQueryHandler(other_municipality, pattern=f"^{OTHER_MUNICIPALITY}$"),
                CallbackQueryHandler(pick_municipality, pattern=f"^{PICK}"),
                MessageHandler(text, search_municipality),
                *nav,
                *text_only,
            ],
            UNIT: [
                CallbackQueryHandler(pick_unit, pattern=f"^{UNIT_CB}"),
                CallbackQueryHandler(skip, pattern=f"^{SKIP}$"),
                MessageHandler(text, typed_unit),
                *nav,
                *text_only,
            ],
            CATEGORY: [
                CallbackQueryHandler(pick_category, pattern=f"^{CATEGORY_CB}"),
                *nav,
                *buttons_only,
            ],
            INSTITUTION: [MessageHandler(text, institution), *nav, *text_only],
            WHEN: [MessageHandler(text, when), *nav, *text_only],
            DESCRIPTION: [
                MessageHandler(text, description),
                MessageHandler(filters.VOICE, voice_description),
                *nav,
                *text_only,
            ],
            LOCATION: [
                MessageHandler(filters.LOCATION, shared_location),
                MessageHandler(text, typed_location),
                CallbackQueryHandler(skip, pattern=f"^{SKIP}$"),
                *nav,
                *text_only,
            ],
            FILES: [
                MessageHandler(filters.PHOTO, photo),
                MessageHandler(filters.Document.ALL, document),
                MessageHandler(filters.VOICE, voice_evidence),
                MessageHandler(text, files_done),
                CallbackQueryHandler(files_done, pattern=f"^{DONE}$"),
                *nav,
                MessageHandler(anything, use_buttons),
            ],
            IDENTITY: [
                CallbackQueryHandler(pick_identity, pattern=f"^{IDENTITY_CB}"),
                *nav,
                *buttons_only,
            ],
            PREVIEW: [
                CallbackQueryHandler(send_report, pattern=f"^({SEND}|{SEND_FORWARD})$"),
                CallbackQueryHandler(edit, pattern=f"^{EDIT}"),
                *nav,
                *buttons_only,
            ],
            SIMILAR: [
                CallbackQueryHandler(follow_existing, pattern=f"^{FOLLOW}"),
                CallbackQueryHandler(different, pattern=f"^{DIFFERENT}$"),
                *buttons_only,
            ],
        },
        fallbacks=flow.exits(),
    )


def routes() -> list[routing.Route]:
    """Both report kinds, open to everyone."""
    return routing.citizen(conversation())

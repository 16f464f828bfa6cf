"""Reporting: a service problem or corruption, one question at a time (see report.mmd).

Service: municipality → unit → category → what happened → where → photos → identification →
preview → (similar open cases?) → send. Corruption: safety notes → institution → what happened →
when → evidence → identification → preview → send. Declared on the wizard kernel
(bot/kit/wizard.py), which handles Back, Skip, Edit, resume and wrong input.
"""

from __future__ import annotations

from markupsafe import Markup
from telegram import KeyboardButton, Message, Update
from telegram.ext import ConversationHandler, filters

from bot.account.services.consent import has_consent, is_minor
from bot.cases import evidence_intake, notify
from bot.cases import views as case_views
from bot.cases.report_texts import identity_text, safety_text, sent_text
from bot.cases.services import case_rules, evidence, quota
from bot.cases.services.evidence import PRIVATE_MODES
from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import Translator, plain, shorten
from bot.kit import codec, menu, pickers
from bot.kit import wizard as wz
from bot.kit.ui import Button, close_buttons, keyboard, rows_of, send, send_after_commit
from bot.kit.wizard import END, NEXT, STAY, OnButton, OnMessage, OnText, Question, Screen, Step
from bot.rti.services import directory
from db.models import AuthorityKind, Case, CaseKind, Identification
from db.repositories import authorities as authorities_repo

SAFETY, MUNICIPALITY, UNIT, CATEGORY = (
    "report.safety",
    "report.municipality",
    "report.unit",
    "report.category",
)
INSTITUTION, DESCRIPTION, WHEN, LOCATION = (
    "report.institution",
    "report.description",
    "report.when",
    "report.location",
)
FILES, IDENTITY, PREVIEW, SIMILAR = (
    "report.files",
    "report.identity",
    "report.preview",
    "report.similar",
)

DRAFT = "report_draft"
MAX_SHORT = 200
MAX_UNIT = 100
DONE_WORDS = {"done", "gata", "mbarova", "u krye"}
KEEP_VOICE, TEXT_INSTEAD = "voice:keep", "voice:text"
TYPED_UNIT = "typed"


def _kind(draft: dict) -> CaseKind:
    """The kind of report (a draft without one is a service report)."""
    return CaseKind.CORRUPTION if draft.get("kind") == CaseKind.CORRUPTION else CaseKind.SERVICE


def _memory_only_note(t: Translator) -> str:
    """Why the draft of someone without consent is not kept through a restart."""
    return t.gettext(
        "Because you have not agreed to the privacy notice, I keep your answers only in memory "
        "until you send the report: nothing is stored, and a restart of the bot loses them."
    )


async def _greet(update: Update, context: PactContext, draft: dict) -> None:
    """Before the first question: say that nothing is stored without consent."""
    if not has_consent(context.user_row):
        await send(update, context, _memory_only_note(context.t))


def _fresh(kind: CaseKind) -> dict:
    """A new draft of one kind."""
    return {"kind": kind, "files": [], "received": 0}


# --- corruption: safety notes ---------------------------------------------------------------


async def ask_safety(context: PactContext, draft: dict) -> Question:
    """What the bot can and cannot do, and the official channels."""
    return Question(safety_text(context.t), [[(context.t.gettext("Continue ➡️"), "rp:go")]])


async def go_on(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Read the safety notes: go on."""
    await close_buttons(update)
    return NEXT


# --- municipality and unit -------------------------------------------------------------------


async def ask_municipality(context: PactContext, draft: dict) -> Question:
    """Which municipality: a region's buttons, or type part of the name."""
    t = context.t
    return Question(
        t.gettext(
            "<b>Which municipality?</b>\nChoose the region, or type part of the name (for "
            "example: vau i dejes)."
        ),
        [*pickers.region_rows("rp:region:"), [(t.gettext("Other municipality"), "rp:om")]],
    )


async def region_screen(context: PactContext, draft: dict, region: str) -> Question:
    """Programme municipalities of a region."""
    found = await pickers.in_region(context, region or "")
    rows = pickers.choice_rows(context.t, found, "rp:muni:")
    return Question(context.t.gettext("Choose the municipality:"), rows)


async def typing_screen(context: PactContext, draft: dict, arg: object) -> Question:
    """Type the name."""
    return Question(context.t.gettext("Type the name of the municipality:"))


async def results_screen(context: PactContext, draft: dict, text: str) -> Question:
    """Municipalities matching typed text."""
    t = context.t
    found = await pickers.search(context, text or "", municipalities_only=True)
    if not found:
        return Question(
            t.gettext(
                "I found no municipality for “{text}”. Try another part of the name.",
                text=shorten(text or "", 50),
            )
        )
    return Question(
        pickers.results_header(t, text or "", found), pickers.choice_rows(t, found, "rp:muni:")
    )


async def region(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A region button: its municipalities."""
    return wz.show("region", value)


async def other_municipality(
    update: Update, context: PactContext, draft: dict, value: str
) -> wz.Move:
    """Type the name instead."""
    return wz.show("typing")


async def search_municipality(
    update: Update, context: PactContext, draft: dict, text: str
) -> wz.Move:
    """Typed name: matching municipalities."""
    return wz.show("results", text[:100])


async def pick_municipality(
    update: Update, context: PactContext, draft: dict, value: str
) -> wz.Move:
    """Municipality chosen (a new one drops the unit of the old one)."""
    chosen = codec.read_id(value)
    authority = (
        await authorities_repo.get(context.scope.session, chosen) if chosen is not None else None
    )
    if authority is None or authority.kind != AuthorityKind.MUNICIPALITY:
        return wz.goto(MUNICIPALITY)
    if draft.get("municipality_id") != authority.id:
        draft.pop("unit", None)
    draft["municipality_id"] = authority.id
    await close_buttons(
        update, "✔️ " + context.t.gettext("Municipality of {name}", name=authority.name)
    )
    return NEXT


async def _units(context: PactContext, draft: dict) -> list[str]:
    """The administrative units of the chosen municipality."""
    authority = await authorities_repo.get(context.scope.session, draft.get("municipality_id", 0))
    return (authority.units or "").split(";") if authority and authority.units else []


async def ask_unit(context: PactContext, draft: dict) -> Question:
    """The administrative unit or village, optional; units are those of the chosen municipality."""
    buttons = [
        (unit, f"rp:unit:{index}") for index, unit in enumerate(await _units(context, draft))
    ]
    return Question(
        context.t.gettext(
            "<b>Which administrative unit or village?</b> Choose, type the village, or skip."
        ),
        rows_of(buttons, 3),
    )


async def typed_unit_screen(context: PactContext, draft: dict, text: str) -> Question:
    """A typed name that is none of the units: confirm it is the village, not a stray message."""
    t = context.t
    return Question(
        t.gettext("Is “{name}” the administrative unit or village?", name=text or ""),
        [[(t.gettext("✔️ Yes, that is the place"), f"rp:unit:{TYPED_UNIT}")]],
    )


async def pick_unit(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A unit button (by its position in the municipality's list), or the confirmed typed name."""
    if value == TYPED_UNIT:
        typed = wz.screen_arg(draft)
        if not isinstance(typed, str) or not typed:
            return wz.goto(UNIT)
        draft["unit"] = typed
        await close_buttons(update, Markup("✔️ {}").format(typed))
        return NEXT
    units = await _units(context, draft)
    position = codec.read_id(value)
    if position is None or position >= len(units):
        return wz.goto(UNIT)
    draft["unit"] = units[position]
    await close_buttons(update, Markup("✔️ {}").format(units[position]))
    return NEXT


async def typed_unit(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """A typed village: a unit of the list is taken, any other name is confirmed first."""
    if len(text) > MAX_UNIT:
        return wz.retry(context.t.gettext("Please use at most {limit} characters.", limit=MAX_UNIT))
    listed = {directory.fold(unit): unit for unit in await _units(context, draft)}
    if directory.fold(text) in listed:
        draft["unit"] = listed[directory.fold(text)]
        return NEXT
    return wz.show("village", text)


# --- category -------------------------------------------------------------------------------


async def ask_category(context: PactContext, draft: dict) -> Question:
    """The service category (categories.md)."""
    t = context.t
    buttons = [(c.label(t.locale), f"rp:cat:{c.key}") for c in case_rules.categories()]
    return Question(t.gettext("<b>What is the problem about?</b>"), rows_of(buttons))


async def pick_category(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Category chosen; say who handles it when it is not the municipality."""
    chosen = case_rules.category(value)
    if chosen is None:
        return wz.goto(CATEGORY)
    t = context.t
    draft["category"] = chosen.key
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
    return NEXT


# --- corruption: institution and when --------------------------------------------------------


async def ask_institution(context: PactContext, draft: dict) -> Question:
    """Which institution or office."""
    return Question(
        context.t.gettext(
            "<b>Which institution or office?</b> For example: the municipality's urban "
            "planning office, a school, a health centre."
        )
    )


async def ask_when(context: PactContext, draft: dict) -> Question:
    """When it happened, in the person's own words."""
    return Question(
        context.t.gettext("<b>When did it happen?</b> A date or roughly (for example: last week).")
    )


def _short(key: str) -> wz.TextHandler:
    """A short free-text answer of at most 200 characters, kept under `key`."""

    async def keep(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
        if not text or len(text) > MAX_SHORT:
            return wz.retry(
                context.t.gettext("Please answer in at most {limit} characters.", limit=MAX_SHORT)
            )
        draft[key] = text
        return NEXT

    return keep


# --- what happened ---------------------------------------------------------------------------


async def ask_description(context: PactContext, draft: dict) -> Question:
    """What happened: text or a voice note."""
    t = context.t
    return Question(
        t.gettext(
            "<b>What happened?</b> Write it (at most {limit} characters) or send a voice note. "
            "Do not include health, religion, political views or other people's personal "
            "data unless it is needed.",
            limit=t.number(case_rules.MAX_TEXT),
        )
    )


async def description(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """Text description, with a clear message when too long."""
    t = context.t
    if len(text) > case_rules.MAX_TEXT:
        return wz.retry(
            t.gettext(
                "That is {length} characters; the limit is {limit}. Please shorten it and send "
                "it again.",
                length=t.number(len(text)),
                limit=t.number(case_rules.MAX_TEXT),
            )
        )
    if len(text) < 5:
        return wz.retry(t.gettext("Please describe the problem in a few words."))
    draft["description"] = text
    draft.pop("voice", None)
    return NEXT


async def voice_description(
    update: Update, context: PactContext, draft: dict, message: Message
) -> wz.Move:
    """A voice note instead of text."""
    assert message.voice is not None
    draft["voice"] = message.voice.file_id
    draft.pop("description", None)
    if draft.get("identification") in PRIVATE_MODES:
        return _ask_about_voice(draft, draft["identification"])
    draft["voice_warned"] = True
    t = context.t
    await send(update, context, t.gettext("🎙 Voice note received.") + "\n" + _voice_warning(t))
    return NEXT


# --- location --------------------------------------------------------------------------------


async def ask_location(context: PactContext, draft: dict) -> Question:
    """Where: the "📍 Send my location" button under the input, an address or landmark, or skip."""
    t = context.t
    button = KeyboardButton(plain(t.gettext("📍 Send my location")), request_location=True)
    return Question(
        t.gettext(
            "<b>Where exactly?</b> Send your location with “📍 Send my location”, type an "
            "address or a landmark, or skip."
        ),
        keys=wz.ReplyKeys(
            t.gettext("📍 The button under the chat sends the place where you are now."),
            [[button]],
            t.gettext("📍 No location sent."),
        ),
    )


async def shared_location(
    update: Update, context: PactContext, draft: dict, message: Message
) -> wz.Move:
    """A Telegram location."""
    assert message.location is not None
    draft["latitude"], draft["longitude"] = message.location.latitude, message.location.longitude
    draft.pop("location_text", None)
    await send(update, context, context.t.gettext("📍 Location received."), WIZARD.release(context))
    return NEXT


async def typed_location(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """An address or landmark."""
    if len(text) > 300:
        return wz.retry(
            context.t.gettext("Please answer in at most {limit} characters.", limit=300)
        )
    draft["location_text"] = text
    draft.pop("latitude", None)
    draft.pop("longitude", None)
    await send(update, context, context.t.gettext("📍 Place noted."), WIZARD.release(context))
    return NEXT


# --- photos and evidence ---------------------------------------------------------------------


async def ask_files(context: PactContext, draft: dict) -> Question:
    """Photos (service) or evidence (corruption): up to five, optional."""
    t = context.t
    text = (
        t.gettext(
            "<b>Evidence?</b> Send photos, PDFs, other documents or voice notes (up to "
            "{limit}), then tap Done. Every file reaches the team under a neutral name "
            "(evidence-1.jpg). I remove hidden data from images (place, camera, date) and PDFs "
            "(author, title). Word files and other documents can carry your name inside: they "
            "are kept only in named reports. A voice can identify you.",
            limit=case_rules.MAX_PHOTOS,
        )
        if _kind(draft) == CaseKind.CORRUPTION
        else t.gettext(
            "<b>Photos?</b> Send up to {limit} photos, then tap Done (or tap Done now if you "
            "have none).",
            limit=case_rules.MAX_PHOTOS,
        )
    )
    return Question(text, [[(t.gettext("✔️ Done"), "rp:done")]])


def _files(draft: dict) -> list[dict]:
    return draft.setdefault("files", [])


def _fresh_files(context: PactContext, draft: dict) -> None:
    """Edit → Files replaces them; "received" still counts every upload (FILES_PER_CASE)."""
    if draft.get("received", 0) < context.services.settings.files_per_case:
        draft["files"] = []


async def _refuse_file(update: Update, context: PactContext, draft: dict) -> wz.Move | None:
    """Count an upload against FILES_PER_CASE (across edits); a move when it is not taken."""
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
        return NEXT
    if len(_files(draft)) >= case_rules.MAX_PHOTOS:
        return await _added(update, context, draft)
    draft["received"] = draft.get("received", 0) + 1
    return None


async def _added(update: Update, context: PactContext, draft: dict) -> wz.Move:
    """Count files; move on automatically at the limit."""
    count = len(_files(draft))
    t = context.t
    if count >= case_rules.MAX_PHOTOS:
        await send(
            update,
            context,
            t.gettext("That is the limit of {limit} files.", limit=case_rules.MAX_PHOTOS),
        )
        return NEXT
    await send(
        update,
        context,
        t.ngettext(
            "{count} file received. Send more or tap Done.",
            "{count} files received. Send more or tap Done.",
            count,
        ),
        keyboard([(t.gettext("✔️ Done"), "rp:done")]),
    )
    return STAY


async def photo(update: Update, context: PactContext, draft: dict, message: Message) -> wz.Move:
    """A photo (already recompressed by Telegram)."""
    if (refused := await _refuse_file(update, context, draft)) is not None:
        return refused
    _files(draft).append({"kind": "photo", "file_id": message.photo[-1].file_id})
    return await _added(update, context, draft)


async def document(update: Update, context: PactContext, draft: dict, message: Message) -> wz.Move:
    """A document judged by its content, cleaned and shown back under a neutral name."""
    if (refused := await _refuse_file(update, context, draft)) is not None:
        return refused
    item = await evidence_intake.take_document(
        update,
        context,
        number=len(_files(draft)) + 1,
        mode=_private_or_chosen_mode(context, draft),
        images_only=_kind(draft) != CaseKind.CORRUPTION,
    )
    if item is None:
        return STAY
    _files(draft).append(item)
    return await _added(update, context, draft)


async def voice_evidence(
    update: Update, context: PactContext, draft: dict, message: Message
) -> wz.Move:
    """A voice note as evidence (corruption)."""
    if message.voice is None or _kind(draft) != CaseKind.CORRUPTION:
        return wz.retry(context.t.gettext("Please send photos here."))
    if (refused := await _refuse_file(update, context, draft)) is not None:
        return refused
    _files(draft).append({"kind": "voice", "file_id": message.voice.file_id})
    if draft.get("identification") in PRIVATE_MODES:
        return _ask_about_voice(draft, draft["identification"])
    if not draft.get("voice_warned"):
        draft["voice_warned"] = True
        await send(update, context, _voice_warning(context.t))
    return await _added(update, context, draft)


async def done_button(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Done with files."""
    await close_buttons(update)
    return NEXT


async def done_word(update: Update, context: PactContext, draft: dict, text: str) -> wz.Move:
    """The word "done" instead of the button."""
    if text.lower() not in DONE_WORDS:
        return wz.retry(context.t.gettext("Send photos, or tap Done."))
    return NEXT


# --- identification --------------------------------------------------------------------------


def _allowed_modes(context: PactContext, draft: dict) -> list[Identification]:
    """The identification modes this person may choose for this kind of report."""
    return case_rules.allowed_identifications(context.user_row, _kind(draft))


async def ask_identity(context: PactContext, draft: dict) -> Question:
    """How to be identified, with what each choice means."""
    t = context.t
    modes = _allowed_modes(context, draft)
    labels = {
        Identification.NAMED: t.gettext("👤 Named"),
        Identification.CONFIDENTIAL: t.gettext("🔒 Confidential"),
        Identification.ANONYMOUS: t.gettext("🕶 Anonymous"),
    }
    rows = [[(labels[mode], f"rp:id:{mode}")] for mode in modes]
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
    return Question(identity_text(t) + note, rows)


async def pick_identity(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Mode chosen; anonymous and confidential drop uncleanable documents and ask about voice."""
    if value in (KEEP_VOICE, TEXT_INSTEAD):
        return await _voice_answer(update, context, draft, value)
    if value not in set(Identification) or Identification(value) not in _allowed_modes(
        context, draft
    ):
        return wz.goto(IDENTITY)
    mode = Identification(value)
    await close_buttons(update, "✔️ " + context.t.gettext(case_views.IDENTIFICATION[mode]))
    if mode in PRIVATE_MODES:
        await _drop_named_only_files(update, context, draft)
        if _holds_voice(draft):
            return _ask_about_voice(draft, mode)
    draft["identification"] = value
    return NEXT


def _private_or_chosen_mode(context: PactContext, draft: dict) -> Identification | None:
    """The identification already chosen, anonymous when it is the only choice, else None."""
    chosen = draft.get("identification")
    if chosen in set(Identification):
        return Identification(chosen)
    only_anonymous = _allowed_modes(context, draft) == [Identification.ANONYMOUS]
    return Identification.ANONYMOUS if only_anonymous else None


def _holds_voice(draft: dict) -> bool:
    """Whether the draft has a voice note (as the description or as evidence)."""
    return bool(draft.get("voice")) or any(item.get("kind") == "voice" for item in _files(draft))


def _voice_warning(t: Translator) -> str:
    """Said when a voice note arrives: a voice can identify the person."""
    return t.gettext(
        "⚠️ A voice can identify you. If you want to report anonymously or confidentially, "
        "writing is safer; I will ask you again before the report is sent."
    )


async def _drop_named_only_files(update: Update, context: PactContext, draft: dict) -> None:
    """Remove documents that were not cleaned (kept in named reports only) and say why."""
    files = _files(draft)
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


def _ask_about_voice(draft: dict, mode: str) -> wz.Move:
    """Before an anonymous or confidential report keeps a voice note: keep it or write instead."""
    return wz.show("voice", Identification(mode).value, on=IDENTITY)


async def voice_screen(context: PactContext, draft: dict, mode: str) -> Question:
    """Keep the voice note, or write the text instead?"""
    t = context.t
    return Question(
        t.gettext(
            "<b>Your report has a voice note.</b> A voice can identify you, even in an "
            "anonymous or confidential report: people who know you may recognise it. Keep the "
            "voice note, or write the text instead?"
        ),
        [
            [(t.gettext("🎙 Keep the voice note"), f"rp:id:{KEEP_VOICE}")],
            [(t.gettext("✍️ Write text instead"), f"rp:id:{TEXT_INSTEAD}")],
        ],
    )


async def _voice_answer(update: Update, context: PactContext, draft: dict, choice: str) -> wz.Move:
    """Keep the voice and go on, or drop every voice note and write the description instead."""
    pending = wz.screen_arg(draft) or draft.pop("pending_identification", None)
    allowed = _allowed_modes(context, draft)
    if pending not in set(Identification) or Identification(pending) not in allowed:
        return wz.goto(IDENTITY)
    t = context.t
    draft["identification"] = pending
    if choice == KEEP_VOICE:
        await close_buttons(update, "✔️ " + t.gettext("🎙 Keep the voice note"))
        return NEXT
    await close_buttons(update, "✔️ " + t.gettext("✍️ Write text instead"))
    draft.pop("voice", None)
    draft["files"] = [item for item in _files(draft) if item.get("kind") != "voice"]
    await send(
        update,
        context,
        t.gettext(
            "I removed the voice notes. Please write what happened, including what the voice "
            "notes said."
        ),
    )
    return wz.goto(DESCRIPTION, editing=True)


# --- preview and sending ---------------------------------------------------------------------


async def preview(context: PactContext, draft: dict) -> Question:
    """The whole report with an Edit button per answer (the kernel asks a missing one first)."""
    t = context.t
    edit = WIZARD.edit_button
    lines = [t.gettext("<b>Check your report</b>")]
    edit_rows: list[Button] = []
    if _kind(draft) == CaseKind.SERVICE:
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
            edit(t.gettext("✏️ Place"), MUNICIPALITY),
            edit(t.gettext("✏️ Problem"), CATEGORY),
        ]
    else:
        lines.append(t.gettext("Institution: {name}", name=draft.get("institution", "")))
        lines.append(t.gettext("When: {when}", when=draft.get("when", "")))
        edit_rows += [
            edit(t.gettext("✏️ Institution"), INSTITUTION),
            edit(t.gettext("✏️ When"), WHEN),
        ]
    lines.append(
        t.gettext("What happened: {text}", text=draft["description"])
        if draft.get("description")
        else t.gettext("What happened: 🎙 voice note")
    )
    if _kind(draft) == CaseKind.SERVICE:
        if draft.get("latitude") is not None:
            lines.append(t.gettext("Where: 📍 shared location"))
        elif draft.get("location_text"):
            lines.append(t.gettext("Where: {place}", place=draft["location_text"]))
    files = len(draft.get("files", []))
    lines.append(
        t.ngettext("{count} file", "{count} files", files) if files else t.gettext("0 files")
    )
    mode = Identification(draft["identification"])
    lines.append(
        t.gettext("Identification: {mode}", mode=t.gettext(case_views.IDENTIFICATION[mode]))
    )
    send_rows: list[list[Button]] = [[(t.gettext("📨 Send"), "rp:send")]]
    if mode is Identification.NAMED:
        send_rows.append([(t.gettext("📨 Send, and the institution may see my name"), "rp:sendfw")])
    return Question(
        Markup("\n").join(lines),
        [
            *send_rows,
            edit_rows,
            [
                edit(t.gettext("✏️ What happened"), DESCRIPTION),
                edit(t.gettext("✏️ Files"), FILES),
                edit(t.gettext("✏️ Identification"), IDENTITY),
            ],
        ],
    )


def _sender(forward: bool) -> wz.ButtonHandler:
    """Send (with or without the institution seeing the name)."""

    async def send_report(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
        """Before storing a service report, offer to follow a similar open case of someone else.

        Only named service cases are offered, shown by category, place and date (never anyone's
        words), and the offered ids are kept in the draft: `follow_existing` accepts only those.
        """
        await close_buttons(update)
        draft["forward"] = forward
        draft.pop("offered", None)
        if _kind(draft) == CaseKind.SERVICE and has_consent(context.user_row):
            similar = await case_rules.similar_open(
                context.scope.session,
                draft.get("municipality_id"),
                draft.get("category"),
                context.services.clock.now(),
                context.user_row,
            )
            if similar:
                draft["offered"] = [case.id for case in similar]
                return wz.goto(SIMILAR)
        return await _store(update, context, draft)

    return send_report


async def ask_similar(context: PactContext, draft: dict) -> Question:
    """The similar open cases offered, by category, place and date."""
    t = context.t
    still = await case_rules.similar_open(  # those offered that may still be (newer ones aside)
        context.scope.session,
        draft.get("municipality_id"),
        draft.get("category"),
        context.services.clock.now(),
        context.user_row,
        among=list(draft.get("offered") or []),
    )
    if not still:
        return Question(
            t.gettext("The similar cases are no longer open. Your report will be a new case."),
            [[(t.gettext("📨 Send"), "rp:new")]],
        )
    lines = [t.gettext("Similar open cases were reported here in the last 30 days:")]
    rows: list[list[Button]] = []
    for case in still:
        where = case_views.place(t, case, typed_unit_visible=False)  # not theirs
        parts = (case.reference, case_views.what(t, case), where, t.date(case.created_at))
        lines.append(Markup("• ") + Markup(" · ").join(part for part in parts if part))
        label = t.gettext("Same problem — add me to {reference}", reference=case.reference)
        rows.append([(label, f"rp:follow:{case.id}")])
    rows.append([(t.gettext("It is a different problem"), "rp:new")])
    return Question(Markup("\n").join(lines), rows)


async def follow_existing(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """Same problem: follow an offered case instead of opening a new one; any other id is stale."""
    query = update.callback_query
    assert query is not None
    offered = draft.get("offered") or []
    session, user = context.scope.session, context.user_row
    chosen = codec.read_id(value)
    case = await session.get(Case, chosen) if chosen is not None and chosen in offered else None
    if (
        case is None
        or user is None
        or not case_rules.followable(case)
        or await case_rules.is_reporter(session, case, user)
    ):
        await query.answer(context.t.gettext("This button is no longer active."))
        return STAY
    await query.answer()
    await close_buttons(update)
    await case_rules.follow(session, case, user, context.services.clock.now())
    WIZARD.drop(context)
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
    return END


async def different(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    """A different problem: forget the offered cases and store the new case."""
    await close_buttons(update)
    draft.pop("offered", None)
    return await _store(update, context, draft)


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


async def _store(update: Update, context: PactContext, draft: dict) -> wz.Move:
    """Store the case in this update's single transaction and tell the reporter what happens."""
    if WIZARD.first_missing(draft) is not None:
        return wz.goto(PREVIEW)  # the preview asks the missing answer first
    mode = Identification(draft["identification"])
    if mode not in _allowed_modes(context, draft):
        return wz.goto(IDENTITY)
    new = case_rules.NewCase(
        kind=_kind(draft),
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
        return END
    reporter = None if mode is Identification.ANONYMOUS else context.user_row
    created = await case_rules.create(
        context.scope.session, new, reporter, context.services.clock.now()
    )
    kept = WIZARD.drop(context)
    # Should the commit fail, the answers are put back: "what you had already sent is kept".
    context.scope.after_rollback.append(lambda: context.user_data.setdefault(DRAFT, kept))
    t = context.t
    send_after_commit(
        update,
        context,
        sent_text(t, created.case, created.secret_code, context.services.settings.case_review_days),
        menu.menu_markup(t),
    )
    await notify.new_case_card(context.bot, context.services, created.case)
    return END


# --- the declaration -------------------------------------------------------------------------


STEPS = (
    Step(
        SAFETY,
        ask_safety,
        accepts=(OnButton("go", go_on),),
        label="continue",
    ),
    Step(
        MUNICIPALITY,
        ask_municipality,
        accepts=(
            OnButton("region:", region, exact=False),
            OnButton("om", other_municipality),
            OnButton("muni:", pick_municipality, exact=False),
            OnText(search_municipality),
        ),
        keys=("municipality_id",),
        screens=(
            Screen("region", region_screen, "a region: its municipalities"),
            Screen("typing", typing_screen, "other municipality: type the name"),
            Screen("results", results_screen, "typed part of a name: matches"),
        ),
        label="municipality picked",
    ),
    Step(
        UNIT,
        ask_unit,
        accepts=(OnButton("unit:", pick_unit, exact=False), OnText(typed_unit)),
        keys=("unit",),
        optional=True,
        screens=(Screen("village", typed_unit_screen, "typed name not in the list: confirm"),),
        label="unit button, typed unit or confirmed village, or skip",
    ),
    Step(
        CATEGORY,
        ask_category,
        accepts=(OnButton("cat:", pick_category, exact=False),),
        keys=("category",),
        label="category (says who is responsible when not the municipality)",
    ),
    Step(
        INSTITUTION,
        ask_institution,
        accepts=(OnText(_short("institution")),),
        keys=("institution",),
        label="typed (at most 200 characters)",
    ),
    Step(
        DESCRIPTION,
        ask_description,
        accepts=(OnMessage(filters.VOICE, voice_description), OnText(description)),
        keys=("description", "voice"),
        label="text up to 3,000 characters or a voice note",
        goes={IDENTITY: "voice note, anonymous or confidential chosen: keep it?"},
    ),
    Step(
        WHEN,
        ask_when,
        accepts=(OnText(_short("when")),),
        keys=("when",),
        label="typed (at most 200 characters)",
    ),
    Step(
        LOCATION,
        ask_location,
        accepts=(OnMessage(filters.LOCATION, shared_location), OnText(typed_location)),
        keys=("latitude", "longitude", "location_text"),
        optional=True,
        label="shared location, typed place, or skip",
    ),
    Step(
        FILES,
        ask_files,
        accepts=(
            OnMessage(filters.PHOTO, photo),
            OnMessage(filters.Document.ALL, document),
            OnMessage(filters.VOICE, voice_evidence),
            OnButton("done", done_button),
            OnText(done_word),
        ),
        hint=lambda t: t.gettext("Send photos, or tap Done."),
        on_edit=_fresh_files,
        label="Done (photos, documents cleaned and sent back as evidence-N, voice: up to 5)",
        goes={IDENTITY: "voice note, anonymous or confidential chosen: keep it?"},
    ),
    Step(
        IDENTITY,
        ask_identity,
        accepts=(OnButton("id:", pick_identity, exact=False),),
        keys=("identification",),
        screens=(Screen("voice", voice_screen, "private mode with a voice note: keep it?"),),
        label="named or confidential need consent; anonymous always",
        goes={DESCRIPTION: "write instead (voice notes dropped), then back to the preview"},
    ),
    Step(
        PREVIEW,
        preview,
        accepts=(OnButton("send", _sender(False)), OnButton("sendfw", _sender(True))),
        goes={SIMILAR: "send: similar open cases in the last 30 days", "[*]": "send: stored"},
    ),
    Step(
        SIMILAR,
        ask_similar,
        accepts=(
            OnButton("follow:", follow_existing, exact=False, answer=False),
            OnButton("new", different),
        ),
        back=lambda draft: PREVIEW,
        goes={"[*]": "same problem: follow it; different: stored"},
    ),
)

WIZARD = wz.Wizard(
    name="report",
    prefix="rp:",
    draft_key=DRAFT,
    steps=STEPS,
    branches={
        "service": (MUNICIPALITY, UNIT, CATEGORY, DESCRIPTION, LOCATION, FILES, IDENTITY, PREVIEW),
        "corruption": (SAFETY, INSTITUTION, DESCRIPTION, WHEN, FILES, IDENTITY, PREVIEW),
    },
    branch_of=lambda draft: _kind(draft).value,
    entries=(
        wz.Entry(
            fresh=lambda context: _fresh(CaseKind.SERVICE),
            button="menu:service",
            matches=lambda draft: _kind(draft) == CaseKind.SERVICE,
            greet=_greet,
            label="Report a service problem",
        ),
        wz.Entry(
            fresh=lambda context: _fresh(CaseKind.CORRUPTION),
            button="menu:corruption",
            matches=lambda draft: _kind(draft) == CaseKind.CORRUPTION,
            greet=_greet,
            label="Report corruption",
        ),
    ),
    preview=PREVIEW,
    resume_text=lambda t: t.gettext("You have a report in progress. Continue where you stopped?"),
    discarded=lambda t: t.gettext("Your draft report was discarded."),
    title="Reporting (report.py): one persistent conversation for both kinds of report.",
)


def conversation() -> ConversationHandler:
    """Both report kinds as one persistent conversation."""
    return WIZARD.conversation()


def routes() -> list[routing.Route]:
    """Both report kinds, open to everyone."""
    return routing.citizen(conversation())

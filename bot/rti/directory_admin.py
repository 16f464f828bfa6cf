"""Staff tools for the authority directory and the calendar (see admin_directory.mmd).

Reached only through bot.core.access.gate: /authority, /import_authorities, /closed_day.
"""

from __future__ import annotations

from datetime import date

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from bot.core import routing
from bot.core.application import PactContext
from bot.kit import answers
from bot.kit.codec import ButtonCodec
from bot.kit.ui import answer, close_buttons, keyboard, rows_of, send
from bot.rti import views
from bot.rti.services import contacts, directory
from bot.rti.services import requests as rti
from bot.staff.services.permissions import Permission
from db.models import StaffMember
from db.repositories import authorities as authorities_repo

# States
SEARCH, FIELD, VALUE, FILE = range(4)

PICK, DONE = ButtonCodec("adm:auth:", int), "adm:done"
CANCEL = "adm:cancel"
VERIFY = ButtonCodec("adm:verify:", int)
KEY = "admin"
FIELD_LABELS = dict(views.CONTACT_FIELDS)
FIELD_CB = ButtonCodec("adm:field:", tuple(FIELD_LABELS))
MAX_CSV_BYTES = 1_000_000


async def authority_command(update: Update, context: PactContext) -> int:
    """/authority [part of a name]."""
    context.user_data[KEY] = {}
    query = " ".join(context.args or [])
    if query:
        return await _results(update, context, query)
    await send(
        update,
        context,
        context.t.gettext("Type part of the authority's name:"),
        _cancel_row(context),
    )
    return SEARCH


def _cancel_row(context: PactContext) -> InlineKeyboardMarkup:
    """A way out of the search: Cancel (the search is the editor's first screen)."""
    return keyboard([(context.t.gettext("✖️ Cancel"), CANCEL)])


async def cancel(update: Update, context: PactContext) -> int:
    """Cancel pressed: leave the editor, the pressed message keeps no buttons."""
    await answer(update)
    await close_buttons(update)
    return await answers.cancel(update, context)


async def search(update: Update, context: PactContext) -> int:
    """Typed name."""
    return await _results(update, context, update.effective_message.text or "")


async def _results(update: Update, context: PactContext, query: str) -> int:
    """Matching authorities as buttons."""
    t = context.t
    found = directory.search(await authorities_repo.all_authorities(context.scope.session), query)
    if not found:
        await send(
            update,
            context,
            t.gettext("No authority found. Try another name."),
            _cancel_row(context),
        )
        return SEARCH
    rows = [[(directory.display_name(a), PICK.data(a.id))] for a in found]
    await send(update, context, t.gettext("Which one?"), keyboard(*rows))
    return FIELD


async def _card(update: Update, context: PactContext, authority_id: int) -> int:
    """The authority's contacts, source and checks, with a button per field and "verified"."""
    t = context.t
    session = context.scope.session
    authority = await authorities_repo.get(session, authority_id)
    if authority is None:
        return await answers.cancel(update, context)
    context.user_data[KEY] = {"authority_id": authority.id}
    verifier = (
        await session.get(StaffMember, authority.verified_by_user_id)
        if authority.verified_by_user_id
        else None
    )
    buttons = [(t.gettext(label), FIELD_CB.data(name)) for name, label in FIELD_LABELS.items()]
    await send(
        update,
        context,
        views.authority_staff_card(t, authority, verifier.display_name if verifier else None),
        keyboard(
            *rows_of(buttons),
            [(t.gettext("✅ Mark the contacts verified"), VERIFY.data(authority.id))],
            [(t.gettext("✔️ Done"), DONE)],
        ),
    )
    return FIELD


async def pick(update: Update, context: PactContext) -> int:
    """Authority chosen."""
    query = await answer(update)
    number = PICK.parse(query.data)
    return await _card(update, context, number) if number is not None else SEARCH


async def choose_field(update: Update, context: PactContext) -> int:
    """Which contact to change."""
    query = await answer(update)
    name = FIELD_CB.parse(query.data)
    if name is None or "authority_id" not in context.user_data.get(KEY, {}):
        return await answers.cancel(update, context)
    context.user_data[KEY]["field"] = name
    t = context.t
    await send(
        update,
        context,
        t.gettext(
            "Type the new value for “{field}” (a single - clears it):",
            field=t.gettext(FIELD_LABELS[name]),
        ),
    )
    return VALUE


async def verify(update: Update, context: PactContext) -> int:
    """Staff checked the contacts against the sources: record who and when, show the card."""
    query = await answer(update)
    authority_id = VERIFY.parse(query.data)
    state = context.user_data.get(KEY, {})
    if authority_id is None or state.get("authority_id") != authority_id:
        return await answers.cancel(update, context)
    authority = await authorities_repo.get(context.scope.session, authority_id)
    if authority is None:
        return await answers.cancel(update, context)
    now = context.services.clock.now()
    await contacts.mark_verified(
        context.scope.session,
        authority,
        actor_user_id=context.user_row.id if context.user_row else None,
        now=now,
        today=now.astimezone(context.services.settings.tz).date(),
    )
    await send(update, context, context.t.gettext("Marked verified."))
    return await _card(update, context, authority.id)


async def value(update: Update, context: PactContext) -> int:
    """Validate, store with an audit entry, show the card again."""
    t = context.t
    state = context.user_data.get(KEY, {})
    authority = await authorities_repo.get(context.scope.session, state.get("authority_id", 0))
    if authority is None or state.get("field") not in FIELD_LABELS:
        return await answers.cancel(update, context)
    try:
        cleaned = directory.clean_value(state["field"], update.effective_message.text or "")
    except directory.InvalidValueError:
        await send(update, context, t.gettext("That value is not valid here. Please try again."))
        return VALUE
    await directory.update_contact(
        context.scope.session,
        authority,
        {state["field"]: cleaned},
        actor_user_id=context.user_row.id if context.user_row else None,
        now=context.services.clock.now(),
    )
    await send(update, context, t.gettext("Saved."))
    return await _card(update, context, authority.id)


async def done(update: Update, context: PactContext) -> int:
    """Leave the editor."""
    await answer(update)
    context.user_data.pop(KEY, None)
    await send(update, context, context.t.gettext("Done."))
    return ConversationHandler.END


async def import_command(update: Update, context: PactContext) -> int:
    """/import_authorities: ask for the CSV file."""
    context.user_data[KEY] = {"import": True}
    await send(
        update,
        context,
        context.t.gettext(
            "Send the CSV file now. Columns: kind (municipality, prefecture, water_utility or "
            "other), name, and any of coordinator_name, rti_email, email, phone, "
            "postal_address, transparency_url, website. An empty cell leaves a value as it is, "
            "a single - clears it."
        ),
    )
    return FILE


async def import_file(update: Update, context: PactContext) -> int:
    """Read the CSV, apply it, report per line."""
    t = context.t
    document = update.effective_message.document
    if document is None or (document.file_size or 0) > MAX_CSV_BYTES:
        await send(update, context, t.gettext("Please send a CSV file of at most 1 MB."))
        return FILE
    raw = await (await document.get_file()).download_as_bytearray()
    try:
        text = bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        await send(update, context, t.gettext("The file must be UTF-8 text."))
        return FILE
    result = await directory.import_csv(
        context.scope.session,
        text,
        actor_user_id=context.user_row.id if context.user_row else None,
        now=context.services.clock.now(),
    )
    lines = [
        t.gettext(
            "Import finished: {updated} updated, {created} added, {unchanged} unchanged.",
            updated=result.updated,
            created=result.created,
            unchanged=result.unchanged,
        )
    ]
    lines += [
        t.gettext("Line {line}: {error}", line=line, error=error)
        for line, error in result.errors[:20]
    ]
    await send(update, context, "\n".join(lines))
    context.user_data.pop(KEY, None)
    return ConversationHandler.END


async def not_a_file(update: Update, context: PactContext) -> int:
    """Anything but a document while a CSV is expected."""
    await send(update, context, context.t.gettext("Please send a CSV file of at most 1 MB."))
    return FILE


async def closed_day(update: Update, context: PactContext) -> None:
    """/closed_day YYYY-MM-DD note: record an extra closure decided by the government."""
    t = context.t
    args = context.args or []
    day = _iso(args[0]) if args else None
    if day is None:
        await send(
            update,
            context,
            t.gettext("Usage: /closed_day 2026-12-24 Decision of the Council of Ministers no. …"),
        )
        return
    added = await rti.add_closed_day(
        context.scope.session,
        day,
        " ".join(args[1:]),
        actor_user_id=context.user_row.id if context.user_row else None,
        now=context.services.clock.now(),
    )
    await send(
        update,
        context,
        t.gettext("{date} is now a closed day for all deadlines.", date=t.date(day))
        if added
        else t.gettext("{date} was already recorded.", date=t.date(day)),
    )


def _iso(text: str) -> date | None:
    """A YYYY-MM-DD date or None."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def conversations() -> list[ConversationHandler]:
    """The editor and the import, each its own conversation."""
    text = filters.TEXT & ~filters.COMMAND
    leave = [CommandHandler("cancel", answers.cancel)]
    editor = ConversationHandler(
        name="admin_authority",
        persistent=True,
        allow_reentry=True,
        entry_points=[CommandHandler("authority", authority_command)],
        states={
            SEARCH: [
                MessageHandler(text, search),
                CallbackQueryHandler(cancel, pattern=f"^{CANCEL}$"),
            ],
            FIELD: [
                CallbackQueryHandler(pick, pattern=PICK.pattern),
                CallbackQueryHandler(choose_field, pattern=FIELD_CB.pattern),
                CallbackQueryHandler(verify, pattern=VERIFY.pattern),
                CallbackQueryHandler(done, pattern=f"^{DONE}$"),
            ],
            VALUE: [MessageHandler(text, value)],
        },
        fallbacks=leave,
    )
    importer = ConversationHandler(
        name="admin_import",
        persistent=True,
        allow_reentry=True,
        entry_points=[CommandHandler("import_authorities", import_command)],
        states={
            FILE: [
                MessageHandler(filters.Document.ALL, import_file),
                MessageHandler(~filters.COMMAND & ~filters.Document.ALL, not_a_file),
            ]
        },
        fallbacks=leave,
    )
    return [editor, importer]


def routes() -> list[routing.Route]:
    """/authority, /import_authorities and /closed_day: admins only."""
    editor, importer = conversations()
    return [
        routing.staff_flow(editor, Permission.ADMIN, KEY),
        routing.staff_flow(importer, Permission.ADMIN, KEY),
        *routing.staff(
            Permission.ADMIN,
            CommandHandler("closed_day", closed_day, filters=filters.ChatType.PRIVATE),
        ),
    ]

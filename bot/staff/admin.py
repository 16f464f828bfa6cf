"""/staff (admins): list staff; grant a role, the corruption permission, the municipalities."""

from __future__ import annotations

from markupsafe import Markup
from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from bot.core import routing
from bot.core.access import current_member
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator, join_lines
from bot.kit import pickers
from bot.kit.answers import stale_button
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, edit_or_send, keyboard, list_label, rows_of, send
from bot.staff.services import permissions as staff
from bot.staff.services import templates
from bot.staff.services.permissions import Permission
from bot.staff.views import ROLES
from db.models import AuthorityKind, StaffMember, StaffRole, User

MEMBER = ButtonCodec("adm:staff:", int, ("show", "corr", "all"))
MEMBER_PLACE = ButtonCodec("adm:staff:", int, "m", int)
"""A staff member's card and its toggles (by user id); a municipality toggled (by authority id)."""
USAGE = N_(
    "Usage:\n/staff – the list\n/staff grant TELEGRAM_ID admin|caseworker|viewer Name\n"
    "/staff revoke TELEGRAM_ID"
)


def _line(t: Translator, member: StaffMember, names: dict[int, str]) -> Markup:
    """One staff member in the list."""
    where = (
        ", ".join(names.get(i, "?") for i in member.municipality_ids)
        if member.municipality_ids is not None
        else t.gettext("all municipalities")
    )
    corruption = (
        t.gettext("corruption reports: yes")
        if member.corruption
        else t.gettext("corruption reports: no")
    )
    role = t.gettext(ROLES[StaffRole(member.role)])
    return Markup("• {} – {}; {}; {}").format(member.display_name, role, corruption, where)


async def _names(context: PactContext) -> dict[int, str]:
    """Municipality names by id."""
    return {a.id: a.name for a in await pickers.all_sorted(context)}


async def staff_command(update: Update, context: PactContext) -> None:
    """/staff, /staff grant …, /staff revoke …"""
    t = context.t
    args = context.args or []
    session = context.scope.session
    admin = current_member(context)
    now = context.services.clock.now()
    if args[:1] == ["grant"] and len(args) >= 4 and args[1].isdigit() and args[2] in set(StaffRole):
        member = await staff.grant(
            session,
            int(args[1]),
            StaffRole(args[2]),
            display_name=" ".join(args[3:]),
            corruption=False,
            municipality_ids=None,
            by_user_id=admin.user_id if admin else None,
            now=now,
        )
        await _show(update, context, member)
        return
    if args[:1] == ["revoke"] and len(args) == 2 and args[1].isdigit():
        done = await staff.revoke(
            session, int(args[1]), by_user_id=admin.user_id if admin else None, now=now
        )
        await send(
            update, context, t.gettext("Revoked.") if done else t.gettext("No such staff member.")
        )
        return
    if args:
        await send(update, context, t.gettext(USAGE))
        return
    names = await _names(context)
    lines = [t.gettext("<b>Staff</b>")] + [
        _line(t, m, names) for m, _u in await staff.everyone(session)
    ]
    rows = [
        [(m.display_name, MEMBER.data(m.user_id, "show"))]
        for m, _u in await staff.everyone(session)
    ]
    text = join_lines([*lines, "", t.gettext(USAGE)])
    await send(update, context, text, keyboard(*rows))


async def _show(update: Update, context: PactContext, member: StaffMember) -> None:
    """A staff member with toggles for the corruption permission and municipalities."""
    t = context.t
    names = await _names(context)
    programme = [
        a
        for a in await pickers.all_sorted(context)
        if a.kind == AuthorityKind.MUNICIPALITY and a.in_programme
    ]
    chosen = set(member.municipality_ids or [])
    toggles: list[Button] = [
        (("✅ " if a.id in chosen else "") + a.name, MEMBER_PLACE.data(member.user_id, a.id))
        for a in programme
    ]
    rows = rows_of(toggles, 3)
    await edit_or_send(
        update,
        context,
        _line(t, member, names),
        keyboard(
            [
                (
                    t.gettext("Corruption reports: turn on or off"),
                    MEMBER.data(member.user_id, "corr"),
                )
            ],
            [(t.gettext("All municipalities"), MEMBER.data(member.user_id, "all"))],
            *rows,
        ),
    )


async def staff_button(update: Update, context: PactContext) -> None:
    """Toggle the corruption permission or a municipality, or show a member."""
    query = update.callback_query
    assert query is not None
    place = MEMBER_PLACE.parse(query.data)
    number, action = (place[0], "m") if place else MEMBER.parse(query.data) or (None, None)
    session = context.scope.session
    member = await session.get(StaffMember, number) if number is not None else None
    admin = current_member(context)
    if member is None or admin is None or admin.role != StaffRole.ADMIN:
        await stale_button(update, context)
        return
    await answer(update)
    if action != "show":
        corruption = member.corruption
        ids = None if member.municipality_ids is None else set(member.municipality_ids)
        if action == "corr":
            corruption = not corruption
        elif action == "all":
            ids = None
        else:
            ids = set(ids or set()) ^ {place[1]}
            ids = ids or None
        user = await session.get(User, member.user_id)
        member = await staff.grant(
            session,
            user.telegram_id,
            StaffRole(member.role),
            display_name=member.display_name,
            corruption=corruption,
            municipality_ids=ids,
            by_user_id=admin.user_id,
            now=context.services.clock.now(),
        )
    await _show(update, context, member)


TEMPLATE = ButtonCodec("adm:tpl:del:", int)
TEMPLATE_USAGE = N_("Add one with: /templates add Title | Albanian text | English text (optional)")


async def templates_command(update: Update, context: PactContext) -> None:
    """/templates and /templates add Title | sq | en."""
    t = context.t
    admin = current_member(context)
    assert admin is not None
    session = context.scope.session
    raw = " ".join(context.args or [])
    if raw.startswith("add "):
        parts = [part.strip() for part in raw[4:].split("|")]
        if len(parts) < 2 or not parts[0] or not parts[1]:
            await send(update, context, t.gettext(TEMPLATE_USAGE))
            return
        await templates.add(
            session,
            parts[0],
            parts[1],
            parts[2] if len(parts) > 2 else None,
            by_user_id=admin.user_id,
            now=context.services.clock.now(),
        )
    found = await templates.all_templates(session)
    lines = [t.gettext("<b>Response templates</b>")] + [
        Markup("• {}").format(x.title) for x in found
    ]
    rows = [[(list_label(f"🗑 {x.title}"), TEMPLATE.data(x.id))] for x in found]
    await send(
        update, context, join_lines([*lines, "", t.gettext(TEMPLATE_USAGE)]), keyboard(*rows)
    )


async def delete_template(update: Update, context: PactContext) -> None:
    """Delete a template."""
    query = await answer(update)
    admin = current_member(context)
    number = TEMPLATE.parse(query.data)
    if admin is None or admin.role != StaffRole.ADMIN or number is None:
        await stale_button(update, context)
        return
    done = await templates.delete(
        context.scope.session, number, by_user_id=admin.user_id, now=context.services.clock.now()
    )
    await send(
        update,
        context,
        context.t.gettext("Deleted.")
        if done
        else context.t.gettext("That template was already deleted."),
    )


def routes() -> list[routing.Route]:
    """/staff and /templates with their buttons: admins only."""
    private = filters.ChatType.PRIVATE
    return routing.staff(
        Permission.ADMIN,
        CommandHandler("staff", staff_command, filters=private),
        CommandHandler("templates", templates_command, filters=private),
        CallbackQueryHandler(staff_button, pattern=MEMBER.pattern),
        CallbackQueryHandler(staff_button, pattern=MEMBER_PLACE.pattern),
        CallbackQueryHandler(delete_template, pattern=TEMPLATE.pattern),
    )

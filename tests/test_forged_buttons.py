"""Forged buttons: every callback_data the bot ever sent one person, replayed by someone else.

A reporter walks every flow (service and corruption reports, my cases, the follow-up, a request
for information with its outcome and complaint, campaigns, a poll vote and an event RSVP) while an
in-scope admin works her cases. Then a second citizen (with and without consent), a revoked staff
member and an out-of-scope caseworker press every collected callback_data on a message of their
own. Nothing of the reporter's may reach them, nobody else may be messaged, and no row may change
except the presser's own harmless ones (listed in ``_own_rows``).
"""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from pypdf import PdfReader
from sqlalchemy import Table, literal_column, select
from sqlalchemy import text as sql
from telegram.ext import ConversationHandler

from bot.broadcasting.message import UNSUBSCRIBE
from bot.core.jobs import send_broadcasts, send_due_followups
from db.models import Authority, Base, StaffMember, User
from fakeapi.state import CallbackQueryRecord
from tests.harness import BotHarness, Person
from tests.rti_steps import build_request, sent_on

STAFF = -100888
ADMIN, REVOKED, OUTSIDER = 9700, 9710, 9720
FIRST, LAST = "Zanxhe", "Qerimaj"
SERVICE_TEXT = "Lamp posts by the Rozafa bakery ZQX1 dark since Tuesday."
CORRUPTION_TEXT = "Inspector asked for 300 euro in cash ZQX2 to close the file."
ANSWER_TEXT = "My phone is 069 ZQX3 44 55, call after six."
ADDED_TEXT = "A second pole ZQX4 fell on Friday."
RTI_TEXT = "Contracts ZQX5 of the street lighting tender of 2026."
NEIGHBOUR_TEXT = "The lamp at the corner ZQX6 by the mosque is out."
REQUESTER = f"{FIRST} {LAST}"
SECRETS = (
    SERVICE_TEXT[:30],
    "ZQX1",
    "ZQX2",
    "ZQX3",
    "ZQX4",
    "ZQX5",
    "ZQX6",
    CORRUPTION_TEXT[:30],
    FIRST,
    LAST,
    "arta@example.com",
    "77/1",
)
NEIGHBOUR_CASE = "PACT-2026-00001"
SHKODER, MAT = ("Shkodër", "Municipality of Shkodër"), ("Dibër", "Municipality of Mat")
REFERENCES = ("PACT-2026-00002", "PACT-2026-00003")
"""The reporter's cases: a named service report and a confidential corruption report."""
CITIZEN_SECRETS = (*SECRETS, *REFERENCES, NEIGHBOUR_CASE)
"""Nothing of the reporter's, nor the neighbour's case she was offered to follow."""
FOLLOWER_SECRETS = (
    *(secret for secret in SECRETS if secret not in (SERVICE_TEXT[:30], "ZQX1")),
    REFERENCES[1],
    "Which pole",
    "Internal: call",
)
"""What someone following her named case must still never see: her name, her answers and added
information, the team's questions and notes, her corruption case and her requests (the case's
own reference and what it is about are theirs to know)."""
SENDING = (
    "sendmessage",
    "sendphoto",
    "senddocument",
    "sendvoice",
    "sendlocation",
    "sendmediagroup",
    "copymessage",
    "copymessages",
    "forwardmessage",
    "forwardmessages",
    "editmessagetext",
    "editmessagecaption",
    "editmessagereplymarkup",
    "editmessagemedia",
    "sendpoll",
    "sendvideo",
    "sendaudio",
)


# ---- who is who -----------------------------------------------------------------------------


def _staff(bot: BotHarness, telegram_id: int, name: str) -> Person:
    """A staff member (or someone about to be one) talking to the bot in English."""
    return Person(bot, bot.fake.user(user_id=telegram_id, first_name=name, language_code="en"))


async def _start(fake, database_url) -> BotHarness:
    """The bot with a staff group and one admin; flood limits out of the way of the replay."""
    fake.group(chat_id=STAFF, title="PACT staff")
    bot = BotHarness(
        fake,
        database_url,
        staff_chat_id=STAFF,
        admin_ids=frozenset({ADMIN}),
        updates_per_minute=100_000,
        cases_per_day=100,
    )
    await bot.start()
    return bot


# ---- pressing by callback data ----------------------------------------------------------------


def _data(markup: Any) -> list[str]:
    """Every callback_data in a reply_markup (a dict or its JSON text)."""
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except ValueError:
            return []
    if not isinstance(markup, dict):
        return []
    return [
        button["callback_data"]
        for row in markup.get("inline_keyboard") or []
        for button in row
        if isinstance(button, dict) and "callback_data" in button
    ]


def _sent_data(bot: BotHarness, chat_ids: Iterable[int]) -> list[str]:
    """Every callback_data the bot ever put on a message in these chats (edits included)."""
    chats = {str(c) for c in chat_ids}
    found: list[str] = []
    for call in bot.fake.calls:
        if str(call.params.get("chat_id")) not in chats:
            continue
        for data in _data(call.params.get("reply_markup")):
            if data not in found:
                found.append(data)
    return found


async def _press_prefix(person: Person, prefix: str) -> str:
    """Press, in a private chat, the newest button whose data starts with the prefix."""
    for message in reversed(person.messages):
        for label in message.labels:
            data = message.button_data(label) or ""
            if data.startswith(prefix):
                await person.press(label, message=message)
                return data
    raise LookupError(f"{prefix} not among {[m.labels for m in person.messages[-3:]]}")


async def _group_press_prefix(bot: BotHarness, person: Person, prefix: str) -> str:
    """Press, in the staff group, the newest button whose data starts with the prefix."""
    group = bot.fake.group(chat_id=STAFF)
    for message in reversed(group.messages):
        for label in message.labels:
            data = message.button_data(label) or ""
            if data.startswith(prefix):
                await bot.settle(await group.press(person.fake, label, message=message))
                return data
    raise LookupError(prefix)


async def _group_press_data(bot: BotHarness, person: Person, data: str) -> int:
    """A forged press in the staff group, on the group's newest bot message."""
    group = bot.fake.group(chat_id=STAFF)
    message = group.last
    state = bot.fake.state
    query_id = str(4000000000000000000 + state.next("callback_query"))
    state.queries[query_id] = CallbackQueryRecord(
        query_id, person.fake.user_id, STAFF, message.message_id, data
    )
    payload = {
        "id": query_id,
        "from": person.fake.to_api(),
        "message": message.to_api(),
        "chat_instance": str(-8000000000000000000 + STAFF),
        "data": data,
    }
    update_id = bot.fake.enqueue("callback_query", payload)
    await asyncio.sleep(0)
    return update_id


# ---- rows -------------------------------------------------------------------------------------

ROW_TEXT = "pact_row_text"
"""The label of a row printed as text by the database, read with the row."""


class Snapshot(dict[str, dict[tuple, tuple]]):
    """Every row of every table by primary key (the reprs of its columns), and each table's content
    as the database prints it (``texts``), so a later snapshot re-reads only what changed."""

    texts: dict[str, str | None]


def _row_text(table: Table, dialect: str) -> str:
    """SQL for one row of the table printed as text by the database, every column included."""
    if dialect == "postgresql":
        return f'"{table.name}"::text'
    return " || ',' || ".join(f'quote("{column.name}")' for column in table.columns)


def _contents_sql(dialect: str) -> str:
    """One statement giving each table's content: its rows' texts sorted, as netstrings."""
    parts = []
    for table in Base.metadata.sorted_tables:
        rows = f'SELECT {_row_text(table, dialect)} AS r FROM "{table.name}"'
        if dialect == "postgresql":
            ordered = 'ORDER BY r COLLATE "C"'
            content = f"SELECT string_agg(length(r) || ':' || r, '' {ordered}) FROM ({rows}) AS x"
        else:
            content = f"SELECT group_concat(length(r) || ':' || r, '') FROM ({rows} ORDER BY r)"
        parts.append(f"SELECT '{table.name}', ({content})")
    return " UNION ALL ".join(parts)


def _content(texts: Iterable[str]) -> str | None:
    """A table's content from its rows' texts, as ``_contents_sql`` gives it."""
    return "".join(f"{len(row)}:{row}" for row in sorted(texts)) or None


async def _snapshot(bot: BotHarness, previous: Snapshot | None = None) -> Snapshot:
    """Every row of every table, keyed by primary key (conversation state flushed first).

    A table whose content the database prints exactly as when ``previous`` read its rows is
    taken from ``previous``; only the others are read again.
    """
    await bot.app.update_persistence()
    dialect = bot.app.services.engine.dialect.name
    found = Snapshot()
    found.texts = {}
    async with bot.app.services.sessions() as session:
        contents: dict[str, str | None] = {}
        if previous is not None:
            contents = dict((await session.execute(sql(_contents_sql(dialect)))).all())
        for table in Base.metadata.sorted_tables:
            if previous is not None and previous.texts.get(table.name, "") == contents[table.name]:
                found[table.name] = previous[table.name]
                found.texts[table.name] = previous.texts[table.name]
                continue
            keys = list(table.primary_key.columns)
            query = select(table, literal_column(_row_text(table, dialect)).label(ROW_TEXT))
            rows = (await session.execute(query)).mappings().all()
            found[table.name] = {
                tuple(row[k.name] for k in keys): tuple(repr(row[c.name]) for c in table.columns)
                for row in rows
            }
            found.texts[table.name] = _content(row[ROW_TEXT] for row in rows)
    return found


Change = tuple[str, tuple, str]


def _changes(before: Snapshot, after: Snapshot) -> list[Change]:
    """(table, primary key, what) for each added, removed or changed row."""
    changes = []
    for table, rows in after.items():
        old = before.get(table, {})
        for key, values in rows.items():
            if key not in old:
                changes.append((table, key, "added"))
            elif old[key] != values:
                changes.append((table, key, "changed"))
        changes.extend((table, key, "removed") for key in old if key not in rows)
    return changes


def _column(snapshot: Snapshot, table: str, key: tuple, column: str) -> str | None:
    """One column's repr of a row in a snapshot."""
    names = [c.name for c in Base.metadata.tables[table].columns]
    row = snapshot.get(table, {}).get(key)
    return None if row is None else row[names.index(column)]


def _own_rows(
    before: Snapshot,
    after: Snapshot,
    telegram_id: int,
    change: Change,
    update_id: int | None = None,
) -> bool:
    """The presser's own bookkeeping rows, exempt from "no row changes", and why.

    Any update from a person touches their users row (created on first contact, last seen), their
    bot_state rows (conversation state and drafts, keyed by their Telegram id) and the inbox row
    of the update itself (its update_id and when it was handled; the payload is cleared once
    done); none holds anything of anyone else.
    Everything else must stay exactly as it was: cases, followers, contacts, events of cases,
    votes, RSVPs, requests, reminders, outbox, audit, consents, subscriptions and staff rows.
    """
    table, key, _what = change
    snapshot = after if key in after.get(table, {}) else before
    if table == "users":
        return _column(snapshot, "users", key, "telegram_id") == repr(telegram_id)
    if table == "bot_state":
        return str(telegram_id) in key[1]
    if table == "inbox":
        return key == (update_id,)
    return False


# ---- what a presser received ------------------------------------------------------------------


def _received_since(bot: BotHarness, start: int, own_chat: int) -> tuple[list[str], list[str]]:
    """Texts of every call since `start` (to the presser or answering their query), and the
    chats other than the presser's that the bot wrote into."""
    texts, elsewhere = [], []
    for call in bot.fake.calls[start:]:
        method = call.method.lower()
        chat = call.params.get("chat_id")
        if method == "answercallbackquery" or str(chat) == str(own_chat):
            texts.append(json.dumps(call.params, ensure_ascii=False, default=str))
        elif method in SENDING and chat is not None:
            text = str(call.params.get("text") or call.params.get("caption") or "")[:70]
            elsewhere.append(f"{call.method} to {chat}: {text!r}")
    return texts, elsewhere


def _document_texts(person: Person, seen: set[int]) -> list[str]:
    """Text of new documents in the presser's chat (PDF pages extracted)."""
    texts = []
    for message in person.messages:
        if message.message_id in seen or not message.document:
            continue
        seen.add(message.message_id)
        content = message.document["content"]
        if content.startswith(b"%PDF"):
            reader = PdfReader(io.BytesIO(content))
            texts.append("\n".join(page.extract_text() for page in reader.pages))
        else:
            texts.append(content.decode("utf-8", "replace"))
    return texts


def _offered_since(bot: BotHarness, start: int, chat_id: int, offered: set[str]) -> int:
    """Add the callback_data the bot put on messages in this chat since call `start`."""
    calls = bot.fake.calls
    for call in calls[start:]:
        if str(call.params.get("chat_id")) == str(chat_id):
            offered.update(_data(call.params.get("reply_markup")))
    return len(calls)


PROBE = "PROBE-TYPED-ZQX9 after a forged button"
"""What a presser types when a forged press left them inside a step that waits for text."""


def _states(bot: BotHarness, telegram_id: int) -> dict[tuple[str, tuple], object]:
    """The presser's conversation states in memory (some steps are never written to a table)."""
    found: dict[tuple[str, tuple], object] = {}
    for handlers in bot.app.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler):
                # PTB has no public view of the states; bot/core/drafts.py reads them the same way.
                for key, state in handler._conversations.items():
                    if int(key[1] if len(key) >= 2 else key[0]) == telegram_id:
                        found[(handler.name or "", tuple(key))] = state
    return found


async def _replay(
    bot: BotHarness,
    presser: Person,
    all_data: list[str],
    *,
    group_data: Iterable[str] = (),
    secrets: tuple[str, ...],
    offered_since: int = 0,
) -> list[str]:
    """Press each data on the presser's own newest message (and the group ones in the group);
    return every problem found, naming the data that caused it.

    Nothing secret may reach the presser, ever. A press in the private chat of data the bot had
    itself offered this presser (a menu, their own onboarding or builder step, reached by an
    earlier press) is their own legitimate action: it may act on their own account. Every other
    press must change no row (but ``_own_rows``) and make the bot write to no other chat. Only
    what was offered after call ``offered_since`` counts (a revoked member's old buttons do
    not). When a press leaves the presser in a step waiting for text, they type a probe, held to
    the same rules (so a forged "reply" or "add information" cannot carry typed words into
    someone's case).
    """
    problems: list[str] = []
    documents: set[int] = {m.message_id for m in presser.messages}
    offered: set[str] = set()
    seen_calls = _offered_since(bot, offered_since, presser.fake.user_id, offered)
    before = await _snapshot(bot)
    presses = [("private", data) for data in all_data]
    presses += [("group", data) for data in group_data]
    for where, data in presses:
        seen_calls = _offered_since(bot, seen_calls, presser.fake.user_id, offered)
        own = where == "private" and data in offered
        states = _states(bot, presser.fake.user_id)
        for step in ("press", "typed"):
            start = len(bot.fake.calls)
            if step == "typed":
                update_id = await presser.fake.send_text(PROBE)
            elif where == "private":
                update_id = await presser.fake.press_data(data, message_id=presser.last.message_id)
            else:
                update_id = await _group_press_data(bot, presser, data)
            await bot.settle(update_id)
            label = f"{where} {data!r}" + (" then typed" if step == "typed" else "")
            texts, elsewhere = _received_since(bot, start, presser.fake.user_id)
            texts += _document_texts(presser, documents)
            for secret in secrets:
                if any(secret in text for text in texts):
                    problems.append(f"{label}: the presser saw {secret!r}")
            after = await _snapshot(bot, before)
            changes = _changes(before, after)
            if not own:
                problems.extend(f"{label}: {line}" for line in elsewhere)
                for change in changes:
                    if not _own_rows(before, after, presser.fake.user_id, change, update_id):
                        problems.append(f"{label}: row {change[2]} in {change[0]} {change[1]}")
            before = after
            moved = _states(bot, presser.fake.user_id)
            if step == "typed" or not any(
                state is not None and states.get(key) != state for key, state in moved.items()
            ):
                break
    return problems


# ---- the reporter's walk ------------------------------------------------------------------------


async def _onboard(person: Person) -> None:
    """Consent, skipping the optional questions."""
    await person.command("/start")
    await person.press("✅ I agree")
    await person.press("Skip")
    await person.press("Skip")


async def _service_report(
    person: Person, text: str = SERVICE_TEXT, place: tuple[str, str] = SHKODER
) -> None:
    """A named street-lighting report with a typed description, up to Send."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press(place[0])
    await person.press(place[1])
    await person.press("Skip")
    await person.press("Street lighting")
    await person.text(text)
    await person.press("Skip")
    await person.press("✔️ Done")
    await person.press("👤 Named")
    await person.press("📨 Send")


async def _corruption_report(person: Person) -> None:
    """A confidential corruption report."""
    await person.command("/menu")
    await person.press("🚨 Report corruption")
    await person.press("Continue ➡️")
    await person.text("Construction inspectorate, Shkodër")
    await person.text(CORRUPTION_TEXT)
    await person.text("Last Monday")
    await person.press("✔️ Done")
    await person.press("🔒 Confidential")
    await person.press("📨 Send")


async def _follow_campaigns(person: Person) -> None:
    """Campaign consent, following polls and public hearings."""
    await person.command("/menu")
    await person.press("📣 Campaigns & events")
    await person.press("✅ Yes, send me campaign messages")
    await person.press("⬜ Polls and surveys")
    await person.press("⬜ Public hearings and events")


async def _poll_and_event(bot: BotHarness, admin: Person) -> None:
    """The admin makes a poll and an event and sends both to their subscribers."""
    await admin.command("/poll")
    await admin.text("A duhet bashkia të ndezë dritat gjithë natën?")
    await admin.text("Should the town light the streets all night?")
    await admin.text("Po | Yes\nJo | No")
    await admin.press("✅ Save poll")
    await admin.press("📣 Send to “Polls and surveys” subscribers now")
    await admin.command("/event")
    await admin.text("Dëgjesë për ndriçimin publik")
    await admin.press("No specific municipality")
    await admin.text("Salla e Këshillit")
    await admin.text("2027-03-01 17:00")
    await admin.text("Pyetje dhe propozime.")
    await admin.press("✅ Save event")
    await admin.press("📣 Announce to subscribers now")
    await send_broadcasts(bot.app)


async def _open(admin: Person, case_id: int) -> None:
    """The in-scope admin opens a case card from the inbox."""
    await admin.command("/inbox")
    await admin.press_data(f"stf:open:{case_id}", message_id=admin.last.message_id)


async def _admin_works_the_cases(bot: BotHarness, admin: Person, reporter: Person) -> None:
    """Take, reply (the reporter answers), note, status resolved; open every menu of both cases."""
    try:
        await _group_press_prefix(bot, admin, "stf:priv:")
    except LookupError:
        await _group_press_prefix(bot, admin, "stf:take:")
    await _open(admin, 2)
    await _press_prefix(admin, "stf:take:")
    for case_id in (2, 3):
        for prefix in ("stf:st:", "stf:asg:", "stf:files:", "stf:more:", "stf:audit:"):
            await _open(admin, case_id)
            if prefix == "stf:audit:":
                await _press_prefix(admin, "stf:more:")
            await _press_prefix(admin, prefix)
    await _open(admin, 2)
    await _press_prefix(admin, "stf:reply:")
    await admin.text("Which pole number is it?")
    await reporter.press("↩️ Answer")
    await reporter.text(ANSWER_TEXT)
    await _open(admin, 2)
    await _press_prefix(admin, "stf:note:")
    await admin.text("Internal: call the utility.")
    await _open(admin, 2)
    await _press_prefix(admin, "stf:st:")
    await _press_prefix(admin, "stf:setst:2:resolved")
    await admin.text("The lamps were repaired.")


async def _my_cases(reporter: Person) -> None:
    """Both case cards, added information, and the withdraw question (not confirmed)."""
    for reference in REFERENCES:
        await reporter.command("/menu")
        await reporter.press("📂 My cases")
        await reporter.press(next(lb for lb in reporter.last.labels if lb.startswith(reference)))
    await reporter.press("➕ Add information")
    await reporter.text(ADDED_TEXT)
    await reporter.command("/menu")
    await reporter.press("📂 My cases")
    await reporter.press(next(lb for lb in reporter.last.labels if lb.startswith(REFERENCES[0])))
    await reporter.press("↩️ Withdraw")
    await reporter.command("/menu")


async def _requests(bot: BotHarness, reporter: Person) -> None:
    """A request for information, sent, refused, the complaint drafted and filed, its card."""
    await build_request(reporter, information=RTI_TEXT, name=REQUESTER)
    await sent_on(reporter, "20.11.2026", "77/1")
    await reporter.press("⛔ Refused")
    await reporter.press("📝 Complaint to the Commissioner")
    await reporter.press("✅ I have filed it")
    await reporter.command("/menu")
    await reporter.press("⚖️ Right to information")
    await reporter.press("📋 My requests")
    await reporter.press(next(lb for lb in reporter.last.labels if lb.startswith("#1")))


async def _walk(bot: BotHarness) -> tuple[Person, Person, Person]:
    """The reporter's every flow, a neighbour who follows her named case, and the admin's work
    on her cases."""
    admin = _staff(bot, ADMIN, "Ledi")
    await admin.command("/start")
    reporter = bot.person(language_code="en", first_name=FIRST, last_name=LAST)
    await _onboard(reporter)
    await _follow_campaigns(reporter)
    neighbour = bot.person(language_code="en", first_name="Fatbardha")
    await _onboard(neighbour)
    await _service_report(neighbour, NEIGHBOUR_TEXT)
    await _service_report(reporter)
    assert reporter.seen("Similar open cases"), "the reporter was offered to follow a case"
    await reporter.press("It is a different problem")
    await _corruption_report(reporter)
    follower = bot.person(language_code="en", first_name="Kujtim")
    await _onboard(follower)
    await _service_report(follower, "The same lamps by the bakery are dark.")
    await follower.press(f"Same problem — add me to {REFERENCES[0]}")
    assert follower.seen(f"You now follow case {REFERENCES[0]}.")
    await _admin_works_the_cases(bot, admin, reporter)
    await _my_cases(reporter)
    bot.clock.advance(timedelta(days=21, minutes=5))
    assert await send_due_followups(bot.app) == 1
    assert "Is the problem solved?" in reporter.last.text
    await _requests(bot, reporter)
    await _poll_and_event(bot, admin)
    await reporter.press("Yes")
    await reporter.press("✅ I will attend")
    await reporter.press("Yes, show my name")
    return reporter, admin, follower


def _report(problems: list[str]) -> str:
    """The problems found, for the assertion message."""
    return "\n".join(problems[:80]) + (
        f"\n… {len(problems) - 80} more" if len(problems) > 80 else ""
    )


# ---- the tests ----------------------------------------------------------------------------------


async def test_another_citizen_replaying_every_button_gets_nothing(fake, database_url) -> None:
    """Other citizens (consenting, not, following her case, campaigns, parked) get nothing."""
    bot = await _start(fake, database_url)
    try:
        reporter, _admin, follower = await _walk(bot)
        data = _sent_data(bot, [reporter.fake.user_id])
        staff_data = _sent_data(bot, [ADMIN, STAFF])
        assert len(data) > 40, data
        assert any(d.startswith("pv:") for d in data) and any(d.startswith("ev:") for d in data)

        consenting = bot.person(language_code="en", first_name="Besnik")
        await _onboard(consenting)
        await consenting.command("/menu")
        await consenting.press("📣 Campaigns & events")
        await consenting.press("✅ Yes, send me campaign messages")
        await consenting.press("⬜ Anti-corruption")
        await consenting.command("/menu")
        problems = await _replay(bot, consenting, data, secrets=CITIZEN_SECRETS)
        problems += [
            f"staff buttons: {line}"
            for line in await _replay(bot, consenting, staff_data, secrets=CITIZEN_SECRETS)
        ]

        stranger = bot.person(language_code="en", first_name="Dritan")
        await stranger.command("/start")
        problems += [
            f"no consent: {line}"
            for line in await _replay(bot, stranger, data, secrets=CITIZEN_SECRETS)
        ]

        problems += [
            f"follower of the named case: {line}"
            for line in await _replay(bot, follower, data, secrets=FOLLOWER_SECRETS)
        ]

        campaigner = bot.person(language_code="en", first_name="Genta")
        await _onboard(campaigner)
        await campaigner.command("/menu")
        await campaigner.press("📣 Campaigns & events")
        await campaigner.press("✅ Yes, send me campaign messages")
        await campaigner.press("⬜ Youth activism")
        answers = [d for d in data if d.startswith(("pv:", "ev:", UNSUBSCRIBE.prefix))]
        follows = [d for d in data if d.startswith("rp:follow:")]
        assert follows, "the reporter was offered the neighbour's case"
        assert len(answers) >= 4, answers
        problems += [
            f"campaign follower: {line}"
            for line in await _replay(bot, campaigner, answers, secrets=CITIZEN_SECRETS)
        ]

        elsewhere = bot.person(language_code="en", first_name="Ilir")
        await _onboard(elsewhere)
        await _service_report(elsewhere, "The lane behind the school is dark.", MAT)
        parked = bot.person(language_code="en", first_name="Hana")
        await _onboard(parked)
        await _service_report(parked, "Our lane is dark as well.", MAT)
        assert parked.seen("Similar open cases"), "parked at the step where following happens"
        problems += [
            f"parked at the similar cases: {line}"
            for line in await _replay(bot, parked, follows, secrets=CITIZEN_SECRETS)
        ]
        assert not problems, _report(problems)
    finally:
        await bot.stop()


async def test_revoked_and_out_of_scope_staff_replaying_every_button_get_nothing(
    fake, database_url
) -> None:
    """A revoked member (who had worked the case) and an out-of-scope caseworker get nothing."""
    bot = await _start(fake, database_url)
    try:
        reporter, admin, _follower = await _walk(bot)
        await admin.command("/staff", args=f"grant {REVOKED} caseworker Vera")
        await admin.command("/staff", args=f"grant {OUTSIDER} caseworker Olti")
        revoked = _staff(bot, REVOKED, "Vera")
        outsider = _staff(bot, OUTSIDER, "Olti")
        await revoked.command("/start")
        await outsider.command("/start")
        await _open(admin, 2)
        await _press_prefix(admin, "stf:asg:")
        await admin.press("Vera")
        await _open(revoked, 2)
        assert revoked.seen(SERVICE_TEXT), "she worked the case before her role was revoked"
        own = _sent_data(bot, [REVOKED])
        private = _sent_data(bot, [ADMIN])
        in_group = _sent_data(bot, [STAFF])
        assert any(d.startswith("stf:setst:") for d in private), private
        await _press_prefix(revoked, "stf:reply:")
        await admin.command("/staff", args=f"revoke {REVOKED}")
        revoked_at = len(bot.fake.calls)
        before = await _snapshot(bot)
        typed = await revoked.fake.send_text(PROBE)
        await bot.settle(typed)
        after = await _snapshot(bot, before)
        problems = [
            f"revoked mid-reply: {line}" for line in _received_since(bot, revoked_at, REVOKED)[1]
        ]
        problems += [
            f"revoked mid-reply: row {what} in {table} {key}"
            for table, key, what in _changes(before, after)
            if not _own_rows(before, after, REVOKED, (table, key, what), typed)
        ]
        assert not reporter.seen(PROBE), "a revoked member's typed reply reaches nobody"
        async with bot.app.services.sessions() as session, session.begin():
            mat = (
                await session.execute(
                    select(Authority.id).where(
                        Authority.kind == "municipality", Authority.name == "Mat"
                    )
                )
            ).scalar_one()
            user = (
                await session.execute(select(User).where(User.telegram_id == OUTSIDER))
            ).scalar_one()
            member = await session.get(StaffMember, user.id)
            member.municipality_ids = [mat]
            member.corruption = False
        await revoked.command("/start")
        await outsider.command("/start")

        secrets = (*CITIZEN_SECRETS, "Which pole", "Internal: call", "The lamps were")
        problems += [
            f"revoked: {line}"
            for line in await _replay(
                bot,
                revoked,
                own + [d for d in private + in_group if d not in own],
                group_data=in_group,
                secrets=secrets,
                offered_since=revoked_at,
            )
        ]
        problems += [
            f"out of scope: {line}"
            for line in await _replay(
                bot, outsider, private + in_group, group_data=in_group, secrets=secrets
            )
        ]
        assert not problems, _report(problems)
    finally:
        await bot.stop()

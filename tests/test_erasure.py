"""Erasure (issue #10 item 7): every personal field goes, filed cases stay anonymised and marked,
state rows and the bot's memory forget the id, and a staff role stays unless erased knowingly."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from db.base import Base
from db.models import (
    BotState,
    Case,
    CaseContact,
    CaseEvent,
    CaseFollower,
    CaseStatus,
    StaffMember,
    User,
)
from tests.harness import BotHarness, Person
from tests.rti_steps import build_request, onboard_english

STAFF = -100991
ADMIN = 9301
WORKER = 9302
NAME = "Qytezaj"
DESCRIPTION = "Lamp 44 dark since Tuesday DESC-QX81"
PLACE = "Behind the bakery PLACE-QX82"
ANSWER = "Pole 17, call me on 069 ANSWER-QX83"
ADDED = "One more lamp is out ADDED-QX84"
DRAFT = "Water leak by the school DRAFT-QX85"
INFORMATION = "Budget annexes for 2026 INFO-QX86"
UNIT = "Lagjja e shtëpisë sime UNIT-QX87"


async def _start(fake, database_url) -> BotHarness:
    """A bot with a staff group, an admin and a caseworker who has opened a chat."""
    fake.group(chat_id=STAFF, title="PACT staff")
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF, admin_ids=frozenset({ADMIN}))
    await bot.start()
    admin = _person(bot, ADMIN, "Ledi")
    await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
    await _person(bot, WORKER, "Besnik").command("/start")
    return bot


def _person(bot: BotHarness, telegram_id: int, name: str, **kwargs: Any) -> Person:
    """A person with a fixed Telegram id, in English."""
    return Person(
        bot, bot.fake.user(user_id=telegram_id, first_name=name, language_code="en", **kwargs)
    )


async def _named_report(person: Person) -> None:
    """A named street-lighting report with a typed place and a photo."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Skip")
    await person.press("Street lighting")
    await person.text(DESCRIPTION)
    await person.text(PLACE)
    await person.act("send_photo")
    await person.press("✔️ Done")
    await person.press("👤 Named")
    await person.press("📨 Send")


async def _case(bot: BotHarness) -> Case:
    async with bot.app.services.sessions() as session:
        return (await session.execute(select(Case).order_by(Case.id))).scalars().first()


async def _staff_asks_and_reporter_answers(bot: BotHarness, arta: Person, case: Case) -> None:
    """The caseworker relays a question from their private chat; the reporter answers it."""
    worker = _person(bot, WORKER, "Besnik")
    await worker.command("/inbox")
    await worker.press_data(f"stf:reply:{case.id}", message_id=worker.last.message_id)
    await worker.text("Which pole number is it?")
    assert arta.seen("Which pole number is it?")
    await arta.press("↩️ Answer")
    await arta.text(ANSWER)


async def _add_information(arta: Person) -> None:
    """The reporter adds a text to the open case from My cases."""
    await arta.command("/menu")
    await arta.press("📂 My cases")
    await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
    await arta.press("➕ Add information")
    await arta.text(ADDED)


async def _everything_stored(bot: BotHarness) -> list[tuple[str, str, Any]]:
    """Every value of every column of every table, as (table, column, value).

    The directory of authorities is left out: public contacts from public sources, which no
    person's message writes into (and whose postal codes can equal a test user's id).
    """
    found = []
    async with bot.app.services.sessions() as session:
        for table in Base.metadata.sorted_tables:
            if table.name == "authorities":
                continue
            for row in (await session.execute(select(table))).mappings():
                found += [(table.name, column, value) for column, value in row.items()]
    return found


def _traces(stored: list[tuple[str, str, Any]], needles: list[str], telegram_id: int) -> list:
    """Where any needle text or the Telegram id still appears."""
    hits = []
    for table, column, value in stored:
        if value == telegram_id:
            hits.append((table, column, value))
        elif value is not None and not isinstance(value, (int, float, bool)):
            text = str(value)
            if any(needle in text for needle in needles) or str(telegram_id) in text:
                hits.append((table, column, value))
    return hits


async def test_erasure_leaves_no_personal_data_and_marks_the_case(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = _person(bot, 9401, "Arta", last_name=NAME)
        await onboard_english(arta)
        await _named_report(arta)
        case = await _case(bot)
        assert case.reporter_display == f"Arta {NAME}" and case.location_text == PLACE
        await _staff_asks_and_reporter_answers(bot, arta, case)
        await _add_information(arta)
        await build_request(arta, information=INFORMATION, name=f"Arta {NAME}")
        await arta.command("/menu")
        await arta.press("🛠 Report a service problem")
        await arta.press("Shkodër")
        await arta.press("Municipality of Shkodër")
        await arta.press("Skip")
        await arta.press("Drinking water supply")
        await arta.text(DRAFT)
        await bot.app.update_persistence()
        needles = [NAME, DESCRIPTION, PLACE, ANSWER, ADDED, DRAFT, INFORMATION]
        before = _traces(await _everything_stored(bot), needles, arta.fake.user_id)
        tables = {table for table, _column, _value in before}
        assert {"cases", "case_events", "rti_requests", "bot_state", "users"} <= tables, before

        await arta.command("/privacy")
        await arta.press("🗑 Delete my data")
        assert "erased by the reporter" in arta.last.text, "the question says what stays"
        await arta.press("Yes, delete everything")
        assert arta.seen("Done. We deleted all your data.")
        assert arta.seen("1 report you filed stays for statistics")
        assert arta.seen("The log keeps only that an erasure happened, without content.")
        await bot.app.update_persistence()

        assert _traces(await _everything_stored(bot), needles, arta.fake.user_id) == []
        assert (
            arta.fake.user_id not in bot.app.user_data or not bot.app.user_data[arta.fake.user_id]
        ), "the memory copy is gone too, or the next flush writes it back"
        for states in bot.app._conversation_handler_conversations.values():
            assert not [key for key in states if arta.fake.user_id in key]

        kept = await _case(bot)
        assert (kept.erased_by, kept.reporter_user_id, kept.reporter_display) == (
            "reporter",
            None,
            None,
        )
        assert (kept.category, kept.municipality_id, kept.created_at) == (
            case.category,
            case.municipality_id,
            case.created_at,
        ), "the facts stay for statistics"
        assert kept.status == CaseStatus.RECEIVED
        async with bot.app.services.sessions() as session:
            events = (
                (await session.execute(select(CaseEvent).where(CaseEvent.case_id == kept.id)))
                .scalars()
                .all()
            )
        erased = {e.kind for e in events if e.erased_by == "reporter"}
        assert erased == {"reporter_reply", "reporter_info"}
        assert any(e.kind == "staff_reply" and e.public_text for e in events), "staff's own words"

        worker = _person(bot, WORKER, "Besnik")
        await worker.press_data(f"stf:open:{kept.id}", message_id=worker.last.message_id)
        assert "named (erased by the reporter)" in worker.last.text
        assert "Reporter: “erased by the reporter”" in worker.last.text
        assert NAME not in worker.last.text and "DESC-QX81" not in worker.last.text
    finally:
        await bot.stop()


async def _lighting_report(person: Person, unit: str | None, identity: str) -> None:
    """A street-lighting report in Shkodër, a typed village or none, sent in `identity` mode."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    if unit is None:
        await person.press("Skip")
    else:
        await person.text(unit)
        await person.press("✔️ Yes, that is the place")
    await person.press("Street lighting")
    await person.text(DESCRIPTION if unit else "Dark street by the market.")
    await person.press("Skip")
    await person.press("✔️ Done")
    await person.press(identity)
    await person.press("📨 Send")


async def test_confidential_report_typed_village_and_follows_go(bot: BotHarness) -> None:
    bledi = bot.person(language_code="en", first_name="Bledi")
    await onboard_english(bledi)
    await _lighting_report(bledi, None, "👤 Named")
    arta = bot.person(language_code="en", first_name="Arta", last_name=NAME)
    await onboard_english(arta)
    await _lighting_report(arta, None, "👤 Named")
    await arta.press("Same problem — add me to PACT-2026-00001")
    assert arta.seen("You now follow case PACT-2026-00001.")
    await _lighting_report(arta, UNIT, "🔒 Confidential")
    assert not arta.seen("It is a different problem"), "a case she follows is never offered"
    needles = [NAME, DESCRIPTION, UNIT]
    stored = _traces(await _everything_stored(bot), needles, arta.fake.user_id)
    assert {table for table, _c, _v in stored} >= {"cases", "users"}
    user_id = (await bot.user_row(arta)).id
    assert await _links(bot, user_id) == (1, 1), "a follow and a confidential contact"

    await arta.command("/privacy")
    await arta.press("🗑 Delete my data")
    await arta.press("Yes, delete everything")
    assert await bot.user_row(arta) is None
    assert _traces(await _everything_stored(bot), needles, arta.fake.user_id) == []
    assert await _links(bot, user_id) == (0, 0)
    followed, kept = await _cases_in_order(bot)
    assert followed.erased_by is None, "the case Arta only followed is Bledi's and stays whole"
    assert kept.erased_by == "reporter" and kept.identification == "confidential"
    assert kept.unit is None, "a typed village is the reporter's words"
    async with bot.app.services.sessions() as session:
        rows = (await session.execute(select(BotState))).scalars().all()
    assert not [r for r in rows if str(arta.fake.user_id) in r.key]


async def _links(bot: BotHarness, user_id: int) -> tuple[int, int]:
    """How many follows and confidential contacts link cases to this user row."""
    async with bot.app.services.sessions() as session:
        follows = await session.execute(select(CaseFollower).where(CaseFollower.user_id == user_id))
        contacts = await session.execute(select(CaseContact).where(CaseContact.user_id == user_id))
        return len(follows.all()), len(contacts.all())


async def _cases_in_order(bot: BotHarness) -> list[Case]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def test_a_staff_member_keeps_the_role_unless_they_choose_otherwise(
    fake, database_url
) -> None:
    bot = await _start(fake, database_url)
    try:
        worker = _person(bot, WORKER, "Besnik")
        await onboard_english(worker)
        await worker.command("/privacy")
        await worker.press("🗑 Delete my data")
        assert "You are a staff member (caseworker)" in worker.last.text
        assert worker.last.labels[:2] == [
            "Delete, keep my staff role",
            "Delete everything, including my staff role",
        ]
        assert "Yes, delete everything" not in worker.last.labels

        await worker.press_data("prv:erase:yes", message_id=worker.last.message_id)
        assert worker.seen("Done. We deleted your data; your staff role stays.")
        user = await bot.user_row(worker)
        assert user is not None and user.consents == [] and user.onboarded_at is None
        async with bot.app.services.sessions() as session:
            assert await session.get(StaffMember, user.id) is not None, "the default keeps it"
        await worker.command("/inbox")
        assert "No cases here." in worker.last.text, "still staff"

        await worker.command("/privacy")
        await worker.press("🗑 Delete my data")
        await worker.press("Delete everything, including my staff role")
        assert worker.seen("Done. We deleted all your data.")
        async with bot.app.services.sessions() as session:
            users = (await session.execute(select(User.telegram_id))).scalars().all()
            staff = (await session.execute(select(StaffMember))).scalars().all()
        assert WORKER not in users and len(staff) == 1, "only the admin is left"
        await worker.command("/inbox")
        assert "No cases here." not in worker.last.text, "no longer staff"
    finally:
        await bot.stop()

"""The authority directory: seeded data, staff editing behind the gate, CSV import, reports."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from db.models import AuditEntry, Authority, ClosedDay
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

ADMIN = 9001


async def _audit(bot: BotHarness, action: str) -> list[AuditEntry]:
    async with bot.app.services.sessions() as session:
        rows = await session.execute(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows.scalars())


async def test_directory_is_seeded_with_all_municipalities(bot: BotHarness) -> None:
    async with bot.app.services.sessions() as session:
        rows = (await session.execute(select(Authority))).scalars().all()
    municipalities = [a for a in rows if a.kind == "municipality"]
    assert len(municipalities) == 61
    assert sum(a.in_programme for a in municipalities) == 15
    assert any(a.kind == "other" and a.email == "info@idp.al" for a in rows)
    await bot.restart()
    async with bot.app.services.sessions() as session:
        assert len((await session.execute(select(Authority))).scalars().all()) == len(rows)


async def test_staff_commands_are_refused_to_citizens(bot: BotHarness, caplog) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/authority", args="shkoder")
    assert arta.seen("I don't know that command.")
    await arta.command("/closed_day", args="2026-12-24")
    await arta.press_data("adm:field:email", message_id=arta.last.message_id)
    assert arta.seen("That button is no longer active.")
    assert "refused staff action /authority" in caplog.text
    async with bot.app.services.sessions() as session:
        assert await session.get(ClosedDay, date(2026, 12, 24)) is None


async def test_admin_edits_a_contact_and_it_is_audited(fake, database_url) -> None:
    harness = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await harness.start()
    try:
        ledi = Person(harness, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
        await ledi.command("/start")
        await ledi.press("✅ I agree")
        await ledi.command("/authority", args="shkoder")
        await ledi.press("Bashkia Shkodër")
        await ledi.press("E-mail")
        await ledi.text("not an email")
        assert ledi.seen("That value is not valid here.")
        await ledi.text("zyra@example.org")
        assert "E-mail: zyra@example.org" in ledi.last.text
        await ledi.press("✔️ Done")
        [entry] = await _audit(harness, "authority.updated")
        assert entry.before == {"email": "info@bashkiashkoder.gov.al"}
        assert entry.after == {"email": "zyra@example.org"}

        csv_text = (
            "kind,name,coordinator_name,email,website\n"
            "municipality,Shkodër,Arben Hoxha,,https://bashkiashkoder.gov.al/\n"
            "municipality,Atlantis,X,,\n"
            "water_utility,Ujësjellës-Kanalizime Shkodër sh.a.,,info@uk-shkoder.al,\n"
        )
        await ledi.command("/import_authorities")
        await ledi.act(
            "send_document",
            file_name="authorities.csv",
            mime_type="text/csv",
            content=csv_text.encode("utf-8"),
        )
        assert ledi.seen("Import finished: 1 updated, 1 added, 0 unchanged.")
        assert ledi.seen("Line 3: unknown municipality Atlantis")
        async with harness.app.services.sessions() as session:
            shkoder = (
                await session.execute(select(Authority).where(Authority.name == "Shkodër"))
            ).scalar_one()
        assert shkoder.coordinator_name == "Arben Hoxha"
        assert shkoder.email == "zyra@example.org", "an empty cell keeps the value"

        await ledi.command("/closed_day", args="2026-12-24 Vendim i Këshillit të Ministrave")
        assert ledi.seen("24 December 2026 is now a closed day for all deadlines.")
        async with harness.app.services.sessions() as session:
            assert await session.get(ClosedDay, date(2026, 12, 24)) is not None
    finally:
        await harness.stop()


async def test_citizen_reports_a_wrong_contact(fake, database_url) -> None:
    fake.group(chat_id=-1005, title="Staff")
    harness = BotHarness(fake, database_url, staff_chat_id=-1005)
    await harness.start()
    try:
        arta = harness.person(language_code="en")
        await onboard_english(arta)
        await arta.command("/menu")
        await arta.press("⚖️ Right to information")
        await arta.press("✍️ Ask for information")
        await arta.press("Lezhë")
        await arta.press("Municipality of Kurbin")
        await arta.press("⚠️ This contact is wrong")
        assert arta.fake.callback_answers[-1]["text"].startswith("Thank you.")
        [entry] = await _audit(harness, "authority.contact_reported")
        assert entry.subject_type == "authority"
        assert "Bashkia Kurbin" in fake.chat_messages(-1005)[-1].text
        assert "2/5" in arta.last.text, "the builder goes on"
    finally:
        await harness.stop()


async def test_guide_pages_cite_their_articles(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/menu")
    await arta.press("⚖️ Right to information")
    await arta.press("📖 What is my right?")
    await arta.press("Your right")
    expected = [
        "art. 3",
        "art. 2",
        "art. 11",
        "art. 15",
        "art. 13",
        "art. 17",
        "art. 24",
        "art. 10",
    ]
    seen = []
    for index, article in enumerate(expected):
        assert article in arta.last.text, (index, arta.last.text)
        seen.append(arta.last.text)
        if index < len(expected) - 1:
            await arta.press("Next ➡️")
    assert "10 working days" in seen[3] and "counts as a refusal" in seen[3]
    assert "electronically is free" in seen[4]
    assert "30 working days" in seen[6] and "15 working days" in seen[6]
    assert "Next ➡️" not in arta.last.labels
    assert len(arta.messages) == 1, "the menu, contents and pages are one message edited in place"

"""Funded initiatives: an admin adds one through the buttons, edits a field, removes it; bad
input is refused with a clear message; forged buttons from others and from the admin refused;
the pure parts of the service (months, links) and the site's listing by municipality."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.transparency.services import initiatives as service
from db.models import AuditEntry, Authority, AuthorityKind, GrantBand, Initiative
from tests.harness import BotHarness, Person

ADMIN = 9610
ORGANISATION = "Qendra Rinore “Zëri i Hasit”"
TOPIC = "Monitorimi i buxhetit bashkiak me të rinjtë"


def _admin(bot: BotHarness) -> Person:
    return Person(bot, bot.fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))


def _toast(person: Person) -> str:
    return person.fake.callback_answers[-1].get("text") or ""


async def _rows(bot: BotHarness) -> list[Initiative]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Initiative))).scalars())


async def _audit(bot: BotHarness) -> list[AuditEntry]:
    async with bot.app.services.sessions() as session:
        found = await session.execute(
            select(AuditEntry)
            .where(AuditEntry.subject_type == "initiative")
            .order_by(AuditEntry.id)
        )
        return list(found.scalars())


async def _town(bot: BotHarness, name: str) -> Authority:
    async with bot.app.services.sessions() as session:
        found = await session.execute(
            select(Authority).where(
                Authority.kind == AuthorityKind.MUNICIPALITY, Authority.name == name
            )
        )
        return found.scalar_one()


async def _add(admin: Person) -> None:
    """The wizard from /initiatives to the preview, with every kind of wrong input on the way."""
    await admin.command("/initiatives")
    assert admin.last.text.startswith("No funded initiatives yet.")
    await admin.press("➕ Add initiative")
    assert admin.last.text == "Funded initiative. In which grant round was it funded?"
    await admin.text("1")
    assert admin.last.text == "Please use the buttons above."
    await admin.press("Round 1")
    await admin.text("x" * 201)
    assert admin.last.text == "That is longer than 200 characters. Please shorten it."
    await admin.text(ORGANISATION)
    await admin.press("Kukës")
    await admin.press("Municipality of Has")
    await admin.text(TOPIC)
    assert "for example 11/2026" in admin.last.text
    await admin.text("spring 2025")
    assert admin.last.text == "Type the month and year like 11/2026."
    await admin.text("13/2025")
    assert admin.last.text == "Type the month and year like 11/2026."
    await admin.text("03/2025")
    await admin.text("01/2025")
    assert (
        admin.last.text == "It cannot end before it starts (03/2025). Type a later month, or skip."
    )
    await admin.text("2/2026")
    assert admin.last.text == "How large is the grant? Only the band is published."
    await admin.press("€5,000–10,000")
    for bad in (
        "not a link",
        "ftp://example.org/x",
        "javascript:alert(1)",
        "https://",
        "www.x.org",
    ):
        await admin.text(bad)
        assert admin.last.text.startswith("That is not a web link."), bad
        assert "https://" in admin.last.text
    await admin.text("https://example.org/zeri-i-hasit")


async def test_add_edit_and_remove_an_initiative_through_the_buttons(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await _add(admin)
        preview = admin.last.text
        for part in (
            "Preview",
            ORGANISATION,
            "Round 1 · Municipality of Has",
            f"Topic: {TOPIC}",
            "Period: 03/2025 – 02/2026",
            "Grant: €5,000–10,000",
            "Link: https://example.org/zeri-i-hasit",
        ):
            assert part in preview, part
        await admin.press("✅ Save initiative")
        assert admin.last.text.startswith("Initiative saved.")
        has = await _town(bot, "Has")
        (row,) = await _rows(bot)
        assert (row.grant_round, row.organisation, row.municipality_id, row.topic) == (
            1,
            ORGANISATION,
            has.id,
            TOPIC,
        )
        assert (row.starts_on, row.ends_on) == (date(2025, 3, 1), date(2026, 2, 28))
        assert row.grant_band == GrantBand.FROM_5K_TO_10K
        assert row.link == "https://example.org/zeri-i-hasit"
        assert row.created_by_user_id is not None

        async with bot.app.services.sessions() as session:
            listed = await service.by_municipality(session)
        assert [i.id for i in listed[has.id]] == [row.id] and len(listed) == 1

        await admin.command("/initiatives")
        assert "Round 1" in admin.last.text and "Has: Qendra Rinore" in admin.last.text
        await admin.press(next(label for label in admin.last.labels if label.startswith("1 · Has")))
        assert admin.last.text.startswith(ORGANISATION)
        await admin.press("✏️ Edit")
        assert admin.last.text.startswith("Preview of your changes")
        await admin.press("✏️ Topic")
        await admin.text("Buxheti me pjesëmarrje në Krumë")
        assert "Topic: Buxheti me pjesëmarrje në Krumë" in admin.last.text
        await admin.press("✏️ Start")
        await admin.text("03/2026")  # after the end month: the end is asked again
        assert admin.messages[-2].text == (
            "The end month was before the new start: please give it again."
        )
        assert admin.last.text.startswith("When does it end?")
        await admin.press("Skip")
        assert "Period: from 03/2026" in admin.last.text
        await admin.press("✅ Save initiative")
        assert admin.last.text.startswith("Changes saved.")
        (row,) = await _rows(bot)
        assert row.topic == "Buxheti me pjesëmarrje në Krumë"
        assert (row.starts_on, row.ends_on) == (date(2026, 3, 1), None)
        assert row.organisation == ORGANISATION and row.link == "https://example.org/zeri-i-hasit"

        await admin.press("🗑 Remove")
        assert admin.last.text.startswith(f"Remove “{ORGANISATION}” (round 1)?")
        await admin.press("No, keep it")
        assert len(await _rows(bot)) == 1
        await admin.press("🗑 Remove")
        await admin.press("Yes, remove it")
        assert _toast(admin) == "Removed."
        assert await _rows(bot) == []
        assert admin.last.text.startswith("Removed.")

        entries = await _audit(bot)
        assert [e.action for e in entries] == [
            "initiative.created",
            "initiative.updated",
            "initiative.removed",
        ]
        assert entries[0].after["organisation"] == ORGANISATION
        assert entries[1].before == {
            "topic": TOPIC,
            "starts_on": "2025-03-01",
            "ends_on": "2026-02-28",
        }
        assert entries[1].after == {
            "topic": "Buxheti me pjesëmarrje në Krumë",
            "starts_on": "2026-03-01",
            "ends_on": None,
        }
        assert entries[2].before["grant_band"] == "5k_10k"
        assert all(e.actor_user_id == row.created_by_user_id for e in entries)
    finally:
        await bot.stop()


async def test_forged_buttons_are_refused(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = _admin(bot)
        await _add(admin)
        await admin.press("✅ Save initiative")
        (row,) = await _rows(bot)

        citizen = bot.person(language_code="en")
        await citizen.command("/start")
        await citizen.command("/initiatives")
        assert citizen.messages[-2].text == "I don't know that command."
        for data in (
            f"adm:in:show:{row.id}",
            f"adm:in:ed:{row.id}",
            f"adm:in:rm:{row.id}",
            f"adm:in:rmy:{row.id}",
            "adm:in:add",
            "adm:in:list",
        ):
            await citizen.press_data(data, message_id=citizen.last.message_id)
            assert _toast(citizen) == "This button is no longer active.", data
        assert [r.id for r in await _rows(bot)] == [row.id]
        assert not any(ORGANISATION in text for text in citizen.texts())

        # The admin's own forged or stale presses change nothing either.
        await admin.press_data("adm:in:rmy:999", message_id=admin.last.message_id)
        assert _toast(admin) == "This button is no longer active."
        await admin.command("/initiatives")
        await admin.press("➕ Add initiative")
        await admin.press_data("adm:in:gr:7", message_id=admin.last.message_id)
        assert _toast(admin) == "This button is no longer active."
        await admin.press("Round 2")
        await admin.text("Shoqata Tjetër")
        await admin.press("Shkodër")
        tirane = await _town(bot, "Tiranë")
        await admin.press_data(f"adm:in:m:{tirane.id}", message_id=admin.last.message_id)
        assert _toast(admin) == "This button is no longer active."
        assert admin.last.text == "Choose the municipality:"
        await admin.press("Municipality of Shkodër")
        assert admin.last.text.startswith("What is it about?")
        assert len(await _rows(bot)) == 1
    finally:
        await bot.stop()


def test_months_and_links() -> None:
    assert service.parse_month("03/2025") == date(2025, 3, 1)
    assert service.parse_month(" 3.2025 ") == date(2025, 3, 1)
    assert service.parse_month("2025-11") == date(2025, 11, 1)
    for bad in ("", "13/2025", "00/2025", "03/25", "03/1999", "march 2025", "03/2025/01"):
        assert service.parse_month(bad) is None, bad
    assert service.month_end(date(2024, 2, 1)) == date(2024, 2, 29)
    assert service.month_text(date(2025, 3, 1)) == "03/2025"
    assert service.valid_link(" https://example.org/a?b=1 ") == "https://example.org/a?b=1"
    assert service.valid_link("http://bashkiahas.gov.al") == "http://bashkiahas.gov.al"
    for bad in (
        "example.org",
        "https://",
        "https://localhost",
        "javascript:alert(1)",
        "ftp://example.org",
        "https://exa mple.org",
        'https://example.org/"onmouseover=x',
        "https://example.org/" + "a" * 500,
    ):
        assert service.valid_link(bad) is None, bad


def test_fields_refuse_what_the_wizard_never_produces() -> None:
    good = service.Fields(
        grant_round=1,
        organisation="Org",
        municipality_id=1,
        topic="Topic",
        starts_on=date(2025, 3, 1),
        ends_on=None,
        grant_band=GrantBand.UP_TO_5K,
        link=None,
    )
    good.check()
    for change in (
        {"grant_round": 4},
        {"organisation": " "},
        {"topic": "x" * 301},
        {"ends_on": date(2025, 2, 28)},
        {"link": "javascript:alert(1)"},
    ):
        with pytest.raises(ValueError):
            service.Fields(**{**good.__dict__, **change}).check()

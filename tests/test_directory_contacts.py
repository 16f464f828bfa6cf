"""Contacts from public sources: the 0016 migration and the start-up seed, staff edits win,
staff see source and checks and mark contacts verified, citizens get links or delivery advice."""

from __future__ import annotations

import csv
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bot.rti.services import contacts, directory
from db import migrate
from db.engine import create_engine, create_sessionmaker
from db.models import AuditEntry, Authority
from tests.databases import backends, fresh_database
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english, open_builder

ADMIN = 9001
COMMISSIONER = "Komisioneri për të Drejtën e Informimit dhe Mbrojtjen e të Dhënave Personale"
CURRENT_IDP_ADDRESS = "Rr. “Abdi Toptani”, Nd. 5, Kodi Postar 1001, Tiranë"
SHKODER_SOURCE = "https://bashkiashkoder.gov.al/standartet-dhe-procedurat-e-kerkeses/"
CONTACT_COLUMNS = ("website", "email", "rti_email", "postal_address", "phone", "contact_source")
BEFORE_0016 = "0015_wizard_step_ids"


async def _directory(url_or_harness: str | BotHarness) -> dict[tuple[str, str], Authority]:
    """Every authority by (kind, name)."""
    if isinstance(url_or_harness, BotHarness):
        sessions = url_or_harness.app.services.sessions
        async with sessions() as session:
            found = (await session.execute(select(Authority))).scalars().all()
    else:
        engine = create_engine(url_or_harness)
        try:
            async with create_sessionmaker(engine)() as session:
                found = (await session.execute(select(Authority))).scalars().all()
        finally:
            await engine.dispose()
    return {(a.kind.value, a.name): a for a in found}


async def _admin(harness: BotHarness, fake) -> Person:
    """An admin who has consented, in English."""
    ledi = Person(harness, fake.user(user_id=ADMIN, first_name="Ledi", language_code="en"))
    await ledi.command("/start")
    await ledi.press("✅ I agree")
    return ledi


async def test_the_directory_holds_exactly_the_shipped_contacts(bot: BotHarness) -> None:
    found = await _directory(bot)
    shipped = contacts.read_contacts()
    assert len(shipped) == 65
    for contact in shipped:
        authority = found[(contact.kind.value, contact.name)]
        for name in contacts.FIELDS:
            assert getattr(authority, name) == contact.values.get(name), (contact.name, name)
        assert authority.contact_source == contact.source
        assert authority.checked_on == date(2026, 12, 2)
    assert sum(a.contact_source is not None for a in found.values()) == len(shipped)

    shkoder = found[("municipality", "Shkodër")]
    assert shkoder.email == "info@bashkiashkoder.gov.al"
    assert shkoder.website == "https://bashkiashkoder.gov.al/"
    assert shkoder.postal_address.startswith("Bashkia Shkodër, rruga “13 Dhjetori”")
    klos = found[("municipality", "Klos")]
    assert klos.request_email == "aurel.cira@bashkiaklos.gov.al", "the coordinator first"
    idp = found[("other", COMMISSIONER)]
    assert idp.postal_address == CURRENT_IDP_ADDRESS
    assert "Kavaj" not in idp.postal_address and idp.email == "info@idp.al"
    assert found[("municipality", "Fushë-Arrëz")].contact_source is None, "not in the sources"

    prefectures = {a.name: a.qark for a in found.values() if a.kind == "prefecture"}
    assert prefectures == {
        "Prefekti i Qarkut Shkodër": "Shkodër",
        "Prefekti i Qarkut Kukës": "Kukës",
        "Prefekti i Qarkut Dibër": "Dibër",
    }
    assert found[("other", "Këshilli i Qarkut Lezhë")].qark == "Lezhë"
    assert len([a for a in found.values() if a.kind == "municipality"]) == 61

    await bot.restart()
    again = await _directory(bot)
    assert len(again) == len(found), "seeding twice adds nothing"


async def _old_directory(engine, staff_email: str) -> None:
    """What a database at 0015 holds: every shipped authority, one staff edit of Shkodër."""
    now = datetime(2026, 12, 1, tzinfo=UTC)
    insert = text(
        "INSERT INTO authorities (kind, name, qark, seat, in_programme, units, email, website, "
        "created_at, updated_at) VALUES (:kind, :name, :qark, :seat, :in_programme, :units, "
        ":email, :website, :now, :now)"
    )
    async with engine.begin() as conn:
        for row in directory.read_municipalities():
            await conn.execute(
                insert,
                {
                    "kind": "municipality",
                    "name": row["municipality"],
                    "qark": row["qark"],
                    "seat": row["seat"] or None,
                    "in_programme": row["pact"] == "yes",
                    "units": row["administrative_units"] or None,
                    "email": staff_email if row["municipality"] == "Shkodër" else None,
                    "website": None,
                    "now": now,
                },
            )
        with directory.AUTHORITIES_CSV.open(encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                await conn.execute(
                    insert,
                    {
                        "kind": "other",
                        "name": row["name"],
                        "qark": None,
                        "seat": None,
                        "in_programme": False,
                        "units": None,
                        "email": row["email"] or None,
                        "website": row["website"] or None,
                        "now": now,
                    },
                )
        shkoder = (
            await conn.execute(text("SELECT id FROM authorities WHERE name = 'Shkodër'"))
        ).scalar_one()
        await conn.execute(
            text(
                "INSERT INTO audit_log (at, actor_kind, action, subject_type, subject_id, "
                "before, after) VALUES (:now, 'staff', 'authority.updated', 'authority', :id, "
                ":before, :after)"
            ),
            {
                "now": now,
                "id": shkoder,
                "before": json.dumps({"email": None}),
                "after": json.dumps({"email": staff_email}),
            },
        )


@pytest.mark.parametrize("backend", backends())
async def test_migration_seeds_like_a_fresh_start_and_keeps_staff_edits(
    backend: str, tmp_path: Path
) -> None:
    staff_email = "zyra@example.org"
    url = await fresh_database(backend, tmp_path)
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine, BEFORE_0016)
        await _old_directory(engine, staff_email)
        await migrate.upgrade(engine)
        upgraded = await _directory(url)
        shkoder = upgraded[("municipality", "Shkodër")]
        assert shkoder.email == staff_email, "the staff edit wins over the seed"
        assert shkoder.staff_fields == ["email"]
        assert shkoder.website == "https://bashkiashkoder.gov.al/"
        assert shkoder.contact_source.startswith(SHKODER_SOURCE)
        assert upgraded[("municipality", "Lezhë")].email == "info@lezha.gov.al"
        assert upgraded[("other", COMMISSIONER)].postal_address == CURRENT_IDP_ADDRESS
        assert upgraded[("prefecture", "Prefekti i Qarkut Kukës")].qark == "Kukës"

        async with create_sessionmaker(engine)() as session:
            assert await directory.seed(session, datetime(2026, 12, 3, tzinfo=UTC)) == 0
            await session.commit()
        reseeded = await _directory(url)
        assert reseeded[("municipality", "Shkodër")].email == staff_email
        fresh_start = {
            key: {c: getattr(a, c) for c in CONTACT_COLUMNS} for key, a in reseeded.items()
        }

        await migrate.downgrade(engine, BEFORE_0016)
        async with engine.connect() as conn:
            kinds = set(
                (await conn.execute(text("SELECT DISTINCT kind FROM authorities"))).scalars()
            )
        assert kinds == {"municipality", "other"}, "older code knows no prefectures"
    finally:
        await engine.dispose()

    url = await fresh_database(backend, tmp_path / "fresh")
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
        async with create_sessionmaker(engine)() as session:
            await directory.seed(session, datetime(2026, 12, 3, tzinfo=UTC))
            await session.commit()
    finally:
        await engine.dispose()
    fresh = await _directory(url)
    assert set(fresh) == set(fresh_start)
    for key, authority in fresh.items():
        expected = dict(fresh_start[key])
        if key == ("municipality", "Shkodër"):
            expected["email"] = "info@bashkiashkoder.gov.al"
        assert {c: getattr(authority, c) for c in CONTACT_COLUMNS} == expected, key


async def test_a_staff_edit_survives_restarts(fake, database_url) -> None:
    harness = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await harness.start()
    try:
        ledi = await _admin(harness, fake)
        await ledi.command("/authority", args="shkoder")
        await ledi.press("Bashkia Shkodër")
        await ledi.press("Phone")
        await ledi.text("+355 22 000 000")
        await ledi.press("Postal address")
        await ledi.text("-")
        assert "Set by staff: Phone, Postal address" in ledi.last.text
        await harness.restart()
        shkoder = (await _directory(harness))[("municipality", "Shkodër")]
        assert shkoder.phone == "+355 22 000 000"
        assert shkoder.postal_address is None, "a field staff cleared stays cleared"
        assert shkoder.email == "info@bashkiashkoder.gov.al"
    finally:
        await harness.stop()


async def test_staff_see_the_source_and_mark_the_contacts_verified(fake, database_url) -> None:
    harness = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await harness.start()
    try:
        ledi = await _admin(harness, fake)
        await ledi.command("/authority", args="shkoder")
        await ledi.press("Bashkia Shkodër")
        card = ledi.last
        assert f"Source: {SHKODER_SOURCE}" in card.text
        assert "Last checked: 2 December 2026" in card.text
        assert "Not verified by staff yet." in card.text
        assert "RTI coordinator: not known yet" in card.text, "staff see the gaps to fill"

        shkoder_id = (await _directory(harness))[("municipality", "Shkodër")].id
        arta = harness.person(language_code="en")
        await onboard_english(arta)
        await arta.press_data(f"adm:verify:{shkoder_id}", message_id=arta.last.message_id)
        assert arta.seen("That button is no longer active.")

        await ledi.press("✅ Mark the contacts verified", message=card)
        assert ledi.seen("Marked verified.")
        assert "✅ Verified by Admin" in ledi.last.text
        async with harness.app.services.sessions() as session:
            [entry] = (
                (
                    await session.execute(
                        select(AuditEntry).where(AuditEntry.action == "authority.verified")
                    )
                )
                .scalars()
                .all()
            )
            shkoder = await session.get(Authority, entry.subject_id)
            admin = await harness.user_row(ledi)
        assert shkoder.name == "Shkodër" and entry.actor_user_id == admin.id
        assert shkoder.verified_by_user_id == admin.id and shkoder.verified_at is not None
    finally:
        await harness.stop()


async def test_citizens_get_mailto_links_or_how_to_deliver(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    card = arta.messages[-2]
    links = [e["url"] for e in card.entities if e["type"] == "text_link"]
    assert "mailto:info@bashkiashkoder.gov.al" in links
    assert "https://bashkiashkoder.gov.al/" in links
    assert "not known yet" not in card.text
    assert "No e-mail is known" not in card.text

    await arta.press("⬅️ Back")
    await arta.text("tropoje")
    await arta.press("Municipality of Tropojë")
    advice = arta.messages[-2].text
    assert "No e-mail is known for this authority." in advice
    assert "protocol office" in advice
    assert "by post to Bashkia Tropoje, Sheshi “Azem Hajdari”, Bajram Curri , 8701" in advice
    assert "Pyet Shtetin, https://www.pyetshtetin.al" in advice


async def test_a_water_utility_can_be_imported_with_its_kind(fake, database_url) -> None:
    harness = BotHarness(fake, database_url, admin_ids=frozenset({ADMIN}))
    await harness.start()
    try:
        ledi = await _admin(harness, fake)
        await ledi.command("/import_authorities")
        await ledi.act(
            "send_document",
            file_name="authorities.csv",
            mime_type="text/csv",
            content=b"kind,name,website\nwater_utility,Test utility,https://example.org\n",
        )
        assert ledi.seen("Import finished: 0 updated, 1 added, 0 unchanged.")
        found = await _directory(harness)
        assert found[("water_utility", "Test utility")].staff_fields == ["website"]
    finally:
        await harness.stop()

"""/privacy (consents, withdrawal, download, erasure) and the language choice across restarts."""

from __future__ import annotations

import json

from sqlalchemy import select

from db.models import AuditEntry
from tests.harness import BotHarness, Person


async def onboard(person: Person, agree: str = "✅ Pajtohem") -> None:
    """Consent, then skip the optional questions."""
    await person.command("/start")
    await person.press(agree)
    await person.press("Kalojeni" if "Pajtohem" in agree else "Skip")
    await person.press("Kalojeni" if "Pajtohem" in agree else "Skip")


async def test_language_switch_survives_a_restart(bot: BotHarness) -> None:
    arta = bot.person(language_code="sq")
    await onboard(arta)
    await arta.command("/language")
    await arta.press("🇬🇧 English")
    assert arta.seen("Language set to English.")
    assert "Main menu" in arta.last.text

    await bot.restart()
    await arta.command("/menu")
    assert "Main menu" in arta.last.text
    user = await bot.user_row(arta)
    assert user is not None and user.language == "en"


async def test_privacy_lists_consents_and_withdraws_one(bot: BotHarness) -> None:
    arta = bot.person()
    await onboard(arta)
    await arta.command("/privacy")
    screen = arta.last
    assert (
        "✅ Ruajtja dhe trajtimi i kërkesave dhe raportimeve tuaja: dhënë më 23 nëntor 2026"
        in screen.text
    )
    assert "⬜ Marrja e mesazheve të fushatave: nuk është dhënë" in screen.text

    await arta.press("Jepni pëlqimin: mesazhet e fushatave")
    assert "Pëlqimi u dha: mesazhet e fushatave." in arta.last.text
    await arta.press("Tërhiqni pëlqimin: mesazhet e fushatave")
    assert "Pëlqimi u tërhoq: mesazhet e fushatave." in arta.last.text
    assert "⬜ Marrja e mesazheve të fushatave" in arta.last.text

    consents = {c.purpose: c for c in await bot.consents(arta)}
    assert consents["campaigns"].withdrawn_at is not None
    assert consents["cases"].withdrawn_at is None

    await arta.press("Tërhiqni pëlqimin: kërkesat dhe raportimet")
    user = await bot.user_row(arta)
    assert user is not None and user.onboarded_at is None and user.age_band is None
    await arta.press("Jepni pëlqimin: mesazhet e fushatave")
    assert arta.seen("Së pari pranoni njoftimin për privatësinë.")
    async with bot.app.services.sessions() as session:
        actions = [
            row.action
            for row in (await session.execute(select(AuditEntry).order_by(AuditEntry.id))).scalars()
        ]
    assert actions == ["consent.given", "consent.given", "consent.withdrawn", "consent.withdrawn"]


async def test_download_and_delete_my_data(bot: BotHarness) -> None:
    arta = bot.person()
    await onboard(arta)
    await arta.command("/privacy")
    await arta.press("⬇️ Shkarkoni të dhënat")
    document = arta.last.document
    assert document["file_name"] == "pact-my-data.json"
    data = json.loads(document["content"])
    assert data["telegram_id"] == arta.fake.user_id
    assert data["consents"][0]["purpose"] == "cases"
    assert data["information_requests"] == []

    await arta.command("/privacy")
    await arta.press("🗑 Fshini të dhënat")
    await arta.press("Po, fshijini të gjitha")
    assert arta.seen("I fshimë të gjitha të dhënat tuaja.")
    assert await bot.user_row(arta) is None
    assert await bot.consents(arta) == []


async def test_privacy_without_any_data(bot: BotHarness) -> None:
    arta = bot.person()
    await arta.command("/privacy")
    assert "Nuk ruajmë asnjë të dhënë për ju" in arta.last.text
    await arta.press("📄 Njoftimi i plotë për privatësinë")
    assert "Ligji 124/2024" in arta.last.text
    await arta.press("✅ Pajtohem")
    assert "Sa vjeç jeni?" in arta.last.text

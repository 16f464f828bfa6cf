"""/start in both languages, consent given and refused, age band and role, under-16 use."""

from __future__ import annotations

from bot.account.services.consent import NOTICE_VERSION
from tests.harness import BotHarness

MENU_SQ = "Menyja kryesore"


async def test_start_in_albanian_stores_nothing_before_consent(bot: BotHarness) -> None:
    arta = bot.person(language_code="sq")
    await arta.command("/start")
    notice = arta.last
    assert "Mirë se vini" in notice.text
    assert "Privatësia juaj" in notice.text
    assert "info@idp.al" in notice.text
    assert notice.labels == [
        "✅ Pajtohem",
        "Jo, faleminderit",
        "📄 Njoftimi i plotë për privatësinë",
        "🇬🇧 English",
    ]
    assert await bot.user_row(arta) is None


async def test_start_in_english_for_english_telegram(bot: BotHarness) -> None:
    john = bot.person(language_code="en-GB", first_name="John")
    await john.command("/start")
    assert "Welcome!" in john.last.text
    assert "✅ I agree" in john.last.labels
    assert "🇦🇱 Shqip" in john.last.labels


async def test_switch_language_on_the_notice_redraws_it(bot: BotHarness) -> None:
    arta = bot.person(language_code="sq")
    await arta.command("/start")
    await arta.press("🇬🇧 English")
    assert len(arta.messages) == 1, "the notice is redrawn in place"
    assert "Welcome!" in arta.last.text
    assert await bot.user_row(arta) is None, "a language switch alone stores nothing"


async def test_consent_age_and_role_are_stored(bot: BotHarness) -> None:
    arta = bot.person(language_code="sq")
    await arta.command("/start")
    await arta.press("✅ Pajtohem")
    assert "Pëlqimi juaj u regjistrua" in arta.messages[0].text
    assert arta.messages[0].labels == [], "the answered notice loses its buttons"
    assert "Sa vjeç jeni?" in arta.last.text
    await arta.press("18–29")
    assert "aktivist" in arta.last.text
    await arta.press("Aktivist/e rinor/e")
    assert MENU_SQ in arta.last.text

    user = await bot.user_row(arta)
    assert user is not None
    assert (user.language, user.age_band, user.role) == ("sq", "18_29", "activist")
    assert user.onboarded_at == bot.clock.now()
    [consent] = await bot.consents(arta)
    assert (consent.purpose, consent.notice_version) == ("cases", NOTICE_VERSION)
    assert consent.given_at == bot.clock.now() and consent.withdrawn_at is None

    await arta.command("/start")
    assert "Mirë se u kthyet" in arta.texts()[-2]


async def test_skipping_age_and_role_is_fine(bot: BotHarness) -> None:
    arta = bot.person()
    await arta.command("/start")
    await arta.press("✅ Pajtohem")
    await arta.press("Kalojeni")
    await arta.press("Kalojeni")
    assert MENU_SQ in arta.last.text
    user = await bot.user_row(arta)
    assert user is not None and user.role is None and user.onboarded_at is not None


async def test_refusal_is_remembered_and_public_help_still_works(bot: BotHarness) -> None:
    arta = bot.person()
    await arta.command("/start")
    await arta.press("Jo, faleminderit")
    assert arta.seen("Nuk ruajmë asgjë për ju përveç kësaj zgjedhjeje")
    user = await bot.user_row(arta)
    assert user is not None
    assert user.privacy_refused_at is not None
    assert (user.age_band, user.role, user.onboarded_at) == (None, None, None)
    assert await bot.consents(arta) == []

    await arta.press("❓ Ndihmë")
    assert "Ligji 119/2014" in arta.last.text


async def test_under_16_gets_anonymous_only_use(bot: BotHarness) -> None:
    ana = bot.person()
    await ana.command("/start")
    await ana.press("✅ Pajtohem")
    await ana.press("Nën 16 vjeç")
    assert ana.seen("pëlqimin e prindit ose të kujdestarit")
    assert MENU_SQ in ana.last.text
    user = await bot.user_row(ana)
    assert user is not None and user.age_band == "under_16" and user.role is None
    [consent] = await bot.consents(ana)
    assert consent.withdrawn_at is not None, "a minor's own consent does not stand"


async def test_full_notice_is_available_before_deciding(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/start")
    await arta.press("📄 Full privacy notice")
    text = arta.last.text
    for fact in ("Law 124/2024", "info@idp.al", "ANTTARC", "Under 16", "24 months"):
        assert fact in text
    await arta.press("✅ I agree")
    assert (await bot.user_row(arta)) is not None

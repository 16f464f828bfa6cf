"""Issue 13, flows: the age band in /privacy, consent mid-request, the similar-case offer,
/cancel's words, list labels cut at a word, the location button, every other public body."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.core.i18n import shorten
from bot.kit.ui import PHONE_WIDTH, list_label, rows_of
from db.models import AuditEntry, CaseStatus, Identification, RequestStatus, RtiRequest
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english, open_builder
from tests.test_reports import _report_lighting
from tests.test_sealed_following import SAME, _change, _other_case

OFFER = "Similar open cases"


# --- 7. every public body that is not a municipality ----------------------------------------


async def test_other_public_bodies_list_prefectures_and_water_utilities(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
    await arta.press("Other public body")
    labels = arta.last.labels
    assert any(label.startswith("Prefekti i Qarkut") for label in labels), labels
    assert any(label.startswith("Këshilli i Qarkut") for label in labels), labels
    assert not any(label.startswith("Municipality of") for label in labels)


# --- 4. /cancel says what was discarded -------------------------------------------------------


async def test_cancel_names_the_discarded_draft(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
    await arta.press("✖️ Cancel")
    assert arta.seen("Your draft request was discarded.")
    assert not arta.seen("Nothing from that step was saved")

    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("Shkodër")
    await arta.command("/cancel")
    assert arta.seen("Your draft report was discarded.")
    await arta.command("/cancel")
    assert arta.seen("There is nothing to cancel.")


# --- 3. the similar-case offer ----------------------------------------------------------------


async def test_offer_skips_ones_own_case(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    mine = await _other_case(bot, arta, Identification.NAMED)
    await _report_lighting(arta, "👤 Named")
    assert OFFER not in arta.last.text and mine.reference not in arta.last.text


async def test_offer_skips_a_case_whose_reporter_erased_herself(bot: BotHarness) -> None:
    besa = bot.person(language_code="en", first_name="Besa")
    await onboard_english(besa)
    erased = await _other_case(bot, besa, Identification.NAMED)
    await besa.command("/privacy")
    await besa.press("🗑 Delete my data")
    await besa.press("Yes, delete everything")
    again = bot.person(language_code="en", first_name="Besa")  # perhaps Besa herself, anew
    await onboard_english(again)
    await _report_lighting(again, "👤 Named")
    assert OFFER not in again.last.text and erased.reference not in again.last.text


async def test_offer_skips_a_case_one_already_follows(bot: BotHarness) -> None:
    cora = bot.person(language_code="en", first_name="Cora")
    await onboard_english(cora)
    dren = bot.person(language_code="en", first_name="Dren")
    await onboard_english(dren)
    theirs = await _other_case(bot, cora, Identification.NAMED)
    await _report_lighting(dren, "👤 Named")
    assert OFFER in dren.last.text and theirs.reference in dren.last.text
    await dren.press(SAME.format(reference=theirs.reference))
    assert dren.seen(f"You now follow case {theirs.reference}.")
    await _report_lighting(dren, "👤 Named")
    assert OFFER not in dren.last.text and theirs.reference not in dren.last.text


async def test_offer_never_shows_an_empty_summary(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    besa = bot.person(language_code="en", first_name="Besa")
    await onboard_english(besa)
    theirs = await _other_case(bot, besa, Identification.NAMED)
    await _report_lighting(arta, "👤 Named")
    offer = arta.last.text
    assert OFFER in offer
    line = next(line for line in offer.splitlines() if theirs.reference in line)
    assert " ·  · " not in line and not line.endswith("· ")
    assert "Street lighting" in line and "Municipality of Shkodër" in line

    await _change(bot, theirs.id, CaseStatus.RESOLVED, None)
    await bot.restart()
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("▶️ Continue")
    assert "no longer open" in arta.last.text and theirs.reference not in arta.last.text
    assert "Same problem" not in " ".join(arta.last.labels)
    await arta.press("📨 Send")
    assert arta.seen("PACT-2026-00002")


# --- 5. labels cut at a word boundary ---------------------------------------------------------


def test_shorten_cuts_at_a_word_with_an_ellipsis() -> None:
    assert shorten("e dërguar, në pritje të përgjigjes", 30) == "e dërguar, në pritje të…"
    assert shorten("Rrugët vendore dhe trotuaret", 24) == "Rrugët vendore dhe…"
    assert shorten("sent, waiting for the answer", 20) == "sent, waiting for…"
    assert shorten("#3 · Municipality of Shkodër · sent", 31) == "#3 · Municipality of Shkodër…"
    assert shorten("short", 30) == "short"
    assert shorten("Ujësjellësikanalizime", 10) == "Ujësjellë…", "one long word: cut inside it"
    assert shorten("e dërguar, në pritje", 12) == "e dërguar…", "no comma before the dots"
    assert shorten("#3 · Municipality of Shkodër · sent", 31) == "#3 · Municipality of Shkodër…"


async def _audit_actions(bot: BotHarness) -> list[str]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(AuditEntry.action))).scalars())


# --- 1. a mis-tapped age band is corrected in /privacy ----------------------------------------


async def test_a_mistapped_under_16_is_corrected_in_privacy(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/start")
    await arta.press("✅ I agree")
    await arta.press("Under 16")
    assert arta.seen("report problems or corruption anonymously")
    assert not arta.seen("when it opens"), "anonymous reports are open: the text is current"
    assert arta.seen("change it in /privacy")

    await arta.command("/privacy")
    assert "Age: Under 16" in arta.last.text
    await arta.press("✏️ Change my age")
    await arta.press("18–29")
    assert "Your age is now: 18–29." in arta.last.text
    assert "You can now give your consents below." in arta.last.text
    await arta.press("Give: requests and reports")
    assert "Consent given: requests and reports." in arta.last.text
    assert "Age: 18–29" in arta.last.text
    user = await bot.user_row(arta)
    assert user is not None and user.age_band == "18_29"
    assert [c.purpose for c in await bot.consents(arta) if c.withdrawn_at is None] == ["cases"]
    assert "user.age_band" in await _audit_actions(bot)


async def test_becoming_under_16_in_privacy_withdraws_every_consent(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/start")
    await arta.press("✅ I agree")
    await arta.press("18–29")
    await arta.press("Youth activist")
    await arta.command("/privacy")
    await arta.press("Give: campaign messages")
    await arta.press("✏️ Change my age")
    await arta.press("Under 16")
    text = arta.last.text
    assert "Your age is now: Under 16." in text and "parent's or guardian's consent" in text
    assert "✅" not in text and "Give: requests and reports" in arta.last.labels
    assert all(c.withdrawn_at is not None for c in await bot.consents(arta))
    user = await bot.user_row(arta)
    assert user is not None and user.age_band == "under_16" and user.role is None
    actions = await _audit_actions(bot)
    assert "user.age_band" in actions and "consent.withdrawn" in actions

    await arta.press("Give: requests and reports")
    assert arta.seen("Under 16, a parent's or guardian's consent is needed.")


# --- 2. consenting in the middle of a request does not drop it --------------------------------


async def test_consenting_from_the_request_goes_on_with_it(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/start")
    await arta.press("No, thanks")
    await open_builder(arta)
    assert arta.seen("Please agree to the privacy notice first.")
    await arta.press("✅ I agree")
    await arta.press("18–29")
    await arta.press("Skip")
    assert "You can go on where you were." in arta.last.text
    await arta.press("✍️ Continue your request")
    assert "1/5 · Which authority?" in arta.last.text


async def test_the_draft_and_its_step_survive_consent_given_again(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await open_builder(arta)
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    await arta.text("The 2026 budget of the municipality and its annexes.")
    assert "format" in arta.last.text
    await arta.command("/privacy")
    await arta.press("Withdraw: requests and reports")
    await open_builder(arta)
    assert arta.seen("Please agree to the privacy notice first.")
    await arta.press("✅ I agree")
    await arta.press("30 or older")
    await arta.press("Skip")
    await arta.press("✍️ Continue your request")
    assert "You have a request in progress" in arta.last.text
    await arta.press("▶️ Continue")
    assert "format" in arta.last.text
    await arta.press("📧 Electronic copy")
    await arta.press("📧 E-mail")
    await arta.text("arta@example.com")
    await arta.text("Arta Kelmendi")
    assert "The 2026 budget of the municipality" in arta.last.text, "the preview has it all"


async def test_under_16_after_consent_is_not_offered_the_request(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/start")
    await arta.press("No, thanks")
    await open_builder(arta)
    await arta.press("✅ I agree")
    await arta.press("Under 16")
    assert not any("Continue your request" in m for m in arta.last.labels)
    assert bot.app.user_data.get(arta.fake.user_id, {}).get("after_consent") is None


# --- 6. a "📍 Send my location" button where the report asks for the place ---------------------


async def _to_location_step(person: Person) -> None:
    """A street-lighting report in Shkodër up to "Where exactly?"."""
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Velipojë")
    await person.press("Street lighting")
    await person.text("The street lights on the main road have been off for two weeks.")


def _removes_keyboard(message: Any) -> bool:
    return bool((message.reply_markup or {}).get("remove_keyboard"))


async def test_location_button_opens_and_closes(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _to_location_step(arta)
    keys, question = arta.messages[-2:]
    assert question.text.startswith("Where exactly?") and "📎 → Location" not in question.text
    assert keys.reply_keyboard == [["📍 Send my location"]]
    button = keys.reply_markup["keyboard"][0][0]
    assert button["request_location"] is True and keys.reply_markup["one_time_keyboard"] is True

    await arta.act("send_location", 41.8667, 19.4167)
    received = next(m for m in arta.messages if m.text == "📍 Location received.")
    assert _removes_keyboard(received)
    assert arta.last.text.startswith("Photos?")

    await arta.press("⬅️ Back")  # asked again: the button comes back
    assert arta.messages[-2].reply_keyboard == [["📍 Send my location"]]
    await arta.press("Skip")
    closed = arta.messages[-2]
    assert closed.text == "📍 No location sent." and _removes_keyboard(closed)
    assert arta.last.text.startswith("Photos?")


async def test_a_typed_place_and_cancel_close_the_location_button(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _to_location_step(arta)
    await arta.text("Next to the school")
    noted = arta.messages[-2]
    assert noted.text == "📍 Place noted." and _removes_keyboard(noted)
    await arta.press("⬅️ Back")
    await arta.press("✖️ Cancel")
    cancelled = next(m for m in reversed(arta.messages) if "discarded" in (m.text or ""))
    assert cancelled.text == "Your draft report was discarded." and _removes_keyboard(cancelled)


async def test_the_location_question_in_albanian_has_no_english_hint(bot: BotHarness) -> None:
    drita = bot.person(language_code="sq")
    await drita.command("/start")
    await drita.press("✅ Pajtohem")
    await drita.press("Kalojeni")
    await drita.press("Kalojeni")
    await drita.command("/menu")
    await drita.press("🛠 Raportoni problem me shërbimet")
    await drita.press("Shkodër")
    await drita.press("Bashkia Shkodër")
    await drita.press("Velipojë")
    await drita.press(drita.last.labels[0])
    await drita.text("Dritat e rrugës kryesore janë fikur prej dy javësh.")
    assert "Location)" not in drita.last.text and "📍" in drita.last.text


def test_list_labels_fit_a_phone_and_long_buttons_get_their_own_row() -> None:
    line = "#3 · Bashkia Shkodër · e dërguar, në pritje të përgjigjes"
    assert list_label(line) == "#3 · Bashkia Shkodër · e dërguar, në pritje të…"
    assert list_label("Rrugët vendore dhe trotuaret", per_row=2) == "Rrugët vendore dhe…"
    buttons = [("Ndriçimi", "a"), ("Rrugët vendore dhe trotuaret", "b"), ("Uji", "c"), ("X", "d")]
    assert rows_of(buttons) == [[buttons[0]], [buttons[1]], [buttons[2], buttons[3]]]


async def test_lists_on_an_albanian_phone_are_cut_at_a_word(bot: BotHarness) -> None:
    drita = bot.person(language_code="sq")
    await drita.command("/start")
    await drita.press("✅ Pajtohem")
    await drita.press("Kalojeni")
    await drita.press("Kalojeni")
    await drita.command("/menu")
    await drita.press("🛠 Raportoni problem me shërbimet")
    await drita.press("Shkodër")
    await drita.press("Bashkia Shkodër")
    await drita.press("Velipojë")
    for row in drita.last.buttons:  # the categories: shared rows are never cut by a phone
        assert len(row) == 1 or all(len(label) <= PHONE_WIDTH // len(row) for label in row), row
    assert ["Rrugët vendore dhe trotuaret"] in drita.last.buttons

    await drita.command("/cancel")
    await drita.command("/menu")
    await drita.press("⚖️ E drejta për informim")
    await drita.press("✍️ Kërkoni informacion")
    await drita.text("mirdite")
    await drita.press("Bashkia Mirditë")
    await drita.text("Procesverbalet e mbledhjeve të këshillit bashkiak në vitin 2026.")
    await drita.press("📧 Kopje elektronike")
    await drita.press("📧 E-mail")
    await drita.text("drita@example.com")
    await drita.text("Drita Marku")
    await drita.press("✅ Krijoni kërkesën")
    async with bot.app.services.sessions() as session, session.begin():
        [request] = (await session.execute(select(RtiRequest))).scalars()
        request.status = RequestStatus.SENT
    await drita.command("/menu")
    await drita.press("⚖️ E drejta për informim")
    await drita.press("📋 Kërkesat e mia")
    [line] = [label for label in drita.last.labels if label.startswith("#")]
    assert line == "#1 · Mirditë · e dërguar, pret përgjigjen", "name and status whole"

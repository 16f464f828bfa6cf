"""Typed text is text: `<b>&amp;"'`, "Q&A" and a URL with `&` go through every field people and
staff type, Telegram (the fake, which parses HTML like Telegram) accepts every message, and
people read the characters they typed, never markup and never escaped twice."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.broadcasting.sender import plain_title
from bot.core.i18n import Translator, escaped_within, join_lines, plain, shorten
from bot.core.jobs import send_broadcasts
from fakeapi import FakeTelegram
from tests import staff_steps as steps
from tests.campaign_steps import follower
from tests.harness import BotHarness, Person
from tests.rti_steps import build_request, onboard_english, sent_on

PROBE = "<b>&amp;\"'"
QA = "Q&A"
URL = "https://example.org/?a=1&b=2"
ESCAPED = ("&lt;", "&gt;", "&amp;amp;", "&quot;", "&#34;", "&#39;", "&#x27;")
"""What text escaped once too often (or shown as HTML source) looks like to a reader."""
TIRANA = ZoneInfo("Europe/Tirane")


def _refusals(fake: FakeTelegram) -> list[str]:
    """Bot API calls the fake refused (an edit to the same content is expected and harmless)."""
    return [
        f"{call.method}: {call.result_or_error.description}"
        for call in fake.calls
        if not call.ok
        and call.method != "getUpdates"
        and "message is not modified" not in call.result_or_error.description
    ]


def _shown(fake: FakeTelegram) -> list[str]:
    """Everything people can read: message texts and captions, button labels, toasts."""
    shown: list[str] = []
    for chat in fake.state.chats.values():
        for message in chat.bot_messages():
            shown.append(message.text or "")
            shown.extend(message.labels)
    for call in fake.calls_to("answerCallbackQuery"):
        shown.append(call.params.get("text") or "")
    return shown


def _check(fake: FakeTelegram) -> None:
    """No send refused, nothing typed shown as markup or escaped twice."""
    assert _refusals(fake) == []
    twice = [text for text in _shown(fake) if any(mark in text for mark in ESCAPED)]
    assert twice == []


def _seen_literally(person: Person, *fragments: str) -> None:
    """The newest message shows each fragment exactly as typed."""
    for fragment in fragments:
        assert fragment in person.last.text, (fragment, person.last.text)


async def _press_data(person: Person, prefix: str) -> None:
    """Press the newest button whose callback data starts with `prefix`."""
    for message in reversed(person.messages):
        for label in message.labels:
            if (message.button_data(label) or "").startswith(prefix):
                await person.press(label, message=message)
                return
    raise LookupError(prefix)


def test_translations_escape_values_and_trust_their_template() -> None:
    t = Translator("en", _NullCatalog(), TIRANA)
    text = t.gettext("<b>{name}</b> asked {what}", name=PROBE, what=t.gettext("<i>this</i>"))
    assert text == "<b>&lt;b&gt;&amp;amp;&#34;&#39;</b> asked <i>this</i>"
    assert plain(t.gettext("Stop {title}?", title=QA)) == "Stop Q&A?"
    assert shorten("one two three four", 12) == "one two…"
    assert shorten("short", 12) == "short"
    assert escaped_within("a&b c&d e&f", 12) == "a&amp;b c…"
    assert plain_title(escaped_within(PROBE, 100)) == PROBE
    lines = join_lines(["a & b", t.gettext("<b>bold</b>"), "x" * 50], limit=30)
    assert lines == "a &amp; b\n<b>bold</b>\n…"


class _NullCatalog:
    """Message ids as their own translation."""

    def gettext(self, message: str) -> str:
        return message

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return singular if count == 1 else plural


async def test_reports_and_casework_show_typed_text_literally(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {steps.WORKER} caseworker {PROBE}")
        assert PROBE in admin.last.text
        worker = steps.person(bot, steps.WORKER, "Besnik")
        await worker.command("/start")

        arta = bot.person(language_code="en", first_name=PROBE, last_name=QA)
        await onboard_english(arta)
        await arta.command("/menu")
        await arta.press("🛠 Report a service problem")
        await arta.text(PROBE)
        assert PROBE in arta.last.text, "the search answer quotes what was typed"
        await arta.press("Shkodër")
        await arta.press("Municipality of Shkodër")
        await arta.text(f"{QA} {PROBE}")
        await arta.press("✔️ Yes, that is the place")
        await arta.press("Street lighting")
        await arta.text(f"Lights off {PROBE} {QA}")
        await arta.text(f"Near {PROBE}")
        await arta.press("✔️ Done")
        await arta.press("👤 Named")
        _seen_literally(arta, f"Lights off {PROBE} {QA}", f"Near {PROBE}", f"{QA} {PROBE}")
        await arta.press("📨 Send")

        await steps.press_in_group(bot, worker, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        card = await fake.wait_until(
            lambda: "Street lighting" in worker.last.text and worker.last.text
        )
        for typed in (f"Lights off {PROBE} {QA}", f"📍 Near {PROBE}", f"{QA} {PROBE}", PROBE):
            assert typed in card, typed
        await _press_data(worker, "stf:take:")
        await _press_data(worker, "stf:st:")
        await _press_data(worker, "stf:setst:")
        await worker.text(f"Checked {PROBE}")
        _seen_literally(arta, f"Checked {PROBE}")
        await admin.command("/templates", args=f"add Title {QA} | Text {PROBE} | English {PROBE}")
        _seen_literally(admin, f"• Title {QA}")
        await worker.press("📂 Open the case")
        await worker.press("✉️ Reply")
        await worker.press(f"📄 Title {QA}")
        _seen_literally(arta, f"English {PROBE}")
        await worker.press("📂 Open the case")
        await worker.press("✉️ Reply")
        await worker.text(f"Which pole? {PROBE}")
        _seen_literally(arta, f"Which pole? {PROBE}")
        await arta.press("↩️ Answer")
        await arta.text(f"Pole {PROBE}")
        _seen_literally(worker, f"Pole {PROBE}")
        await worker.press(
            "📝 Note", message=next(m for m in reversed(worker.messages) if "📝 Note" in m.labels)
        )
        await worker.text(f"Internal {PROBE}")
        await worker.press("📂 Open the case")
        _seen_literally(worker, f"Which pole? {PROBE}", f"Pole {PROBE}")

        await arta.command("/menu")
        await arta.press("📂 My cases")
        await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
        _seen_literally(arta, f"Checked {PROBE}", f"{QA} {PROBE}")
        await arta.press("➕ Add information")
        await arta.text(f"More {PROBE}")
        assert arta.seen("Added to PACT-2026-00001.")

        await steps.press_in_group(bot, admin, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        await _press_data(admin, "stf:more:")
        await _press_data(admin, "stf:redact:")
        await admin.text(f"Redacted {QA}")
        await steps.press_in_group(bot, admin, steps.OPEN_PRIVATELY, "PACT-2026-00001")
        await _press_data(admin, "stf:more:")
        await _press_data(admin, "stf:audit:")
        _seen_literally(
            admin, "Internal note added by", f"before redaction: “Lights off {PROBE} {QA}”"
        )

        besa = bot.person(language_code="en", first_name=QA)
        await onboard_english(besa)
        await besa.command("/menu")
        await besa.press("🚨 Report corruption")
        await besa.press("Continue ➡️")
        await besa.text(f"Office {PROBE}")
        await besa.text(f"Asked for money {PROBE}")
        await besa.text(f"Last week {QA}")
        await besa.press("✔️ Done")
        await besa.press("🕶 Anonymous")
        _seen_literally(besa, f"Office {PROBE}", f"Asked for money {PROBE}", f"Last week {QA}")
        await besa.press("📨 Send")
        _check(fake)
    finally:
        await bot.stop()


async def test_requests_and_directory_edits_show_typed_text_literally(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        await admin.press("✅ I agree")
        await admin.command("/authority", args="shkoder")
        await admin.press("Bashkia Shkodër")
        for field, value in (
            ("RTI coordinator", PROBE),
            ("E-mail", "q&a@example.org"),
            ("Postal address", f"Rr. {QA} {PROBE}"),
            ("Website", URL),
        ):
            await admin.press(field)
            await admin.text(value)
            assert value in admin.last.text, (field, admin.last.text)
        await admin.press("✔️ Done")

        arta = bot.person(language_code="en", first_name=PROBE)
        await onboard_english(arta)
        await build_request(arta, information=f"The budget {PROBE} {QA}", name=f"Arta {PROBE}")
        assert any(f"The budget {PROBE} {QA}" in text for text in arta.texts())
        how = next(m for m in reversed(arta.messages) if "How to send it" in (m.text or ""))
        assert "q&a@example.org" in how.text
        [link] = [e["url"] for e in how.entities if e["type"] == "text_link"]
        assert link.startswith("mailto:q%26a@example.org?subject=") and "&body=" in link
        await sent_on(arta, "2026-11-20", protocol=f"No. {PROBE}")
        await arta.command("/menu")
        await arta.press("⚖️ Right to information")
        await arta.press("📋 My requests")
        await arta.press(next(label for label in arta.last.labels if label.startswith("#1")))
        _seen_literally(arta, f"No. {PROBE}", "Municipality of Shkodër")
        _check(fake)
    finally:
        await bot.stop()


async def test_campaign_texts_show_typed_text_literally(fake, database_url) -> None:
    bot = BotHarness(fake, database_url, admin_ids=frozenset({steps.ADMIN}))
    await bot.start()
    try:
        bot.clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TIRANA))
        arta = await follower(bot, PROBE, "⬜ Public hearings and events", last_name=QA)
        await arta.command("/menu")
        await arta.press("📣 Campaigns & events")
        await arta.press("⬜ Polls and surveys")
        admin = steps.person(bot, steps.ADMIN, "Ledi")

        await admin.command("/event")
        await admin.text(f"{QA} {PROBE}")
        await admin.press("No specific municipality")
        await admin.text(f"Hall {PROBE}")
        await admin.text("2026-12-05 17:00")
        await admin.text(f"About {PROBE} {URL}")
        _seen_literally(admin, f"{QA} {PROBE}", f"Hall {PROBE}", f"About {PROBE} {URL}")
        await admin.press("✅ Save event")
        await admin.press("📣 Announce to subscribers now")
        assert await send_broadcasts(bot.app) == 1
        _seen_literally(arta, f"{QA} {PROBE}", f"Hall {PROBE}")
        await arta.press("✅ I will attend")
        _seen_literally(arta, f"{QA} {PROBE}")
        await arta.press("Yes, show my name")
        await admin.command("/events")
        _seen_literally(admin, f"{QA} {PROBE}")
        await admin.press(next(label for label in admin.last.labels if QA in label))
        _seen_literally(admin, f"{QA} {PROBE}", f"• {PROBE} {QA}")

        await admin.command("/poll")
        await admin.text(f"Which {QA}? {PROBE}")
        await admin.text(f"English {QA}")
        await admin.text(f"{QA} | {QA}\n{PROBE} | {PROBE}")
        _seen_literally(admin, f"Which {QA}? {PROBE}", f"1. {QA} / {QA}", f"2. {PROBE} / {PROBE}")
        await admin.press("✅ Save poll")
        await admin.press("📣 Send to “Polls and surveys” subscribers now")
        assert await send_broadcasts(bot.app) == 1
        _seen_literally(arta, f"English {QA}")
        assert arta.last.labels[:2] == [QA, PROBE]
        await arta.press(PROBE)
        await admin.command("/polls")
        await admin.press(next(label for label in admin.last.labels if "#1" in label))
        results = next(m.text for m in reversed(admin.messages) if "1 vote" in (m.text or ""))
        assert f"English {QA}" in results and f"2. {PROBE}: 1" in results

        await admin.command("/broadcast")
        await admin.text(f"Campaign {PROBE} {QA}")
        await admin.press("Skip")
        await admin.press("🔗 Link")
        await admin.text(f"{QA} {URL}")
        _seen_literally(admin, f"🔗 {QA} → {URL}")
        await admin.press("🗓 Join event")
        await admin.press(next(label for label in admin.last.labels if QA in label))
        await admin.press("📊 Poll")
        await admin.press(next(label for label in admin.last.labels if QA in label))
        _seen_literally(admin, f"🗓 Event: {QA} {PROBE}", f"📊 Poll: Which {QA}? {PROBE}")
        await admin.press("Continue ➡️")
        await admin.press("⬜ Public hearings and events")
        await admin.press("Continue ➡️")
        await admin.press("All municipalities")
        await admin.press("Continue ➡️")
        await admin.press("📣 Send now")
        _seen_literally(admin, f"🔗 {QA} → {URL}")
        await admin.press("✅ Confirm")
        await admin.command("/broadcasts")
        _seen_literally(admin, f"Campaign {PROBE} {QA}")
        assert await send_broadcasts(bot.app) == 1
        _seen_literally(arta, f"Campaign {PROBE} {QA}")
        assert QA in arta.last.labels
        assert any(f"Campaign {PROBE} {QA}" in text for text in admin.texts()[-3:])
        _check(fake)
    finally:
        await bot.stop()

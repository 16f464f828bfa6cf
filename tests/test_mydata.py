"""/mydata (issue #10 item 7): a short summary in the person's language and the whole download as
readable JSON: answers to staff, added information, files, drafts, deliveries, staff role."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.campaigns.services import campaigns
from bot.core.jobs import send_broadcasts
from db.models import Authority, Topic
from tests.campaign_steps import follow
from tests.harness import BotHarness
from tests.rti_steps import build_request, onboard_english
from tests.test_erasure import (
    ADDED,
    ANSWER,
    DESCRIPTION,
    DRAFT,
    INFORMATION,
    NAME,
    PLACE,
    WORKER,
    _add_information,
    _case,
    _named_report,
    _person,
    _staff_asks_and_reporter_answers,
    _start,
)

TIRANA = ZoneInfo("Europe/Tirane")


async def _delivered_broadcast(bot: BotHarness, title: str) -> None:
    """A campaign message about Shkodër, sent now."""
    bot.clock.set(datetime(2026, 11, 23, 10, 0, tzinfo=TIRANA))
    async with bot.app.services.sessions() as session, session.begin():
        town = (
            await session.execute(select(Authority).where(Authority.name == "Shkodër"))
        ).scalar_one()
        await campaigns.create_broadcast(
            session,
            title=title,
            text_sq=f"{title} (sq)",
            text_en=f"{title} (en)",
            topic=Topic.SERVICES,
            municipality_ids=[town.id],
            send_at=bot.clock.now(),
            by_user_id=None,
            now=bot.clock.now(),
        )
    assert await send_broadcasts(bot.app) == 1


def _download(person) -> tuple[bytes, dict]:
    """The newest document the bot sent: raw bytes and parsed JSON."""
    document = next(m for m in reversed(person.messages) if m.document).document
    assert document["file_name"] == "pact-my-data.json"
    return document["content"], json.loads(document["content"])


async def test_mydata_sends_a_summary_and_everything_held(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        arta = _person(bot, 9501, "Arta", last_name=NAME)
        await follow(
            arta, "⬜ Municipal services monitoring", ("Shkodër", "Municipality of Shkodër")
        )
        await _delivered_broadcast(bot, "Budget hearing")
        await _named_report(arta)
        await _staff_asks_and_reporter_answers(bot, arta, await _case(bot))
        await _add_information(arta)
        await build_request(arta, information=INFORMATION, name=f"Arta {NAME}")
        await arta.command("/menu")
        await arta.press("🛠 Report a service problem")
        await arta.press("Shkodër")
        await arta.press("Municipality of Shkodër")
        await arta.press("Skip")
        await arta.press("Drinking water supply")
        await arta.text(DRAFT)
        await arta.command("/cancel")
        await arta.command("/menu")
        await arta.press("🛠 Report a service problem")
        await arta.press("Shkodër")

        await arta.command("/mydata")
        raw, data = _download(arta)
        summary = arta.messages[-2].text
        assert "What we hold about you" in summary
        for line in (
            "1 case you reported",
            "1 request for information",
            "1 campaign message sent to you",
            "campaign subscription: 1 topic",
            "2 consent records",
        ):
            assert line in summary, line
        text = raw.decode("utf-8")
        assert "Shkodër" in text and "\\u00eb" not in text, "readable on a phone"
        assert '\n  "telegram_id"' in text, "indented"

        [case] = data["cases"]
        assert case["role"] == "reporter" and case["description"] == DESCRIPTION
        assert case["location_text"] == PLACE and case["name_shown_to_staff"] == f"Arta {NAME}"
        said = [line["text"] for line in case["timeline"]]
        assert ANSWER in said and ADDED in said and "Which pole number is it?" in said
        assert [a["kind"] for a in case["attachments"]] == ["photo"]
        assert case["attachments"][0]["telegram_file_id"]
        [request] = data["information_requests"]
        assert request["information"] == INFORMATION and request["requester_name"].endswith(NAME)
        assert data["deliveries"][0]["broadcast"] == "Budget hearing"
        assert data["deliveries"][0]["sent_at"]
        assert data["campaign_subscription"]["topics"] == ["services"]
        assert {c["purpose"] for c in data["consents"]} == {"cases", "campaigns"}
        assert data["staff_role"] is None
        assert data["drafts"], "the unfinished report is in the download"
        assert data["conversations_in_progress"]
    finally:
        await bot.stop()


async def test_mydata_for_staff_and_for_nobody(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        worker = _person(bot, WORKER, "Besnik")
        await onboard_english(worker)
        await worker.command("/mydata")
        _raw, data = _download(worker)
        assert data["staff_role"]["role"] == "caseworker"
        assert data["staff_role"]["display_name"] == "Besnik"
        assert "staff role: caseworker" in worker.messages[-2].text

        stranger = bot.person(language_code="en")
        await stranger.command("/mydata")
        assert stranger.last.text == "We hold no data about you."
        assert not [m for m in stranger.messages if m.document]
    finally:
        await bot.stop()


async def test_help_lists_mydata(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/help")
    assert "/mydata" in arta.last.text

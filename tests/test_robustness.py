"""/cancel, unexpected input, stale buttons, blocked users, errors, commands, menu placeholders."""

from __future__ import annotations

import logging

import pytest

from bot.account.services import accounts
from tests.harness import BotHarness
from tests.rti_steps import onboard_english


async def test_commands_are_registered_per_language(bot: BotHarness) -> None:
    english = dict(bot.fake.commands(language_code="en"))
    albanian = dict(bot.fake.commands(language_code="sq"))
    default = dict(bot.fake.commands())
    assert english["privacy"] == "Your data and consents"
    assert albanian["privacy"] == "Të dhënat dhe pëlqimet tuaja"
    assert default == albanian
    assert set(english) == {"start", "menu", "help", "language", "privacy", "cancel", "stop"}


async def test_cancel_leaves_the_flow_and_keeps_nothing_unconfirmed(bot: BotHarness) -> None:
    arta = bot.person()
    await arta.command("/cancel")
    assert arta.seen("Nuk ka asgjë për të anuluar.")
    assert "Menyja kryesore" in arta.last.text

    await arta.command("/start")
    await arta.press("✅ Pajtohem")
    await arta.command("/cancel")
    assert "Menyja kryesore" in arta.last.text
    user = await bot.user_row(arta)
    assert user is not None and user.age_band is None and user.onboarded_at is None


@pytest.mark.parametrize(
    "action",
    [("send_sticker",), ("send_voice",), ("send_text", "hello?"), ("send_location", 42.07, 19.51)],
)
async def test_unexpected_messages_get_an_answer_and_the_menu(
    bot: BotHarness, action: tuple
) -> None:
    arta = bot.person()
    await arta.act(*action)
    assert arta.seen("Këtë mesazh nuk mund ta përdor këtu.")
    assert "Menyja kryesore" in arta.last.text


async def test_unknown_command(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await arta.command("/dance")
    assert arta.seen("I don't know that command.")


async def test_stale_and_forged_buttons(bot: BotHarness) -> None:
    arta = bot.person()
    await arta.command("/menu")
    await arta.press_data("wizard:step:9", message_id=arta.last.message_id)
    assert arta.fake.callback_answers[-1]["text"] == "Ky buton nuk është më aktiv."
    assert "Menyja kryesore" in arta.last.text

    await arta.press_data("onb:age:18_29", message_id=arta.last.message_id)
    assert arta.seen("Ky buton nuk është më aktiv. Ja menyja.")
    assert await bot.user_row(arta) is None


@pytest.mark.parametrize(
    "data", ["pv:9223372036854775808:0", "cs:ans:2147483648", "cs:open:²", "stf:inbox:open:9" * 3]
)
async def test_ids_no_column_holds_get_the_stale_answer_not_an_error(
    bot: BotHarness, data: str, caplog: pytest.LogCaptureFixture
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.press_data(data, message_id=arta.last.message_id)
    assert arta.fake.callback_answers[-1]["text"] == "This button is no longer active."
    assert not arta.seen("Sorry, something went wrong")
    assert "failed" not in caplog.text, "no handler ran into the number"


@pytest.mark.parametrize("text", ["/", "/ ", "/ help"])
async def test_a_slash_alone_is_answered_without_an_error(
    bot: BotHarness, text: str, caplog: pytest.LogCaptureFixture
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.text(text)
    assert not arta.seen("Sorry, something went wrong")
    assert "failed" not in caplog.text


async def test_blocking_the_bot_is_recorded(bot: BotHarness) -> None:
    arta = bot.person()
    await arta.command("/start")
    await arta.press("✅ Pajtohem")
    await arta.act("block")
    user = await bot.user_row(arta)
    assert user is not None and user.blocked_at == bot.clock.now()
    await arta.act("unblock")
    user = await bot.user_row(arta)
    assert user is not None and user.blocked_at is None


async def test_a_send_refused_with_403_marks_the_user_and_raises_nothing(
    bot: BotHarness, caplog: pytest.LogCaptureFixture
) -> None:
    arta = bot.person()
    await arta.command("/start")
    await arta.press("✅ Pajtohem")
    with caplog.at_level(logging.INFO):
        update_id = await arta.fake.send_command("/help")
        arta.fake.chat.blocked = True  # blocked while the message was in flight: replies get 403
        await bot.fake.wait_delivered(update_id)
        await bot.app.wait_processed(update_id)
    user = await bot.user_row(arta)
    assert user is not None and user.blocked_at is not None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_handler_error_apologises_rolls_back_and_alerts_staff(
    fake, database_url, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.harness import BotHarness as Harness

    fake.group(chat_id=-1001234, title="PACT staff")
    harness = Harness(fake, database_url, staff_chat_id=-1001234)
    await harness.start()
    try:
        real = accounts.set_role

        async def broken(*args, **kwargs):
            await real(*args, **kwargs)
            raise RuntimeError("boom")

        monkeypatch.setattr(accounts, "set_role", broken)
        arta = harness.person()
        await arta.command("/start")
        await arta.press("✅ Pajtohem")
        await arta.press("Kalojeni")
        with caplog.at_level(logging.ERROR):
            await arta.press("Qytetar/e")
        assert "Na vjen keq, diçka shkoi keq" in arta.last.text
        user = await harness.user_row(arta)
        assert user is not None and user.role is None and user.onboarded_at is None, "rolled back"
        alerts = fake.chat_messages(-1001234)
        assert alerts and "RuntimeError" in alerts[-1].text
        assert str(arta.fake.user_id) not in alerts[-1].text, "no personal data to staff"
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert "RuntimeError" in logged and str(arta.fake.user_id) not in logged
    finally:
        await harness.stop()


async def test_429_from_telegram_is_waited_out_and_nothing_is_lost(bot: BotHarness) -> None:
    bot.fake.inject_429(share=0.5, retry_after=1, methods={"sendMessage"}, seed=3)
    arta = bot.person(language_code="en")
    await arta.command("/help")
    await arta.command("/menu")
    refused = [c for c in bot.fake.calls if c.method == "sendMessage" and not c.ok]
    assert refused, "the fake server did answer 429 to some calls"
    assert "PACT Civic Bot" in arta.texts()[0]
    assert "Main menu" in arta.last.text
    assert len(arta.messages) == 2

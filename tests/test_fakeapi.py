"""Transport tests for fakeapi: real PTB clients talking to the fake Bot API over loopback."""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyKeyboardMarkup,
    Update,
    User,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, RetryAfter
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from fakeapi import FakeTelegram, HtmlParseError, UpdateDropped, parse_html
from fakeapi.registry import method_names

TOKEN = "123:ABC"
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """A started fake server, stopped after the test."""
    server = FakeTelegram(bot_username="pact_test_bot", bot_id=777000)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def bot(fake: FakeTelegram) -> AsyncIterator[Bot]:
    """A bare PTB Bot pointed at the fake."""
    client = Bot(token=TOKEN, base_url=fake.base_url, base_file_url=fake.base_file_url)
    async with client:
        yield client


async def eventually(check: Callable[[], Any], timeout: float = 3.0) -> Any:
    """Poll a condition in short sleeps until truthy or fail after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


def keyboard(*labels: str) -> InlineKeyboardMarkup:
    """One row of callback buttons whose data is "pick:<label>"."""
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=f"pick:{label}") for label in labels]]
    )


# --- the HTML parser ---------------------------------------------------------------------


def test_html_nested_entities_give_plain_text() -> None:
    text, entities = parse_html(
        '<b>Hi <i>there</i></b> &lt;3 &amp; <a href="https://e.al?a=1&amp;b=2">link</a> '
        '<span class="tg-spoiler">x</span> <pre><code class="language-py">p</code></pre> '
        "<blockquote expandable>q</blockquote> &#65;&#x42; 😀<u>u</u>"
    )
    assert text == "Hi there <3 & link x p q AB 😀u"
    kinds = [(e["type"], e["offset"], e["length"]) for e in entities]
    assert ("bold", 0, 8) in kinds
    assert ("italic", 3, 5) in kinds
    link = next(e for e in entities if e["type"] == "text_link")
    assert link["url"] == "https://e.al?a=1&b=2"
    assert next(e for e in entities if e["type"] == "pre")["language"] == "py"
    assert any(e["type"] == "expandable_blockquote" for e in entities)
    underline = next(e for e in entities if e["type"] == "underline")
    assert underline["offset"] == len("Hi there <3 & link x p q AB ") + 2


@pytest.mark.parametrize(
    "source",
    [
        "<b>open",
        "<b><i>x</b></i>",
        "x</b>",
        "1 < 2",
        "<br>",
        "<span>s</span>",
        "<a>no href</a>",
        "fish & chips",
        "&nbsp;",
        "<b",
        "<tg-emoji>x</tg-emoji>",
    ],
)
def test_html_refuses_what_telegram_refuses(source: str) -> None:
    with pytest.raises(HtmlParseError):
        parse_html(source)


# --- sending and refusing ----------------------------------------------------------------


async def test_send_message_html_and_entities(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001, first_name="Arta", language_code="sq")
    sent = await bot.send_message(
        1001,
        "<b>Mirë <i>se</i> erdhe</b> &amp; faleminderit",
        parse_mode=ParseMode.HTML,
        reply_markup=keyboard("Shqip", "English"),
    )
    assert sent.text == "Mirë se erdhe & faleminderit"
    assert [e.type for e in sent.entities] == ["bold", "italic"]
    assert sent.chat.id == 1001 and sent.from_user.id == 777000
    message = user.last
    assert message.text == "Mirë se erdhe & faleminderit"
    assert message.raw_text.startswith("<b>")
    assert message.parse_mode == "HTML" and message.method == "sendMessage"
    assert message.buttons == [["Shqip", "English"]]
    assert message.button_data("English") == "pick:English"


async def test_message_ids_are_shared_per_chat(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1002)
    other = fake.user(user_id=1003)
    await user.send_text("hi")
    first = await bot.send_message(1002, "one")
    second = await bot.send_message(1003, "two")
    assert (first.message_id, second.message_id) == (2, 1)
    assert [m.text for m in user.messages] == ["one"] and other.last.text == "two"


async def test_text_refusals(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(user_id=1001)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(1001, "<b> </b>", parse_mode="HTML")
    await bot.send_message(1001, "a" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1001, "😀" * 2049)
    await bot.send_message(1001, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "1 < 2 & 3", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(1001, "<b>x</i>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody")
    with pytest.raises(BadRequest, match=r"(?i)message caption is too long"):
        await bot.send_photo(1001, b"\xff\xd8jpeg", caption="c" * 1025)
    assert len(fake.state.chats[1001].bot_messages()) == 2


async def test_keyboard_refusals(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(user_id=1001)
    for data in ("x" * 65, "ë" * 33, ""):
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data=data)]])
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(1001, "t", reply_markup=markup)
    await bot.send_message(1001, "t", reply_markup=keyboard("x" * 10))
    plain = InlineKeyboardMarkup([[InlineKeyboardButton("no action")]])
    with pytest.raises(BadRequest, match=r"(?i)can't parse inline keyboard button"):
        await bot.send_message(1001, "t", reply_markup=plain)
    both = {"inline_keyboard": [[{"text": "b", "url": "https://e.al", "callback_data": "d"}]]}
    status, body = await _raw_post(
        fake.base_url + TOKEN + "/sendMessage",
        {"chat_id": "1001", "text": "t", "reply_markup": json.dumps(both)},
    )
    assert status == 400
    assert body["description"].startswith("Bad Request: can't parse inline keyboard button")
    status, body = await _raw_post(
        fake.base_url + TOKEN + "/sendMessage", json_body={"chat_id": 1001, "text": "007"}
    )
    assert status == 200 and body["result"]["text"] == "007"
    status, body = await _raw_post(
        fake.base_url + TOKEN + "/sendMessage", {"chat_id": "1001", "text": "true"}
    )
    assert body["result"]["text"] == "true" and fake.calls[-1].params["chat_id"] == 1001


async def test_blocked_user_gets_forbidden(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    sent = await bot.send_message(1001, "before")
    update_id = await user.block()
    updates = await bot.get_updates(timeout=0)
    member = updates[-1].my_chat_member
    assert updates[-1].update_id == update_id
    assert (member.old_chat_member.status, member.new_chat_member.status) == ("member", "kicked")
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(1001, "after")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("edited", chat_id=1001, message_id=sent.message_id)
    with pytest.raises(Forbidden):
        await bot.send_chat_action(1001, "typing")
    await user.unblock()
    await bot.send_message(1001, "welcome back")
    assert [m.text for m in user.messages] == ["before", "welcome back"]


async def test_edits_and_not_modified(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    sent = await bot.send_message(1001, "<b>v1</b>", parse_mode="HTML", reply_markup=keyboard("A"))
    edited = await bot.edit_message_text(
        "<b>v2</b>",
        chat_id=1001,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("A"),
    )
    assert edited.text == "v2" and edited.edit_date is not None
    assert user.last.text == "v2" and user.last.edits == 1 and user.last.labels == ["A"]
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>v2</b>",
            chat_id=1001,
            message_id=sent.message_id,
            parse_mode="HTML",
            reply_markup=keyboard("A"),
        )
    await bot.edit_message_text(
        "<i>v2</i>",
        chat_id=1001,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard("A"),
    )
    await bot.edit_message_reply_markup(
        chat_id=1001, message_id=sent.message_id, reply_markup=keyboard("B")
    )
    assert user.last.labels == ["B"] and user.last.edits == 3
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=1001, message_id=sent.message_id, reply_markup=keyboard("B")
        )
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=1001, message_id=99)
    with pytest.raises(BadRequest, match=r"(?i)there is no caption"):
        await bot.edit_message_caption(chat_id=1001, message_id=sent.message_id, caption="c")
    await bot.delete_message(1001, sent.message_id)
    assert user.messages == []
    stale = await user.press_data("pick:A", message_id=sent.message_id)
    update = next(u for u in await bot.get_updates(timeout=0) if u.update_id == stale)
    assert update.callback_query.message.date.timestamp() == 0
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(1001, sent.message_id)


# --- users pressing buttons and sending things -------------------------------------------


async def test_press_by_label_and_answer(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    old = await bot.send_message(1001, "old", reply_markup=keyboard("Shqip"))
    await bot.send_message(1001, "new", reply_markup=keyboard("Shqip", "English"))
    update_id = await user.press("Shqip")
    assert fake.pending_updates == 1
    updates = await bot.get_updates(timeout=0)
    await fake.wait_delivered(update_id, timeout=1)
    query = updates[0].callback_query
    assert query.data == "pick:Shqip" and query.message.text == "new"
    assert query.from_user.language_code == "sq"
    await user.press("Shqip", message=user.messages[0])
    await user.press_data("forged:1", message_id=old.message_id)
    updates = await bot.get_updates(offset=update_id + 1, timeout=0)
    assert [u.callback_query.message.message_id for u in updates] == [old.message_id] * 2
    await bot.answer_callback_query(query.id, text="U zgjodh shqipja", show_alert=True)
    assert user.callback_answers[0]["text"] == "U zgjodh shqipja"
    assert user.callback_answers[0]["show_alert"] is True
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query("12345")
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(updates[0].callback_query.id, text="x" * 201)
    with pytest.raises(LookupError, match=r"(?i)English"):
        await user.press("Deutsch")


async def test_user_media_and_downloads(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    await user.send_photo(caption="gropa", width=1280, height=960)
    await user.send_location(41.3275, 19.8187)
    await user.send_voice(duration=3)
    await user.send_document(file_name="a.pdf", mime_type="application/pdf", content=b"%PDF")
    await user.send_contact()
    await user.send_sticker()
    await user.send_command("/start", args="ref_42")
    updates = [u.message for u in await bot.get_updates(timeout=0)]
    photo = updates[0].photo
    assert len(photo) == 3 and len({p.file_id for p in photo}) == 3
    assert (photo[-1].width, photo[-1].height) == (1280, 960) and updates[0].caption == "gropa"
    assert updates[1].location.latitude == pytest.approx(41.3275)
    assert updates[2].voice.duration == 3
    assert updates[3].document.file_name == "a.pdf"
    assert updates[4].contact.user_id == 1001
    assert updates[5].sticker.emoji
    assert updates[6].text == "/start ref_42"
    assert updates[6].entities[0].type == "bot_command" and updates[6].entities[0].length == 6
    photo_file = await bot.get_file(photo[-1].file_id)
    assert bytes(await photo_file.download_as_bytearray()).startswith(b"\xff\xd8")
    doc_file = await updates[3].document.get_file()
    assert bytes(await doc_file.download_as_bytearray()) == b"%PDF"
    with pytest.raises(BadRequest, match=r"(?i)wrong file_id"):
        await bot.get_file("nope")


async def test_bot_uploads_via_multipart(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    doc = await bot.send_document(
        1001,
        document=b"col1,col2\n",
        filename="report.csv",
        caption="<b>Raporti</b>",
        parse_mode="HTML",
    )
    assert user.last.document == {
        "file_id": doc.document.file_id,
        "file_name": "report.csv",
        "mime_type": "text/csv",
        "content": b"col1,col2\n",
    }
    assert user.last.text == "Raporti" and user.last.kind == "document"
    downloaded = await (await bot.get_file(doc.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"col1,col2\n"
    again = await bot.send_document(1001, document=doc.document.file_id)
    assert again.document.file_id == doc.document.file_id
    photo = await bot.send_photo(1001, photo=b"\xff\xd8raw", caption="foto")
    assert user.last.photo["content"] == b"\xff\xd8raw" and len(photo.photo) == 3
    await bot.send_photo(1001, photo=photo.photo[0].file_id)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_photo(1001, photo="unknown-id")
    album = await bot.send_media_group(1001, [InputMediaPhoto(b"1"), InputMediaPhoto(b"2")])
    assert len({m.media_group_id for m in album}) == 1
    await bot.send_location(1001, 41.3, 19.8)
    poll = await bot.send_poll(1001, "Si ishte?", ["Mirë", "Keq"], is_anonymous=False)
    stopped = await bot.stop_poll(1001, poll.message_id)
    assert stopped.is_closed and user.last.poll["is_closed"]
    copied = await bot.copy_message(1001, from_chat_id=1001, message_id=doc.message_id)
    assert user.last.message_id == copied.message_id and user.last.document
    kinds = [m.kind for m in user.messages]
    assert kinds == [
        "document",
        "document",
        "photo",
        "photo",
        "photo",
        "photo",
        "location",
        "poll",
        "document",
    ]


async def test_reply_keyboard_and_group(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    group = fake.group(chat_id=-100123, title="Staff")
    await bot.send_message(1001, "share", reply_markup=ReplyKeyboardMarkup([["📍 Location"]]))
    assert user.last.reply_keyboard == [["📍 Location"]] and user.last.buttons == []
    await bot.send_message(-100123, "new complaint")
    assert [m.text for m in fake.chat_messages(-100123)] == ["new complaint"]
    await group.send_command(user, "/assign", "7")
    update = (await bot.get_updates(timeout=0))[0]
    assert update.message.chat.type == "supergroup" and update.message.from_user.id == 1001
    chat = await bot.get_chat(-100123)
    assert chat.title == "Staff"


# --- commands ----------------------------------------------------------------------------


async def test_commands_per_language_and_scope(fake: FakeTelegram, bot: Bot) -> None:
    await bot.set_my_commands([BotCommand("start", "Fillo"), BotCommand("help", "Ndihmë")])
    await bot.set_my_commands([BotCommand("start", "Start")], language_code="en")
    await bot.set_my_commands(
        [BotCommand("report", "Report")], scope=BotCommandScopeAllPrivateChats(), language_code="en"
    )
    assert fake.commands() == [("start", "Fillo"), ("help", "Ndihmë")]
    assert fake.commands(language_code="en") == [("start", "Start")]
    assert fake.commands("all_private_chats", "en") == [("report", "Report")]
    assert [c.command for c in await bot.get_my_commands(language_code="en")] == ["start"]
    await bot.delete_my_commands(language_code="en")
    assert fake.commands(language_code="en") == []
    for bad in (
        [BotCommand("Start", "x")],
        [BotCommand("start", "")],
        [BotCommand("a" * 33, "x")],
        [BotCommand(f"c{i}", "x") for i in range(101)],
    ):
        with pytest.raises(BadRequest):
            await bot.set_my_commands(bad)
    assert fake.commands() == [("start", "Fillo"), ("help", "Ndihmë")]


# --- delivery ----------------------------------------------------------------------------


async def test_long_poll_wakes_promptly_and_stop_ends_it(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    update_id = await user.send_text("hello")
    updates = await poll
    assert [u.update_id for u in updates] == [update_id] and time.monotonic() - started < 1
    assert fake.pending_updates == 0
    assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
    poll = asyncio.create_task(bot.get_updates(offset=update_id + 1, timeout=5))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await fake.stop()
    assert await poll == () and time.monotonic() - started < 1


async def test_allowed_updates_and_competing_pollers(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    text_update = await user.send_text("filtered out")
    press_update = await user.press_data("x:1", message_id=1)
    updates = await bot.get_updates(timeout=0, allowed_updates=["callback_query"])
    assert [u.update_id for u in updates] == [press_update]
    with pytest.raises(UpdateDropped, match="allowed_updates"):
        await fake.wait_delivered(text_update, timeout=1)
    other = Bot(token=TOKEN, base_url=fake.base_url)
    first = asyncio.create_task(bot.get_updates(offset=press_update + 1, timeout=3))
    await asyncio.sleep(0.05)
    async with other:
        second = asyncio.create_task(other.get_updates(offset=press_update + 1, timeout=0.1))
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates"):
            await first
        assert await second == ()


async def test_webhook_delivery_and_conflict(fake: FakeTelegram, bot: Bot) -> None:
    received: list[tuple[str | None, dict[str, Any]]] = []
    statuses = iter([500])

    async def hook(request: web.Request) -> web.Response:
        received.append(
            (request.headers.get("X-Telegram-Bot-Api-Secret-Token"), await request.json())
        )
        return web.Response(status=next(statuses, 200))

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        user = fake.user(user_id=1001)
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cr3t")
        assert fake.webhook == {
            "url": f"http://127.0.0.1:{port}/hook",
            "secret_token": "s3cr3t",
            "allowed_updates": None,
        }
        first = await user.send_text("one")
        second = await user.send_command("/help")
        await fake.wait_delivered(first, timeout=2)
        await fake.wait_delivered(second, timeout=2)
        assert [r[0] for r in received] == ["s3cr3t"] * 3
        assert [r[1]["update_id"] for r in received] == [first, first, second]
        assert [d.status for d in fake.webhook_deliveries] == [500, 200, 200]
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        assert info.url.endswith("/hook") and info.pending_update_count == 0
        with pytest.raises(BadRequest, match=r"(?i)HTTPS URL"):
            await bot.set_webhook("http://example.org/hook")
        await bot.delete_webhook()
        assert fake.webhook is None
        third = await user.send_text("three")
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [third]
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", drop_pending_updates=True)
        await bot.delete_webhook(drop_pending_updates=True)
        dropped = await user.send_text("dropped")
        await bot.delete_webhook(drop_pending_updates=True)
        with pytest.raises(UpdateDropped):
            await fake.wait_delivered(dropped, timeout=1)
    finally:
        await runner.cleanup()


async def test_inject_429_is_deterministic(fake: FakeTelegram, bot: Bot) -> None:
    fake.user(user_id=1001)

    async def outcomes() -> list[bool]:
        fake.inject_429(0.5, retry_after=3, seed=7)
        result = []
        for i in range(12):
            try:
                await bot.send_message(1001, f"m{i}")
                result.append(True)
            except RetryAfter as exc:
                assert exc.retry_after == 3
                result.append(False)
        return result

    first = await outcomes()
    second = await outcomes()
    assert first == second and True in first and False in first
    sent = len([m for m in fake.chat_messages(1001)])
    assert sent == 2 * first.count(True)
    assert await bot.get_me()
    fake.inject_429(1.0, methods={"sendChatAction"})
    await bot.send_message(1001, "free")
    with pytest.raises(RetryAfter):
        await bot.send_chat_action(1001, "typing")
    fake.inject_429(0)
    assert await bot.send_chat_action(1001, "typing")
    refused = [c for c in fake.calls if not c.ok and c.method == "sendMessage"]
    assert all(c.result_or_error.code == 429 for c in refused)


async def test_application_polling_end_to_end(fake: FakeTelegram) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_html(
            f"<b>Përshëndetje</b>, {update.effective_user.first_name}!",
            reply_markup=keyboard("Shqip", "English"),
        )

    app: Application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    user = fake.user(user_id=1001, first_name="Arta")
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        update_id = await user.send_command("/start")
        await fake.wait_delivered(update_id, timeout=5)
        await eventually(lambda: user.messages)
        assert user.last.text == "Përshëndetje, Arta!" and user.last.labels == ["Shqip", "English"]
        second = await user.send_command("/start")
        await fake.wait_delivered(second, timeout=5)
        messages = await user.wait_messages(2, timeout=3)
        assert len(messages) == 2
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert fake.pending_updates == 0
    assert fake.calls_to("getMe") and fake.calls_to("deleteWebhook")


async def test_unknown_method_and_bad_token(fake: FakeTelegram, bot: Bot) -> None:
    status, body = await _raw_post(fake.base_url + TOKEN + "/noSuchMethod")
    assert (status, body["description"]) == (404, "Not Found: method not found")
    guarded = FakeTelegram(token=TOKEN)
    await guarded.start()
    try:
        status, body = await _raw_post(guarded.base_url + "999:XYZ/getMe")
        assert status == 401 and body["ok"] is False
        status, body = await _raw_post(guarded.base_url + TOKEN + "/getMe")
        assert status == 200 and body["result"]["username"] == "pact_test_bot"
    finally:
        await guarded.stop()


async def _raw_post(
    url: str, form: dict[str, str] | None = None, json_body: dict[str, Any] | None = None
) -> tuple[int, dict[str, Any]]:
    """POST a form (or a JSON body) with aiohttp and return status and JSON body."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=form if json_body is None else None, json=json_body) as resp,
    ):
        return resp.status, await resp.json()


async def test_forum_topics_only_in_forums(fake: FakeTelegram, bot: Bot) -> None:
    fake.group(chat_id=-100900, title="Forum", is_forum=True)
    fake.group(chat_id=-100901, title="Plain")
    topic = await bot.create_forum_topic(-100900, "Bashkia Pukë")
    sent = await bot.send_message(-100900, "card", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id
    assert fake.forum_topics[-100900] == {topic.message_thread_id: "Bashkia Pukë"}
    with pytest.raises(BadRequest, match="not a forum"):
        await bot.create_forum_topic(-100901, "X")


async def test_voice_notes_by_upload_and_by_file_id(fake: FakeTelegram, bot: Bot) -> None:
    user = fake.user(user_id=1001)
    await user.send_voice(duration=4)
    [update] = await bot.get_updates(timeout=0)
    heard = update.message.voice
    sent = await bot.send_voice(1001, heard.file_id, caption="PACT-2026-0001")
    assert sent.voice.file_id == heard.file_id and sent.voice.duration == 4
    assert user.last.kind == "voice" and user.last.text == "PACT-2026-0001"
    assert user.last.voice["content"].startswith(b"OggS")
    uploaded = await bot.send_voice(1001, b"OggS-new", duration=2)
    assert uploaded.voice.duration == 2 and user.last.voice["content"] == b"OggS-new"
    photo = await bot.send_photo(1001, b"\xff\xd8raw")
    with pytest.raises(BadRequest, match="as voice"):
        await bot.send_voice(1001, photo.photo[-1].file_id)
    with pytest.raises(BadRequest, match=r"(?i)wrong file identifier"):
        await bot.send_voice(1001, "unknown-id")


SHORTCUT_OWNERS = (Message, CallbackQuery, Chat, User)
"""Telegram objects whose methods call the Bot API (message.edit_text → editMessageText)."""


def _endpoint(bot_method: str) -> str | None:
    """The Bot API method a PTB Bot method posts to ("send_voice" → "sendVoice"), or None."""
    function = getattr(Bot, bot_method, None)
    if bot_method.startswith("_") or not inspect.iscoroutinefunction(function):
        return None
    first, *rest = bot_method.split("_")
    name = first + "".join(part.title() for part in rest)
    return name if f'"{name}"' in inspect.getsource(function) else None


def _endpoints_of(called: str) -> set[str]:
    """Bot API methods reached by calling a method of this name on a Bot or a shortcut owner."""
    found = {_endpoint(called)}
    for owner in SHORTCUT_OWNERS:
        function = getattr(owner, called, None)
        if inspect.iscoroutinefunction(function):
            inner = re.findall(r"get_bot\(\)\.(\w+)\(", inspect.getsource(function))
            found.add(_endpoint(inner[-1]) if inner else None)  # the last one: the general case
    return {name for name in found if name}


def _named_in_code(node: ast.AST) -> str | None:
    """A Bot API method named as data: Call("sendMessage", …) or {"method": "sendMessage"}."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Call":
        first = node.args[0] if node.args else None
        return first.value if isinstance(first, ast.Constant) else None
    if isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "method":
                return value.value if isinstance(value, ast.Constant) else None
    return None


def bot_api_calls() -> dict[str, list[str]]:
    """Every Bot API method the bot's code calls, with where (modules importing telegram)."""
    calls: dict[str, list[str]] = {}
    root = Path(__file__).resolve().parent.parent
    for path in sorted((root / "bot").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        talks_to_telegram = any(
            isinstance(node, ast.ImportFrom) and (node.module or "").startswith("telegram")
            for node in ast.walk(tree)
        )
        for node in ast.walk(tree):
            names: set[str] = set()
            if talks_to_telegram and isinstance(node, ast.Call):
                if isinstance(node.func, ast.Attribute):
                    names = _endpoints_of(node.func.attr)
            named = _named_in_code(node)
            if isinstance(named, str) and hasattr(Bot, named):
                names.add(named)
            for name in names:
                where = f"{path.relative_to(root)}:{getattr(node, 'lineno', 0)}"
                calls.setdefault(name, []).append(where)
    return calls


def test_every_bot_api_method_the_bot_calls_is_served() -> None:
    calls = bot_api_calls()
    assert {"sendMessage", "sendVoice", "answerCallbackQuery", "getUpdates"} <= set(calls)
    served = {name.lower() for name in method_names()}
    missing = {name: calls[name] for name in calls if name.lower() not in served}
    assert not missing, f"the fake Bot API lacks methods the bot calls: {missing}"

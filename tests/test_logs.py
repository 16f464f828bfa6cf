"""No personal data and no secret in any log line: a whole flow at LOG_LEVEL=DEBUG, a forced
handler error, SQL errors, and the redaction of bot tokens."""

from __future__ import annotations

import io
import logging
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bot.cases import my_cases
from bot.core import logs
from bot.staff.services import casework
from db.engine import create_engine
from tests.harness import TOKEN, BotHarness, Person
from tests.rti_steps import build_request, onboard_english

STAFF_CHAT = -1009876543210
ADMIN = 918273645
WORKER = 564738291
REPORTER = 731945286
FIRST_NAME, LAST_NAME, USERNAME = "Zamira", "Qerimaj", "zamira_qerimaj_vl"
DESCRIPTION = "Kanali te shkolla Xhevdet Doda është bllokuar prej javësh."
PLACE = "Pas dyqanit të Fatbardhës, Rruga Gjergj Kastrioti"
INSTITUTION = "Zyra e Pronave Lezhë, sporteli i Dashamir Gjokës"
ABOUT = "Punonjësi Dashamir kërkoi 200 euro për certifikatën."
WHEN = "Pas dasmës së Ilirjanës në tetor"
INFORMATION = "Kontratat e asfaltimit me firmën Lulzim Dervishaj sh.p.k."
REQUESTER = "Zamira Qerimaj-Bushati"
STAFF_REPLY = "Sa metra është kanali pranë Xhevdetit?"
ANSWER = "Rreth dyzet metra, përballë portës së Vjollcës."
FAILING_ANSWER = "Telefononi Mirjeta Kastratin në 069 555 7788"
TYPED = [
    FIRST_NAME,
    LAST_NAME,
    USERNAME,
    DESCRIPTION,
    "Xhevdet",
    PLACE,
    "Fatbardh",
    INSTITUTION,
    "Dashamir",
    ABOUT,
    WHEN,
    "Ilirjan",
    INFORMATION,
    "Lulzim",
    REQUESTER,
    "Bushati",
    STAFF_REPLY,
    ANSWER,
    "Vjollc",
    FAILING_ANSWER,
    "Mirjeta",
    "555 7788",
    "zamira@example.com",
]
IDS = [str(REPORTER), str(ADMIN), str(WORKER), str(STAFF_CHAT), str(-STAFF_CHAT)]


@pytest.fixture
def logging_as_in_production() -> Iterator[io.StringIO]:
    """LOG_LEVEL=DEBUG as an operator could set it, the output caught; the old set-up restored."""
    root = logging.getLogger()
    names = [*logs.QUIET, "telegram", "alembic", "sqlalchemy.engine", "bot"]
    saved = (root.handlers[:], root.level, {n: logging.getLogger(n).level for n in names})
    saved_warnings = warnings.filters[:]
    logs.configure("DEBUG", secrets=[TOKEN])
    output = io.StringIO()
    for handler in root.handlers:
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(output)
    try:
        yield output
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        for name, level in saved[2].items():
            logging.getLogger(name).setLevel(level)
        warnings.filters[:] = saved_warnings


def leaks(texts: list[str]) -> list[str]:
    """Which typed texts, names, ids or the token appear in any of the texts."""
    everything = "\n".join(texts)
    return [value for value in [*TYPED, *IDS, TOKEN] if value in everything]


def record_texts(records: list[logging.LogRecord]) -> list[str]:
    """Each record's formatted message and traceback text, as a handler would write them."""
    formatter = logging.Formatter()
    texts = []
    for record in records:
        texts.append(record.getMessage())
        if record.exc_info:
            texts.append(formatter.formatException(record.exc_info))
        texts.append(record.exc_text or "")
        texts.append(record.stack_info or "")
    return texts


async def press_case_button(bot: BotHarness, who: Person, data: str, reference: str) -> None:
    """Press a case button (by its data prefix), opening the card privately from the group first."""

    def private_button() -> tuple[Any, str] | None:
        for message in reversed(who.messages):
            if reference not in (message.text or ""):
                continue
            for label in message.labels:
                if (message.button_data(label) or "").startswith(data):
                    return message, label
        return None

    found = private_button()
    if found is None:
        group = bot.fake.group(chat_id=STAFF_CHAT)
        card = next(m for m in reversed(group.messages) if reference in (m.text or ""))
        direct = [x for x in card.labels if card.button_data(x).startswith(data)]
        if direct:
            await bot.settle(await group.press(who.fake, direct[0], message=card))
            return
        [label] = [x for x in card.labels if card.button_data(x).startswith("stf:priv:")]
        await bot.settle(await group.press(who.fake, label, message=card))
        found = private_button()
    assert found is not None, data
    await who.press(found[1], message=found[0])


async def service_report(zamira: Person) -> None:
    """A named service report with a typed place instead of a map pin."""
    await zamira.command("/menu")
    await zamira.press("🛠 Report a service problem")
    await zamira.press("Lezhë")
    await zamira.press("Municipality of Lezhë")
    await zamira.press("Skip")
    await zamira.press("Street lighting")
    await zamira.text(DESCRIPTION)
    await zamira.text(PLACE)
    await zamira.press("✔️ Done")
    await zamira.press("👤 Named")
    await zamira.press("📨 Send")


async def corruption_report(zamira: Person) -> None:
    """An anonymous corruption report with a named institution and a 'when'."""
    await zamira.command("/menu")
    await zamira.press("🚨 Report corruption")
    await zamira.press("Continue ➡️")
    await zamira.text(INSTITUTION)
    await zamira.text(ABOUT)
    await zamira.text(WHEN)
    await zamira.press("✔️ Done")
    await zamira.press("🕶 Anonymous")
    await zamira.press("📨 Send")


async def failing_answer(session: Any, case: Any, answer: str, now: Any) -> None:
    """The database refuses the answer, and the error message repeats what was typed."""
    try:
        await session.execute(text("INSERT INTO no_such_table (answer) VALUES (:a)"), {"a": answer})
    except DBAPIError as error:
        raise RuntimeError(f"could not store the answer {answer!r} for case {case.id}") from error
    raise AssertionError("the statement should have failed")


async def test_a_whole_flow_at_debug_logs_no_personal_data(
    fake, database_url, caplog, monkeypatch, logging_as_in_production
) -> None:
    root = logging.getLogger()
    root.addHandler(caplog.handler)
    caplog.handler.setLevel(logging.DEBUG)
    fake.group(chat_id=STAFF_CHAT, title="PACT staff")
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF_CHAT, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        admin = Person(bot, fake.user(user_id=ADMIN, first_name="Drita", language_code="en"))
        await admin.command("/staff", args=f"grant {WORKER} caseworker Gentiana")
        worker = Person(bot, fake.user(user_id=WORKER, first_name="Gentiana", language_code="en"))
        await worker.command("/start")
        zamira = Person(
            bot,
            fake.user(
                user_id=REPORTER,
                first_name=FIRST_NAME,
                last_name=LAST_NAME,
                username=USERNAME,
                language_code="en",
            ),
        )
        await onboard_english(zamira)
        await service_report(zamira)
        assert zamira.seen("PACT-2026-00001")
        await corruption_report(zamira)
        assert zamira.seen("PACT-2026-00002")
        await build_request(
            zamira,
            region="Lezhë",
            municipality="Municipality of Lezhë",
            information=INFORMATION,
            name=REQUESTER,
        )
        assert any(m.document for m in zamira.messages), "the request letter was made"

        await press_case_button(bot, worker, "stf:take:", "PACT-2026-00001")
        await press_case_button(bot, worker, "stf:reply:", "PACT-2026-00001")
        await worker.text(STAFF_REPLY)
        assert STAFF_REPLY in zamira.last.text, "the reply was relayed"
        await zamira.press("↩️ Answer")
        await zamira.text(ANSWER)
        assert ANSWER in worker.last.text, "the answer was relayed"

        monkeypatch.setattr(my_cases.casework, "reporter_answer", failing_answer)
        await zamira.press(
            "↩️ Answer", message=next(m for m in reversed(zamira.messages) if "↩️ Answer" in m.labels)
        )
        await zamira.text(FAILING_ANSWER)
        assert zamira.seen("Sorry, something went wrong on our side.")
        monkeypatch.setattr(my_cases.casework, "reporter_answer", casework.reporter_answer)
    finally:
        await bot.stop()
        root.removeHandler(caplog.handler)

    assert any(r.levelno == logging.DEBUG for r in caplog.records), "DEBUG really was on"
    assert leaks(record_texts(caplog.records)) == []
    assert leaks([logging_as_in_production.getvalue()]) == []
    failure = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert failure, "the forced error was logged"
    logged = failure[0].getMessage()
    assert "RuntimeError in bot/cases/my_cases.py:" in logged, "the type and the handler"
    assert "Traceback" in logged and "failing_answer" in logged, "the frames are kept"


async def test_sql_errors_never_show_their_parameters(database_url) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            with pytest.raises(DBAPIError) as raised:
                await connection.execute(
                    text("INSERT INTO no_such_table (description) VALUES (:d)"), {"d": DESCRIPTION}
                )
    finally:
        await engine.dispose()
    assert "Xhevdet" not in str(raised.value)
    assert "hidden" in str(raised.value), "SQLAlchemy says the parameters were hidden"


def test_bot_tokens_and_secrets_are_redacted_from_every_line(logging_as_in_production) -> None:
    other_token = "7712345678:AAF3kq9-Xb_Zr0dLk2PqM1nVt8sYw4eHc6J"
    log = logging.getLogger("bot.test_logs")
    log.warning("POST https://api.telegram.org/bot%s/sendMessage failed", other_token)
    log.warning("our own token %s", TOKEN)
    try:
        raise ValueError(f"https://api.telegram.org/bot{TOKEN}/getMe refused")
    except ValueError:
        log.exception("start-up failed")
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/x", TOKEN)
    written = logging_as_in_production.getvalue()
    assert "sendMessage failed" in written and "start-up failed" in written
    assert other_token not in written and TOKEN not in written
    assert written.count(logs.REDACTED) == 3
    assert "HTTP Request" not in written, "httpx request lines are not logged"


def test_the_error_traceback_keeps_frames_but_no_messages() -> None:
    def store(answer: str) -> None:
        try:
            raise KeyError(answer)
        except KeyError as inner:
            raise RuntimeError(f"could not store {answer}") from inner

    with pytest.raises(RuntimeError) as raised:
        store(FAILING_ANSWER)
    written = logs.frames_only(raised.value)
    assert "store" in written and "raise RuntimeError" in written
    assert "builtins.KeyError" in written and "builtins.RuntimeError" in written
    assert "Mirjeta" not in written and "7788" not in written
    assert logs.origin(raised.value).startswith("tests/test_logs.py:")

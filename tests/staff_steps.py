"""Shared steps for the staff tests: a bot with a staff group, staff people, a service report."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEntry, Case
from fakeapi.state import CallbackQueryRecord
from tests.harness import BotHarness, Person

STAFF = -100556
ADMIN = 9101
WORKER = 9201
OUTSIDER = 9301
OPEN_PRIVATELY = "🔓 Open in my private chat"


async def start(fake, database_url, **overrides) -> BotHarness:
    """A running bot with a staff group and ADMIN as the bootstrap admin."""
    fake.group(chat_id=STAFF, title="PACT staff")
    settings = {
        "staff_chat_id": STAFF,
        "admin_ids": frozenset({ADMIN}),
        "default_locale": "en",
        **overrides,
    }
    bot = BotHarness(fake, database_url, **settings)
    await bot.start()
    return bot


def person(bot: BotHarness, telegram_id: int, name: str) -> Person:
    """A fake user with a fixed id (staff ids must be known before they write)."""
    return Person(bot, bot.fake.user(user_id=telegram_id, first_name=name, language_code="en"))


async def report(
    who: Person,
    identity: str,
    *,
    region: str = "Shkodër",
    town: str = "Municipality of Shkodër",
    text: str = "Lights off on the main road for two weeks.",
    photo: bool = False,
) -> None:
    """A street-lighting report with a map pin (and a photo when asked)."""
    await who.command("/menu")
    await who.press("🛠 Report a service problem")
    await who.press(region)
    await who.press(town)
    await who.press("Skip")
    await who.press("Street lighting")
    await who.text(text)
    await who.act("send_location", 41.8667, 19.4167)
    if photo:
        await who.act("send_photo")
    await who.press("✔️ Done")
    await who.press(identity)
    await who.press("📨 Send")


async def press_in_group(bot: BotHarness, who: Person, label: str, fragment: str) -> None:
    """Press, in the staff group, the button `label` of the newest message containing fragment."""
    group = bot.fake.group(chat_id=STAFF)
    message = next(
        m for m in reversed(group.messages) if fragment in (m.text or "") and label in m.labels
    )
    await bot.settle(await group.press(who.fake, label, message=message))


async def case_by_reference(bot: BotHarness, reference: str) -> Case:
    """The stored case."""
    async with bot.app.services.sessions() as session:
        return (await session.execute(select(Case).where(Case.reference == reference))).scalar_one()


async def audit_rows(bot: BotHarness, action: str) -> list[AuditEntry]:
    """Audit entries of one action."""
    async with bot.app.services.sessions() as session:
        rows = await session.execute(select(AuditEntry).where(AuditEntry.action == action))
        return list(rows.scalars())


async def press_data_in_group(bot: BotHarness, who: Person, data: str, message: object) -> None:
    """Press, in the staff group, a button carrying raw (old or forged) data on `message`."""
    state = bot.fake.state
    query_id = str(4100000000000000000 + state.next("callback_query"))
    state.queries[query_id] = CallbackQueryRecord(
        query_id, who.fake.user_id, STAFF, message.message_id, data
    )
    payload = {
        "id": query_id,
        "from": who.fake.to_api(),
        "message": message.to_api(),
        "chat_instance": str(-8000000000000000000 + STAFF),
        "data": data,
    }
    await bot.settle(bot.fake.enqueue("callback_query", payload))

"""The staff workspace end to end: roles at the gate, the card, actions, relays, identities."""

from __future__ import annotations

from sqlalchemy import select

from db.models import AuditEntry, Case, CaseEvent, CaseStatus
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

STAFF = -100555
ADMIN = 9100
WORKER = 9200


async def _start(fake, database_url) -> BotHarness:
    fake.group(chat_id=STAFF, title="PACT staff")
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF, admin_ids=frozenset({ADMIN}))
    await bot.start()
    return bot


def _person(bot: BotHarness, telegram_id: int, name: str) -> Person:
    return Person(bot, bot.fake.user(user_id=telegram_id, first_name=name, language_code="en"))


async def _report(
    person: Person, identity: str, region: str = "Shkodër", town: str = "Municipality of Shkodër"
) -> None:
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press(region)
    await person.press(town)
    await person.press("Skip")
    await person.press("Street lighting")
    await person.text("Lights off on the main road for two weeks.")
    await person.press("Skip")
    await person.press("✔️ Done")
    await person.press(identity)
    await person.press("📨 Send")


async def _press_in_group(bot: BotHarness, person: Person, data: str, fragment: str) -> None:
    """Press the case button whose data starts with `data`: in the person's private chat.

    The staff group card only opens the full card privately (its one button, stf:priv:); the
    actions live on that private card, so the group button is pressed first when needed.
    """

    def private_message():
        for message in reversed(person.messages):
            if fragment not in (message.text or ""):
                continue
            for label in message.labels:
                if (message.button_data(label) or "").startswith(data):
                    return message, label
        return None

    found = private_message()
    if found is None:
        group = bot.fake.group(chat_id=STAFF)
        card = next(m for m in reversed(group.messages) if fragment in (m.text or ""))
        [label] = [x for x in card.labels if card.button_data(x).startswith("stf:priv:")]
        await bot.settle(await group.press(person.fake, label, message=card))
        found = private_message()
    if found is None:
        raise LookupError(data)
    await person.press(found[1], message=found[0])


async def _audit(bot: BotHarness) -> list[str]:
    async with bot.app.services.sessions() as session:
        rows = await session.execute(
            select(AuditEntry.action).where(AuditEntry.subject_type == "case")
        )
        return list(rows.scalars())


async def test_roles_are_checked_at_the_gate(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        citizen = bot.person(language_code="en")
        await citizen.command("/inbox")
        assert citizen.seen("I don't know that command.")
        await citizen.command("/staff", args=f"grant {citizen.fake.user_id} admin Me")
        assert len([t for t in citizen.texts() if "I don't know that command." in t]) == 2

        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {WORKER} viewer Besnik")
        assert "Besnik – viewer" in admin.last.text
        viewer = _person(bot, WORKER, "Besnik")
        await viewer.command("/inbox")
        assert viewer.seen("I don't know that command."), "viewers see statistics only"
        await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
        await viewer.command("/inbox")
        assert "No cases here." in viewer.last.text
        async with bot.app.services.sessions() as session:
            actions = (
                (
                    await session.execute(
                        select(AuditEntry.action).where(AuditEntry.subject_type == "staff")
                    )
                )
                .scalars()
                .all()
            )
        assert actions.count("staff.granted") == 3, "the bootstrap admin and two grants"
    finally:
        await bot.stop()


async def test_a_case_from_submission_to_merge_and_reopen(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
        worker = _person(bot, WORKER, "Besnik")
        await worker.command("/start")

        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _report(arta, "👤 Named")
        group = bot.fake.group(chat_id=STAFF)
        card = next(m for m in group.messages if "PACT-2026-00001" in (m.text or ""))
        assert "Arta" not in card.text, "the group card has no name (only the private card)"

        await _press_in_group(bot, worker, "stf:take:", "PACT-2026-00001")
        assert "(Arta)" in worker.last.text and "Besnik" in worker.last.text

        await _press_in_group(bot, worker, "stf:st:", "PACT-2026-00001")
        await _press_in_group(bot, worker, "stf:setst:", "PACT-2026-00001")
        assert "The reporter and the people following the case will read it." in worker.last.text
        await worker.text("We asked the water utility to check.")
        assert "is now under review; 1 person was told." in worker.last.text
        assert "We asked the water utility to check." in arta.last.text

        await worker.press("📂 Open the case")
        await worker.press("✉️ Reply")
        await worker.text("Which pole number is it?")
        assert "Which pole number is it?" in arta.last.text and "Besnik" not in arta.last.text
        await arta.press("↩️ Answer")
        await arta.text("Pole 17, near the school.")
        assert "Pole 17, near the school." in worker.last.text
        assert "Arta" not in worker.last.text

        await worker.press(
            "📝 Note", message=next(m for m in reversed(worker.messages) if "📝 Note" in m.labels)
        )
        await worker.text("SECRET-INTERNAL: call the utility on Monday")
        await arta.command("/menu")
        await arta.press("📂 My cases")
        await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
        assert "SECRET-INTERNAL" not in arta.last.text
        assert "Which pole number is it?" in arta.last.text and "Pole 17" in arta.last.text

        bledi = bot.person(language_code="en", first_name="Bledi")
        await onboard_english(bledi)
        await _report(bledi, "🔒 Confidential")
        await bledi.press("It is a different problem")
        second = next(m for m in group.messages if "PACT-2026-00002" in (m.text or ""))
        assert "Bledi" not in second.text

        await _press_in_group(bot, worker, "stf:more:", "PACT-2026-00002")
        await _press_in_group(bot, worker, "stf:merge:", "PACT-2026-00002")
        await worker.text("pact-2026-1")
        assert "Merge PACT-2026-00002 into PACT-2026-00001?" in worker.last.text
        await worker.press("🔗 Yes, merge")
        assert "PACT-2026-00002 is now a duplicate of PACT-2026-00001" in worker.last.text
        assert "is closed as a duplicate" in bledi.last.text

        async with bot.app.services.sessions() as session:
            first = (
                await session.execute(select(Case).where(Case.reference == "PACT-2026-00001"))
            ).scalar_one()
            staff_events = (
                (
                    await session.execute(
                        select(CaseEvent).where(CaseEvent.staff_user_id.is_not(None))
                    )
                )
                .scalars()
                .all()
            )
        assert first.last_staff_action_at is not None and staff_events

        await _press_in_group(bot, admin, "stf:more:", "PACT-2026-00001")
        await _press_in_group(bot, admin, "stf:audit:", "PACT-2026-00001")
        log = admin.last.text
        for said in (
            "Case created by the reporter",
            "Taken by Besnik",
            "Status changed: received → under review by Besnik",
            "Message sent to the reporter by Besnik",
            "Internal note added by Besnik",
            "Case PACT-2026-00002 merged into this one by Besnik",
        ):
            assert said in log, said
        assert "case." not in log and "Arta" not in log
    finally:
        await bot.stop()


async def test_anonymous_and_corruption_stay_hidden(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
        worker = _person(bot, WORKER, "Besnik")
        await worker.command("/start")
        besa = bot.person(language_code="en", first_name="Besa")
        await besa.command("/start")
        await besa.press("No, thanks")
        await _report(besa, "🕶 Anonymous")
        group = bot.fake.group(chat_id=STAFF)
        card = next(m for m in group.messages if "PACT-2026-00001" in (m.text or ""))
        assert "Besa" not in card.text
        await _press_in_group(bot, worker, "stf:reply:", "PACT-2026-00001")
        assert worker.fake.callback_answers[-1]["text"].startswith(
            "This reporter cannot be reached"
        )

        await besa.press("🚨 Report corruption")
        await besa.press("Continue ➡️")
        await besa.text("Tax office")
        await besa.text("They asked for a bribe.")
        await besa.text("Yesterday")
        await besa.press("✔️ Done")
        await besa.press("🕶 Anonymous")
        await besa.press("📨 Send")
        assert not any("PACT-2026-00002" in (m.text or "") for m in group.messages), (
            "never in the group"
        )
        await worker.command("/inbox")
        assert not any("PACT-2026-00002" in label for label in worker.last.labels)
        await admin.command("/inbox")
        assert any("PACT-2026-00002" in label for label in admin.last.labels), (
            "admins have the permission"
        )
    finally:
        await bot.stop()


async def test_export_is_scoped_audited_and_hides_identities(fake, database_url) -> None:
    import csv
    import io
    import zipfile

    bot = await _start(fake, database_url)
    try:
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
        worker = _person(bot, WORKER, "Besnik")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _report(arta, "🔒 Confidential")
        await worker.command("/export")
        await worker.press("Everything")
        documents = [m.document for m in worker.messages if m.document]
        assert [d["file_name"] for d in documents] == [
            "pact-cases-all.csv.zip",
            "pact-cases-all.xlsx",
            "pact-rti-all.csv.zip",
            "pact-rti-all.xlsx",
        ]
        with zipfile.ZipFile(io.BytesIO(documents[0]["content"])) as archive:
            text = archive.read("pact-cases-all.csv").decode("utf-8-sig")
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["Case number"] == "PACT-2026-00001" and row["Reporter"] == ""
        assert str(arta.fake.user_id) not in text and "Arta" not in text
        async with bot.app.services.sessions() as session:
            [entry] = (
                (await session.execute(select(AuditEntry).where(AuditEntry.action == "export")))
                .scalars()
                .all()
            )
        assert entry.after["period"] == "all" and entry.after["corruption"] is False
    finally:
        await bot.stop()


async def test_templates_and_the_daily_idle_digest(fake, database_url) -> None:
    from datetime import timedelta

    from bot.core.jobs import send_staff_digests

    bot = await _start(fake, database_url)
    try:
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command(
            "/templates",
            args="add Thanks | Faleminderit, po e shqyrtojmë. | Thank you, we are looking into it.",
        )
        assert "• Thanks" in admin.last.text
        await admin.command("/staff", args=f"grant {WORKER} caseworker Besnik")
        worker = _person(bot, WORKER, "Besnik")
        await worker.command("/start")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _report(arta, "👤 Named")
        await _press_in_group(bot, worker, "stf:take:", "PACT-2026-00001")
        await _press_in_group(bot, worker, "stf:reply:", "PACT-2026-00001")
        await worker.press("📄 Thanks")
        assert "Thank you, we are looking into it." in arta.last.text

        assert await send_staff_digests(bot.app) == 0, "nothing idle yet"
        bot.clock.advance(timedelta(days=4))
        assert await send_staff_digests(bot.app) == 1
        assert "PACT-2026-00001" in worker.last.text, "in the default language: no stored choice"
        assert await send_staff_digests(bot.app) == 0, "once a day"
        bot.clock.advance(timedelta(days=1))
        assert await send_staff_digests(bot.app) == 1
    finally:
        await bot.stop()


async def test_viewers_get_statistics_with_charts(fake, database_url) -> None:
    bot = await _start(fake, database_url)
    try:
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/staff", args=f"grant {WORKER} viewer Vera")
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _report(arta, "👤 Named")
        await _report(arta, "🕶 Anonymous", region="Dibër", town="Municipality of Mat")
        viewer = _person(bot, WORKER, "Vera")
        await viewer.command("/stats")
        await viewer.press("Everything")
        text = next(m.text for m in viewer.messages if (m.text or "").startswith("Statistics\n"))
        assert "2 cases" in text and "Shkodër: 1" in text and "Mat: 1" in text
        assert "Citizen monitoring" in text
        photos = [m for m in viewer.messages if m.photo]
        assert len(photos) == 3, "municipalities, categories, months"
        await viewer.command("/export")
        assert viewer.seen("I don't know that command."), "viewers do not export"
    finally:
        await bot.stop()


async def test_admin_previews_a_municipality_scorecard(fake, database_url) -> None:
    from datetime import timedelta

    bot = await _start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _report(arta, "👤 Named")
        async with bot.app.services.sessions() as session, session.begin():
            case = (await session.execute(select(Case))).scalar_one()
            from bot.staff.services import casework

            await casework.set_status(
                session,
                case,
                CaseStatus.RESOLVED,
                "Fixed.",
                staff_user_id=None,
                now=bot.clock.now() + timedelta(days=2),
            )
        admin = _person(bot, ADMIN, "Ledi")
        await admin.command("/scorecard")
        await admin.press("Shkodër")
        await admin.press("This month so far")
        text = admin.last.text
        assert "Scorecard: Municipality of Shkodër" in text and "November 2026" in text
        assert "1 received, 1 resolved, median 2 days to resolve" in text
        citizen = bot.person(language_code="en")
        await citizen.command("/scorecard")
        assert citizen.seen("I don't know that command.")
    finally:
        await bot.stop()


async def test_forum_staff_group_gets_one_topic_per_municipality(fake, database_url) -> None:
    fake.group(chat_id=STAFF, title="PACT staff", is_forum=True)
    bot = BotHarness(fake, database_url, staff_chat_id=STAFF, admin_ids=frozenset({ADMIN}))
    await bot.start()
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await _report(arta, "🕶 Anonymous")
        await _report(arta, "🕶 Anonymous")
        # anonymous cases are never offered to follow, so no similar-case question comes
        await _report(arta, "🕶 Anonymous", region="Dibër", town="Municipality of Mat")
        topics = fake.forum_topics[STAFF]
        assert sorted(topics.values()) == ["Bashkia Mat", "Bashkia Shkodër"]
        cards = [m for m in fake.chat_messages(STAFF) if (m.text or "").startswith("PACT-")]
        by_thread = {}
        for card in cards:
            by_thread.setdefault(topics[card.message_thread_id], []).append(card.text[:15])
        assert by_thread == {
            "Bashkia Shkodër": ["PACT-2026-00001", "PACT-2026-00002"],
            "Bashkia Mat": ["PACT-2026-00003"],
        }
    finally:
        await bot.stop()

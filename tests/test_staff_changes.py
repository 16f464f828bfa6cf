"""Staff changes take effect at once: cases return to the queue, relays stop, flows end."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Authority, CaseEvent, StaffMember
from tests import staff_steps as steps
from tests.rti_steps import onboard_english

ADMIN2 = 9102


async def _worker_with_a_case(bot):
    """Besnik (caseworker) took Arta's named case and asked her something; she answered."""
    admin = steps.person(bot, steps.ADMIN, "Ledi")
    await admin.command("/start")
    await admin.command("/staff", args=f"grant {steps.WORKER} caseworker Besnik")
    worker = steps.person(bot, steps.WORKER, "Besnik")
    await worker.command("/start")
    arta = bot.person(language_code="en", first_name="Arta")
    await onboard_english(arta)
    await steps.report(arta, "👤 Named")
    await worker.command("/inbox")
    await worker.press(next(x for x in worker.last.labels if x.startswith("PACT-2026-00001")))
    await worker.press("🙋 Take", message=worker.last)
    await worker.press("✉️ Reply", message=worker.last)
    await worker.text("Which pole number is it?")
    await arta.press("↩️ Answer")
    await arta.text("Pole 17, near the school.")
    assert "Pole 17, near the school." in worker.last.text, "relayed while Besnik has the case"
    return admin, worker, arta


async def test_revoking_a_caseworker_returns_the_case_and_stops_relays(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin, worker, arta = await _worker_with_a_case(bot)
        await admin.command("/staff", args=f"revoke {steps.WORKER}")
        assert admin.last.text == "Revoked."
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        assert case.assignee_user_id is None, "back in the queue"
        [entry] = await steps.audit_rows(bot, "case.unassigned")
        assert entry.subject_id == case.id and entry.after["assignee"] is None
        assert entry.before["assignee"] is not None
        async with bot.app.services.sessions() as session:
            kinds = (
                await session.execute(select(CaseEvent.kind).where(CaseEvent.case_id == case.id))
            ).scalars()
            assert "unassigned" in list(kinds)

        seen = len(worker.messages)
        group = bot.fake.group(chat_id=steps.STAFF)
        in_group = len(group.messages)
        await arta.press("↩️ Answer")
        await arta.text("SECRET-ANSWER: it is pole 18, my number is 069 111 222.")
        assert arta.seen("Sent to the team.")
        assert not any("SECRET-ANSWER" in t for t in worker.texts()[seen:]), "no relay to Besnik"
        [notice] = group.messages[in_group:]
        assert "The reporter of PACT-2026-00001 answered." in notice.text
        assert "SECRET-ANSWER" not in notice.text, "the group hears that, not what"
        assert notice.button_data(notice.labels[0]).startswith("stf:priv:")

        await steps.press_in_group(bot, admin, steps.OPEN_PRIVATELY, "answered")
        assert "SECRET-ANSWER" in admin.last.text, "held in the case for the next assignee"
        await steps.press_in_group(bot, worker, steps.OPEN_PRIVATELY, "answered")
        assert worker.fake.callback_answers[-1]["text"] == "This button is no longer active."
        assert not any("SECRET-ANSWER" in t for t in worker.texts())
    finally:
        await bot.stop()


async def test_narrowing_a_scope_returns_only_cases_out_of_it(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin, worker, arta = await _worker_with_a_case(bot)
        await admin.command("/staff", args=f"grant {steps.WORKER} caseworker Besnik")
        await admin.press("Mat")  # Besnik now works on Mat only: the Shkodër case goes back
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        assert case.assignee_user_id is None
        [entry] = await steps.audit_rows(bot, "case.unassigned")
        assert entry.subject_id == case.id
        seen = len(worker.messages)
        await arta.press("↩️ Answer")
        await arta.text("SECRET-ANSWER two")
        assert not any("SECRET-ANSWER" in t for t in worker.texts()[seen:])
    finally:
        await bot.stop()


async def test_the_assignee_is_rechecked_when_an_answer_is_relayed(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        _admin, worker, arta = await _worker_with_a_case(bot)
        async with bot.app.services.sessions() as session, session.begin():
            member = (
                await session.execute(
                    select(StaffMember).where(StaffMember.display_name == "Besnik")
                )
            ).scalar_one()
            member.municipality_ids = [-1]  # rescoped without the release step (e.g. by hand)
        seen = len(worker.messages)
        await arta.press("↩️ Answer")
        await arta.text("SECRET-ANSWER three")
        assert not any("SECRET-ANSWER" in t for t in worker.texts()[seen:])
    finally:
        await bot.stop()


async def _shkoder_email(bot) -> str | None:
    """The e-mail the directory holds for the municipality of Shkodër."""
    async with bot.app.services.sessions() as session:
        return (
            await session.execute(select(Authority.email).where(Authority.name == "Shkodër"))
        ).scalar_one()


async def test_revoked_admin_cannot_finish_an_authority_edit(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        await admin.command("/staff", args=f"grant {ADMIN2} admin Mira")
        mira = steps.person(bot, ADMIN2, "Mira")
        await mira.command("/start")
        await mira.press("✅ I agree")
        await mira.command("/authority", args="shkoder")
        await mira.press("Bashkia Shkodër")
        await mira.press("E-mail")
        assert "Type the new value" in mira.last.text
        seeded = await _shkoder_email(bot)

        await admin.command("/staff", args=f"revoke {ADMIN2}")
        await mira.text("evil@example.com")
        assert mira.last.text == "This action is no longer available to you."
        assert await _shkoder_email(bot) == seeded, "the e-mail in citizens' letters is unchanged"
        assert await steps.audit_rows(bot, "authority.updated") == []
        await mira.text("evil2@example.com")
        assert mira.last.text != "Saved.", "the flow is over"

        await admin.command("/staff", args=f"grant {ADMIN2} admin Mira")
        await mira.command("/import_authorities")
        await admin.command("/staff", args=f"revoke {ADMIN2}")
        await mira.act(
            "send_document",
            file_name="authorities.csv",
            mime_type="text/csv",
            content=b"kind,name,email\nmunicipality,Shkoder,evil@example.com\n",
        )
        assert mira.last.text == "This action is no longer available to you."
        assert not mira.seen("Import finished")
    finally:
        await bot.stop()


async def test_revoked_caseworker_cannot_finish_a_typed_note(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin, worker, _arta = await _worker_with_a_case(bot)
        await worker.press("📂 Open the case")
        card = next(m for m in reversed(worker.messages) if "📝 Note" in m.labels)
        await worker.press("📝 Note", message=card)
        await admin.command("/staff", args=f"revoke {steps.WORKER}")
        await worker.text("SECRET-NOTE")
        assert worker.last.text == "This action is no longer available to you."
        async with bot.app.services.sessions() as session:
            notes = (
                await session.execute(select(CaseEvent).where(CaseEvent.kind == "note"))
            ).scalars()
            assert list(notes) == []
    finally:
        await bot.stop()


async def test_a_revoked_admin_id_is_not_admin_after_restart(fake, database_url) -> None:
    bot = await steps.start(fake, database_url, admin_ids=frozenset({steps.ADMIN, ADMIN2}))
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        mira = steps.person(bot, ADMIN2, "Mira")
        await mira.command("/staff")
        assert "Usage:" in mira.last.text, "an admin through ADMIN_IDS"
        await admin.command("/staff", args=f"revoke {ADMIN2}")
        await bot.restart()
        seen = len(mira.messages)
        await mira.command("/staff")
        assert "I don't know that command." in mira.texts()[seen:], "ADMIN_IDS does not restore"
        from db.models import StaffRevocation  # new table: imported after the behaviour

        async with bot.app.services.sessions() as session:
            [row] = (await session.execute(select(StaffRevocation))).scalars().all()
            assert row.revoked_by_user_id is not None
        assert len(await steps.audit_rows(bot, "staff.revoked")) == 1

        await admin.command("/staff", args=f"grant {ADMIN2} caseworker Mira")
        await bot.restart()
        async with bot.app.services.sessions() as session:
            assert (await session.execute(select(StaffRevocation))).scalars().all() == []
            [member] = (
                (
                    await session.execute(
                        select(StaffMember).where(StaffMember.display_name == "Mira")
                    )
                )
                .scalars()
                .all()
            )
        assert member.role == "caseworker", "an admin's grant clears the revocation"
    finally:
        await bot.stop()


async def test_revoked_admin_cannot_go_on_composing_a_broadcast(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        await admin.command("/staff", args=f"grant {ADMIN2} admin Mira")
        mira = steps.person(bot, ADMIN2, "Mira")
        await mira.command("/start")
        await mira.command("/broadcast")
        await admin.command("/staff", args=f"revoke {ADMIN2}")
        seen = len(mira.messages)
        await mira.act("send_photo", caption="Vote for my cousin on Sunday!")
        assert mira.texts()[seen:] == ["This action is no longer available to you."]
        await mira.text("Vote for my cousin on Sunday!")
        assert not any("Vote for my cousin" in t for t in mira.texts()), "no test copy, no draft"
    finally:
        await bot.stop()


async def test_turning_off_the_corruption_permission_returns_corruption_cases(
    fake, database_url
) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        await admin.command("/start")
        await admin.command("/staff", args=f"grant {steps.WORKER} caseworker Besnik")
        await admin.press("Corruption reports: turn on or off")
        worker = steps.person(bot, steps.WORKER, "Besnik")
        await worker.command("/start")
        besa = bot.person(language_code="en", first_name="Besa")
        await onboard_english(besa)
        await besa.command("/menu")
        await besa.press("🚨 Report corruption")
        await besa.press("Continue ➡️")
        await besa.text("Tax office")
        await besa.text("They asked for a bribe.")
        await besa.text("Yesterday")
        await besa.press("✔️ Done")
        await besa.press("🔒 Confidential")
        await besa.press("📨 Send")
        await worker.command("/inbox")
        await worker.press(next(x for x in worker.last.labels if x.startswith("PACT-2026-00001")))
        await worker.press("🙋 Take", message=worker.last)
        assert (await steps.case_by_reference(bot, "PACT-2026-00001")).assignee_user_id

        await admin.press("Corruption reports: turn on or off")
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        assert case.kind == "corruption" and case.assignee_user_id is None
        [entry] = await steps.audit_rows(bot, "case.unassigned")
        assert entry.subject_id == case.id
    finally:
        await bot.stop()


REVOCATION_KEPT = (
    "We keep your Telegram account number and the date your staff role was revoked, so that "
    "it is not given back automatically."
)


async def _revocations(bot) -> list:
    from db.models import StaffRevocation

    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(StaffRevocation))).scalars().all())


async def test_a_revoked_admin_id_stays_revoked_after_erasing_their_data(
    fake, database_url
) -> None:
    """Erasure deletes the user row; the revocation is keyed by the Telegram id and stays."""
    bot = await steps.start(fake, database_url, admin_ids=frozenset({steps.ADMIN, ADMIN2}))
    try:
        admin = steps.person(bot, steps.ADMIN, "Ledi")
        mira = steps.person(bot, ADMIN2, "Mira")
        await onboard_english(mira)
        await mira.command("/inbox")
        assert "I don't know that command." not in mira.last.text, "an admin through ADMIN_IDS"
        await admin.command("/staff", args=f"revoke {ADMIN2}")
        assert admin.last.text == "Revoked."

        await mira.command("/privacy")
        await mira.press("🗑 Delete my data")
        assert REVOCATION_KEPT in mira.last.text, "the screen says the record stays"
        assert "You are a staff member" not in mira.last.text
        await mira.press("Yes, delete everything")
        assert mira.seen("Done. We deleted all your data.")
        assert mira.seen(REVOCATION_KEPT)
        assert await bot.user_row(mira) is None, "the user row is gone"
        [row] = await _revocations(bot)
        assert row.telegram_id == ADMIN2

        await bot.restart()
        seen = len(mira.messages)
        await mira.command("/inbox")
        await mira.command("/staff")
        assert mira.texts()[seen:].count("I don't know that command.") == 2, "not admin again"
        [row] = await _revocations(bot)
        assert row.telegram_id == ADMIN2

        await admin.command("/staff", args=f"grant {ADMIN2} admin Mira")
        assert await _revocations(bot) == [], "only a grant by an admin clears it"
    finally:
        await bot.stop()


async def test_an_admin_id_who_ends_their_own_role_by_erasure_is_not_admin_again(
    fake, database_url
) -> None:
    """Ending one's own role by erasure records a revocation that outlives the user row."""
    bot = await steps.start(fake, database_url, admin_ids=frozenset({steps.ADMIN, ADMIN2}))
    try:
        mira = steps.person(bot, ADMIN2, "Mira")
        await onboard_english(mira)
        await mira.command("/privacy")
        await mira.press("🗑 Delete my data")
        assert "You are a staff member (admin)" in mira.last.text
        assert "as a record that the role was revoked" in mira.last.text
        await mira.press("Delete everything, including my staff role")
        assert mira.seen("Done. We deleted all your data.")
        assert mira.seen(REVOCATION_KEPT)
        assert await bot.user_row(mira) is None

        await bot.restart()
        seen = len(mira.messages)
        await mira.command("/inbox")
        assert "I don't know that command." in mira.texts()[seen:], "ADMIN_IDS does not restore"
        [row] = await _revocations(bot)
        assert row.telegram_id == ADMIN2
        async with bot.app.services.sessions() as session:
            staff = (await session.execute(select(StaffMember))).scalars().all()
        assert len(staff) == 1, "only Ledi is admin"
    finally:
        await bot.stop()

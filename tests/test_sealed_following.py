"""Following is sealed: only offered named service cases, and a follower sees status lines only.

"Same problem — add me" may follow only a case that was offered to this person in this draft;
corruption, confidential, anonymous and one's own cases are never offered; the offer shows
category, place and date, never anyone's words; a follower sees status changes and their public
notes, never the reporter's exchange with the team, added information or files; the follow-up
and withdraw buttons work for the reporter only.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.cases.services import case_rules, notices
from bot.core.jobs import send_due_followups
from bot.core.runtime import unit_of_work
from db.models import (
    Authority,
    Case,
    CaseEvent,
    CaseFollower,
    CaseKind,
    CaseStatus,
    Identification,
)
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english
from tests.test_reports import _report_lighting

DESCRIPTION = "The street lights on the main road have been off for two weeks."
STAFF_MESSAGE = "Could you tell us your phone number QJX1?"
ANSWER = "My phone is 069 QJX2 45 67."
ADDED = "The broken lamp post QJX3 is next to my house."
NOTE = "We asked the utility to repair them."
SAME = "Same problem — add me to {reference}"


async def _other_case(
    bot: BotHarness,
    person: Person | None,
    identification: Identification,
    kind: CaseKind = CaseKind.SERVICE,
    category: str = "lighting",
) -> Case:
    """A street-lighting case in Shkodër (Velipojë) stored directly, as another flow would."""
    async with bot.app.services.sessions() as session, session.begin():
        town = (
            await session.execute(
                select(Authority).where(
                    Authority.kind == "municipality", Authority.name == "Shkodër"
                )
            )
        ).scalar_one()
        reporter = await bot.user_row(person) if person else None
        new = case_rules.NewCase(
            kind=kind,
            identification=identification,
            description="Someone else's words about the lights QJX9.",
            municipality_id=town.id,
            unit="Velipojë",
            category=category if kind == CaseKind.SERVICE else None,
        )
        return (await case_rules.create(session, new, reporter, bot.clock.now())).case


async def _rows(bot: BotHarness, model) -> int:
    """How many rows a table holds."""
    async with bot.app.services.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def _case(bot: BotHarness, case_id: int) -> Case:
    async with bot.app.services.sessions() as session:
        return await session.get(Case, case_id)


async def _change(bot: BotHarness, case_id: int, status: CaseStatus, note: str | None) -> int:
    """What the staff workspace does: change the status and notify; how many were told."""
    async with unit_of_work(bot.app.services) as scope:  # notices are sent after the commit
        session = scope.session
        case = await session.get(Case, case_id)
        await case_rules.change_status(
            session, case, status, public_note=note, actor_user_id=None, now=bot.clock.now()
        )
        return await notices.status_changed(bot.app.services, session, case, note)


async def _arta_and_follower(bot: BotHarness) -> tuple[Person, Person, Case]:
    """Arta reports a named lighting case; Bledi reports the same and follows hers."""
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "👤 Named")
    [case] = [c for c in await _all_cases(bot)]
    bledi = bot.person(language_code="en", first_name="Bledi")
    await onboard_english(bledi)
    await _report_lighting(bledi, "👤 Named")
    await bledi.press(SAME.format(reference=case.reference))
    assert bledi.seen(f"You now follow case {case.reference}.")
    return arta, bledi, case


async def _all_cases(bot: BotHarness) -> list[Case]:
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


async def test_only_an_offered_case_can_be_followed(bot: BotHarness) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "👤 Named")
    [offered] = await _all_cases(bot)
    cira = bot.person(language_code="en", first_name="Cira")
    await onboard_english(cira)
    hidden = await _other_case(bot, cira, Identification.CONFIDENTIAL)
    elsewhere = await _other_case(bot, cira, Identification.NAMED, category="water")

    bledi = bot.person(language_code="en", first_name="Bledi")
    await onboard_english(bledi)
    await _report_lighting(bledi, "👤 Named")
    offer = bledi.last
    assert "Similar open cases" in offer.text
    for forged in (elsewhere, hidden):
        await bledi.press_data(f"rp:follow:{forged.id}", message_id=offer.message_id)
        assert await _rows(bot, CaseFollower) == 0, "an id that was not offered follows nothing"
        assert len(await _all_cases(bot)) == 3, "and stores nothing"
        assert not any(forged.reference in text for text in bledi.texts())

    assert SAME.format(reference=offered.reference) in offer.labels
    assert hidden.reference not in offer.text, "a confidential case is never offered"
    await bledi.press(SAME.format(reference=offered.reference), message=offer)
    async with bot.app.services.sessions() as session:
        rows = (await session.execute(select(CaseFollower))).scalars().all()
    assert [(r.case_id, r.user_id) for r in rows] == [(offered.id, (await bot.user_row(bledi)).id)]


async def test_never_own_anonymous_corruption_or_confidential_cases_and_no_words(
    bot: BotHarness,
) -> None:
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await _report_lighting(arta, "👤 Named")
    [own] = await _all_cases(bot)
    anonymous = await _other_case(bot, None, Identification.ANONYMOUS)
    confidential = await _other_case(bot, arta, Identification.CONFIDENTIAL)
    corruption = await _other_case(bot, arta, Identification.NAMED, kind=CaseKind.CORRUPTION)

    await _report_lighting(arta, "👤 Named")
    assert not arta.seen("Similar open cases"), "her own case and sealed ones are never offered"
    assert len(await _all_cases(bot)) == 5, "so her second report is stored at once"

    bledi = bot.person(language_code="en", first_name="Bledi")
    await onboard_english(bledi)
    await _report_lighting(bledi, "👤 Named")
    offer = bledi.last
    assert "Similar open cases" in offer.text
    for sealed in (anonymous, confidential, corruption):
        assert sealed.reference not in offer.text
        assert not any(sealed.reference in label for label in offer.labels)
    assert own.reference in offer.text
    assert "Street lighting" in offer.text and "Shkodër" in offer.text
    assert "Velipojë" in offer.text
    assert bot.app.services.i18n.translator("en").date(own.created_at) in offer.text
    assert "street lights" not in offer.text.lower(), "never other people's words"
    assert "QJX9" not in offer.text


async def test_a_follower_sees_status_changes_and_notes_only(bot: BotHarness) -> None:
    arta, bledi, case = await _arta_and_follower(bot)
    async with bot.app.services.sessions() as session, session.begin():
        for kind, text in (
            ("staff_reply", STAFF_MESSAGE),
            ("reporter_reply", ANSWER),
            ("reporter_info", ADDED),
        ):
            session.add(CaseEvent(case_id=case.id, at=bot.clock.now(), kind=kind, public_text=text))
    assert await _change(bot, case.id, CaseStatus.UNDER_REVIEW, NOTE) == 2
    notice = bledi.last
    assert "is now: under review" in notice.text and NOTE in notice.text
    assert "➕ Add information" not in notice.labels and "↩️ Withdraw" not in notice.labels

    await bledi.command("/menu")
    await bledi.press("📂 My cases")
    await bledi.press(next(label for label in bledi.last.labels if case.reference in label))
    card = bledi.last.text
    assert case.reference in card and "under review" in card and NOTE in card
    for private in ("QJX1", "QJX2", "QJX3", "Message from the team", "Your answer"):
        assert private not in card, f"a follower must not see {private!r}"
    assert "You added information" not in card
    assert "➕ Add information" not in bledi.last.labels

    await arta.command("/menu")
    await arta.press("📂 My cases")
    await arta.press(next(label for label in arta.last.labels if case.reference in label))
    assert "QJX1" in arta.last.text and "QJX2" in arta.last.text, "the reporter sees it all"
    assert not any(t for t in bledi.texts() if "QJX" in t)


async def test_follow_up_and_withdraw_are_for_the_reporter_only(bot: BotHarness) -> None:
    arta, bledi, case = await _arta_and_follower(bot)
    assert await _change(bot, case.id, CaseStatus.RESOLVED, "Lights repaired.") == 2
    bot.clock.advance(timedelta(days=21, minutes=1))
    assert await send_due_followups(bot.app) == 1
    assert "Is the problem solved?" in arta.last.text
    assert not bledi.seen("Is the problem solved?")

    before = await _rows(bot, CaseEvent)
    await bledi.press_data(f"cs:fu:{case.id}:no", message_id=bledi.last.message_id)
    assert (await _case(bot, case.id)).status == CaseStatus.RESOLVED, "a follower cannot reopen"
    await bledi.press_data(f"cs:fu:{case.id}:yes", message_id=bledi.last.message_id)
    assert await _rows(bot, CaseEvent) == before, "no follow-up answer is stored"
    assert bledi.seen("That button is no longer active.")

    assert await _change(bot, case.id, CaseStatus.UNDER_REVIEW, None) == 2
    await bledi.press_data(f"cs:wd:{case.id}", message_id=bledi.last.message_id)
    assert not bledi.seen("Withdraw case"), "a follower is not even asked"
    await bledi.press_data(f"cs:wdy:{case.id}", message_id=bledi.last.message_id)
    assert (await _case(bot, case.id)).status == CaseStatus.UNDER_REVIEW

    await arta.press("❌ No")
    assert arta.seen("The case is reopened") or arta.seen("Thank you")


async def test_a_follower_row_on_a_sealed_case_grants_nothing(bot: BotHarness) -> None:
    cira = bot.person(language_code="en", first_name="Cira")
    await onboard_english(cira)
    sealed = await _other_case(bot, cira, Identification.CONFIDENTIAL)
    bledi = bot.person(language_code="en", first_name="Bledi")
    await onboard_english(bledi)
    async with bot.app.services.sessions() as session, session.begin():
        user = await bot.user_row(bledi)
        session.add(CaseFollower(case_id=sealed.id, user_id=user.id, created_at=bot.clock.now()))

    await bledi.command("/menu")
    await bledi.press("📂 My cases")
    assert sealed.reference not in bledi.last.text
    assert not any(sealed.reference in label for label in bledi.last.labels)
    await bledi.press_data(f"cs:open:{sealed.id}", message_id=bledi.last.message_id)
    assert not any(sealed.reference in text for text in bledi.texts())

    assert await _change(bot, sealed.id, CaseStatus.UNDER_REVIEW, NOTE) == 1, "the reporter only"
    assert not bledi.seen(NOTE)


async def test_a_typed_village_stays_with_the_reporter_and_staff(bot: BotHarness) -> None:
    """A village the reporter typed is their words: the similar-case offer and the follower's
    card name the municipality only; the reporter's own card still shows it."""
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    await arta.text("Fshati Sekret")
    await arta.press("✔️ Yes, that is the place")
    await arta.press("Street lighting")
    await arta.text(DESCRIPTION)
    await arta.act("send_location", 41.8667, 19.4167)
    await arta.press("✔️ Done")
    await arta.press("👤 Named")
    await arta.press("📨 Send")
    [case] = await _all_cases(bot)
    assert case.unit == "Fshati Sekret"

    bledi = bot.person(language_code="en", first_name="Bledi")
    await onboard_english(bledi)
    await _report_lighting(bledi, "👤 Named")
    offer = bledi.last
    assert "Similar open cases" in offer.text and case.reference in offer.text
    assert "Municipality of Shkodër" in offer.text
    assert "Fshati Sekret" not in offer.text, "another reporter's typed village is not offered"
    await bledi.press(SAME.format(reference=case.reference), message=offer)
    assert bledi.seen(f"You now follow case {case.reference}.")

    await bledi.command("/menu")
    await bledi.press("📂 My cases")
    await bledi.press(next(label for label in bledi.last.labels if case.reference in label))
    card = bledi.last.text
    assert case.reference in card and "Municipality of Shkodër" in card
    assert not any("Fshati Sekret" in text for text in bledi.texts()), "nor on the follower's card"

    await arta.command("/menu")
    await arta.press("📂 My cases")
    await arta.press(next(label for label in arta.last.labels if case.reference in label))
    assert "Municipality of Shkodër, Fshati Sekret" in arta.last.text, "the reporter sees it"

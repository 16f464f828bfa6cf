"""Staff casework as people meet it: answers with files, a confirmed merge, the audit in words."""

from __future__ import annotations

from io import BytesIO

from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from sqlalchemy import select

from bot.staff import views
from db.models import CaseAttachment
from tests import staff_steps as steps
from tests.rti_steps import onboard_english

CAMERA = b"PhoneCam-9000"
DOCX = b"PK\x03\x04 word/document.xml <dc:creator>Arta Berisha</dc:creator>"


def _jpeg_with_gps() -> bytes:
    """A phone photo sent as a file, with GPS and camera in its EXIF."""
    exif = Image.Exif()
    exif[Base.Make] = CAMERA.decode()
    exif[IFD.GPSInfo] = {GPS.GPSLatitudeRef: "N", GPS.GPSLatitude: (41.0, 19.0, 48.0)}
    out = BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "JPEG", exif=exif)
    assert CAMERA in out.getvalue()
    return out.getvalue()


async def _asked(bot, identity: str):
    """Besnik (caseworker) took Arta's case and asked her for a photo of the pole."""
    admin = steps.person(bot, steps.ADMIN, "Ledi")
    await admin.command("/start")
    await admin.command("/staff", args=f"grant {steps.WORKER} caseworker Besnik")
    worker = steps.person(bot, steps.WORKER, "Besnik")
    await worker.command("/start")
    arta = bot.person(language_code="en", first_name="Arta")
    await onboard_english(arta)
    await steps.report(arta, identity)
    await worker.command("/inbox")
    await worker.press(next(x for x in worker.last.labels if x.startswith("PACT-2026-00001")))
    await worker.press("🙋 Take", message=worker.last)
    await worker.press("✉️ Reply", message=worker.last)
    await worker.text("Could you send a photo of the pole?")
    return admin, worker, arta


async def _attachments(bot) -> list[CaseAttachment]:
    """Every stored file, oldest first."""
    async with bot.app.services.sessions() as session:
        rows = await session.execute(select(CaseAttachment).order_by(CaseAttachment.id))
        return list(rows.scalars())


async def test_the_reporter_answers_with_a_photo_and_a_cleaned_document(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        _admin, worker, arta = await _asked(bot, "👤 Named")
        await arta.press("↩️ Answer")
        assert "send a photo or a document" in arta.last.text
        seen = len(worker.messages)
        await arta.act("send_photo", caption="Here it is, pole 17.")
        assert arta.last.text == "Sent to the team."
        said, photo = worker.messages[seen:]
        assert said.text.splitlines() == [
            "↩️ The reporter of PACT-2026-00001 answered: “Here it is, pole 17.”",
            "↩️ The reporter of PACT-2026-00001 sent 1 file (below, and in 📎 Files).",
        ]
        assert photo.photo is not None and photo.text == "PACT-2026-00001"

        await arta.press(
            "↩️ Answer", message=next(m for m in reversed(arta.messages) if "↩️ Answer" in m.labels)
        )
        seen = len(worker.messages)
        await arta.act(
            "send_document",
            file_name="IMG_0042 Arta.jpg",
            mime_type="image/jpeg",
            content=_jpeg_with_gps(),
        )
        copy = next(m.document for m in reversed(arta.messages) if m.document)
        assert copy["file_name"] == "evidence-2.jpg", "renamed like a report's evidence"
        said, document = worker.messages[seen:]
        assert said.text == (
            "↩️ The reporter of PACT-2026-00001 sent 1 file (below, and in 📎 Files)."
        )
        relayed = document.document
        assert relayed["file_name"] == "evidence-2.jpg" and CAMERA not in relayed["content"]
        assert not Image.open(BytesIO(relayed["content"])).getexif(), "no GPS, no camera"
        assert document.text == "PACT-2026-00001 · evidence-2.jpg"

        photo_row, document_row = await _attachments(bot)
        assert (photo_row.kind, document_row.kind) == ("photo", "document")
        assert (document_row.file_name, document_row.cleaned) == ("evidence-2.jpg", True)
        assert document_row.file_id == copy["file_id"]

        await worker.command("/inbox")
        await worker.press(next(x for x in worker.last.labels if x.startswith("PACT-2026-00001")))
        card = worker.last.text
        assert "📎 1 document, 1 photo" in card
        assert "Reporter: a file (see 📎 Files)" in card
        assert "Reported today" in card
    finally:
        await bot.stop()


async def test_a_confidential_reporter_cannot_answer_with_a_word_file(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        _admin, worker, arta = await _asked(bot, "🔒 Confidential")
        await arta.press("↩️ Answer")
        seen = len(worker.messages)
        await arta.act(
            "send_document",
            file_name="Deklarata Arta Berisha.docx",
            mime_type="application/msword",
            content=DOCX,
        )
        assert "I cannot take this file in an anonymous or confidential report" in arta.last.text
        assert worker.messages[seen:] == [], "nothing reaches staff"
        assert await _attachments(bot) == []
        await arta.act("send_voice")
        assert arta.last.text == "Please type your answer, or send a photo or a document."
        await arta.text("I will send a PDF tomorrow.")
        assert arta.last.text == "Sent to the team."
        assert "I will send a PDF tomorrow." in worker.last.text
        assert "Arta" not in worker.last.text
    finally:
        await bot.stop()


async def _open(worker, reference: str) -> None:
    """Open a case's private card from /inbox (all cases)."""
    await worker.command("/inbox")
    await worker.press("All")
    await worker.press(next(x for x in worker.last.labels if x.startswith(reference)))


async def test_merge_asks_first_and_tells_the_reporter_which_case_to_follow(
    fake, database_url
) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin, worker, _arta = await _asked(bot, "👤 Named")
        bledi = bot.person(language_code="en", first_name="Bledi")
        await onboard_english(bledi)
        await steps.report(bledi, "🔒 Confidential", text="The street lights are off.")
        await bledi.press("It is a different problem")
        told = len(bledi.messages)

        await _open(worker, "PACT-2026-00002")
        await worker.press("⋯ More")
        await worker.press("🔗 Merge into another case")
        await worker.text("pact-2026-1")
        question = worker.last
        assert question.text.splitlines() == [
            "Merge PACT-2026-00002 into PACT-2026-00001?",
            "",
            "Case to keep:",
            "PACT-2026-00001 · Street lighting",
            "Municipality of Shkodër",
            "Status: received",
            "",
            "PACT-2026-00002 becomes its duplicate; 1 person who reported or follows it will be "
            "told which case to follow.",
        ]
        assert question.labels == ["🔗 Yes, merge", "✖️ Cancel"]
        duplicate = await steps.case_by_reference(bot, "PACT-2026-00002")
        assert duplicate.status == "received", "nothing merged before the answer"
        assert len(bledi.messages) == told

        await worker.press("✖️ Cancel", message=question)
        assert (await steps.case_by_reference(bot, "PACT-2026-00002")).status == "received"
        assert len(bledi.messages) == told

        await worker.press("⋯ More")
        await worker.press("🔗 Merge into another case")
        await worker.text("PACT-2026-00001")
        await worker.press("🔗 Yes, merge")
        assert worker.last.text == (
            "PACT-2026-00002 is now a duplicate of PACT-2026-00001; 1 person was told."
        )
        [notice] = bledi.messages[told:]
        assert notice.text == (
            "🔔 Case PACT-2026-00002 (Street lighting) reports the same problem as case "
            "PACT-2026-00001, so the team joined them: PACT-2026-00002 is closed as a "
            "duplicate.\n\nFollow case PACT-2026-00001 from now on: you will hear here when its "
            "status changes."
        )
        assert notice.labels == ["📂 PACT-2026-00001", "📂 My cases"]
        await bledi.press("📂 PACT-2026-00001", message=notice)
        assert "You follow this case" in bledi.last.text

        kept = await steps.case_by_reference(bot, "PACT-2026-00001")
        await worker.press_data(views.MERGE_YES.data(duplicate.id, kept.id), worker.last.message_id)
        assert worker.fake.callback_answers[-1]["text"] == "This button is no longer active."
        assert len(bledi.messages) == told + 1, "a replayed confirmation tells nobody again"
        assert len(await steps.audit_rows(bot, "case.merged")) == 1

        await _open(admin, "PACT-2026-00002")
        await admin.press("⋯ More")
        await admin.press("📜 Audit log")
        log = admin.last.text.splitlines()
        assert log[0] == "Audit log of PACT-2026-00002"
        assert [line.split(" · ", 1)[1] for line in log[1:]] == [
            "Case created by the reporter",
            "Card opened by Besnik",
            "Card opened by Besnik",
            "Status changed: received → duplicate of another case by Besnik",
            "Card opened by Admin 9101",
        ]
        assert "Bledi" not in admin.last.text and "case." not in admin.last.text
    finally:
        await bot.stop()


async def _corruption_report(who) -> None:
    """A confidential corruption report (never in the staff group)."""
    await who.command("/menu")
    await who.press("🚨 Report corruption")
    await who.press("Continue ➡️")
    await who.text("Tax office")
    await who.text("They asked for a bribe.")
    await who.text("Yesterday")
    await who.press("✔️ Done")
    await who.press("🔒 Confidential")
    await who.press("📨 Send")


async def test_a_service_case_and_a_corruption_case_are_never_merged(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        admin, worker, _arta = await _asked(bot, "👤 Named")
        besa = bot.person(language_code="en", first_name="Besa")
        await onboard_english(besa)
        await _corruption_report(besa)
        service = await steps.case_by_reference(bot, "PACT-2026-00001")
        corruption = await steps.case_by_reference(bot, "PACT-2026-00002")
        assert corruption.kind == "corruption"
        told = len(besa.messages)

        for duplicate, kept in (
            ("PACT-2026-00001", "PACT-2026-00002"),
            ("PACT-2026-00002", "PACT-2026-00001"),
        ):
            await _open(admin, duplicate)
            await admin.press("⋯ More")
            await admin.press("🔗 Merge into another case")
            await admin.text(kept)
            assert admin.last.text.splitlines() == [
                "A service report and a corruption report cannot be merged: the reporter of one "
                "would learn the reference of the other, and corruption reports stay confidential.",
                "Type the reference of a case of the same kind, or /cancel.",
            ]
            await admin.command("/cancel")
            assert "Nothing was merged." in admin.messages[-2].text

        for duplicate, kept in ((service, corruption), (corruption, service)):
            await admin.press_data(
                views.MERGE_YES.data(duplicate.id, kept.id), admin.last.message_id
            )
            assert admin.fake.callback_answers[-1]["text"].startswith(
                "A service report and a corruption report cannot be merged"
            )
        await _open(worker, "PACT-2026-00001")
        await worker.press("⋯ More")
        await worker.press("🔗 Merge into another case")
        await worker.text("PACT-2026-00002")
        assert worker.last.text == "No such case. Type the reference again, or /cancel."
        await worker.command("/cancel")
        await worker.press_data(
            views.MERGE_YES.data(service.id, corruption.id), worker.last.message_id
        )
        assert worker.fake.callback_answers[-1]["text"] == "This button is no longer active."
        await worker.press_data(
            views.MERGE_YES.data(corruption.id, service.id), worker.last.message_id
        )
        assert worker.fake.callback_answers[-1]["text"] == "This button is no longer active."

        for reference in ("PACT-2026-00001", "PACT-2026-00002"):
            assert (await steps.case_by_reference(bot, reference)).status == "received"
        assert await steps.audit_rows(bot, "case.merged") == []
        assert len(besa.messages) == told, "the corruption reporter is told nothing"
    finally:
        await bot.stop()


async def test_cancel_says_which_staff_draft_was_dropped(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        _admin, worker, arta = await _asked(bot, "👤 Named")
        told = len(arta.messages)
        await _open(worker, "PACT-2026-00001")
        await worker.press("✉️ Reply")
        await worker.command("/cancel")
        said = [m.text for m in worker.messages[-2:]]
        assert said[0] == "Your reply was not sent."
        await worker.press(
            "📝 Note", message=next(m for m in reversed(worker.messages) if "📝 Note" in m.labels)
        )
        await worker.command("/cancel")
        assert worker.messages[-2].text == "Your note was not saved."
        await worker.text("Never mind")
        assert len(arta.messages) == told, "nothing relayed"
    finally:
        await bot.stop()


async def test_card_buttons_fit_the_case_and_the_member(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        _admin, worker, _arta = await _asked(bot, "👤 Named")
        case = await steps.case_by_reference(bot, "PACT-2026-00001")
        await _open(worker, "PACT-2026-00001")
        assert "🙋 Take" not in worker.last.labels, "already taken by Besnik"
        assert "🔄 Status" in worker.last.labels
        taken = len(await steps.audit_rows(bot, "case.assigned"))
        await worker.press_data(views.TAKE.data(case.id), worker.last.message_id)
        assert worker.fake.callback_answers[-1]["text"] == "This button is no longer active."
        assert len(await steps.audit_rows(bot, "case.assigned")) == taken

        await _open(worker, "PACT-2026-00001")
        await worker.press("⋯ More")
        assert "🔁 Reopen" not in worker.last.labels, "the case is open"
        assert "✂️ Redact text" in worker.last.labels
        await worker.press_data(views.REOPEN.data(case.id), worker.last.message_id)
        assert worker.fake.callback_answers[-1]["text"] == "This button is no longer active."
        assert (await steps.case_by_reference(bot, "PACT-2026-00001")).status == "received"

        await _open(worker, "PACT-2026-00001")
        await worker.press("🔄 Status")
        await worker.press("resolved")
        await worker.text("The lights work again.")
        await _open(worker, "PACT-2026-00001")
        assert "🙋 Take" not in worker.last.labels, "a closed case is not taken"
        await worker.press("⋯ More")
        assert "🔁 Reopen" in worker.last.labels
        await worker.press("🔁 Reopen")
        assert (await steps.case_by_reference(bot, "PACT-2026-00001")).status == "under_review"

        ledi = steps.person(bot, steps.ADMIN, "Ledi")
        await _open(ledi, "PACT-2026-00001")
        assert "🙋 Take" in ledi.last.labels, "someone else's case can be taken over"
    finally:
        await bot.stop()


async def test_export_last_public_note_is_the_status_note_never_a_private_reply(
    fake, database_url
) -> None:
    import csv
    import io
    import zipfile

    bot = await steps.start(fake, database_url)
    try:
        _admin, worker, _arta = await _asked(bot, "👤 Named")
        await _open(worker, "PACT-2026-00001")
        await worker.press("🔄 Status")
        await worker.press("under review")
        await worker.text("We asked the municipality.")
        await _open(worker, "PACT-2026-00001")
        await worker.press("✉️ Reply")
        await worker.text("Private: which pole exactly?")
        await worker.command("/export")
        await worker.press("Everything")
        document = next(m.document for m in worker.messages if m.document)
        with zipfile.ZipFile(io.BytesIO(document["content"])) as archive:
            text = archive.read("pact-cases-all.csv").decode("utf-8-sig")
        [row] = list(csv.DictReader(io.StringIO(text)))
        assert row["Last public note"] == "We asked the municipality."
        assert "which pole" not in text
    finally:
        await bot.stop()


async def test_my_cases_shows_the_reporter_what_they_added(fake, database_url) -> None:
    bot = await steps.start(fake, database_url)
    try:
        arta = bot.person(language_code="en", first_name="Arta")
        await onboard_english(arta)
        await steps.report(arta, "👤 Named")
        bledi = bot.person(language_code="en", first_name="Bledi")
        await onboard_english(bledi)
        await steps.report(bledi, "👤 Named")
        await bledi.press("Same problem — add me to PACT-2026-00001")
        added = "The pole <17> is bent " + "and sparks at night " * 20
        await arta.command("/menu")
        await arta.press("📂 My cases")
        await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
        await arta.press("➕ Add information")
        await arta.text(added)
        await arta.command("/menu")
        await arta.press("📂 My cases")
        await arta.press(next(label for label in arta.last.labels if label.startswith("PACT")))
        lines = arta.last.text.splitlines()
        said = lines[lines.index(next(x for x in lines if x.endswith("You added information"))) + 1]
        assert said.startswith("   “The pole <17> is bent and sparks at night")
        assert said.endswith(" at…”") and len(said) < 215, "cut at a word boundary"
        await bledi.command("/menu")
        await bledi.press("📂 My cases")
        await bledi.press(next(x for x in bledi.last.labels if x.startswith("PACT-2026-00001")))
        assert "You follow this case" in bledi.last.text
        assert "pole" not in bledi.last.text, "a follower never sees what the reporter added"
    finally:
        await bot.stop()

"""Evidence cannot identify a reporter: content-detected images, HEIC, PDFs, other documents,
neutral names, voice notes, bounded decoding (issue 10, item 3 and the file-name part of 10)."""

from __future__ import annotations

import asyncio
import struct
import threading
import zlib
from io import BytesIO
from types import SimpleNamespace
from typing import Any

import pytest
from fpdf import FPDF
from PIL import Image
from PIL.ExifTags import GPS, IFD, Base
from pypdf import PdfReader
from sqlalchemy import select

from bot.cases import evidence_intake
from bot.cases.services import case_rules, evidence
from bot.cases.services.evidence import Kind, Refusal, RefusedError
from db.models import Case, CaseAttachment, CaseKind, Identification
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

NAME = "Arben Krasniqi"
CAMERA = b"SpyCam"
DOCX = b"PK\x03\x04 word/document.xml <dc:creator>Arben Krasniqi</dc:creator>"
LONG_NAME = "Deklarata_" + "Arben_Krasniqi_" * 19 + ".docx"


# --- files to send ---------------------------------------------------------------------------


def _gps_exif() -> Image.Exif:
    """EXIF as a phone writes it: camera and GPS position."""
    exif = Image.Exif()
    exif[Base.Make] = CAMERA.decode()
    exif[IFD.GPSInfo] = {
        GPS.GPSLatitudeRef: "N",
        GPS.GPSLatitude: (41.0, 19.0, 48.0),
        GPS.GPSLongitudeRef: "E",
        GPS.GPSLongitude: (19.0, 49.0, 5.0),
    }
    return exif


def _jpeg_with_gps() -> bytes:
    """A phone photo with GPS and camera in its EXIF."""
    out = BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "JPEG", exif=_gps_exif())
    assert CAMERA in out.getvalue()
    return out.getvalue()


def _heic_with_gps() -> bytes:
    """An iPhone-style HEIC photo with GPS and camera in its EXIF (made with pillow-heif)."""
    out = BytesIO()
    Image.new("RGB", (64, 48), "red").save(out, "HEIF", exif=_gps_exif().tobytes(), quality=90)
    assert CAMERA in out.getvalue()
    return out.getvalue()


def _pdf_by_author() -> bytes:
    """Two pages whose document information and XMP name the author."""
    pdf = FPDF()
    pdf.set_author(NAME)
    pdf.set_title(f"Deklarata e {NAME}")
    pdf.set_creator(f"Word ({NAME})")
    pdf.set_producer("Acme PDF 2026")
    pdf.set_xmp_metadata(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>{NAME}</dc:creator>'
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )
    pdf.set_font("helvetica", size=12)
    for text in ("Fatura e ryshfetit", "Faqja e dyte"):
        pdf.add_page()
        pdf.cell(text=text)
    content = bytes(pdf.output())
    assert PdfReader(BytesIO(content)).metadata["/Author"] == NAME
    return content


def _png_bomb(width: int = 20_000, height: int = 20_000) -> bytes:
    """A single-colour 1-bit PNG: about 50 KiB on disk, 400 MP once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" + bytes(-(-width // 8))
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --- walking the flows -----------------------------------------------------------------------


async def _corruption_until_files(person: Person) -> None:
    """A consenting person starts a corruption report and reaches the evidence step."""
    await onboard_english(person)
    await person.command("/menu")
    await person.press("🚨 Report corruption")
    await person.press("Continue ➡️")
    await person.text("Health centre of Kukës")
    await person.text("A doctor asked for money before an operation.")
    await person.text("In October")


async def _send_file(person: Person, file_name: str, mime_type: str, content: bytes) -> None:
    """Send a file as a Telegram document."""
    await person.act("send_document", file_name=file_name, mime_type=mime_type, content=content)


async def _finish(person: Person, identity: str) -> None:
    """Done with files, choose the identification, send."""
    await person.press("✔️ Done")
    await person.press(identity)
    await person.press("📨 Send")


async def _finish_without_sending(person: Person, identity: str) -> None:
    """Done with files and the identification chosen: the preview is shown."""
    await person.press("✔️ Done")
    await person.press(identity)
    assert "Check your report" in person.last.text


async def _attachments(bot: BotHarness) -> list[CaseAttachment]:
    """Every stored attachment, oldest first."""
    async with bot.app.services.sessions() as session:
        found = await session.execute(select(CaseAttachment).order_by(CaseAttachment.id))
        return list(found.scalars())


async def _cases(bot: BotHarness) -> list[Case]:
    """Every stored case."""
    async with bot.app.services.sessions() as session:
        return list((await session.execute(select(Case).order_by(Case.id))).scalars())


def _copies(person: Person) -> list[dict[str, Any]]:
    """Documents the bot sent back to the person (the copies the team will see)."""
    return [m.document for m in person.messages if m.document]


def _forwarded(bot: BotHarness, item: CaseAttachment) -> Any:
    """The file staff receive when the bot sends this stored file_id (name and content)."""
    stored = bot.fake.state.files.get(item.file_id)
    assert stored is not None
    return stored


# --- images by content, HEIC -----------------------------------------------------------------


async def test_jpeg_named_bin_as_octet_stream_is_cleaned(bot: BotHarness) -> None:
    """A phone JPEG named x.bin (application/octet-stream) loses GPS and camera, gets a neutral
    name, and the stored file_id is that clean copy."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, "x.bin", "application/octet-stream", _jpeg_with_gps())
    [copy] = _copies(dita)
    assert copy["file_name"] == "evidence-1.jpg"
    assert CAMERA not in copy["content"] and not Image.open(BytesIO(copy["content"])).getexif()
    await _finish(dita, "🕶 Anonymous")
    [stored] = await _attachments(bot)
    assert (stored.file_id, stored.file_name, stored.cleaned) == (
        copy["file_id"],
        "evidence-1.jpg",
        True,
    )
    forwarded = _forwarded(bot, stored)
    assert forwarded.file_name == "evidence-1.jpg" and CAMERA not in forwarded.content


async def test_heic_is_converted_to_jpeg_without_gps(bot: BotHarness) -> None:
    """An iPhone HEIC with GPS is stored as a JPEG copy without EXIF."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, "IMG_0042.HEIC", "image/heic", _heic_with_gps())
    assert dita.seen("converted this HEIC photo to JPEG")
    await _finish(dita, "🔒 Confidential")
    [stored] = await _attachments(bot)
    forwarded = _forwarded(bot, stored)
    picture = Image.open(BytesIO(forwarded.content))
    assert (stored.file_name, forwarded.file_name, picture.format) == (
        "evidence-1.jpg",
        "evidence-1.jpg",
        "JPEG",
    )
    assert not picture.getexif() and CAMERA not in forwarded.content


async def test_unreadable_heic_is_refused_with_a_clear_message(bot: BotHarness) -> None:
    """A HEIC that cannot be converted is refused, saying why; nothing is kept."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, "IMG_0043.HEIC", "image/heic", _heic_with_gps()[:300])
    assert dita.seen("I could not convert this HEIC photo")
    await _finish(dita, "👤 Named")
    assert await _attachments(bot) == []


async def test_small_png_decoding_to_400_megapixels_is_refused(bot: BotHarness) -> None:
    """A ~50 KiB PNG of 20000x20000 pixels, named scan.bin, is refused before decoding."""
    bomb = _png_bomb()
    assert len(bomb) < 150 * 1024
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, "scan.bin", "application/octet-stream", bomb)
    assert dita.seen("This image has too many pixels")
    await _finish(dita, "👤 Named")
    assert await _attachments(bot) == []


# --- PDFs and other documents ----------------------------------------------------------------


async def test_pdf_loses_author_and_keeps_its_pages(bot: BotHarness) -> None:
    """Author, title, creator, producer and XMP are gone; both pages and their text stay."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, "Deklarata_Arben_Krasniqi_2026.pdf", "application/pdf", _pdf_by_author())
    await _finish(dita, "🔒 Confidential")
    [stored] = await _attachments(bot)
    forwarded = _forwarded(bot, stored)
    assert (stored.file_name, forwarded.file_name, stored.cleaned) == (
        "evidence-1.pdf",
        "evidence-1.pdf",
        True,
    )
    reader = PdfReader(BytesIO(forwarded.content))
    assert not reader.metadata and reader.xmp_metadata is None
    assert b"Arben" not in forwarded.content and b"Acme" not in forwarded.content
    assert len(reader.pages) == 2 and "Fatura e ryshfetit" in reader.pages[0].extract_text()


async def test_word_file_is_dropped_when_anonymous_is_chosen(bot: BotHarness) -> None:
    """A document that cannot be cleaned is warned about, then removed with the reason said when
    the report turns anonymous; sent again after that, it is refused at once."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, "Deklarata.docx", "application/msword", DOCX)
    assert dita.seen("can carry the author's name inside")
    await dita.press("✔️ Done")
    await dita.press("🕶 Anonymous")
    assert dita.seen("I removed 1 document from this report")
    assert "0 files" in dita.last.text
    await dita.press("✏️ Files")
    await _send_file(dita, "Deklarata.docx", "application/msword", DOCX)
    assert "I cannot take this file in an anonymous or confidential report" in dita.last.text
    await dita.press("✔️ Done")
    await dita.press("📨 Send")
    assert len(await _cases(bot)) == 1
    assert await _attachments(bot) == []


async def test_word_file_refused_at_once_when_only_anonymous_is_possible(bot: BotHarness) -> None:
    """Under 16 only anonymous reports exist: an uncleanable document is refused on arrival."""
    ana = bot.person(language_code="en")
    await ana.command("/start")
    await ana.press("✅ I agree")
    await ana.press("Under 16")
    await ana.command("/menu")
    await ana.press("🚨 Report corruption")
    await ana.press("Continue ➡️")
    await ana.text("The school canteen")
    await ana.text("The cook sells the food meant for the pupils.")
    await ana.text("Every week")
    await _send_file(ana, "Ankesa.docx", "application/msword", DOCX)
    assert "I cannot take this file in an anonymous or confidential report" in ana.last.text
    assert _copies(ana) == []


async def test_named_report_keeps_a_word_file_under_a_neutral_name(bot: BotHarness) -> None:
    """In a named report the document is re-uploaded as evidence-1.docx, content unchanged; a
    300-character original name never stops the report (String(200) on PostgreSQL)."""
    assert len(LONG_NAME) == 300
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _send_file(dita, LONG_NAME, "application/msword", DOCX)
    await _finish(dita, "👤 Named")
    assert dita.seen("Your case number is")
    [stored] = await _attachments(bot)
    forwarded = _forwarded(bot, stored)
    assert (stored.file_name, forwarded.file_name, stored.cleaned) == (
        "evidence-1.docx",
        "evidence-1.docx",
        False,
    )
    assert forwarded.content == DOCX


async def test_any_stored_file_name_is_cut_to_its_column(bot: BotHarness) -> None:
    """Whatever name reaches storage is cut to 200 characters instead of failing the insert."""
    async with bot.app.services.sessions() as session, session.begin():
        await case_rules.create(
            session,
            case_rules.NewCase(
                kind=CaseKind.CORRUPTION,
                identification=Identification.ANONYMOUS,
                description="A long name must not stop this.",
                institution="Bashkia",
                attachments=[case_rules.Attachment("document", "file-1", "n" * 300 + ".pdf")],
            ),
            None,
            bot.clock.now(),
        )
    [stored] = await _attachments(bot)
    assert stored.file_name is not None and len(stored.file_name) == 200


async def test_service_report_takes_an_image_file_but_not_a_pdf(bot: BotHarness) -> None:
    """Service reports take photos only: a JPEG named x.bin is cleaned, a PDF is refused."""
    arta = bot.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/menu")
    await arta.press("🛠 Report a service problem")
    await arta.press("Shkodër")
    await arta.press("Municipality of Shkodër")
    await arta.press("Velipojë")
    await arta.press("Street lighting")
    await arta.text("The street lights on the main road have been off for two weeks.")
    await arta.press("Skip")
    await _send_file(arta, "scan.pdf", "application/pdf", _pdf_by_author())
    assert arta.last.text == "Please send photos here."
    await _send_file(arta, "x.bin", "application/octet-stream", _jpeg_with_gps())
    await _finish(arta, "👤 Named")
    [stored] = await _attachments(bot)
    assert stored.file_name == "evidence-1.jpg"
    assert CAMERA not in _forwarded(bot, stored).content


# --- voice notes -----------------------------------------------------------------------------


async def test_voice_description_then_anonymous_offers_text_instead(bot: BotHarness) -> None:
    """A voice description warns at once; choosing anonymous asks keep or write; writing drops
    the voice and the report is stored with the text only."""
    dita = bot.person(language_code="en")
    await onboard_english(dita)
    await dita.command("/menu")
    await dita.press("🚨 Report corruption")
    await dita.press("Continue ➡️")
    await dita.text("Health centre of Kukës")
    await dita.act("send_voice", duration=5)
    assert dita.seen("A voice can identify you")
    await dita.text("In October")
    await dita.press("✔️ Done")
    await dita.press("🕶 Anonymous")
    assert "Your report has a voice note" in dita.last.text
    assert {"🎙 Keep the voice note", "✍️ Write text instead"} <= set(dita.last.labels)
    await dita.press("✍️ Write text instead")
    assert dita.seen("I removed the voice notes")
    await dita.text("A doctor asked for money before an operation.")
    assert "Check your report" in dita.last.text and "voice note" not in dita.last.text
    await dita.press("📨 Send")
    [case] = await _cases(bot)
    assert case.description == "A doctor asked for money before an operation."
    assert case.identification == Identification.ANONYMOUS
    assert await _attachments(bot) == []


async def test_voice_evidence_kept_when_the_reporter_says_so(bot: BotHarness) -> None:
    """Confidential with a voice note as evidence: asked first; "keep" stores it."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await dita.act("send_voice", duration=4)
    assert dita.seen("A voice can identify you")
    await dita.press("✔️ Done")
    await dita.press("🔒 Confidential")
    assert "Your report has a voice note" in dita.last.text
    await dita.press("🎙 Keep the voice note")
    assert "Check your report" in dita.last.text
    await dita.press("📨 Send")
    [voice] = await _attachments(bot)
    assert voice.kind == "voice"
    [case] = await _cases(bot)
    assert case.identification == Identification.CONFIDENTIAL


async def test_named_report_with_voice_is_not_asked(bot: BotHarness) -> None:
    """Named reports go straight to the preview: the voice is the reporter's choice."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await dita.act("send_voice", duration=4)
    await dita.press("✔️ Done")
    await dita.press("👤 Named")
    assert "Check your report" in dita.last.text


async def test_voice_sent_while_editing_an_anonymous_report_is_asked_about_at_once(
    bot: BotHarness,
) -> None:
    """Anonymous already chosen: a voice note sent from ✏️ What happened is questioned at once."""
    dita = bot.person(language_code="en")
    await _corruption_until_files(dita)
    await _finish_without_sending(dita, "🕶 Anonymous")
    await dita.press("✏️ What happened")
    await dita.act("send_voice", duration=3)
    assert "Your report has a voice note" in dita.last.text
    await dita.press("✍️ Write text instead")
    await dita.text("The doctor asked for 200 euros in cash.")
    assert "Check your report" in dita.last.text
    await dita.press("📨 Send")
    [case] = await _cases(bot)
    assert case.description == "The doctor asked for 200 euros in cash."
    assert await _attachments(bot) == []


def test_safety_text_does_not_promise_that_nobody_will_know() -> None:
    """The corruption safety notes say what anonymity does and what can still identify."""
    from bot.cases.report_texts import safety_text
    from bot.core.i18n import I18n

    text = safety_text(I18n("sq", "Europe/Tirane").translator("en"))
    assert "nobody, not even the team, will know" not in text
    assert "voice" in text and "not linked to your Telegram account" in text


# --- adding files to an existing case --------------------------------------------------------


async def _report_confidential_lighting(person: Person) -> None:
    """A confidential street-lighting report, then "Add information" on it."""
    await onboard_english(person)
    await person.command("/menu")
    await person.press("🛠 Report a service problem")
    await person.press("Shkodër")
    await person.press("Municipality of Shkodër")
    await person.press("Velipojë")
    await person.press("Street lighting")
    await person.text("The street lights on the main road have been off for two weeks.")
    await person.press("Skip")
    await person.press("✔️ Done")
    await person.press("🔒 Confidential")
    await person.press("📨 Send")
    await person.command("/menu")
    await person.press("📂 My cases")
    await person.press(next(label for label in person.last.labels if label.startswith("PACT")))
    await person.press("➕ Add information")


async def test_files_added_to_a_case_are_cleaned_and_renamed(bot: BotHarness) -> None:
    """Adding information: an image file is cleaned and renamed; a Word file is refused in a
    confidential case with the reason said."""
    arta = bot.person(language_code="en")
    await _report_confidential_lighting(arta)
    await _send_file(arta, "Deklarata.docx", "application/msword", DOCX)
    assert "I cannot take this file in an anonymous or confidential report" in arta.last.text
    await _send_file(arta, "x.bin", "application/octet-stream", _jpeg_with_gps())
    assert arta.seen("Added to PACT-2026-00001.")
    [stored] = await _attachments(bot)
    forwarded = _forwarded(bot, stored)
    assert (stored.file_name, forwarded.file_name) == ("evidence-1.jpg", "evidence-1.jpg")
    assert CAMERA not in forwarded.content


# --- rules without Telegram ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "mime", "content", "kind", "extension"),
    [
        ("x.bin", "application/octet-stream", _jpeg_with_gps(), Kind.IMAGE, "jpg"),
        ("IMG.HEIC", "image/heic", _heic_with_gps(), Kind.IMAGE, "jpg"),
        ("Deklarata_Arben.pdf", "application/octet-stream", _pdf_by_author(), Kind.PDF, "pdf"),
        ("Deklarata_Arben.docx", "application/msword", DOCX, Kind.OTHER, "docx"),
        ("Arben.krasniqi", None, b"plain words", Kind.OTHER, "bin"),
    ],
    ids=["jpeg-as-bin", "heic", "pdf", "docx", "unknown"],
)
def test_prepare_judges_by_content(
    name: str, mime: str | None, content: bytes, kind: Kind, extension: str
) -> None:
    """Kind from the bytes; nothing of the original name survives but a known extension."""
    prepared = evidence.prepare(content, name, mime)
    assert (prepared.kind, prepared.extension) == (kind, extension)
    assert prepared.cleaned is (kind is not Kind.OTHER)
    assert CAMERA not in prepared.content or kind is Kind.OTHER


@pytest.mark.parametrize(
    ("content", "name", "mime", "reason"),
    [
        (b"", "a.pdf", None, Refusal.EMPTY),
        (b"%PDF-1.4\n", "a.pdf", "application/pdf", Refusal.UNREADABLE_PDF),
        (b"not a picture", "a.jpg", "image/jpeg", Refusal.UNREADABLE_IMAGE),
        (b"not a picture", "a.heic", None, Refusal.HEIC_FAILED),
        (_png_bomb(5_000, 5_000), "a.bin", None, Refusal.IMAGE_TOO_LARGE),
    ],
    ids=["empty", "broken-pdf", "broken-jpeg", "broken-heic", "25-megapixels"],
)
def test_prepare_refuses_with_a_reason(
    content: bytes, name: str, mime: str | None, reason: Refusal
) -> None:
    """Files that cannot be cleaned are refused with the reason the sender is told."""
    with pytest.raises(RefusedError) as refused:
        evidence.prepare(content, name, mime)
    assert refused.value.reason is reason


def test_password_protected_pdf_is_refused() -> None:
    """A PDF that needs a password cannot be cleaned: refused, saying so."""
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=BytesIO(_pdf_by_author()))
    writer.encrypt("secret")
    out = BytesIO()
    writer.write(out)
    with pytest.raises(RefusedError) as refused:
        evidence.prepare(out.getvalue(), "a.pdf", "application/pdf")
    assert refused.value.reason is Refusal.LOCKED_PDF


@pytest.mark.parametrize(
    ("number", "extension", "expected"),
    [(1, "jpg", "evidence-1.jpg"), (2, "pdf", "evidence-2.pdf"), (3, "../x y", "evidence-3.xy")],
)
def test_neutral_names(number: int, extension: str, expected: str) -> None:
    """Names say nothing but the position and the kind."""
    assert evidence.neutral_name(number, extension) == expected


def test_attachment_name_is_cut_to_fit() -> None:
    """case_attachments.file_name is String(200): longer names are cut, never rejected."""
    item = case_rules.Attachment(kind="document", file_id="f", file_name="a" * 300)
    assert item.file_name is not None and len(item.file_name) == 200


async def test_at_most_two_cleanings_run_at_once() -> None:
    """The off-loop cleaning waits for one of settings.cleanings_at_once slots."""
    services = SimpleNamespace(settings=SimpleNamespace(cleanings_at_once=2), cache={})
    release = threading.Event()
    lock = threading.Lock()
    running: list[int] = [0, 0]

    def work() -> None:
        with lock:
            running[0] += 1
            running[1] = max(running)
        release.wait(timeout=10)
        with lock:
            running[0] -= 1

    tasks = [
        asyncio.create_task(evidence_intake.off_loop(services, work))  # type: ignore[arg-type]
        for _ in range(5)
    ]
    for _ in range(500):
        if running[0] == 2:
            break
        await asyncio.sleep(0.01)
    slots = evidence_intake.cleaning_slots(services)  # type: ignore[arg-type]
    assert running[0] == 2 and slots.locked()
    release.set()
    await asyncio.gather(*tasks)
    assert running == [0, 2]

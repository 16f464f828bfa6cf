"""Request and complaint letters (Law 119/2014): content, PDF rendering and the mailto link."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from pypdf import PdfReader

from bot.rti.services.letters import (
    COMMISSIONER_EMAIL,
    COMMISSIONER_NAME,
    COORDINATOR_TITLE,
    MAILTO_LIMIT,
    SIGNATURE_LINE,
    ComplaintLetter,
    RequestLetter,
    complaint_pdf,
    complaint_subject,
    complaint_text,
    numbered_lines,
    request_mailto,
    request_pdf,
    request_subject,
    request_text,
)

COMMISSIONER_ADDRESS = 'Rr. "Abdi Toptani", Nd. 5, 1001 Tiranë'
WEIRD = 'Kontrata <b> & "faturat" ‘2025’ 👍 e\u0308 – çështja\r\nrreshti i dytë\ttab'
NO_ANSWER_SENTENCE = "Sipas pikës 4 të nenit 15 të ligjit"

REQUEST = RequestLetter(
    authority_name="Bashkia Shkodër",
    coordinator_name="Arben Hoxha",
    authority_email="info@bashkiashkoder.gov.al",
    authority_address="Sheshi “5 Heronjtë”, Shkodër",
    requester_name="Arta Kelmendi",
    reply_channel="email",
    reply_address="arta.kelmendi@example.com",
    information="Kopje të kontratave për ndriçimin rrugor të lidhura gjatë vitit 2025.",
    format="electronic",
    written_on=date(2026, 11, 23),
)

COMPLAINT = ComplaintLetter(
    requester_name="Arta Kelmendi",
    reply_channel="post",
    reply_address="Rr. Kolë Idromeno 5, Shkodër",
    authority_name="Bashkia Shkodër",
    information="Kopje të kontratave për ndriçimin rrugor të lidhura gjatë vitit 2025.",
    request_sent_on=date(2026, 11, 23),
    protocol_number="1234/2",
    due_on=date(2026, 12, 7),
    what_happened="no_answer",
    outcome_on=None,
    written_on=date(2026, 12, 10),
    commissioner_address=COMMISSIONER_ADDRESS,
)


def pdf_text(data: bytes) -> str:
    """All text pypdf extracts from a PDF, with wrapped lines joined back by spaces."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_lines(data: bytes) -> list[str]:
    """The PDF's text line by line, as pypdf lays it out."""
    reader = PdfReader(io.BytesIO(data))
    return [line.strip() for page in reader.pages for line in page.extract_text().splitlines()]


def embedded_fonts(data: bytes) -> set[str]:
    """Base names of the fonts whose TrueType program is embedded in the PDF."""
    reader = PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if "/FontFile2" in descriptor:
                    names.add(str(font["/BaseFont"]).split("+", 1)[-1])
    return names


def pdf_pages(data: bytes) -> int:
    """How many pages a PDF has."""
    return len(PdfReader(io.BytesIO(data)).pages)


def mailto_parts(url: str) -> tuple[str, str, str]:
    """Recipient, subject and body of a mailto URL, decoded the standard way."""
    parts = urlsplit(url)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=True)
    return unquote(parts.path), query["subject"][0], query["body"][0]


@pytest.fixture(scope="module")
def request_pdf_text() -> str:
    """The sample request, rendered and read back once for all tests."""
    return pdf_text(request_pdf(REQUEST))


@pytest.fixture(scope="module")
def complaint_pdf_text() -> str:
    """The sample complaint (no answer), rendered and read back once for all tests."""
    return pdf_text(complaint_pdf(COMPLAINT))


# Request letter


@pytest.mark.parametrize(
    "expected",
    [
        "Arben Hoxha",
        COORDINATOR_TITLE,
        "Bashkia Shkodër",
        "Sheshi “5 Heronjtë”, Shkodër",
        "Arta Kelmendi",
        "arta.kelmendi@example.com",
        "23 nëntor 2026",
        "neneve 3 dhe 11 të Ligjit nr. 119/2014 “Për të drejtën e informimit”",
        "nenit 3 të ligjit",
        "nenit 15 të ligjit",
        "10 ditë pune",
        "nenit 13 të ligjit",
        "Regjistrin e Kërkesave dhe Përgjigjeve",
        "ndriçimin rrugor",
        SIGNATURE_LINE,
    ],
)
def test_request_pdf_carries_the_essentials(request_pdf_text: str, expected: str) -> None:
    """Addressee, authority, requester, cited articles, date and signature survive in the PDF."""
    assert expected in request_pdf_text


def test_request_pdf_keeps_albanian_letters(request_pdf_text: str) -> None:
    """ë and ç render with the embedded font and come back out of the PDF."""
    assert "ë" in request_pdf_text
    assert "ç" in request_pdf_text


def test_request_pdf_is_one_a4_page_with_metadata() -> None:
    """A typical request fits on one A4 page titled with the subject."""
    reader = PdfReader(io.BytesIO(request_pdf(REQUEST)))
    assert len(reader.pages) == 1
    assert round(float(reader.pages[0].mediabox.width)) == 595
    assert reader.metadata is not None
    assert reader.metadata.title == request_subject(REQUEST)


def test_request_pdf_is_deterministic() -> None:
    """The same letter gives the same bytes: the creation date comes from written_on."""
    assert request_pdf(REQUEST) == request_pdf(REQUEST)


def test_request_without_coordinator_uses_the_title() -> None:
    """Without a known name the letter goes to the coordinator's office, without blank lines."""
    letter = replace(REQUEST, coordinator_name=None, authority_address=None)
    text = request_text(letter)
    assert text.startswith(f"{COORDINATOR_TITLE}\nBashkia Shkodër\n")
    assert COORDINATOR_TITLE in pdf_text(request_pdf(letter))
    assert "Arben" not in text


def test_request_text_quotes_user_text_verbatim() -> None:
    """The text version keeps the user's characters; only the PDF replaces what it cannot show."""
    text = request_text(replace(REQUEST, information=WEIRD))
    assert '<b> & "faturat" ‘2025’ 👍 e\u0308 – çështja\nrreshti i dytë\ttab' in text
    assert request_subject(REQUEST) in text


def test_request_pdf_survives_odd_user_text() -> None:
    """Markup characters, emoji, tabs and decomposed accents do not crash the PDF."""
    text = pdf_text(request_pdf(replace(REQUEST, information=WEIRD)))
    assert 'Kontrata <b> & "faturat" ‘2025’ ? ë – çështja' in text
    assert "rreshti i dytë" in text


def test_request_pdf_wraps_long_text() -> None:
    """3000 characters, including an unbroken URL, wrap onto more pages instead of failing."""
    long_text = "https://example.al/" + "a" * 300 + " " + "informacion për buxhetin " * 110
    data = request_pdf(replace(REQUEST, information=long_text[:3000]))
    assert pdf_pages(data) >= 2
    assert SIGNATURE_LINE in pdf_text(data)


@pytest.mark.parametrize(
    ("fmt", "expected", "unexpected"),
    [
        ("electronic", "formë elektronike", None),
        ("paper", "në kopje në letër.", "nenit 13"),
        ("on_site", "në ambientet e institucionit", "nenit 13"),
    ],
)
def test_request_states_the_preferred_format(
    fmt: str, expected: str, unexpected: str | None
) -> None:
    """The preferred format (art. 11(ç)) is stated; art. 13 is cited for electronic copies."""
    text = request_text(replace(REQUEST, format=fmt))
    assert expected in text
    if unexpected:
        assert unexpected not in text


def test_request_by_post_gives_the_postal_address() -> None:
    """A postal reply address is labelled as such."""
    letter = replace(REQUEST, reply_channel="post", reply_address="Rr. Kolë Idromeno 5, Shkodër")
    assert "Adresa postare për përgjigje: Rr. Kolë Idromeno 5, Shkodër" in request_text(letter)


def test_unknown_choices_are_refused() -> None:
    """A wrong format, channel or outcome is a programming error, not a silent default."""
    with pytest.raises(ValueError, match="format"):
        replace(REQUEST, format="fax")
    with pytest.raises(ValueError, match="reply_channel"):
        replace(REQUEST, reply_channel="phone")
    with pytest.raises(ValueError, match="what_happened"):
        replace(COMPLAINT, what_happened="lost")


# mailto


def test_mailto_round_trips() -> None:
    """The link parses back to the authority's address, the subject and the full letter body."""
    url = request_mailto(REQUEST)
    assert url.startswith("mailto:info@bashkiashkoder.gov.al?subject=")
    assert len(url) <= MAILTO_LIMIT
    assert " " not in url and "\n" not in url
    to, subject, body = mailto_parts(url)
    assert to == "info@bashkiashkoder.gov.al"
    assert subject == request_subject(REQUEST)
    assert "\r\n" in body
    assert REQUEST.information in body
    assert "nenit 15" in body and "Arta Kelmendi" in body


def test_mailto_keeps_markup_characters_intact() -> None:
    """&, = and + in user text are encoded, so they cannot break the query string."""
    letter = replace(REQUEST, information="A & B = C + D?")
    _, _, body = mailto_parts(request_mailto(letter))
    assert "“A & B = C + D?”" in body


def test_long_mailto_is_shortened_below_the_limit() -> None:
    """A long request keeps subject, essentials and an excerpt, and points to the attachment."""
    letter = replace(REQUEST, information="Lista e lejeve të ndërtimit të vitit 2025. " * 70)
    url = request_mailto(letter)
    assert len(url) <= MAILTO_LIMIT
    _, subject, body = mailto_parts(url)
    assert subject == request_subject(letter)
    assert "bashkëngjitur" in body
    assert "Lista e lejeve" in body and "…”" in body
    assert "arta.kelmendi@example.com" in body
    assert "nenit 15" in body and "Arta Kelmendi" in body


def test_no_authority_email_no_mailto() -> None:
    """Without an e-mail address there is no link to offer."""
    assert request_mailto(replace(REQUEST, authority_email=None)) == ""


# Complaint


@pytest.mark.parametrize(
    "expected",
    [
        COMMISSIONER_NAME,
        COMMISSIONER_EMAIL,
        "Rr. “Abdi Toptani”, Nd. 5, 1001 Tiranë",
        "Arta Kelmendi",
        "Rr. Kolë Idromeno 5, Shkodër",
        "Bashkia Shkodër",
        "nenit 24 të Ligjit nr. 119/2014",
        "23 nëntor 2026",
        "1234/2",
        "7 dhjetor 2026",
        "10 dhjetor 2026",
        NO_ANSWER_SENTENCE,
        "ndriçimin rrugor",
        "Kopje e kërkesës për informim",
        "dëftesa e postës, e-maili i dërguar ose numri i protokollit",
        SIGNATURE_LINE,
    ],
)
def test_complaint_pdf_carries_the_essentials(complaint_pdf_text: str, expected: str) -> None:
    """Commissioner, parties, request, art. 24 and 15(4), attachments and signature are there."""
    assert expected in complaint_pdf_text


def test_complaint_pdf_is_one_page_with_title() -> None:
    """A typical complaint fits on one page and is titled with its subject."""
    reader = PdfReader(io.BytesIO(complaint_pdf(COMPLAINT)))
    assert len(reader.pages) == 1
    assert reader.metadata is not None
    assert reader.metadata.title == complaint_subject(COMPLAINT)


@pytest.mark.parametrize("outcome", ["refused", "partial"])
def test_complaint_after_an_answer(outcome: str) -> None:
    """Refusals and partial answers cite no 15(4) and list the authority's answer to attach."""
    letter = replace(COMPLAINT, what_happened=outcome, outcome_on=date(2026, 12, 3))
    text = complaint_text(letter)
    assert NO_ANSWER_SENTENCE not in text
    assert "Më 3 dhjetor 2026, autoriteti" in text
    assert "3. Kopje e përgjigjes së autoritetit, e marrë më 3 dhjetor 2026." in text


def test_complaint_for_no_answer_lists_two_attachments() -> None:
    """With no answer there is no authority's answer to attach."""
    text = complaint_text(COMPLAINT)
    assert "2. Provë e dërgimit" in text
    assert "3. " not in text
    assert text.count(NO_ANSWER_SENTENCE) == 1


def test_complaint_without_protocol_number() -> None:
    """No protocol number: the sentence about it is left out."""
    text = complaint_text(replace(COMPLAINT, protocol_number=None))
    assert "numrin e protokollit (numrin rendor)" not in text


def test_complaint_states_no_court_deadline() -> None:
    """The bot does not state any court deadline (rti.md)."""
    text = complaint_text(COMPLAINT).lower()
    assert "gjykat" not in text


def test_complaint_pdf_survives_odd_user_text() -> None:
    """User text with markup and emoji renders in the complaint too."""
    letter = replace(COMPLAINT, information=WEIRD, protocol_number="Nr. 12 👍")
    text = pdf_text(complaint_pdf(letter))
    assert "Nr. 12 ?" in text
    assert "çështja" in text


# Typography


def test_letters_embed_dejavu_sans() -> None:
    """Both letters carry DejaVu Sans (regular and bold) inside the file, for every viewer."""
    for data in (request_pdf(REQUEST), complaint_pdf(COMPLAINT)):
        assert embedded_fonts(data) == {"DejaVuSansBook", "DejaVuSansBold"}


def test_place_comes_before_the_date() -> None:
    """A letter written in Koplik is dated "Koplik, më …"; without a place the date stands alone."""
    assert "Koplik, më 23 nëntor 2026" in pdf_lines(request_pdf(replace(REQUEST, place="Koplik")))
    assert "Koplik, më 10 dhjetor 2026" in pdf_lines(
        complaint_pdf(replace(COMPLAINT, place="Koplik"))
    )
    assert "23 nëntor 2026" in pdf_lines(request_pdf(REQUEST))
    assert ", më 23 nëntor" not in request_text(REQUEST)


def test_numbered_items_get_their_own_lines() -> None:
    """Items typed on one line are listed one per line, in the text and in the PDF."""
    information = "Kërkoj: 1. Buxhetin e vitit 2026 2) Kontratat e 23.11.2026 3. Listën e lejeve"
    letter = replace(REQUEST, information=information)
    assert "“Kërkoj:\n1. Buxhetin e vitit 2026\n2) Kontratat e 23.11.2026\n3. Listën e lejeve”" in (
        request_text(letter)
    )
    found = pdf_lines(request_pdf(letter))
    for line in ("1. Buxhetin e vitit 2026", "2) Kontratat e 23.11.2026", "3. Listën e lejeve”"):
        assert line in found, line
    complaint = pdf_lines(complaint_pdf(COMPLAINT))
    assert "1. Kopje e kërkesës për informim, e paraqitur më 23 nëntor 2026." in complaint


@pytest.mark.parametrize(
    "text",
    [
        "Vendimi i datës 23.11.2026 dhe neni 15. i ligjit",
        "Vetëm 1. pika e parë",
        "Kati 2. dhe kati 3. i pallatit",
    ],
)
def test_numbers_that_are_not_a_list_stay(text: str) -> None:
    """Dates, lone numbers and lists not counting from 1 are left as typed."""
    assert numbered_lines(text) == text


def test_commissioner_address_has_typographic_quotes() -> None:
    """The configured address with straight quotes is printed with “ ”."""
    text = complaint_text(COMPLAINT)
    assert "Adresa: Rr. “Abdi Toptani”, Nd. 5, 1001 Tiranë" in text
    assert '"' not in text.split("\n\n")[0]

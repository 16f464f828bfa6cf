"""Letters to authorities under Law 119/2014 (rti.md), always in Albanian; no Telegram here.

A request for information (arts. 3, 11, 15) and a complaint to the Commissioner (art. 24), each as
plain text, as an A4 PDF and, for the request, as a ``mailto:`` link.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from babel.dates import format_date

if TYPE_CHECKING:
    from fpdf import FPDF

LAW = "Ligjit nr. 119/2014 “Për të drejtën e informimit”"
"""The law in the genitive, as cited in both letters."""

COORDINATOR_TITLE = "Koordinatori për të drejtën e informimit"
COMMISSIONER_NAME = "Komisioneri për të Drejtën e Informimit dhe Mbrojtjen e të Dhënave Personale"
COMMISSIONER_EMAIL = "info@idp.al"
SIGNATURE_LINE = "Nënshkrimi: ______________________"

MAILTO_LIMIT = 1900
"""Longest mailto URL we hand out: longer links are cut or refused by many browsers and clients."""

NO_ANSWER_IS_REFUSAL = (
    "Sipas pikës 4 të nenit 15 të ligjit, mosdhënia e përgjigjes brenda afatit konsiderohet "
    "refuzim i kërkesës."
)

PDF_FONT = "DejaVuSans"
PDF_FONT_FILES = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}
"""DejaVu Sans, shipped with matplotlib, embedded (subset) so every viewer shows the same glyphs
and spacing, ë and ç included; a viewer's own substitute for a non-embedded font does not."""
PDF_FONT_SIZE = 10.5
PDF_LINE_HEIGHT = 5.2
PDF_PARAGRAPH_GAP = 2.6
PDF_MARGIN = 20
PDF_FALLBACK = "?"
"""Stands in, in the PDF only, for characters DejaVu Sans has no glyph for (emoji)."""

NUMBER_MARK = re.compile(r"(?<!\S)(\d{1,2})[.)](?=\s)")
"""An item number such as "2." or "2)" standing alone before a blank."""
STRAIGHT_QUOTED = re.compile(r'"([^"\n]+)"')

MAILTO_SAFE = "!$'()*,;:@"
"""Characters RFC 6068 lets stand unencoded in a header value ("+" is encoded: some read it as a
space)."""
ATTACHED_NOTE = "Teksti i plotë i kërkesës, i nënshkruar, është bashkëngjitur këtij mesazhi."
"""Ends a shortened e-mail: the user attaches the PDF (or pastes the text) before sending."""

REPLY_LABELS = {
    "email": "Adresa e e-mailit për përgjigje",
    "post": "Adresa postare për përgjigje",
}
FORMAT_SENTENCES = {
    "electronic": (
        "Preferoj ta marr informacionin në formë elektronike. Sipas nenit 13 të ligjit, "
        "informacioni i dërguar në rrugë elektronike është pa pagesë."
    ),
    "paper": "Preferoj ta marr informacionin në kopje në letër.",
    "on_site": (
        "Preferoj ta shqyrtoj informacionin në ambientet e institucionit tuaj, në ditën dhe "
        "orën që do të më njoftoni."
    ),
}
OUTCOMES = ("refused", "partial", "no_answer")


def require(value: str, allowed: Iterable[str], field: str) -> None:
    """Raise ValueError when a choice field holds a value the letters do not know."""
    if value not in allowed:
        raise ValueError(f"{field} must be one of {sorted(allowed)}, not {value!r}")


@dataclass(frozen=True)
class RequestLetter:
    """What a request for information (art. 11) needs; free text comes straight from the user.

    `place` is the town the letter is written in, printed before the date; None prints the date
    alone.
    """

    authority_name: str
    coordinator_name: str | None
    authority_email: str | None
    authority_address: str | None
    requester_name: str
    reply_channel: str
    reply_address: str
    information: str
    format: str
    written_on: date
    place: str | None = None

    def __post_init__(self) -> None:
        """Refuse unknown choices rather than print a wrong sentence in a legal letter."""
        require(self.reply_channel, REPLY_LABELS, "reply_channel")
        require(self.format, FORMAT_SENTENCES, "format")


@dataclass(frozen=True)
class ComplaintLetter:
    """What a complaint to the Commissioner (art. 24) needs; the address comes from settings."""

    requester_name: str
    reply_channel: str
    reply_address: str
    authority_name: str
    information: str
    request_sent_on: date
    protocol_number: str | None
    due_on: date
    what_happened: str
    outcome_on: date | None
    written_on: date
    commissioner_address: str
    place: str | None = None

    def __post_init__(self) -> None:
        """Refuse unknown choices rather than print a wrong sentence in a legal letter."""
        require(self.reply_channel, REPLY_LABELS, "reply_channel")
        require(self.what_happened, OUTCOMES, "what_happened")


@dataclass(frozen=True)
class Block:
    """One paragraph of a letter; bold marks the subject line, right the place and date."""

    text: str
    bold: bool = False
    right: bool = False


def albanian_date(day: date) -> str:
    """A date as Albanians write it in letters, e.g. "23 nëntor 2026"."""
    return format_date(day, "d MMMM y", locale="sq")


def dateline(place: str | None, day: date) -> str:
    """Place before the date, as Albanian letters open: "Koplik, më 2 dhjetor 2026"."""
    if place and clean(place):
        return f"{clean(place)}, më {albanian_date(day)}"
    return albanian_date(day)


def typographic(text: str) -> str:
    """Straight double quotes around a name turned into Albanian typographic ones (“ ”)."""
    return STRAIGHT_QUOTED.sub(r"“\1”", text)


def numbered_lines(text: str) -> str:
    """Items numbered 1, 2, 3 … inside a line each moved onto a line of their own.

    Only a run counting up from 1 by one is taken as a list, so dates (23.11.2026), article
    numbers and a stray "5." in a sentence stay where they are.
    """
    starts: list[int] = []
    expected = 1
    for match in NUMBER_MARK.finditer(text):
        if int(match.group(1)) == expected:
            starts.append(match.start())
            expected += 1
    if len(starts) < 2:
        return text
    pieces = [text[: starts[0]]]
    pieces += [text[start:end] for start, end in zip(starts, [*starts[1:], len(text)], strict=True)]
    head, items = pieces[0].rstrip(), [piece.strip() for piece in pieces[1:]]
    return "\n".join([head, *items] if head else items)


def clean(text: str) -> str:
    """User text with unified line endings and no surrounding blanks, so letters lay out evenly."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def quoted(text: str) -> str:
    """User text between Albanian typographic quotes, marking it as the requester's own words;
    items it numbers go one per line."""
    return f"“{numbered_lines(clean(text))}”"


def lines(*parts: str | None) -> str:
    """Non-empty parts joined one per line, so optional fields simply drop out."""
    return "\n".join(clean(part) for part in parts if part and clean(part))


def reply_line(channel: str, address: str) -> str:
    """Where the answer must go, labelled by channel (art. 11(b))."""
    return f"{REPLY_LABELS[channel]}: {clean(address)}"


def plain(blocks: Sequence[Block]) -> str:
    """A letter as plain text: paragraphs separated by a blank line."""
    return "\n\n".join(block.text for block in blocks) + "\n"


# Request for information (arts. 3, 8, 11, 13, 15)


def request_subject(letter: RequestLetter) -> str:
    """Subject line of a request, short enough for an e-mail subject."""
    return "Kërkesë për informim sipas Ligjit nr. 119/2014"


def request_addressee(letter: RequestLetter) -> str:
    """The RTI coordinator's address block (art. 10), by name when the user knows it."""
    email = f"E-mail: {letter.authority_email}" if letter.authority_email else None
    return lines(
        letter.coordinator_name,
        COORDINATOR_TITLE,
        letter.authority_name,
        typographic(letter.authority_address or ""),
        email,
    )


def request_sender(letter: RequestLetter) -> str:
    """The requester's name and reply address, both required by art. 11."""
    return lines(
        f"Nga: {letter.requester_name}", reply_line(letter.reply_channel, letter.reply_address)
    )


def request_opening(letter: RequestLetter) -> str:
    """Who asks, under which articles: arts. 3 and 11 give anyone the right to ask in writing."""
    return (
        f"Në mbështetje të neneve 3 dhe 11 të {LAW}, të ndryshuar, unë, "
        f"{clean(letter.requester_name)}, kërkoj të më vihet në dispozicion "
        "informacioni i mëposhtëm:"
    )


def request_delivery(letter: RequestLetter) -> str:
    """Preferred format (art. 11(ç)) and where to send the answer (art. 11(b))."""
    where = "adresën e e-mailit" if letter.reply_channel == "email" else "adresën postare"
    format_sentence = FORMAT_SENTENCES[letter.format]
    address = clean(letter.reply_address)
    return f"{format_sentence} Ju lutem ma dërgoni përgjigjen në {where}: {address}."


def request_rights() -> str:
    """No reason is needed (art. 3) and the answer is due within 10 working days (art. 15)."""
    return (
        "Sipas nenit 3 të ligjit, për këtë kërkesë nuk është e nevojshme të jepen arsye. "
        "Sipas nenit 15 të ligjit, kërkesa duhet të marrë përgjigje sa më shpejt që të jetë "
        "e mundur dhe jo më vonë se 10 ditë pune nga data e paraqitjes së saj."
    )


def request_register() -> str:
    """Registration in the Register of Requests and Responses (art. 8), to trace the request."""
    return (
        "Ju lutem ta regjistroni këtë kërkesë në Regjistrin e Kërkesave dhe Përgjigjeve "
        "(neni 8 i ligjit) dhe të më njoftoni numrin e saj të regjistrimit."
    )


def closing(name: str) -> str:
    """Polite close, full name and a line for the signature the law requires."""
    return f"Me respekt,\n{clean(name)}\n\n{SIGNATURE_LINE}"


def request_blocks(letter: RequestLetter) -> list[Block]:
    """The request letter, paragraph by paragraph, shared by the text and PDF versions."""
    return [
        Block(request_addressee(letter)),
        Block(request_sender(letter)),
        Block(dateline(letter.place, letter.written_on), right=True),
        Block(f"Lënda: {request_subject(letter)} “Për të drejtën e informimit”", bold=True),
        Block("I/E nderuar Koordinator,"),
        Block(request_opening(letter)),
        Block(quoted(letter.information)),
        Block(request_delivery(letter)),
        Block(request_rights()),
        Block(request_register()),
        Block("Ju faleminderit për bashkëpunimin."),
        Block(closing(letter.requester_name)),
    ]


def request_text(letter: RequestLetter) -> str:
    """The full request letter as plain text."""
    return plain(request_blocks(letter))


def request_pdf(letter: RequestLetter) -> bytes:
    """The request letter as an A4 PDF."""
    return render_pdf(request_blocks(letter), request_subject(letter), letter.written_on)


# mailto link (RFC 6068)


def mailto_url(email: str, subject: str, body: str) -> str:
    """A mailto URL with subject and body percent-encoded and CRLF line breaks (RFC 6068)."""
    to = quote(email.strip(), safe="@")
    encoded_subject = quote(subject, safe=MAILTO_SAFE)
    encoded_body = quote(body.replace("\n", "\r\n"), safe=MAILTO_SAFE)
    return f"mailto:{to}?subject={encoded_subject}&body={encoded_body}"


def email_body(letter: RequestLetter) -> str:
    """The request as an e-mail: the letter without the parts the e-mail headers already carry."""
    return "\n\n".join(
        [
            "I/E nderuar Koordinator,",
            request_opening(letter),
            quoted(letter.information),
            request_delivery(letter),
            request_rights(),
            request_register(),
            "Ju faleminderit për bashkëpunimin.",
            f"Me respekt,\n{clean(letter.requester_name)}",
        ]
    )


def short_email_body(letter: RequestLetter, information: str) -> str:
    """A shortened e-mail: the essential lines and a note that the full request is attached."""
    parts = ["I/E nderuar Koordinator,", request_opening(letter)]
    if information:
        parts.append(quoted(information))
    parts += [
        ATTACHED_NOTE,
        reply_line(letter.reply_channel, letter.reply_address),
        request_rights(),
        f"Me respekt,\n{clean(letter.requester_name)}",
    ]
    return "\n\n".join(parts)


def excerpt(text: str, limit: int) -> str:
    """The first characters of the user's text, cut at a word and marked as cut."""
    text = clean(text)
    if len(text) <= limit:
        return text
    head = text[:limit]
    cut = head.rsplit(None, 1)[0] if any(char.isspace() for char in head) else head
    return f"{cut.rstrip()} …"


def request_mailto(letter: RequestLetter) -> str:
    """A ready-to-send e-mail link to the authority, shortened to stay under MAILTO_LIMIT."""
    if not letter.authority_email:
        return ""
    url = mailto_url(letter.authority_email, request_subject(letter), email_body(letter))
    if len(url) <= MAILTO_LIMIT:
        return url
    return shortened_mailto(letter)


def shortened_mailto(letter: RequestLetter) -> str:
    """The shortened link with the longest excerpt of the user's text that keeps it in limit."""
    email, subject = letter.authority_email or "", request_subject(letter)
    best = mailto_url(email, subject, short_email_body(letter, ""))
    low, high = 1, len(clean(letter.information))
    while low <= high:
        middle = (low + high) // 2
        body = short_email_body(letter, excerpt(letter.information, middle))
        url = mailto_url(email, subject, body)
        if len(url) <= MAILTO_LIMIT:
            best, low = url, middle + 1
        else:
            high = middle - 1
    if len(best) > MAILTO_LIMIT:
        return mailto_url(email, subject, ATTACHED_NOTE)
    return best


# Complaint to the Commissioner (arts. 15(4), 24)


def complaint_subject(c: ComplaintLetter) -> str:
    """Subject line of a complaint, naming the authority complained about."""
    authority = clean(c.authority_name)
    return f"Ankesë sipas nenit 24 të Ligjit nr. 119/2014 ndaj autoritetit publik {authority}"


def complaint_addressee(c: ComplaintLetter) -> str:
    """The Commissioner's address block; the postal address comes from configuration."""
    return lines(
        COMMISSIONER_NAME,
        f"Adresa: {typographic(c.commissioner_address)}",
        f"E-mail: {COMMISSIONER_EMAIL}",
    )


def complaint_opening(c: ComplaintLetter) -> str:
    """Who complains and about which authority."""
    return (
        f"Unë, {clean(c.requester_name)}, paraqes këtë ankesë ndaj autoritetit publik "
        f"{clean(c.authority_name)}, lidhur me kërkesën time për informim."
    )


def complaint_request(c: ComplaintLetter) -> str:
    """The original request: when it was sent and its protocol number, if the user has one."""
    sentence = (
        f"Më {albanian_date(c.request_sent_on)} i paraqita këtij autoriteti një kërkesë "
        "me shkrim për informim, sipas nenit 11 të ligjit."
    )
    if c.protocol_number and clean(c.protocol_number):
        sentence += (
            " Kërkesa u regjistrua me numrin e protokollit (numrin rendor) "
            f"{clean(c.protocol_number)}."
        )
    return f"{sentence} Kërkova informacionin e mëposhtëm:"


def dated(day: date | None, rest: str) -> str:
    """A sentence opened by "Më <date>," when the date is known, else by its capitalised rest."""
    if day:
        return f"Më {albanian_date(day)}, {rest}"
    return rest[:1].upper() + rest[1:]


def complaint_outcome(c: ComplaintLetter) -> str:
    """What the authority did; silence past the deadline counts as a refusal (art. 15(4))."""
    if c.what_happened == "refused":
        return dated(c.outcome_on, "autoriteti e refuzoi kërkesën time.")
    if c.what_happened == "partial":
        return dated(
            c.outcome_on,
            "autoriteti më dha vetëm një pjesë të informacionit të kërkuar; "
            "pjesa tjetër nuk më është dhënë.",
        )
    return (
        "Autoriteti nuk iu përgjigj kërkesës sime brenda afatit ligjor, i cili përfundoi më "
        f"{albanian_date(c.due_on)}. {NO_ANSWER_IS_REFUSAL}"
    )


def complaint_basis() -> str:
    """Legal basis: art. 24 lets the requester go straight to the Commissioner."""
    return (
        f"Kjo ankesë paraqitet në bazë të nenit 24 të {LAW}, të ndryshuar, i cili më jep "
        "të drejtën t'i drejtohem drejtpërdrejt Komisionerit për të Drejtën e Informimit dhe "
        "Mbrojtjen e të Dhënave Personale."
    )


def complaint_ask() -> str:
    """What the Commissioner is asked to do."""
    return (
        "Për këto arsye, ju kërkoj ta shqyrtoni këtë ankesë dhe ta urdhëroni autoritetin "
        "publik të më japë informacionin e kërkuar."
    )


def complaint_attachments(c: ComplaintLetter) -> str:
    """What to attach: the request, proof of sending and, if any, the authority's answer."""
    items = [
        f"Kopje e kërkesës për informim, e paraqitur më {albanian_date(c.request_sent_on)}.",
        "Provë e dërgimit të kërkesës (dëftesa e postës, e-maili i dërguar ose numri i "
        "protokollit).",
    ]
    if c.what_happened in ("refused", "partial"):
        received = f", e marrë më {albanian_date(c.outcome_on)}" if c.outcome_on else ""
        items.append(f"Kopje e përgjigjes së autoritetit{received}.")
    numbered = [f"{number}. {item}" for number, item in enumerate(items, start=1)]
    return "\n".join(["Bashkëlidhur:", *numbered])


def complaint_blocks(c: ComplaintLetter) -> list[Block]:
    """The complaint letter, paragraph by paragraph, shared by the text and PDF versions."""
    return [
        Block(complaint_addressee(c)),
        Block(lines(f"Nga: {c.requester_name}", reply_line(c.reply_channel, c.reply_address))),
        Block(dateline(c.place, c.written_on), right=True),
        Block(f"Lënda: {complaint_subject(c)}", bold=True),
        Block("I/E nderuar Komisioner,"),
        Block(complaint_opening(c)),
        Block(complaint_request(c)),
        Block(quoted(c.information)),
        Block(complaint_outcome(c)),
        Block(complaint_basis()),
        Block(complaint_ask()),
        Block(complaint_attachments(c)),
        Block(closing(c.requester_name)),
    ]


def complaint_text(c: ComplaintLetter) -> str:
    """The full complaint as plain text."""
    return plain(complaint_blocks(c))


def complaint_pdf(c: ComplaintLetter) -> bytes:
    """The complaint as an A4 PDF."""
    return render_pdf(complaint_blocks(c), complaint_subject(c), c.written_on)


# PDF (fpdf2, embedded DejaVu Sans); matplotlib, fontTools and fpdf2 are imported on the first PDF,
# not at start-up (together they are half of the bot's import time).


def font_path(style: str) -> Path:
    """The DejaVu Sans file of a style ("" or "B") in matplotlib's data folder."""
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf" / PDF_FONT_FILES[style]


@cache
def font_chars() -> frozenset[int]:
    """Code points DejaVu Sans has a glyph for (regular and bold cover the same ones)."""
    from fontTools.ttLib import TTFont

    with TTFont(font_path(""), lazy=True) as font:
        return frozenset(font.getBestCmap())


def pdf_safe(text: str) -> str:
    """Text the font can show: composed accents, plain spaces, PDF_FALLBACK for the rest."""
    return "".join(pdf_char(char) for char in unicodedata.normalize("NFC", text))


def pdf_char(char: str) -> str:
    """One character as the embedded font can show it."""
    if char == "\n" or (char.isprintable() and ord(char) in font_chars()):
        return char
    if char.isspace():
        return " "
    return PDF_FALLBACK


def new_pdf(title: str, written_on: date) -> FPDF:
    """An A4 document with the font embedded, metadata, and a creation date fixed to the
    letter's date so the same letter always gives the same bytes."""
    from fpdf import FPDF

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style in PDF_FONT_FILES:
        pdf.add_font(PDF_FONT, style, font_path(style))
    pdf.set_margins(PDF_MARGIN, PDF_MARGIN, PDF_MARGIN)
    pdf.set_auto_page_break(auto=True, margin=PDF_MARGIN)
    pdf.set_title(title)
    pdf.set_lang("sq")
    pdf.set_creator("PACT Civic Bot")
    pdf.set_creation_date(datetime.combine(written_on, time(12, 0), tzinfo=UTC))
    pdf.add_page()
    return pdf


def render_pdf(blocks: Sequence[Block], title: str, written_on: date) -> bytes:
    """Lay the paragraphs out on A4 pages, wrapping long lines and words; each line break of a
    paragraph (an address, a numbered item) starts a new line."""
    from fpdf.enums import Align, XPos, YPos

    pdf = new_pdf(title, written_on)
    for block in blocks:
        pdf.set_font(PDF_FONT, style="B" if block.bold else "", size=PDF_FONT_SIZE)
        pdf.multi_cell(
            0,
            PDF_LINE_HEIGHT,
            pdf_safe(block.text),
            align=Align.R if block.right else Align.L,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(PDF_PARAGRAPH_GAP)
    return bytes(pdf.output())

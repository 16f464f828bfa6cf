"""A municipality's Citizen Report Card as a one-page A4 PDF, in the reader's language.

Typeset like the RTI letters (fpdf2 with DejaVu Sans embedded, bot/rti/services/letters.py), with
the creation date fixed to the round's last day, so the same results give the same bytes. A
suppressed service shows "< threshold" and dashes: its figures are not in the file at all.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from bot.core.i18n import Translator, plain
from bot.reportcards import results_views as views
from bot.reportcards.services.results import MunicipalityResults
from bot.rti.services.letters import PDF_FONT, PDF_FONT_FILES, font_path, pdf_safe
from db.models import ReportCardRound

MARGIN = 18
DASH = "–"


def card_pdf(
    t: Translator,
    round: ReportCardRound,
    municipality: MunicipalityResults,
    name: str,
    threshold: int,
) -> bytes:
    """The card: title, municipality, round and dates, respondents, a table of the services,
    the monitoring label, the threshold note and PACT's attribution, on one page."""
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    def text(value: str) -> str:
        return pdf_safe(plain(value))

    title = text(t.gettext("Citizen Report Card"))
    pdf = FPDF(orientation="P", unit="mm", format="A4")
    for style in PDF_FONT_FILES:
        pdf.add_font(PDF_FONT, style, font_path(style))
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"{title}: {text(name)}")
    pdf.set_lang(t.locale)
    pdf.set_creator("PACT Civic Bot")
    pdf.set_creation_date(datetime.combine(round.closes_on, time(12, 0), tzinfo=UTC))
    pdf.add_page()

    def paragraph(value: str, size: float, style: str = "", gap: float = 2.0) -> None:
        pdf.set_font(PDF_FONT, style=style, size=size)
        pdf.multi_cell(0, size * 0.5, text(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(gap)

    paragraph(title, 20, "B", 1)
    paragraph(name, 15, "B", 3)
    paragraph(views.round_title(t.locale, round), 11, "B", 0.5)
    paragraph(views.dates_line(t, round), 10, "", 0.5)
    paragraph(views.status_line(t, round), 10, "", 0.5)
    paragraph(
        t.gettext(
            "Respondents: {count}",
            count=views.count_text(t, municipality.respondents, threshold),
        ),
        11,
        "B",
        4,
    )
    pdf.set_font(PDF_FONT, size=9.5)
    header = [
        t.gettext("Service"),
        t.gettext("Respondents"),
        t.gettext("Satisfaction index (0-100)"),
        t.gettext("Asked for an unofficial payment"),
        t.gettext("Paid an unofficial payment"),
    ]
    with pdf.table(
        col_widths=(60, 25, 30, 30, 30),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        row = table.row()
        for heading in header:
            row.cell(text(heading))
        for cell in municipality.cells:
            row = table.row()
            row.cell(text(views.service_name(t.locale, cell.service)))
            if cell.suppressed:
                row.cell(views.small(threshold))
                for _ in range(3):
                    row.cell(DASH)
                continue
            assert cell.respondents is not None
            row.cell(t.number(cell.respondents))
            row.cell(
                DASH
                if cell.satisfaction_index is None
                else views.index_text(cell.satisfaction_index)
            )
            row.cell(DASH if cell.asked_share is None else views.percent(t, cell.asked_share))
            row.cell(DASH if cell.paid_share is None else views.percent(t, cell.paid_share))
    pdf.ln(5)
    paragraph(views.monitoring_label(t), 9.5, "", 1.5)
    paragraph(views.threshold_note(t, threshold), 9.5, "", 1.5)
    paragraph(
        t.gettext(
            "Satisfaction index: the average of the 1–5 satisfaction answers, "
            "from 0 (all 1) to 100 (all 5)."
        ),
        9.5,
        "",
        4,
    )
    paragraph(views.attribution(t), 9, "B", 0)
    return bytes(pdf.output())

"""What staff read about a report-card round's results, and the published card: pure views.

Every figure of a suppressed cell or municipality is replaced by "< threshold"; nothing here can
show a small count, because the results it is given never hold one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from markupsafe import Markup

from bot.cases.services import case_rules
from bot.core.i18n import Translator, join_lines, plain
from bot.reportcards.services.questions import (
    PAYMENT,
    RATINGS,
    RESOLUTION,
    SATISFACTION,
    values_of,
)
from bot.reportcards.services.results import Cell, MunicipalityResults, RoundResults
from db.models import ReportCardRound

INDENT = Markup("  ")
"""Before a service's figures, under its name."""


def small(threshold: int) -> str:
    """What stands in for a count under the threshold: "< 10"."""
    return f"< {threshold}"


def count_text(t: Translator, count: int | None, threshold: int) -> str:
    """A count, or "< threshold" when it is suppressed."""
    return small(threshold) if count is None else t.number(count)


def index_text(value: float) -> str:
    """The satisfaction index, whole, out of 100: "72/100"."""
    return f"{round(value)}/100"


def percent(t: Translator, value: float) -> str:
    """A share as a whole percentage."""
    return f"{t.number(round(value * 100))}%"


def service_name(locale: str, key: str) -> str:
    """A service (category) in a locale; its key when it is no longer a category."""
    found = case_rules.category(key)
    return found.label(locale) if found else key


def round_title(locale: str, round: ReportCardRound) -> str:
    """The round's title in a locale (Albanian when there is no English one)."""
    return (round.title_en if locale == "en" else None) or round.title_sq


def monitoring_label(t: Translator) -> Markup:
    """The label every figure carries: who answered, and what it is not."""
    return t.gettext(
        "Self-selected citizen monitoring (monitorim qytetar): the answers of those who chose "
        "to take part, not a representative survey."
    )


def threshold_note(t: Translator, threshold: int) -> Markup:
    """Why some figures are missing."""
    return t.gettext(
        "Figures from fewer than {threshold} people are not shown (“{small}”).",
        threshold=threshold,
        small=small(threshold),
    )


def dates_line(t: Translator, round: ReportCardRound) -> Markup:
    """The days the round is (was) open."""
    return t.gettext(
        "Open from {start} to {end}", start=t.date(round.opens_on), end=t.date(round.closes_on)
    )


def status_line(t: Translator, round: ReportCardRound) -> Markup:
    """Whether answers still come in."""
    if round.closed_at is not None:
        return t.gettext("Closed: final results.")
    if round.launched_at is not None:
        return t.gettext("Still open: the results may change.")
    return t.gettext("Not launched yet: no answers.")


def rounds_text(t: Translator, rounds: Sequence[ReportCardRound]) -> Markup:
    """The /rcresults list's heading."""
    if not rounds:
        return t.gettext("No report-card round has been launched yet.")
    return t.gettext("Results of which report-card round?")


def round_button_label(t: Translator, round: ReportCardRound) -> str:
    """A round in the list: its title and opening month."""
    return f"{round_title(t.locale, round)} · {t.month(round.opens_on)}"


def round_text(
    t: Translator,
    round: ReportCardRound,
    found: RoundResults,
    names: dict[int, str],
    published: set[int],
) -> Markup:
    """A round's overview: respondents per municipality."""
    lines: list[Any] = [
        Markup("<b>{}</b>").format(round_title(t.locale, round)),
        dates_line(t, round),
        status_line(t, round),
        "",
        t.gettext("<b>Respondents by municipality</b>"),
    ]
    for municipality in found.municipalities:
        line = Markup("• {}: {}").format(
            names.get(municipality.municipality_id, "?"),
            count_text(t, municipality.respondents, found.threshold),
        )
        if municipality.municipality_id in published:
            line += Markup(" · ") + t.gettext("published")
        lines.append(line)
    lines += ["", monitoring_label(t), threshold_note(t, found.threshold)]
    return join_lines(lines)


def distribution_text(t: Translator, cell: Cell) -> Markup:
    """The satisfaction answers, 1 to 5, as counts: "1–5: 0 · 1 · 3 · 2 · 2"."""
    counts = cell.distributions.get(SATISFACTION) or []
    return t.gettext(
        "Satisfaction answers 1–5: {counts}",
        counts=" · ".join(t.number(count) for count in counts),
    )


def cell_lines(
    t: Translator, cell: Cell, threshold: int, *, distribution: bool = True
) -> list[Any]:
    """One service's figures (or only that there are too few answers)."""
    name = service_name(t.locale, cell.service)
    if cell.suppressed:
        return [
            t.gettext(
                "<b>{service}</b>: {small} respondents, not shown",
                service=name,
                small=small(threshold),
            )
        ]
    assert cell.respondents is not None
    lines: list[Any] = [
        t.ngettext(
            "<b>{service}</b>: {count} respondent",
            "<b>{service}</b>: {count} respondents",
            cell.respondents,
            service=name,
        )
    ]
    if cell.satisfaction_index is not None:
        lines.append(
            INDENT
            + t.gettext("Satisfaction index: {index}", index=index_text(cell.satisfaction_index))
        )
    if cell.asked_share is not None and cell.paid_share is not None:
        lines.append(
            INDENT
            + t.gettext(
                "Asked for an unofficial payment: {asked} · paid one: {paid}",
                asked=percent(t, cell.asked_share),
                paid=percent(t, cell.paid_share),
            )
        )
    if distribution:
        lines.append(INDENT + distribution_text(t, cell))
    return lines


def municipality_text(
    t: Translator,
    round: ReportCardRound,
    municipality: MunicipalityResults,
    name: str,
    threshold: int,
    published: bool,
) -> Markup:
    """One municipality's results for staff."""
    lines: list[Any] = [
        Markup("<b>{}</b> · {}").format(name, round_title(t.locale, round)),
        status_line(t, round),
        t.gettext(
            "Respondents: {count}",
            count=count_text(t, municipality.respondents, threshold),
        ),
        "",
    ]
    for cell in municipality.cells:
        lines += cell_lines(t, cell, threshold)
    lines += ["", monitoring_label(t), threshold_note(t, threshold)]
    if published:
        lines.append(t.gettext("This card is published."))
    return join_lines(lines)


def suggestions_text(t: Translator, name: str, found: list[str] | None, threshold: int) -> Markup:
    """The open suggestions of a municipality, for staff only, with no one's details."""
    if found is None:
        return t.gettext(
            "{municipality}: fewer than {threshold} responses, so no suggestions are shown.",
            municipality=name,
            threshold=threshold,
        )
    if not found:
        return t.gettext("{municipality}: no suggestions were written.", municipality=name)
    lines: list[Any] = [
        t.gettext(
            "<b>Suggestions from {municipality}</b> (staff only: never published)",
            municipality=name,
        )
    ]
    lines += [Markup("• {}").format(text) for text in found]
    return join_lines(lines)


def publish_question(t: Translator, name: str, reach: int) -> Markup:
    """The confirmation before a card is broadcast."""
    return t.ngettext(
        "Publish the card of {municipality}? It goes to {count} subscriber of the municipality "
        "and appears on the public page.",
        "Publish the card of {municipality}? It goes to {count} subscribers of the municipality "
        "and appears on the public page.",
        reach,
        municipality=name,
    )


def unpublish_question(t: Translator, name: str) -> Markup:
    """The confirmation before a card leaves the public page."""
    return t.gettext(
        "Remove the card of {municipality} from the public page? Messages already sent stay "
        "sent; a broadcast still going out can be stopped in /broadcasts.",
        municipality=name,
    )


def card_text(
    t: Translator,
    round: ReportCardRound,
    municipality: MunicipalityResults,
    name: str,
    threshold: int,
) -> Markup:
    """The published card, as text: what subscribers receive."""
    lines: list[Any] = [
        t.gettext("<b>Citizen Report Card: {municipality}</b>", municipality=name),
        Markup("{} · {}").format(round_title(t.locale, round), dates_line(t, round)),
        t.gettext("Respondents: {count}", count=count_text(t, municipality.respondents, threshold)),
        "",
    ]
    for cell in municipality.cells:
        lines += cell_lines(t, cell, threshold, distribution=False)
    lines += ["", monitoring_label(t), threshold_note(t, threshold), attribution(t)]
    return join_lines(lines)


def attribution(t: Translator) -> Markup:
    """Who made the card."""
    return t.gettext(
        "PACT – Partnership Against Corruption Together: citizen monitoring of municipal services."
    )


def chart_items(
    t: Translator, municipality: MunicipalityResults, threshold: int
) -> list[tuple[str, float | None, str]]:
    """Each service's name, index and the text by its bar: "< threshold" for a suppressed one
    (no bar), a dash when nobody rated it."""
    items: list[tuple[str, float | None, str]] = []
    for cell in municipality.cells:
        name = service_name(t.locale, cell.service)
        if cell.suppressed:
            items.append((name, None, small(threshold)))
        elif cell.satisfaction_index is None:
            items.append((name, None, "–"))
        else:
            items.append((name, cell.satisfaction_index, str(round(cell.satisfaction_index))))
    return items


def table(
    t: Translator,
    round: ReportCardRound,
    found: RoundResults,
    names: dict[int, str],
) -> tuple[list[str], list[list[Any]]]:
    """The aggregates as a header and rows, one row per municipality and service; a suppressed
    figure is "< threshold" or empty, never a number."""
    questions = [q for q in round.questions if q.get("per_service") and q["code"] in DISTRIBUTED]
    value_columns = [f"{q['code']}_{value}" for q in questions for value in values_of(q)]
    header = [
        plain(t.gettext("Round")),
        plain(t.gettext("Municipality")),
        plain(t.gettext("Respondents in the municipality")),
        plain(t.gettext("Service")),
        plain(t.gettext("Respondents using the service")),
        plain(t.gettext("Satisfaction index (0-100)")),
        plain(t.gettext("Asked for an unofficial payment (%)")),
        plain(t.gettext("Paid an unofficial payment (%)")),
        *value_columns,
    ]
    rows: list[list[Any]] = []
    small_text = small(found.threshold)
    for municipality in found.municipalities:
        total = municipality.respondents if municipality.respondents is not None else small_text
        for cell in municipality.cells:
            row: list[Any] = [
                round_title(t.locale, round),
                names.get(municipality.municipality_id, str(municipality.municipality_id)),
                total,
                service_name(t.locale, cell.service),
            ]
            if cell.suppressed:
                row += [small_text, None, None, None, *(None for _ in value_columns)]
            else:
                row += [
                    cell.respondents,
                    _rounded(cell.satisfaction_index),
                    _rounded(cell.asked_share, 100),
                    _rounded(cell.paid_share, 100),
                ]
                for q in questions:
                    row += cell.distributions.get(q["code"]) or [None] * len(values_of(q))
            rows.append(row)
    return header, rows


DISTRIBUTED = (*RATINGS, RESOLUTION, PAYMENT)
"""The per-service questions whose answer counts the exports carry."""


def _rounded(value: float | None, scale: int = 1) -> float | None:
    """A figure to one decimal (None stays None)."""
    return None if value is None else round(value * scale, 1)


def file_name(round: ReportCardRound, extension: str) -> str:
    """The export's file name."""
    return f"report-card-{round.id}-results.{extension}"

"""The site's aggregates as open data: the same records as CSV and JSON, under CC BY 4.0.

Records come from the snapshot only (already suppressed). A count under the threshold is the
text "<10" in CSV, a category count hidden to protect it "hidden"; both are null in JSON, where
the record's "suppressed" list names them. A figure that does not apply to a row (or has no value
yet) is empty in CSV and null in JSON. Every field is described in docs/open-data.md.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core.i18n import N_
from bot.transparency.services import figures
from bot.transparency.snapshot import Snapshot

LICENCE = "CC-BY-4.0"
LICENCE_NAME = "Creative Commons Attribution 4.0 International (CC BY 4.0)"
LICENCE_URL = "https://creativecommons.org/licenses/by/4.0/"
ATTRIBUTION = "PACT Civic Bot, Partnership Against Corruption Together (citizen monitoring)"
ALL = "all"
"""The category or service of a row that holds a municipality's totals."""


class _Suppressed:
    """Marks a count kept out of a record, until it is written out (in CSV as `text`)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


SUPPRESSED: Any = _Suppressed("SUPPRESSED")
"""A count under the threshold: "<10" in CSV."""
HIDDEN: Any = _Suppressed("HIDDEN")
"""A category count of at least the threshold hidden to protect a suppressed one: "hidden"."""


def count(value: int | str | None) -> Any:
    """A published count, SUPPRESSED (the snapshot's None) or HIDDEN (its "hidden")."""
    if value is None:
        return SUPPRESSED
    return HIDDEN if value == figures.HIDDEN else value


@dataclass(frozen=True)
class Dataset:
    """One open dataset: its fields in order and how to make its records from a snapshot."""

    name: str
    fields: tuple[str, ...]
    records: Callable[[dict[str, Any]], list[dict[str, Any]]]


def municipality_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per programme municipality a totals row (category "all"), then one row per category."""
    rows = []
    for town in data["municipalities"]:
        place = {"municipality": town["slug"], "municipality_name": town["name"]}
        place["qark"] = town["qark"]
        cases, rti = town["cases"], town["rti"]
        rows.append(
            {
                **place,
                "category": ALL,
                "cases_received": count(cases["received"]),
                "cases_resolved": count(cases["resolved"]),
                "resolved_share": cases["resolved_share"],
                "median_days_to_resolve": cases["median_days_to_resolve"],
                "rti_sent": count(rti["sent"]),
                "rti_due_or_answered": count(rti["due_or_answered"]),
                "rti_answered_on_time": count(rti["answered_on_time"]),
                "rti_on_time_share": rti["on_time_share"],
                "satisfaction_index": town["satisfaction_index"],
            }
        )
        for row in cases["by_category"]:
            rows.append(
                {
                    **place,
                    "category": row["category"],
                    "cases_received": count(row["received"]),
                    "cases_resolved": count(row["resolved"]),
                }
            )
    return rows


def report_card_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Per published card a totals row (service "all"), then one row per service."""
    rows = []
    for town in data["municipalities"]:
        for card in town["report_cards"]:
            common = {
                "round_id": card["round_id"],
                "round_title_sq": card["title_sq"],
                "round_title_en": card["title_en"],
                "opens_on": card["opens_on"],
                "closes_on": card["closes_on"],
                "published_on": card["published_on"],
                "municipality": town["slug"],
                "municipality_name": town["name"],
            }
            rows.append(
                {
                    **common,
                    "service": ALL,
                    "respondents": count(card["respondents"]),
                    "satisfaction_index": card["satisfaction_index"],
                }
            )
            for cell in card["cells"]:
                rows.append(
                    {
                        **common,
                        "service": cell["service"],
                        "respondents": count(cell["respondents"]),
                        "satisfaction_index": cell["satisfaction_index"],
                        "asked_share": cell["asked_share"],
                        "paid_share": cell["paid_share"],
                    }
                )
    return rows


def initiative_records(data: dict[str, Any]) -> list[dict[str, Any]]:
    """Every funded initiative in a programme municipality."""
    names = {town["slug"]: town["name"] for town in data["municipalities"]}
    return [
        {
            "grant_round": item["grant_round"],
            "organisation": item["organisation"],
            "municipality": item["municipality"],
            "municipality_name": names.get(item["municipality"]),
            "topic": item["topic"],
            "starts_on": item["starts_on"],
            "ends_on": item["ends_on"],
            "grant_band": item["grant_band"],
            "link": item["link"],
        }
        for item in data["initiatives"]
    ]


DATASETS = {
    dataset.name: dataset
    for dataset in (
        Dataset(
            "municipalities",
            (
                "municipality",
                "municipality_name",
                "qark",
                "category",
                "cases_received",
                "cases_resolved",
                "resolved_share",
                "median_days_to_resolve",
                "rti_sent",
                "rti_due_or_answered",
                "rti_answered_on_time",
                "rti_on_time_share",
                "satisfaction_index",
            ),
            municipality_records,
        ),
        Dataset(
            "report-cards",
            (
                "round_id",
                "round_title_sq",
                "round_title_en",
                "opens_on",
                "closes_on",
                "published_on",
                "municipality",
                "municipality_name",
                "service",
                "respondents",
                "satisfaction_index",
                "asked_share",
                "paid_share",
            ),
            report_card_records,
        ),
        Dataset(
            "initiatives",
            (
                "grant_round",
                "organisation",
                "municipality",
                "municipality_name",
                "topic",
                "starts_on",
                "ends_on",
                "grant_band",
                "link",
            ),
            initiative_records,
        ),
    )
}
"""The datasets by the name in their URL: /open-data/<name>.csv and .json."""


def to_csv(dataset: Dataset, snapshot: Snapshot) -> str:
    """UTF-8 CSV with a header; the licence and the build time close every row."""
    threshold = snapshot.data["threshold"]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*dataset.fields, "licence", "built_at"])
    built_at = snapshot.built_at.isoformat()
    for record in dataset.records(snapshot.data):
        writer.writerow(
            [
                *(_csv_cell(record.get(field), threshold) for field in dataset.fields),
                LICENCE,
                built_at,
            ]
        )
    return out.getvalue()


def _csv_cell(value: Any, threshold: int) -> str:
    """A value as CSV text: "<10" for a suppressed count, "" for none."""
    if value is SUPPRESSED:
        return f"<{threshold}"
    if value is HIDDEN:
        return figures.HIDDEN
    return "" if value is None else str(value)


def to_json(dataset: Dataset, snapshot: Snapshot) -> str:
    """The records with the licence, the build time, the threshold and the field list."""
    records = []
    for record in dataset.records(snapshot.data):
        values = {field: record.get(field) for field in dataset.fields}
        hidden = [field for field, value in values.items() if isinstance(value, _Suppressed)]
        records.append(
            {
                **{k: None if isinstance(v, _Suppressed) else v for k, v in values.items()},
                "suppressed": hidden,
            }
        )
    document = {
        "dataset": dataset.name,
        "licence": {"id": LICENCE, "name": LICENCE_NAME, "url": LICENCE_URL},
        "attribution": ATTRIBUTION,
        "built_at": snapshot.built_at.isoformat(),
        "suppression_threshold": snapshot.data["threshold"],
        "fields": list(dataset.fields),
        "records": records,
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


FIELDS = {
    "municipality": N_("The municipality's short name in the site's addresses (e.g. fushe-arrez)."),
    "municipality_name": N_("The municipality's name."),
    "qark": N_("The region (qark) of the municipality."),
    "category": N_(
        "The service category (the bot's category keys), or “all” for the municipality's totals."
    ),
    "cases_received": N_("Complaints about municipal services received through the bot."),
    "cases_resolved": N_("Of those, the complaints whose status is now “resolved”."),
    "resolved_share": N_("cases_resolved / cases_received, from 0 to 1 (totals only)."),
    "median_days_to_resolve": N_(
        "Median days from a complaint to its first resolution, over complaints resolved at least "
        "once (totals only)."
    ),
    "rti_sent": N_("Requests for information sent to the municipality through the bot."),
    "rti_due_or_answered": N_(
        "Of those, the requests answered (fully or partly) or past their legal deadline."
    ),
    "rti_answered_on_time": N_("Of those, the requests answered on or before their deadline."),
    "rti_on_time_share": N_("rti_answered_on_time / rti_due_or_answered, from 0 to 1."),
    "satisfaction_index": N_(
        "Report-card satisfaction from 0 to 100: (mean satisfaction − 1) / 4 × 100; for a "
        "municipality, the latest published card's services weighted by their respondents."
    ),
    "round_id": N_("The report-card round's number."),
    "round_title_sq": N_("The round's title in Albanian."),
    "round_title_en": N_("The round's title in English."),
    "opens_on": N_("The first day of answers (YYYY-MM-DD)."),
    "closes_on": N_("The last day of answers (YYYY-MM-DD)."),
    "published_on": N_("The day the card was published (YYYY-MM-DD)."),
    "service": N_("The service (a category key), or “all” for the card's totals."),
    "respondents": N_(
        "People who answered the card (“all”) or who said they used the service in the last "
        "12 months."
    ),
    "asked_share": N_(
        "Share (0 to 1) of the service's respondents answering the payment question who were "
        "asked for an unofficial payment."
    ),
    "paid_share": N_(
        "Share (0 to 1) of the service's respondents answering the payment question who paid one."
    ),
    "grant_round": N_("The programme's sub-grant round."),
    "organisation": N_("The organisation carrying out the initiative."),
    "topic": N_("What the initiative is about."),
    "starts_on": N_("The initiative's first day (YYYY-MM-DD)."),
    "ends_on": N_("The initiative's last day (YYYY-MM-DD), empty while open-ended."),
    "grant_band": N_("The grant's size band: up_to_5k, 5k_10k, 10k_20k or over_20k (euros)."),
    "link": N_("A public web page about the initiative, if any."),
}
"""What every field means (the /{lang}/data page and docs/open-data.md say the same)."""

"""The public site's figures per programme municipality, small counts already suppressed.

Only counts and aggregates leave this module, never a row about a person or any text a citizen
wrote. The suppression rule (docs/open-data.md):

- every count of citizens' cases, requests or answers per municipality (cases received and
  resolved, in total, per category and per month; requests for information sent and answered;
  report-card respondents) under the threshold is stored as None, shown as "< 10" (0 included,
  so a zero and a small count look the same);
- in a municipality's list of categories (received, and resolved, each on its own), when exactly
  one category is suppressed and the total is shown, the smallest shown category is hidden too
  (stored as HIDDEN, shown as "hidden": it is not under the threshold), so the total minus the
  shown ones never gives one suppressed count;
- a share is given only when both its counts are shown, a median only when the count of values
  it is taken over is shown; there are no totals over all municipalities (with the shown ones
  they would give the hidden ones).

Figures reuse the staff statistics (bot/staff/services/stats.py) and the report-card results
(bot/reportcards/services/results.py), so the site and /stats count the same way.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cases.services import case_rules
from bot.reportcards.services.results import MunicipalityResults, round_results
from bot.staff.services import stats
from bot.staff.services.filters import Scope, case_conditions
from bot.transparency.services import initiatives as funded
from db.models import (
    Authority,
    AuthorityKind,
    Case,
    CaseStatus,
    ReportCardPublication,
    ReportCardRound,
    RtiRequest,
)

SCHEMA = 1
"""The version of the snapshot's layout; pages and open data read this one."""
MONTHS = 3
"""Scorecards of this many last full months on a municipality page."""
RESOLVED = CaseStatus.RESOLVED.value
HIDDEN = "hidden"
"""A category count of at least the threshold, hidden so that a suppressed one stays hidden."""


def slug(name: str) -> str:
    """ASCII, lower case, hyphens: "Fushë-Arrëz" → "fushe-arrez", "Vau i Dejës" → "vau-i-dejes"."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "-".join(plain.lower().replace("-", " ").split())


def shown(count: int, threshold: int) -> int | None:
    """The count, or None when it is under the threshold."""
    return count if count >= threshold else None


def share(part: int | None, whole: int | None) -> float | None:
    """part / whole, rounded to 3 places, only when both counts are shown."""
    if part is None or not whole:
        return None
    return round(part / whole, 3)


def rounded(value: float | None, places: int = 1) -> float | None:
    """A median or an index rounded for publishing."""
    return None if value is None else round(value, places)


def suppress_group(
    counts: dict[str, int], total: int | None, threshold: int
) -> dict[str, int | str | None]:
    """Suppress each count under the threshold (None), then, when exactly one is suppressed and
    the total is shown, hide the smallest shown one too (HIDDEN; ties: the first key in order)."""
    result: dict[str, int | str | None] = {
        key: shown(count, threshold) for key, count in counts.items()
    }
    suppressed = [key for key, value in result.items() if value is None]
    visible = sorted((count, key) for key, count in counts.items() if result[key] is not None)
    if total is not None and len(suppressed) == 1 and visible:
        result[visible[0][1]] = HIDDEN
    return result


def full_months(today: date, count: int) -> list[tuple[date, date]]:
    """The last `count` whole months before today's, newest first, as (first day, last day)."""
    months = []
    end = today.replace(day=1) - timedelta(days=1)
    for _ in range(count):
        start = end.replace(day=1)
        months.append((start, end))
        end = start - timedelta(days=1)
    return months


@dataclass(frozen=True)
class Context:
    """What every figure is taken with: the threshold, the zone and today's date there."""

    threshold: int
    tz: ZoneInfo
    today: date


async def programme_municipalities(session: AsyncSession) -> list[Authority]:
    """The programme's municipalities, by name."""
    rows = await session.execute(
        select(Authority)
        .where(Authority.kind == AuthorityKind.MUNICIPALITY, Authority.in_programme.is_(True))
        .order_by(Authority.name)
    )
    return list(rows.scalars())


async def case_figures(session: AsyncSession, town: Authority, ctx: Context) -> dict[str, Any]:
    """Service complaints (corruption reports are never published) received and resolved, in
    total and per category, and the median days to the first resolution."""
    scope = Scope(municipality_ids=(town.id,))
    figures = await stats.case_stats(session, scope, ctx.tz)
    conditions = case_conditions(scope, ctx.tz)
    resolved_by_category = await stats.tally(
        session,
        [*conditions, Case.status == RESOLVED],
        [Case.kind, Case.category],
        stats.category_of,
    )
    timed = (
        await session.execute(
            select(func.count()).where(*conditions, Case.seconds_to_resolution.is_not(None))
        )
    ).scalar_one()
    received = shown(figures.total, ctx.threshold)
    resolved = shown(dict(figures.by_status).get(RESOLVED, 0), ctx.threshold)
    keys = [category.key for category in case_rules.categories()]
    by_category = dict(figures.by_category)
    received_by = suppress_group(
        {key: by_category.get(key, 0) for key in keys}, received, ctx.threshold
    )
    resolved_by = suppress_group(
        {key: resolved_by_category.get(key, 0) for key in keys}, resolved, ctx.threshold
    )
    median = figures.median_days_to_resolution if shown(timed, ctx.threshold) else None
    return {
        "received": received,
        "resolved": resolved,
        "resolved_share": share(resolved, received),
        "median_days_to_resolve": rounded(median),
        "by_category": [
            {"category": key, "received": received_by[key], "resolved": resolved_by[key]}
            for key in keys
        ],
    }


async def rti_figures(
    session: AsyncSession, town: Authority, ctx: Context, scope: Scope | None = None
) -> dict[str, Any]:
    """Requests for information sent to the municipality through the bot, and answered on time.

    A request's timeliness is known once it was answered (fully or partly) or its deadline has
    passed; it was answered on time when the answer came on or before its deadline (due_on,
    moved by an extension). The share is of the requests whose timeliness is known.
    """
    scope = scope or Scope(municipality_ids=(town.id,))
    conditions = stats.rti_conditions(scope)
    answered = RtiRequest.status.in_(stats.ANSWERED)
    known = or_(answered, RtiRequest.due_on < ctx.today)
    on_time = and_(answered, RtiRequest.outcome_on <= RtiRequest.due_on)
    sent, timed, punctual = (
        await session.execute(
            select(
                func.count(),
                func.coalesce(func.sum(case((known, 1), else_=0)), 0),
                func.coalesce(func.sum(case((on_time, 1), else_=0)), 0),
            ).where(*conditions)
        )
    ).one()
    timed_shown = shown(int(timed), ctx.threshold)
    punctual_shown = shown(int(punctual), ctx.threshold)
    return {
        "sent": shown(int(sent), ctx.threshold),
        "due_or_answered": timed_shown,
        "answered_on_time": punctual_shown,
        "on_time_share": share(punctual_shown, timed_shown),
    }


async def scorecards(session: AsyncSession, town: Authority, ctx: Context) -> list[dict[str, Any]]:
    """The /scorecard figures (bot/staff/scorecard.py) of the last full months, newest first."""
    months = []
    for start, end in full_months(ctx.today, MONTHS):
        scope = Scope(start=start, end=end, municipality_ids=(town.id,))
        figures = await stats.case_stats(session, scope, ctx.tz)
        rti_rows = await stats.rti_stats(session, scope, ctx.tz)
        received = shown(figures.total, ctx.threshold)
        resolved = shown(dict(figures.by_status).get(RESOLVED, 0), ctx.threshold)
        sent = shown(sum(row.requests for row in rti_rows), ctx.threshold)
        answered = shown(sum(row.answered for row in rti_rows), ctx.threshold)
        rti = rti_rows[0] if rti_rows else None
        months.append(
            {
                "month": start.strftime("%Y-%m"),
                "cases_received": received,
                "cases_resolved": resolved,
                "median_days_to_resolve": rounded(figures.median_days_to_resolution)
                if resolved is not None
                else None,
                "rti_sent": sent,
                "rti_answered": answered,
                "rti_answer_share": share(answered, sent),
                "rti_median_days_to_answer": rounded(rti.median_days_to_answer)
                if rti is not None and answered is not None
                else None,
            }
        )
    return months


def card_of(
    round_: ReportCardRound, published_at: datetime, results: MunicipalityResults
) -> dict[str, Any]:
    """A published card: the round, its respondents and each service's index and shares (the
    results already hide small cells and totals; distributions are not published here)."""
    cells = [
        {
            "service": cell.service,
            "respondents": cell.respondents,
            "satisfaction_index": None if cell.suppressed else rounded(cell.satisfaction_index),
            "asked_share": None if cell.suppressed else rounded(cell.asked_share, 3),
            "paid_share": None if cell.suppressed else rounded(cell.paid_share, 3),
        }
        for cell in results.cells
    ]
    weighted = [
        (cell.satisfaction_index, cell.respondents)
        for cell in results.cells
        if not cell.suppressed and cell.satisfaction_index is not None and cell.respondents
    ]
    weight = sum(n for _index, n in weighted)
    overall = sum(index * n for index, n in weighted) / weight if weight else None
    return {
        "round_id": round_.id,
        "title_sq": round_.title_sq,
        "title_en": round_.title_en or round_.title_sq,
        "opens_on": round_.opens_on.isoformat(),
        "closes_on": round_.closes_on.isoformat(),
        "published_on": published_at.date().isoformat(),
        "respondents": results.respondents,
        "satisfaction_index": rounded(overall),
        "cells": cells,
    }


async def report_cards(session: AsyncSession, ctx: Context) -> dict[int, list[dict[str, Any]]]:
    """Published cards by municipality id, newest round first; only ReportCardPublication rows."""
    rows = (
        await session.execute(
            select(ReportCardPublication, ReportCardRound)
            .join(ReportCardRound, ReportCardRound.id == ReportCardPublication.round_id)
            .order_by(ReportCardRound.closes_on.desc(), ReportCardRound.id.desc())
        )
    ).all()
    cards: dict[int, list[dict[str, Any]]] = {}
    results_of: dict[int, dict[int, MunicipalityResults]] = {}
    for publication, round_ in rows:
        if round_.id not in results_of:
            results = await round_results(session, round_, ctx.threshold)
            results_of[round_.id] = {m.municipality_id: m for m in results.municipalities}
        found = results_of[round_.id].get(publication.municipality_id)
        if found is not None:
            cards.setdefault(publication.municipality_id, []).append(
                card_of(round_, publication.published_at, found)
            )
    return cards


async def initiatives(session: AsyncSession, towns: dict[int, Authority]) -> list[dict[str, Any]]:
    """The funded initiatives in programme municipalities (bot/transparency/services/
    initiatives.py), by round, start and organisation: round, organisation, place, topic, period,
    grant band and public link (staff-entered, no personal data; links checked again)."""
    found = await funded.by_municipality(session)
    rows = sorted(
        (row for town_id, listed in found.items() if town_id in towns for row in listed),
        key=lambda row: (row.grant_round, row.starts_on, row.organisation, row.id),
    )
    return [
        {
            "grant_round": row.grant_round,
            "organisation": row.organisation,
            "municipality": slug(towns[row.municipality_id].name),
            "topic": row.topic,
            "starts_on": row.starts_on.isoformat(),
            "ends_on": row.ends_on.isoformat() if row.ends_on else None,
            "grant_band": row.grant_band.value,
            "link": funded.valid_link(row.link) if row.link else None,
        }
        for row in rows
    ]


async def build(
    session: AsyncSession, now: datetime, threshold: int, tz: ZoneInfo
) -> dict[str, Any]:
    """Every figure of the site, as JSON-ready data (what the PublicSnapshot row holds)."""
    ctx = Context(threshold=threshold, tz=tz, today=now.astimezone(tz).date())
    towns = await programme_municipalities(session)
    cards = await report_cards(session, ctx)
    municipalities = []
    for town in towns:
        own_cards = cards.get(town.id, [])
        municipalities.append(
            {
                "slug": slug(town.name),
                "name": town.name,
                "qark": town.qark,
                "seat": town.seat,
                "cases": await case_figures(session, town, ctx),
                "rti": await rti_figures(session, town, ctx),
                "scorecards": await scorecards(session, town, ctx),
                "report_cards": own_cards,
                "satisfaction_index": own_cards[0]["satisfaction_index"] if own_cards else None,
            }
        )
    return {
        "schema": SCHEMA,
        "threshold": threshold,
        "municipalities": municipalities,
        "initiatives": await initiatives(session, {town.id: town for town in towns}),
    }

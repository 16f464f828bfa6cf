"""Funded civil-society initiatives (the programme's sub-grants): staff add, edit, remove, list.

No telegram here: the staff wizard (bot/transparency/initiatives_admin.py) and the public site
both call these functions. Every change is audited (subject "initiative"); the audit entries hold
the fields before and after, which are public information (no personal data).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core.i18n import Translator
from db.models import Authority, AuthorityKind, GrantBand, Initiative
from db.repositories import audit

MAX_ORGANISATION, MAX_TOPIC, MAX_LINK = 200, 300, 500
ROUNDS = (1, 2, 3)
"""The programme's three rounds of sub-grants."""
SUBJECT = "initiative"
EDITABLE = (
    "grant_round",
    "organisation",
    "municipality_id",
    "topic",
    "starts_on",
    "ends_on",
    "grant_band",
    "link",
)
"""The fields staff enter; audit entries record these."""

_MONTH = re.compile(r"^\s*(\d{1,2})\s*[/.\-]\s*(\d{4})\s*$")
_ISO_MONTH = re.compile(r"^\s*(\d{4})\s*-\s*(\d{1,2})\s*$")


def band_label(t: Translator, band: GrantBand) -> str:
    """A grant band in words ("up to €5,000")."""
    labels = {
        GrantBand.UP_TO_5K: t.gettext("up to €5,000"),
        GrantBand.FROM_5K_TO_10K: t.gettext("€5,000–10,000"),
        GrantBand.FROM_10K_TO_20K: t.gettext("€10,000–20,000"),
        GrantBand.OVER_20K: t.gettext("over €20,000"),
    }
    return labels[band]


def parse_month(text: str) -> date | None:
    """A typed month ("03/2025", "3.2025", "2025-03") as its first day; None if not one.

    Years from 2000 to 2100 only, so a typo such as "03/225" is refused rather than stored.
    """
    match = _MONTH.match(text)
    if match is not None:
        month, year = int(match.group(1)), int(match.group(2))
    elif (iso := _ISO_MONTH.match(text)) is not None:
        year, month = int(iso.group(1)), int(iso.group(2))
    else:
        return None
    if not (1 <= month <= 12 and 2000 <= year <= 2100):
        return None
    return date(year, month, 1)


def month_end(first: date) -> date:
    """The last day of a month (an initiative's end month is stored as its last day)."""
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


def month_text(day: date) -> str:
    """A month as staff type it: "03/2025"."""
    return f"{day.month:02d}/{day.year}"


def valid_link(text: str) -> str | None:
    """A public link: an http(s) URL with a host, no spaces, at most MAX_LINK long; else None."""
    link = text.strip()
    if not link or len(link) > MAX_LINK or any(ch.isspace() for ch in link):
        return None
    try:
        parts = urlsplit(link)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if "." not in parts.hostname or parts.hostname.startswith(".") or '"' in link or "<" in link:
        return None
    return link


@dataclass(frozen=True)
class Fields:
    """What staff enter for one initiative (validated by the wizard, checked again here)."""

    grant_round: int
    organisation: str
    municipality_id: int
    topic: str
    starts_on: date
    ends_on: date | None
    grant_band: GrantBand
    link: str | None

    def check(self) -> None:
        """Refuse values the wizard never produces (a forged or stale draft)."""
        if self.grant_round not in ROUNDS:
            raise ValueError(f"grant round {self.grant_round}")
        if not self.organisation.strip() or len(self.organisation) > MAX_ORGANISATION:
            raise ValueError("organisation")
        if not self.topic.strip() or len(self.topic) > MAX_TOPIC:
            raise ValueError("topic")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends before it starts")
        if self.link is not None and valid_link(self.link) != self.link:
            raise ValueError("link")


def _snapshot(initiative: Initiative) -> dict[str, Any]:
    """The entered fields as JSON for the audit log."""
    values: dict[str, Any] = {}
    for name in EDITABLE:
        value = getattr(initiative, name)
        values[name] = value.isoformat() if isinstance(value, date) else value
    values["grant_band"] = GrantBand(initiative.grant_band).value
    return values


async def programme_municipality(session: AsyncSession, municipality_id: int) -> Authority | None:
    """A programme municipality by id (None for any other authority)."""
    found = await session.get(Authority, municipality_id)
    if found is None or found.kind != AuthorityKind.MUNICIPALITY or not found.in_programme:
        return None
    return found


async def create(
    session: AsyncSession, fields: Fields, *, by_user_id: int | None, now: datetime
) -> Initiative:
    """Store a new initiative, audited."""
    fields.check()
    if await programme_municipality(session, fields.municipality_id) is None:
        raise ValueError(f"municipality {fields.municipality_id} is not in the programme")
    initiative = Initiative(
        **{name: getattr(fields, name) for name in EDITABLE},
        created_by_user_id=by_user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(initiative)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="initiative.created",
        subject_type=SUBJECT,
        subject_id=initiative.id,
        after=_snapshot(initiative),
    )
    return initiative


async def update(
    session: AsyncSession,
    initiative: Initiative,
    fields: Fields,
    *,
    by_user_id: int | None,
    now: datetime,
) -> bool:
    """Change an initiative's fields, audited; False when nothing changed (no entry then)."""
    fields.check()
    if await programme_municipality(session, fields.municipality_id) is None:
        raise ValueError(f"municipality {fields.municipality_id} is not in the programme")
    before = _snapshot(initiative)
    for name in EDITABLE:
        setattr(initiative, name, getattr(fields, name))
    after = _snapshot(initiative)
    if after == before:
        return False
    initiative.updated_at = now
    changed = [name for name in EDITABLE if before[name] != after[name]]
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="initiative.updated",
        subject_type=SUBJECT,
        subject_id=initiative.id,
        before={name: before[name] for name in changed},
        after={name: after[name] for name in changed},
    )
    await session.flush()
    return True


async def remove(
    session: AsyncSession, initiative_id: int, *, by_user_id: int | None, now: datetime
) -> bool:
    """Delete an initiative, audited with what it held; False when it was already gone."""
    initiative = await session.get(Initiative, initiative_id)
    if initiative is None:
        return False
    before = _snapshot(initiative)
    await session.delete(initiative)
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="initiative.removed",
        subject_type=SUBJECT,
        subject_id=initiative_id,
        before=before,
    )
    await session.flush()
    return True


async def get(session: AsyncSession, initiative_id: int) -> Initiative | None:
    """An initiative by id."""
    return await session.get(Initiative, initiative_id)


@dataclass(frozen=True)
class Listed:
    """An initiative with its municipality's name, for listings."""

    initiative: Initiative
    municipality: str


async def listing(session: AsyncSession) -> list[Listed]:
    """Every initiative by round, then municipality name, then organisation (staff's list)."""
    rows = await session.execute(
        select(Initiative, Authority.name)
        .join(Authority, Authority.id == Initiative.municipality_id)
        .order_by(Initiative.grant_round, Authority.name, Initiative.organisation, Initiative.id)
    )
    return [Listed(initiative, name) for initiative, name in rows.all()]


async def by_municipality(session: AsyncSession) -> dict[int, list[Initiative]]:
    """Programme municipalities' initiatives by municipality id, each by round, start, name.

    For the public site: only programme municipalities; a municipality without any is absent.
    """
    rows = await session.execute(
        select(Initiative)
        .join(Authority, Authority.id == Initiative.municipality_id)
        .where(Authority.in_programme.is_(True))
        .order_by(
            Initiative.grant_round, Initiative.starts_on, Initiative.organisation, Initiative.id
        )
    )
    found: dict[int, list[Initiative]] = {}
    for initiative in rows.scalars():
        found.setdefault(initiative.municipality_id, []).append(initiative)
    return found

"""Rows behind the public site's figures (cases, requests, a report-card round, initiatives), for
the browser test's known figures and the overview screenshot's sample ones."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.reportcards.services.questions import PAYMENT, SATISFACTION, SCREENING, default_questions
from db.models import (
    Authority,
    AuthorityKind,
    Case,
    CaseEvent,
    CaseKind,
    CaseStatus,
    GrantBand,
    Initiative,
    ReportCardAnswer,
    ReportCardPublication,
    ReportCardResponse,
    ReportCardRound,
    RequestStatus,
    RtiRequest,
)


async def programme_towns(session: AsyncSession) -> dict[str, int]:
    """The programme municipalities' ids by name (seeded at start-up from municipalities.csv)."""
    rows = await session.execute(
        select(Authority.name, Authority.id).where(
            Authority.kind == AuthorityKind.MUNICIPALITY, Authority.in_programme.is_(True)
        )
    )
    return {name: town_id for name, town_id in rows}


@dataclass
class World:
    """Adds rows to a session; keeps the case numbers unique. Nothing is committed here."""

    session: AsyncSession
    towns: dict[str, int]
    cases: int = 0

    async def add_cases(
        self,
        town: str,
        category: str,
        received: int,
        created: datetime,
        resolved_after_days: list[int] | tuple[int, ...] = (),
        *,
        spread: timedelta = timedelta(hours=7),
    ) -> None:
        """`received` service cases, the first len(resolved_after_days) resolved that many days
        after they came in, the rest under review; one every `spread` from `created`. The
        timeline's "resolved" entry fills the case's resolution columns (database triggers)."""
        assert len(resolved_after_days) <= received
        for index in range(received):
            self.cases += 1
            at = created + spread * index
            case = Case(
                reference=f"PACT-{at.year}-{self.cases:05d}",
                kind=CaseKind.SERVICE,
                status=CaseStatus.UNDER_REVIEW,
                identification="anonymous",
                municipality_id=self.towns[town],
                category=category,
                description="Sample complaint (never published).",
                created_at=at,
                updated_at=at,
            )
            self.session.add(case)
            await self.session.flush()
            self.session.add(
                CaseEvent(case_id=case.id, at=at, kind="status", status=CaseStatus.RECEIVED)
            )
            if index < len(resolved_after_days):
                done = at + timedelta(days=resolved_after_days[index])
                case.status, case.updated_at = CaseStatus.RESOLVED, done
                self.session.add(
                    CaseEvent(case_id=case.id, at=done, kind="status", status=CaseStatus.RESOLVED)
                )
        await self.session.flush()

    def add_requests(self, town: str, on_time: int, late: int, sent_on: date) -> None:
        """Requests for information sent to the municipality, all answered: `on_time` within
        their deadline, `late` after it."""
        for index in range(on_time + late):
            due_on = sent_on + timedelta(days=14)
            outcome_on = (
                due_on - timedelta(days=3) if index < on_time else due_on + timedelta(days=5)
            )
            moment = datetime.combine(sent_on, datetime.min.time(), tzinfo=UTC)
            self.session.add(
                RtiRequest(
                    user_id=None,
                    authority_id=self.towns[town],
                    information="Sample request (never published).",
                    format="electronic",
                    reply_channel="email",
                    reply_address="sample@example.org",
                    requester_name="Sample",
                    status=RequestStatus.ANSWERED,
                    sent_on=sent_on,
                    due_on=due_on,
                    outcome_on=outcome_on,
                    created_at=moment,
                    updated_at=moment,
                )
            )

    async def add_round(
        self,
        title_sq: str,
        title_en: str,
        services: list[str],
        opens_on: date,
        closes_on: date,
        answers: dict[str, list[dict[str, tuple[int, int] | None]]],
        published: list[str],
        published_at: datetime,
    ) -> ReportCardRound:
        """A closed round: per town, one dict per response of service → (satisfaction, payment)
        for a service used, None for one not used; cards published for the towns in `published`.
        """
        closed_at = datetime.combine(closes_on + timedelta(days=1), datetime.min.time(), UTC)
        round_ = ReportCardRound(
            title_sq=title_sq,
            title_en=title_en,
            services=services,
            municipality_ids=[self.towns[town] for town in answers],
            opens_on=opens_on,
            closes_on=closes_on,
            questions=default_questions(),
            salt=None,
            launched_at=closed_at - timedelta(days=(closes_on - opens_on).days + 2),
            closed_at=closed_at,
            created_at=closed_at - timedelta(days=30),
            updated_at=closed_at,
        )
        self.session.add(round_)
        await self.session.flush()
        for town, responses in answers.items():
            for given in responses:
                response = ReportCardResponse(
                    round_id=round_.id,
                    respondent=None,
                    municipality_id=self.towns[town],
                    age_band="18_29",
                    role="citizen",
                    suggestion="Sample suggestion (staff only, never published).",
                    submitted_on=opens_on,
                )
                self.session.add(response)
                await self.session.flush()
                for service in services:
                    used = given.get(service)
                    rows = {SCREENING: 0 if used is None else 1}
                    if used is not None:
                        satisfaction, payment = used
                        rows |= {
                            SATISFACTION: satisfaction,
                            PAYMENT: payment,
                            "availability": satisfaction,
                            "quality": satisfaction,
                        }
                    for code, value in rows.items():
                        self.session.add(
                            ReportCardAnswer(
                                response_id=response.id, service=service, question=code, value=value
                            )
                        )
        for town in published:
            self.session.add(
                ReportCardPublication(
                    round_id=round_.id, municipality_id=self.towns[town], published_at=published_at
                )
            )
        await self.session.flush()
        return round_

    def add_initiative(
        self,
        grant_round: int,
        organisation: str,
        town: str,
        topic: str,
        starts_on: date,
        ends_on: date | None,
        band: GrantBand,
        link: str | None = None,
    ) -> None:
        """A funded initiative as staff enter it."""
        moment = datetime.combine(starts_on, datetime.min.time(), UTC)
        self.session.add(
            Initiative(
                grant_round=grant_round,
                organisation=organisation,
                municipality_id=self.towns[town],
                topic=topic,
                starts_on=starts_on,
                ends_on=ends_on,
                grant_band=band,
                link=link,
                created_at=moment,
                updated_at=moment,
            )
        )

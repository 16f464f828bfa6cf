"""Everything held about a person, as plain data for their download (privacy.md 6); no Telegram.

The reporter's cases come whole (texts, timeline, files); followed cases only as reference,
status and category, because their words belong to someone else.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.campaigns.services import campaigns, polls
from bot.campaigns.services import hearings as events
from bot.cases.services import case_rules
from bot.reportcards.services import responses as report_cards
from bot.rti.services import requests as rti
from db.models import (
    Broadcast,
    Case,
    CaseFollower,
    CodeAttempt,
    OutboxMessage,
    RtiRequest,
    StaffMember,
    User,
)


def _iso(value: datetime | date | None) -> str | None:
    """A date or moment as ISO text (None stays None)."""
    return value.isoformat() if value is not None else None


async def collect(
    session: AsyncSession,
    telegram_id: int,
    user: User | None,
    drafts: dict[Any, Any],
    conversations: list[str],
) -> dict[str, Any]:
    """The whole download: account, consents, staff role, cases, requests, campaigns, and the
    drafts and conversations in progress (from the running bot, which holds the newest copy)."""
    data: dict[str, Any] = {"telegram_id": telegram_id}
    if user is not None:
        data.update(await _held_rows(session, user))
    data["drafts"] = drafts
    data["conversations_in_progress"] = sorted(conversations)
    return data


async def _held_rows(session: AsyncSession, user: User) -> dict[str, Any]:
    """What the database holds under the person's row."""
    requests = await rti.for_user(session, user)
    subscription = await campaigns.subscription(session, user)
    return {
        "language": user.language,
        "age_band": user.age_band,
        "role": user.role,
        "created_at": _iso(user.created_at),
        "onboarded_at": _iso(user.onboarded_at),
        "privacy_refused_at": _iso(user.privacy_refused_at),
        "blocked_at": _iso(user.blocked_at),
        "consents": [
            {
                "purpose": c.purpose,
                "notice_version": c.notice_version,
                "given_at": _iso(c.given_at),
                "withdrawn_at": _iso(c.withdrawn_at),
            }
            for c in user.consents
        ],
        "staff_role": await _staff_role(session, user),
        "cases": await _cases(session, user),
        "information_requests": [_request_data(request) for request in requests],
        "campaign_subscription": (
            {
                "topics": subscription.topics,
                "municipality_id": subscription.municipality_id,
                "region": subscription.region,
            }
            if subscription
            else None
        ),
        "deliveries": await _deliveries(session, user),
        "poll_votes": await polls.votes_of(session, user),
        "event_rsvps": await events.rsvps_of(session, user),
        "report_card_responses": await report_cards.of_person(session, user),
        "secret_code_tries": await _code_tries(session, user),
    }


async def _staff_role(session: AsyncSession, user: User) -> dict[str, Any] | None:
    """The person's staff grant, if any."""
    member = await session.get(StaffMember, user.id)
    if member is None:
        return None
    return {
        "role": member.role,
        "corruption": member.corruption,
        "municipality_ids": member.municipality_ids,
        "display_name": member.display_name,
        "granted_at": _iso(member.granted_at),
    }


async def _cases(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Cases the person filed (everything) or follows (reference, status, category)."""
    held = []
    for case in await case_rules.for_user(session, user):
        if await case_rules.is_reporter(session, case, user):
            held.append(await _reported_case(session, case))
            continue
        follow = await session.get(CaseFollower, (case.id, user.id))
        held.append(
            {
                "reference": case.reference,
                "role": "follower",
                "status": case.status,
                "category": case.category,
                "followed_at": _iso(follow.created_at) if follow else None,
            }
        )
    return held


async def _reported_case(session: AsyncSession, case: Case) -> dict[str, Any]:
    """A case the person filed: its fields, the timeline they see, and their files."""
    return {
        "reference": case.reference,
        "role": "reporter",
        "status": case.status,
        "kind": case.kind,
        "identification": case.identification,
        "municipality": case.municipality.name if case.municipality else None,
        "unit": case.unit,
        "category": case.category,
        "institution": case.institution,
        "happened_when": case.happened_when,
        "description": case.description,
        "location_text": case.location_text,
        "latitude": case.latitude,
        "longitude": case.longitude,
        "name_shown_to_staff": case.reporter_display,
        "created_at": _iso(case.created_at),
        "timeline": [
            {"at": _iso(e.at), "kind": e.kind, "status": e.status, "text": e.public_text}
            for e in await case_rules.timeline(session, case, reporter=True)
        ],
        "attachments": [
            {
                "kind": a.kind,
                "file_name": a.file_name,
                "telegram_file_id": a.file_id,
                "added_at": _iso(a.added_at),
            }
            for a in await case_rules.attachments(session, case)
        ],
    }


def _request_data(request: RtiRequest) -> dict[str, Any]:
    """One request for information as plain data."""
    dates = ("sent_on", "due_on", "outcome_on", "complaint_due_on", "complaint_filed_on")
    return {
        "number": request.id,
        "authority": request.authority.name,
        "information": request.information,
        "format": request.format,
        "reply_channel": request.reply_channel,
        "reply_address": request.reply_address,
        "requester_name": request.requester_name,
        "status": request.status,
        "protocol_number": request.protocol_number,
        "commissioner_outcome": request.commissioner_outcome,
        "created_at": _iso(request.created_at),
        **{name: _iso(getattr(request, name)) for name in dates},
    }


async def _deliveries(session: AsyncSession, user: User) -> list[dict[str, Any]]:
    """Campaign messages addressed to the person: title, outcome, when sent."""
    rows = await session.execute(
        select(OutboxMessage, Broadcast.title)
        .join(Broadcast, Broadcast.id == OutboxMessage.broadcast_id)
        .where(OutboxMessage.user_id == user.id)
        .order_by(OutboxMessage.id)
    )
    return [
        {"broadcast": title, "status": row.status, "sent_at": _iso(row.sent_at)}
        for row, title in rows.all()
    ]


async def _code_tries(session: AsyncSession, user: User) -> list[str | None]:
    """When the person's wrong secret-code tries were made (kept for the lockout window). Only
    the moments: which case a try named would tell whether that number is an anonymous case,
    which the one refusal text keeps from everyone."""
    rows = await session.execute(
        select(CodeAttempt.at).where(CodeAttempt.user_id == user.id).order_by(CodeAttempt.id)
    )
    return [_iso(at) for at in rows.scalars()]


def summary_counts(data: dict[str, Any], meta: frozenset[str] = frozenset()) -> dict[str, int]:
    """The numbers the short text summary tells; `meta` draft keys (a timestamp) are no draft."""
    cases = data.get("cases", [])
    subscription = data.get("campaign_subscription")
    return {
        "reported": sum(1 for c in cases if c["role"] == "reporter"),
        "followed": sum(1 for c in cases if c["role"] == "follower"),
        "requests": len(data.get("information_requests", [])),
        "votes": len(data.get("poll_votes", [])),
        "report_cards": len(data.get("report_card_responses", [])),
        "rsvps": len(data.get("event_rsvps", [])),
        "deliveries": len(data.get("deliveries", [])),
        "consents": len(data.get("consents", [])),
        "topics": len(subscription["topics"]) if subscription else 0,
        "drafts": len(set(data.get("drafts", {})) - meta)
        + len(data.get("conversations_in_progress", [])),
    }

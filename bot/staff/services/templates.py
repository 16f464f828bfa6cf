"""Response templates staff reuse in replies; managed by admins, audited."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import ResponseTemplate
from db.repositories import audit


async def all_templates(session: AsyncSession) -> list[ResponseTemplate]:
    """Every template, by title."""
    return list(
        (await session.execute(select(ResponseTemplate).order_by(ResponseTemplate.title))).scalars()
    )


async def add(
    session: AsyncSession,
    title: str,
    body_sq: str,
    body_en: str | None,
    *,
    by_user_id: int,
    now: datetime,
) -> ResponseTemplate:
    """A new template."""
    template = ResponseTemplate(
        title=title[:100], body_sq=body_sq, body_en=body_en or None, created_at=now
    )
    session.add(template)
    await session.flush()
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="template.added",
        subject_type="template",
        subject_id=template.id,
        after={"title": template.title},
    )
    return template


async def delete(
    session: AsyncSession, template_id: int, *, by_user_id: int, now: datetime
) -> bool:
    """Remove a template."""
    template = await session.get(ResponseTemplate, template_id)
    if template is None:
        return False
    await session.delete(template)
    await audit.record(
        session,
        at=now,
        actor_kind="staff",
        actor_user_id=by_user_id,
        action="template.deleted",
        subject_type="template",
        subject_id=template_id,
        before={"title": template.title},
    )
    return True


def body_for(template: ResponseTemplate, locale: str | None) -> str:
    """The text in the reporter's language (Albanian when there is no English one)."""
    return template.body_en if locale == "en" and template.body_en else template.body_sq

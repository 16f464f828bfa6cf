"""Authorities of the directory."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import Authority


async def all_authorities(session: AsyncSession) -> list[Authority]:
    """Every authority, in no particular order."""
    return list((await session.execute(select(Authority))).scalars())


async def get(session: AsyncSession, authority_id: int) -> Authority | None:
    """One authority by id."""
    return await session.get(Authority, authority_id)


async def by_kind_and_name(session: AsyncSession, kind: str, name: str) -> Authority | None:
    """The authority with this kind and exact name."""
    result = await session.execute(
        select(Authority).where(Authority.kind == kind, Authority.name == name)
    )
    return result.scalar_one_or_none()


async def add(session: AsyncSession, authority: Authority) -> Authority:
    """Insert and get the id."""
    session.add(authority)
    await session.flush()
    return authority

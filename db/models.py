"""Typed ORM models. The whole planned schema is described in docs/data-model.md."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base


class AgeBand(enum.StrEnum):
    """Age bands asked at onboarding; under 16 gets anonymous-only use."""

    UNDER_16 = "under_16"
    AGE_16_17 = "16_17"
    AGE_18_29 = "18_29"
    AGE_30_PLUS = "30_plus"


class Role(enum.StrEnum):
    """Optional self-declared role; activists see campaign features first."""

    CITIZEN = "citizen"
    ACTIVIST = "activist"


class ConsentPurpose(enum.StrEnum):
    """The separate, individually withdrawable consents of privacy.md item 2."""

    CASES = "cases"
    FORWARD = "forward"
    CAMPAIGNS = "campaigns"


class User(Base):
    """A Telegram user the bot remembers; keyed by a surrogate id so cases can be anonymised."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    language: Mapped[str | None] = mapped_column(String(8))
    age_band: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[str | None] = mapped_column(String(16))
    onboarded_at: Mapped[datetime | None]
    privacy_refused_at: Mapped[datetime | None]
    blocked_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    consents: Mapped[list[Consent]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Consent.id"
    )


class Consent(Base):
    """One consent given for one purpose under one notice version; withdrawal keeps the row."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_purpose", "user_id", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(32))
    notice_version: Mapped[str] = mapped_column(String(32))
    given_at: Mapped[datetime]
    withdrawn_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="consents")


class AuditEntry(Base):
    """Who did what to which record, when, with before/after; never holds message content."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject", "subject_type", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

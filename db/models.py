"""Typed ORM models. The whole planned schema is described in docs/data-model.md."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Enum,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db.base import Base


def stored_as_value(members: type[enum.StrEnum], length: int) -> Enum:
    """The enum's value in a plain VARCHAR(length), read back as the member; no schema change.

    No database enum type and no CHECK constraint, so adding a member needs no migration; a value
    that is not a member is refused when written.
    """
    return Enum(
        members,
        native_enum=False,
        create_constraint=False,
        length=length,
        values_callable=lambda kinds: [kind.value for kind in kinds],
        validate_strings=True,
    )


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
    role: Mapped[Role | None] = mapped_column(stored_as_value(Role, 16))
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
    purpose: Mapped[ConsentPurpose] = mapped_column(stored_as_value(ConsentPurpose, 32))
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


class AuthorityKind(enum.StrEnum):
    """A municipality (the programme's focus), a prefecture, a water utility or another body."""

    MUNICIPALITY = "municipality"
    PREFECTURE = "prefecture"
    WATER_UTILITY = "water_utility"
    OTHER = "other"


class Authority(Base):
    """A public authority people can ask for information: a municipality or another body."""

    __tablename__ = "authorities"
    __table_args__ = (UniqueConstraint("kind", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[AuthorityKind] = mapped_column(stored_as_value(AuthorityKind, 16))
    name: Mapped[str] = mapped_column(String(200))
    qark: Mapped[str | None] = mapped_column(String(64))
    seat: Mapped[str | None] = mapped_column(String(100))
    in_programme: Mapped[bool] = mapped_column(default=False)
    units: Mapped[str | None] = mapped_column(Text)
    coordinator_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(64))
    postal_address: Mapped[str | None] = mapped_column(String(300))
    transparency_url: Mapped[str | None] = mapped_column(String(300))
    website: Mapped[str | None] = mapped_column(String(300))
    rti_email: Mapped[str | None] = mapped_column(String(200))
    """The RTI coordinator's own e-mail, when the authority publishes one."""
    contact_source: Mapped[str | None] = mapped_column(Text)
    """Where the shipped contacts come from (db/data/contacts.csv), for staff to re-check."""
    checked_on: Mapped[date | None]
    """When the contacts were last checked: the sources' date, or a staff verification."""
    verified_at: Mapped[datetime | None]
    verified_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    staff_fields: Mapped[list[str] | None] = mapped_column(JSON)
    """Contact fields a staff member set: seeding never overwrites them."""
    staff_thread_id: Mapped[int | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    @property
    def request_email(self) -> str | None:
        """Where a request for information goes: the coordinator's e-mail, else the office's."""
        return self.rti_email or self.email


class RequestStatus(enum.StrEnum):
    """Where a request for information stands (Law 119/2014)."""

    PREPARED = "prepared"
    SENT = "sent"
    EXTENDED = "extended"
    TRANSFERRED = "transferred"
    CLARIFY = "clarify"
    ANSWERED = "answered"
    PARTIAL = "partial"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    COMPLAINT_FILED = "complaint_filed"
    CLOSED = "closed"


class RtiRequest(Base):
    """A request for information a person prepared with the bot, and its deadline clock."""

    __tablename__ = "rti_requests"
    __table_args__ = (Index("ix_rti_requests_user_status", "user_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    """None once anonymised (retention): the request stays for statistics, nobody's any more."""
    authority_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="RESTRICT"))
    information: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(String(16))
    reply_channel: Mapped[str] = mapped_column(String(8))
    reply_address: Mapped[str] = mapped_column(String(300))
    requester_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[RequestStatus] = mapped_column(stored_as_value(RequestStatus, 20))
    sent_on: Mapped[date | None]
    protocol_number: Mapped[str | None] = mapped_column(String(64))
    due_on: Mapped[date | None]
    extended: Mapped[bool] = mapped_column(default=False)
    transferred: Mapped[bool] = mapped_column(default=False)
    outcome_on: Mapped[date | None]
    complaint_due_on: Mapped[date | None]
    complaint_filed_on: Mapped[date | None]
    complaint_ground: Mapped[str | None] = mapped_column(String(16))
    """What the complaint is about ("refused", "partial", "no_answer"), kept after filing."""
    complaint_written_on: Mapped[date | None]
    """The date of the latest complaint letter drafted: the one filed."""
    commissioner_outcome: Mapped[str | None] = mapped_column(String(20))
    anonymised_at: Mapped[datetime | None]
    """Name, address and information cleared after the retention period (privacy.md 7)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    authority: Mapped[Authority] = relationship(lazy="joined")


class Reminder(Base):
    """A message due at a moment; durable so restarts lose nothing and fire nothing twice."""

    __tablename__ = "reminders"
    __table_args__ = (Index("ix_reminders_due", "sent_at", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int | None] = mapped_column(
        ForeignKey("rti_requests.id", ondelete="CASCADE")
    )
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    due_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]


class ClosedDay(Base):
    """An extra closure decided by the Council of Ministers, beyond the official holidays."""

    __tablename__ = "closed_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime]


class BotState(Base):
    """PTB persistence: conversation states and per-user flow drafts, as JSON."""

    __tablename__ = "bot_state"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    data: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[datetime]


class InboxUpdate(Base):
    """A Telegram update stored before it is confirmed; done once handled (bot/core/inbox.py)."""

    __tablename__ = "inbox"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_key: Mapped[int | None] = mapped_column(BigInteger, index=True)
    payload: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    """The update as Telegram sent it; cleared when done."""
    received_at: Mapped[datetime]
    done_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(default=0)


class InboxChat(Base):
    """Which worker process handles a chat's updates when several share PostgreSQL (cluster.py)."""

    __tablename__ = "inbox_chats"

    chat_key: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    worker: Mapped[int | None] = mapped_column(BigInteger)
    """The advisory-lock number of the worker holding the chat; null: nobody yet."""
    taken_at: Mapped[datetime | None]


class ReportQuota(Base):
    """Reports sent by one person on one day, under a keyed hash: no case id, no user id."""

    __tablename__ = "report_quota"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(index=True)
    count: Mapped[int] = mapped_column(default=0)


class CaseKind(enum.StrEnum):
    """A complaint about a municipal service, or a corruption report."""

    SERVICE = "service"
    CORRUPTION = "corruption"


class Identification(enum.StrEnum):
    """How the reporter is identified to staff."""

    NAMED = "named"
    CONFIDENTIAL = "confidential"
    ANONYMOUS = "anonymous"


class CaseStatus(enum.StrEnum):
    """The life of a case, as the reporter sees it."""

    RECEIVED = "received"
    UNDER_REVIEW = "under_review"
    FORWARDED = "forwarded"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    WITHDRAWN = "withdrawn"


class ErasedBy(enum.StrEnum):
    """Why a case's personal data is gone: the reporter erased it, or the retention period."""

    REPORTER = "reporter"
    RETENTION = "retention"


class CaseEventKind(enum.StrEnum):
    """What one line of a case's timeline records."""

    STATUS = "status"
    REOPENED = "reopened"
    REPORTER_INFO = "reporter_info"
    FOLLOWUP_YES = "followup_yes"
    FOLLOWUP_PARTLY = "followup_partly"
    FOLLOWUP_NO = "followup_no"
    ASSIGNED = "assigned"
    UNASSIGNED = "unassigned"
    NOTE = "note"
    STAFF_REPLY = "staff_reply"
    REPORTER_REPLY = "reporter_reply"
    REDACTED = "redacted"


class AttachmentKind(enum.StrEnum):
    """What a case's file is, as Telegram sent it."""

    PHOTO = "photo"
    VOICE = "voice"
    DOCUMENT = "document"


class CaseCounter(Base):
    """The last case number given out in a year (references are sequential per year)."""

    __tablename__ = "case_counters"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last: Mapped[int]


class Case(Base):
    """A report. The reporter link is here only for named cases (confidential: case_contacts)."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_place_category", "municipality_id", "category", "status"),
        Index(
            "ix_cases_created",
            "created_at",
            "id",
            postgresql_include=[
                "kind",
                "status",
                "municipality_id",
                "category",
                "first_staff_action_at",
                "first_resolved_at",
            ],
        ),
        *(
            Index(
                index,
                column,
                postgresql_include=["kind"],
                postgresql_where=text(f"{column} IS NOT NULL"),
                sqlite_where=text(f"{column} IS NOT NULL"),
            )
            for column, index in (
                ("seconds_to_first_action", "ix_cases_seconds_to_action"),
                ("seconds_to_resolution", "ix_cases_seconds_to_resolution"),
            )
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    kind: Mapped[CaseKind] = mapped_column(stored_as_value(CaseKind, 16))
    status: Mapped[CaseStatus] = mapped_column(stored_as_value(CaseStatus, 16))
    identification: Mapped[Identification] = mapped_column(stored_as_value(Identification, 16))
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="RESTRICT")
    )
    unit: Mapped[str | None] = mapped_column(String(100))
    category: Mapped[str | None] = mapped_column(String(40))
    institution: Mapped[str | None] = mapped_column(String(200))
    happened_when: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location_text: Mapped[str | None] = mapped_column(String(300))
    reporter_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    forward_consent: Mapped[bool] = mapped_column(default=False)
    secret_hash: Mapped[str | None] = mapped_column(String(200))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="SET NULL"))
    reporter_display: Mapped[str | None] = mapped_column(String(200))
    assignee_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    original_description: Mapped[str | None] = mapped_column(Text)
    erased_by: Mapped[ErasedBy | None] = mapped_column(stored_as_value(ErasedBy, 16))
    """ErasedBy: the reporter erased their data, or the retention period anonymised the case."""
    erased_at: Mapped[datetime | None]
    last_staff_action_at: Mapped[datetime | None]
    first_staff_action_at: Mapped[datetime | None]
    """The earliest timeline entry by staff; kept by database triggers (migration 0019)."""
    first_resolved_at: Mapped[datetime | None]
    """The earliest "resolved" entry; kept by database triggers (migration 0019)."""
    seconds_to_first_action: Mapped[int | None]
    """Whole seconds from creation to first_staff_action_at; kept by triggers (migration 0021)."""
    seconds_to_resolution: Mapped[int | None]
    """Whole seconds from creation to first_resolved_at; kept by triggers (migration 0021)."""
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    municipality: Mapped[Authority | None] = relationship(lazy="joined")


class CaseContact(Base):
    """The link from a confidential case to its reporter, kept apart and reached by relay code."""

    __tablename__ = "case_contacts"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    relay_code: Mapped[str] = mapped_column(String(24), unique=True)


class CaseFollower(Base):
    """Someone who follows a case ("same problem — add me") and hears of its changes."""

    __tablename__ = "case_followers"

    case_id: Mapped[int] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime]


class CodeAttempt(Base):
    """One wrong secret-code try by a person (on a case, or on an unknown number): the limits."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]


class CaseAttachment(Base):
    """A photo, voice note or document of a case, by Telegram file id."""

    __tablename__ = "case_attachments"
    __table_args__ = (Index("ix_case_attachments_case", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[AttachmentKind] = mapped_column(stored_as_value(AttachmentKind, 16))
    file_id: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str | None] = mapped_column(String(200))
    cleaned: Mapped[bool] = mapped_column(default=False)
    added_at: Mapped[datetime]


class CaseEvent(Base):
    """One line of a case's timeline: status changes, public notes, reporter additions."""

    __tablename__ = "case_events"
    __table_args__ = (Index("ix_case_events_case", "case_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    kind: Mapped[CaseEventKind] = mapped_column(stored_as_value(CaseEventKind, 24))
    status: Mapped[CaseStatus | None] = mapped_column(stored_as_value(CaseStatus, 16))
    public_text: Mapped[str | None] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    staff_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    erased_by: Mapped[ErasedBy | None] = mapped_column(stored_as_value(ErasedBy, 16))
    """ErasedBy, when public_text was cleared (the reporter's own words, or retention)."""


class StaffRole(enum.StrEnum):
    """Staff roles: admins manage, caseworkers work cases, viewers see statistics."""

    ADMIN = "admin"
    CASEWORKER = "caseworker"
    VIEWER = "viewer"


class StaffMember(Base):
    """A staff grant: role, the corruption permission, municipalities worked (null = all)."""

    __tablename__ = "staff_members"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[StaffRole] = mapped_column(stored_as_value(StaffRole, 16))
    corruption: Mapped[bool] = mapped_column(default=False)
    municipality_ids: Mapped[list[int] | None] = mapped_column(JSON)
    display_name: Mapped[str] = mapped_column(String(100))
    granted_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    granted_at: Mapped[datetime]


class StaffRevocation(Base):
    """A revoked staff grant, kept after the grant row is gone so ADMIN_IDS cannot restore it.

    Keyed by the Telegram id, not users.id: it outlives the user row, so erasing one's data
    (which deletes that row) cannot undo a revocation. Only a new grant by an admin clears it.
    """

    __tablename__ = "staff_revocations"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    revoked_at: Mapped[datetime]
    revoked_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )


class ResponseTemplate(Base):
    """A reply text staff can reuse, in both languages."""

    __tablename__ = "response_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    body_sq: Mapped[str] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Topic(enum.StrEnum):
    """Campaign topics people opt in to, each separately."""

    RTI = "rti"
    SERVICES = "services"
    ANTICORRUPTION = "anticorruption"
    HEARINGS = "hearings"
    POLLS = "polls"
    YOUTH = "youth"


class Subscription(Base):
    """What campaign messages a person wants, for one municipality, one region (qark) or all."""

    __tablename__ = "subscriptions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="SET NULL")
    )
    region: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class BroadcastKind(enum.StrEnum):
    """What a broadcast is: a campaign message, or one the bot writes itself."""

    CAMPAIGN = "campaign"
    EVENT_REMINDER = "event_reminder"
    POLL_RESULTS = "poll_results"


class BroadcastStatus(enum.StrEnum):
    """A broadcast's life: recurring templates spawn scheduled copies; sending can pause."""

    SCHEDULED = "scheduled"
    RECURRING = "recurring"
    SENDING = "sending"
    PAUSED = "paused"
    CANCELLED = "cancelled"
    DONE = "done"


class Broadcast(Base):
    """A campaign message to an audience, sent at a moment; the outbox holds one row each.

    ``audience`` narrows who it reaches beyond ``topic`` and ``municipality_ids``: lists under
    "topics" (any of), "roles", "languages", "age_bands", or "event_id" (people attending) and
    "poll_id" (people who voted). ``buttons`` is a list of {"kind": "link", "label", "url"},
    {"kind": "event", "event_id"} or {"kind": "poll", "poll_id"}. A recurring broadcast
    (``recurrence`` weekly or monthly, on ``recur_day``) stays a template whose ``send_at`` is the
    next occurrence; each occurrence is a copy pointing back through ``parent_id``.
    """

    __tablename__ = "broadcasts"
    __table_args__ = (Index("ix_broadcasts_status_send_at", "status", "send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[BroadcastKind] = mapped_column(
        stored_as_value(BroadcastKind, 16), server_default=BroadcastKind.CAMPAIGN.value
    )
    title: Mapped[str] = mapped_column(String(100))
    text_sq: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str | None] = mapped_column(Text)
    media_kind: Mapped[str | None] = mapped_column(String(12))
    media_file_id: Mapped[str | None] = mapped_column(String(255))
    buttons: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    topic: Mapped[str] = mapped_column(String(24))
    municipality_ids: Mapped[list[int] | None] = mapped_column(JSON)
    audience: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[BroadcastStatus] = mapped_column(stored_as_value(BroadcastStatus, 16))
    send_at: Mapped[datetime]
    recurrence: Mapped[str | None] = mapped_column(String(16))
    recur_day: Mapped[int | None]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("broadcasts.id", ondelete="SET NULL"))
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None]
    progress_edited_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OutboxStatus(enum.StrEnum):
    """An outbox row's life: pending until sent, failed for good, skipped or cancelled."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class OutboxKind(enum.StrEnum):
    """What an outbox row carries: a broadcast's copy, or one kind of direct message."""

    BROADCAST = "broadcast"
    REPLY = "reply"
    STAFF_CARD = "staff_card"
    STAFF_NOTICE = "staff_notice"
    RELAY = "relay"
    REPORTER_ANSWER = "answer"
    STATUS_NOTICE = "status_notice"
    REMINDER = "reminder"
    ADMIN_ALERT = "admin_alert"
    DIGEST = "staff_digest"
    ADMIN_NOTICE = "admin_notice"


class OutboxMessage(Base):
    """One message to send after a commit: a broadcast's recipient, or a direct message.

    Broadcast rows (``kind`` "broadcast") are unique per (broadcast, user), so a resumed broadcast
    never sends twice. Direct rows (staff cards, relays, status notices, reminders, admin alerts)
    carry ``chat_id`` and a ``payload`` (method, text, reply_markup, thread, file id), are written
    in the transaction that decided them and sent by the sender after it commits; ``payload`` is
    cleared once the outcome is recorded. ``dedupe_key`` keeps one row per key (e.g. one alert).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        Index("ix_outbox_broadcast_status", "broadcast_id", "status"),
        Index("ix_outbox_status_not_before", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(
        stored_as_value(OutboxKind, 24), server_default=OutboxKind.BROADCAST.value
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    payload: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    not_before: Mapped[datetime | None]
    dedupe_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(stored_as_value(OutboxStatus, 12))
    attempts: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(String(100))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Poll(Base):
    """A question with options, voted on with inline buttons (one vote per person, changeable)."""

    __tablename__ = "polls"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_sq: Mapped[str] = mapped_column(String(300))
    question_en: Mapped[str | None] = mapped_column(String(300))
    options: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    closed_at: Mapped[datetime | None]


class PollVote(Base):
    """One person's answer to a poll; segments come from the person's profile at count time."""

    __tablename__ = "poll_votes"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("polls.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    option: Mapped[int]
    voted_at: Mapped[datetime]


class Event(Base):
    """A public hearing, forum or training people can say they will attend."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_starts_at", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    municipality_id: Mapped[int | None] = mapped_column(
        ForeignKey("authorities.id", ondelete="SET NULL")
    )
    place: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]


class EventRsvp(Base):
    """A person's answer to an event; a name is kept only if they chose named participation."""

    __tablename__ = "event_rsvps"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    attending: Mapped[bool]
    display_name: Mapped[str | None] = mapped_column(String(100))
    responded_at: Mapped[datetime]


class ReportCardRound(Base):
    """A Citizen Report Card round: the services asked about, where, when, and the questions.

    ``questions`` is the question set (bot/reportcards/questions.py), editable until the round is
    launched. ``salt`` keys the respondent codes of its responses; it is wiped when the round
    closes, after which no response can be tied to anyone, not even by the bot.
    """

    __tablename__ = "report_card_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_sq: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    services: Mapped[list[str]] = mapped_column(JSON)
    municipality_ids: Mapped[list[int]] = mapped_column(JSON)
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    salt: Mapped[str | None] = mapped_column(String(64))
    launched_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    invitation_broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ReportCardResponse(Base):
    """One person's answers to a round: only the municipality, age band and role they gave.

    ``respondent`` is a keyed hash of the person under the round's salt, so the same person
    changes their answers instead of adding a second response while the round is open; it is
    set to NULL when the round closes.
    """

    __tablename__ = "report_card_responses"
    __table_args__ = (
        UniqueConstraint("round_id", "respondent", name="uq_report_card_responses_respondent"),
        Index("ix_report_card_responses_round_municipality", "round_id", "municipality_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("report_card_rounds.id", ondelete="CASCADE"))
    respondent: Mapped[str | None] = mapped_column(String(64))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"))
    age_band: Mapped[str | None] = mapped_column(String(16))
    role: Mapped[Role | None] = mapped_column(stored_as_value(Role, 16))
    suggestion: Mapped[str | None] = mapped_column(Text)
    submitted_on: Mapped[date]


class ReportCardAnswer(Base):
    """One answer of a response: a question about one service (or "" for the whole card)."""

    __tablename__ = "report_card_answers"

    response_id: Mapped[int] = mapped_column(
        ForeignKey("report_card_responses.id", ondelete="CASCADE"), primary_key=True
    )
    service: Mapped[str] = mapped_column(String(24), primary_key=True)
    question: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(SmallInteger)


class ReportCardPublication(Base):
    """A municipality's card of a round, published by staff: broadcast and shown on the site."""

    __tablename__ = "report_card_publications"

    round_id: Mapped[int] = mapped_column(
        ForeignKey("report_card_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("authorities.id", ondelete="CASCADE"), primary_key=True
    )
    published_at: Mapped[datetime]
    published_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("broadcasts.id", ondelete="SET NULL")
    )


class GrantBand(enum.StrEnum):
    """Size of a sub-grant, in bands (the exact amount is not published)."""

    UP_TO_5K = "up_to_5k"
    FROM_5K_TO_10K = "5k_10k"
    FROM_10K_TO_20K = "10k_20k"
    OVER_20K = "over_20k"


class Initiative(Base):
    """A civil-society initiative the programme funds (a sub-grant), entered by staff."""

    __tablename__ = "initiatives"
    __table_args__ = (Index("ix_initiatives_municipality", "municipality_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_round: Mapped[int] = mapped_column(SmallInteger)
    organisation: Mapped[str] = mapped_column(String(200))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("authorities.id", ondelete="CASCADE"))
    topic: Mapped[str] = mapped_column(String(300))
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    grant_band: Mapped[GrantBand] = mapped_column(stored_as_value(GrantBand, 16))
    link: Mapped[str | None] = mapped_column(String(500))
    created_by_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PublicSnapshot(Base):
    """The public site's figures, built on a schedule so a page view runs no heavy query."""

    __tablename__ = "public_snapshots"

    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    built_at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)

"""Consent rules of Law 124/2024 as the bot applies them (privacy.md); no Telegram here."""

from __future__ import annotations

from datetime import datetime

from db.models import AgeBand, Consent, ConsentPurpose, User

NOTICE_VERSION = "2026-12-02b"
"""Bump when the notice text changes: consents record which version people accepted."""


class MinorConsentError(Exception):
    """Under-16 users cannot consent alone (a parent's or guardian's consent is needed)."""


class BaseConsentMissingError(Exception):
    """Forwarding and campaigns build on consent (a): nothing is kept without it."""


def active_consent(user: User | None, purpose: ConsentPurpose) -> Consent | None:
    """The consent currently in force for a purpose, if any."""
    if user is None:
        return None
    for consent in reversed(user.consents):
        if consent.purpose == purpose and consent.withdrawn_at is None:
            return consent
    return None


def has_consent(user: User | None, purpose: ConsentPurpose = ConsentPurpose.CASES) -> bool:
    """Whether the purpose may be carried out for this user now."""
    return active_consent(user, purpose) is not None


def is_minor(user: User | None) -> bool:
    """Under 16: only anonymous use, nothing identifying stored."""
    return user is not None and user.age_band == AgeBand.UNDER_16


def grant(user: User, purpose: ConsentPurpose, now: datetime) -> Consent | None:
    """Record a consent unless one is already in force; refuse it for minors and without (a)."""
    if is_minor(user):
        raise MinorConsentError
    if purpose != ConsentPurpose.CASES and not has_consent(user, ConsentPurpose.CASES):
        raise BaseConsentMissingError
    if has_consent(user, purpose):
        return None
    consent = Consent(purpose=purpose, notice_version=NOTICE_VERSION, given_at=now)
    user.consents.append(consent)
    return consent


def withdraw(user: User, purpose: ConsentPurpose, now: datetime) -> Consent | None:
    """Mark the consent in force as withdrawn (the row stays as proof); withdrawing (a) withdraws
    every purpose, since forwarding and campaigns build on it."""
    consent = active_consent(user, purpose)
    if consent is not None:
        consent.withdrawn_at = now
    if purpose == ConsentPurpose.CASES:
        withdraw_all(user, now)
    return consent


def withdraw_all(user: User, now: datetime) -> list[ConsentPurpose]:
    """Withdraw every consent in force; returns the purposes affected."""
    purposes = []
    for consent in user.consents:
        if consent.withdrawn_at is None:
            consent.withdrawn_at = now
            purposes.append(ConsentPurpose(consent.purpose))
    return purposes

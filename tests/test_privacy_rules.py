"""Consent rules and onboarding steps as plain functions (no Telegram, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.account.services import consent as privacy
from bot.account.services.accounts import Step, next_step
from db.models import AgeBand, ConsentPurpose, User

NOW = datetime(2026, 11, 23, 10, tzinfo=UTC)


def _user(**fields: object) -> User:
    return User(telegram_id=1, created_at=NOW, updated_at=NOW, consents=[], **fields)


def test_grant_records_the_notice_version_once() -> None:
    user = _user()
    consent = privacy.grant(user, ConsentPurpose.CASES, NOW)
    assert consent is not None and consent.notice_version == privacy.NOTICE_VERSION
    assert privacy.grant(user, ConsentPurpose.CASES, NOW + timedelta(1)) is None
    assert len(user.consents) == 1


def test_withdrawal_keeps_the_row_and_a_new_grant_adds_one() -> None:
    user = _user()
    privacy.grant(user, ConsentPurpose.CASES, NOW)
    withdrawn = privacy.withdraw(user, ConsentPurpose.CASES, NOW + timedelta(1))
    assert withdrawn is not None and withdrawn.withdrawn_at == NOW + timedelta(1)
    assert not privacy.has_consent(user)
    privacy.grant(user, ConsentPurpose.CASES, NOW + timedelta(2))
    assert privacy.has_consent(user) and len(user.consents) == 2


def test_other_purposes_need_consent_a_first() -> None:
    user = _user()
    with pytest.raises(privacy.BaseConsentMissingError):
        privacy.grant(user, ConsentPurpose.CAMPAIGNS, NOW)
    privacy.grant(user, ConsentPurpose.CASES, NOW)
    assert privacy.grant(user, ConsentPurpose.CAMPAIGNS, NOW) is not None


def test_minors_cannot_consent_and_withdraw_all() -> None:
    user = _user()
    privacy.grant(user, ConsentPurpose.CASES, NOW)
    privacy.grant(user, ConsentPurpose.FORWARD, NOW)
    assert sorted(privacy.withdraw_all(user, NOW)) == ["cases", "forward"]
    user.age_band = AgeBand.UNDER_16
    assert privacy.is_minor(user)
    with pytest.raises(privacy.MinorConsentError):
        privacy.grant(user, ConsentPurpose.CASES, NOW)


def test_next_step_follows_the_row() -> None:
    assert next_step(None) is Step.NOTICE
    user = _user(privacy_refused_at=NOW)
    assert next_step(user) is Step.NOTICE
    privacy.grant(user, ConsentPurpose.CASES, NOW)
    assert next_step(user) is Step.AGE
    user.age_band = "skipped"
    assert next_step(user) is Step.ROLE
    user.onboarded_at = NOW
    assert next_step(user) is Step.DONE
    minor = _user(age_band=AgeBand.UNDER_16, onboarded_at=NOW)
    assert next_step(minor) is Step.DONE, "a minor is not asked to consent again"


def test_withdrawing_consent_a_withdraws_the_purposes_built_on_it() -> None:
    user = _user()
    for purpose in ConsentPurpose:
        privacy.grant(user, purpose, NOW)
    privacy.withdraw(user, ConsentPurpose.CASES, NOW + timedelta(1))
    assert not any(privacy.has_consent(user, purpose) for purpose in ConsentPurpose)

"""Settings parsing, the missing-token error, and locale-aware formatting."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.core.i18n import I18n
from bot.core.settings import MissingTokenError, Settings


def test_missing_token_names_the_variable_and_botfather() -> None:
    settings = Settings(_env_file=None, bot_token=None)
    with pytest.raises(MissingTokenError) as error:
        settings.require_token()
    assert "BOT_TOKEN" in str(error.value) and "@BotFather" in str(error.value)


def test_admin_ids_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "11, 22;33")
    monkeypatch.setenv("BOT_TOKEN", "1:abc")
    settings = Settings(_env_file=None)
    assert settings.admin_ids == frozenset({11, 22, 33})
    assert settings.timezone == "Europe/Tirane" and settings.default_locale == "sq"
    assert settings.database_url.startswith("sqlite+aiosqlite:///./data/")
    assert not settings.webhook_mode
    assert "1:abc" not in repr(settings), "the token is a SecretStr"


def test_bad_locale_and_zone_fail_at_start() -> None:
    with pytest.raises(ValueError, match="DEFAULT_LOCALE"):
        Settings(_env_file=None, default_locale="de")
    with pytest.raises(ValueError):
        Settings(_env_file=None, timezone="Europe/Nowhere")


def test_webhook_needs_a_secret() -> None:
    settings = Settings(_env_file=None, webhook_url="https://bot.example.org/tg")
    assert settings.webhook_mode
    with pytest.raises(RuntimeError, match="WEBHOOK_SECRET"):
        settings.require_webhook_secret()


def test_dates_and_numbers_in_the_users_locale() -> None:
    i18n = I18n("sq", "Europe/Tirane")
    sq, en = i18n.translator("sq"), i18n.translator("en")
    assert sq.date(date(2026, 11, 23)) == "23 nëntor 2026"
    assert en.date(date(2026, 11, 23)) == "23 November 2026"
    late_evening_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)
    assert sq.date(late_evening_utc) == "23 nëntor 2026", "dates are shown in Tirana time"
    assert sq.number(12345.5) == "12\xa0345,5" and en.number(12345.5) == "12,345.5"


def test_locale_choice_from_telegram() -> None:
    i18n = I18n("sq", "Europe/Tirane")
    assert i18n.locale_for_telegram("en") == "en"
    assert i18n.locale_for_telegram("en-US") == "en"
    assert i18n.locale_for_telegram("it") == "sq"
    assert i18n.locale_for_telegram(None) == "sq"
    assert i18n.translator("xx").locale == "sq"


def test_albanian_catalog_is_used() -> None:
    t = I18n("sq", "Europe/Tirane").translator("sq")
    assert t.gettext("No, thanks") == "Jo, faleminderit"
    assert t.gettext("Consent given: {what}.", what="x") == "Pëlqimi u dha: x."

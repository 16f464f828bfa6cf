"""The Albanian catalog reads as natural standard Albanian: none of the mistakes people met
(issue 13), the polite "ju" form, ë and ç, plural forms, no English on Albanian screens."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Message
from babel.messages.pofile import read_po

from bot.account.texts import full_notice, short_notice
from bot.campaigns.composer import CHOICES
from bot.core.i18n import I18n
from bot.core.settings import Settings

CATALOG = Path(__file__).resolve().parents[1] / "locales" / "sq" / "LC_MESSAGES" / "messages.po"
I18N = I18n("sq", "Europe/Tirane")
SQ, EN = I18N.translator("sq"), I18N.translator("en")

FORBIDDEN = [
    (
        r"^(marrë|zgjidhur|refuzuar|përcjellë|tërhequr)\b",
        "a status label needs its article: “i marrë”, “i zgjidhur” (it says what a case is)",
    ),
    (r"Paraparje", "the word is “Parapamje”"),
    (r"Njoftojuani|Dërgojuani", "clumsy clitic imperative: “Njoftoni abonentët tani”"),
    (r"Gati për t'u planifikuar", "also shown when sending now: “Gati për dërgim”"),
    (r"(?i)kopje letre", "a paper copy is “kopje në letër”"),
    (r"\b0 skedar", "no files is “Asnjë skedar”, not a count of zero"),
    (r"\b1 mesazhe", "one voice note is “1 mesazh zanor” (ngettext)"),
    (r"bot-it", "the definite form is “botit”"),
    (r"→ Location", "English on an Albanian screen"),
    (
        r"^(\W+ )?(Kaloje|Mbaje|Fshiji|Hap)\b",
        "buttons use the polite “ju” form: “Kalojeni”, “Mbajeni”",
    ),
    (
        r"(?i)\b(eshte|nje|per|cdo|kerkes\w*|pergjigj\w*|ceshtj\w*|shenim\w*|bashkise)\b",
        "ë and ç are written: “është”, “një”, “për”, “çdo”",
    ),
    (r"\b(the|and|you|your|please|with|from|this|that)\b", "English words in Albanian text"),
]
"""(pattern, why): none of these may occur in any Albanian msgstr."""


def _entries() -> list[Message]:
    with CATALOG.open("rb") as handle:
        return [m for m in read_po(handle, locale="sq") if m.id]


def _strings(message: Message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


@pytest.mark.parametrize(("pattern", "why"), FORBIDDEN, ids=[p for p, _ in FORBIDDEN])
def test_catalog_has_none_of_the_known_mistakes(pattern: str, why: str) -> None:
    found = [s for m in _entries() for s in _strings(m) if s and re.search(pattern, s)]
    assert found == [], why


def test_counts_have_their_singular() -> None:
    assert SQ.ngettext("{count} voice note", "{count} voice notes", 1) == "1 mesazh zanor"
    assert SQ.ngettext("{count} voice note", "{count} voice notes", 2) == "2 mesazhe zanore"
    assert SQ.ngettext("{count} file", "{count} files", 1) == "1 skedar"
    assert SQ.gettext("0 files") == "Asnjë skedar"


def test_status_labels_agree_with_the_case() -> None:
    for label in ("received", "resolved", "rejected", "forwarded to the institution"):
        assert SQ.gettext(label).startswith("i "), label


@pytest.mark.parametrize("name", ["languages", "age_bands"])
def test_audience_all_is_feminine_for_language_and_age(name: str) -> None:
    """“Gjuha: të gjitha”, “Mosha: të gjitha”; “të gjithë” is for people (the role)."""
    everything = next(label for key, label in CHOICES[name] if key is None)
    assert SQ.gettext(everything) == "të gjitha"


def test_privacy_notice_names_the_controller_in_albanian() -> None:
    settings = Settings(_env_file=None)
    for text in (short_notice(SQ, settings), full_notice(SQ, settings)):
        assert "Qendra Kombëtare Burimore e Trajnimit dhe Asistencës Teknike" in text
        assert "Albanian National" not in text and "Partnership Against" not in text
    assert "Albanian National Training" in full_notice(EN, settings)


def test_a_configured_controller_is_shown_as_given() -> None:
    settings = Settings(_env_file=None, controller_name="Shoqata Qytetare X")
    assert "Shoqata Qytetare X" in short_notice(SQ, settings)

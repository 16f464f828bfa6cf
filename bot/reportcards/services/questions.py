"""The report-card question set: the default one shipped with the bot, and its checks.

The method is the Citizen Report Card's (World Bank / PAC Bangalore; categories.md): a screening
question per service ("used in the last 12 months?"), then, for users only, availability,
reliability, quality, staff responsiveness, time to resolve, unofficial payments and overall
satisfaction, and one optional open suggestion at the end. A round stores its own copy
(``ReportCardRound.questions``), which staff may edit until the round is launched: the wording
changes, the codes, kinds and answer values never do, so results stay comparable across rounds.

Each question is a dict: ``code``, ``kind`` (`yes_no`: 1 yes, 0 no; `scale5`: 1-5; `choice`:
the index of ``options``; `text`: the suggestion), ``per_service`` (asked once per service, with
"{service}" in the text replaced by the service's name), ``sq`` and ``en`` (``en`` may be empty:
English readers then see the Albanian), and for `choice` the ``options`` as {"sq", "en"}.
"""

from __future__ import annotations

import copy
from typing import Any

SCREENING = "used"
"""The screening question's code: only people who used a service answer about it."""
SATISFACTION = "satisfaction"
PAYMENT = "payment"
SUGGESTION = "suggestion"
RATINGS = ("availability", "reliability", "quality", "responsiveness", SATISFACTION)
"""The 1-5 questions, in the order they are asked."""
RESOLUTION = "resolution"

PAYMENT_NONE, PAYMENT_ASKED_NOT_PAID, PAYMENT_ASKED_PAID, PAYMENT_PAID_UNASKED = 0, 1, 2, 3
"""Answer values of the unofficial-payment question."""
ASKED = (PAYMENT_ASKED_NOT_PAID, PAYMENT_ASKED_PAID)
"""Values counted as "an unofficial payment was asked for"."""
PAID = (PAYMENT_ASKED_PAID, PAYMENT_PAID_UNASKED)
"""Values counted as "an unofficial payment was paid"."""

MAX_TEXT = 300
"""Longest question or option text staff may set (it goes on a button or in one message)."""
SUGGESTION_MAX = 500
"""Longest open suggestion a respondent may give."""

DEFAULT_QUESTIONS: list[dict[str, Any]] = [
    {
        "code": SCREENING,
        "kind": "yes_no",
        "per_service": True,
        "sq": "A e keni përdorur shërbimin „{service}“ në 12 muajt e fundit?",
        "en": "Have you used the service “{service}” in the last 12 months?",
    },
    {
        "code": "availability",
        "kind": "scale5",
        "per_service": True,
        "sq": "{service}: sa i disponueshëm ishte shërbimi kur ju duhej?",
        "en": "{service}: how available was the service when you needed it?",
    },
    {
        "code": "reliability",
        "kind": "scale5",
        "per_service": True,
        "sq": "{service}: sa i besueshëm është shërbimi (a funksionon rregullisht)?",
        "en": "{service}: how reliable is the service (does it work regularly)?",
    },
    {
        "code": "quality",
        "kind": "scale5",
        "per_service": True,
        "sq": "{service}: si e vlerësoni cilësinë e shërbimit?",
        "en": "{service}: how do you rate the quality of the service?",
    },
    {
        "code": "responsiveness",
        "kind": "scale5",
        "per_service": True,
        "sq": "{service}: sa të gatshëm për t'ju ndihmuar ishin punonjësit?",
        "en": "{service}: how willing to help you were the staff?",
    },
    {
        "code": RESOLUTION,
        "kind": "choice",
        "per_service": True,
        "sq": "{service}: sa kohë u desh që të zgjidhej kërkesa ose problemi juaj?",
        "en": "{service}: how long did it take to resolve your request or problem?",
        "options": [
            {"sq": "Të njëjtën ditë", "en": "The same day"},
            {"sq": "Brenda një jave", "en": "Within a week"},
            {"sq": "Brenda një muaji", "en": "Within a month"},
            {"sq": "Më shumë se një muaj", "en": "More than a month"},
            {"sq": "Nuk është zgjidhur ende", "en": "Not resolved yet"},
        ],
    },
    {
        "code": PAYMENT,
        "kind": "choice",
        "per_service": True,
        "sq": (
            "{service}: a ju kërkoi dikush një pagesë jozyrtare (ryshfet, „bakshish“) "
            "për këtë shërbim?"
        ),
        "en": (
            "{service}: did anyone ask you for an unofficial payment (a bribe, a “tip”) "
            "for this service?"
        ),
        "options": [
            {"sq": "Jo", "en": "No"},
            {"sq": "Po, por nuk pagova", "en": "Yes, but I did not pay"},
            {"sq": "Po, dhe pagova", "en": "Yes, and I paid"},
            {"sq": "Pagova pa më kërkuar", "en": "I paid without being asked"},
        ],
    },
    {
        "code": SATISFACTION,
        "kind": "scale5",
        "per_service": True,
        "sq": "{service}: në përgjithësi, sa të kënaqur jeni me shërbimin? (1–5)",
        "en": "{service}: overall, how satisfied are you with the service? (1–5)",
    },
    {
        "code": SUGGESTION,
        "kind": "text",
        "per_service": False,
        "sq": (
            "Një sugjerim për bashkinë, si të përmirësohen këto shërbime? (jo i detyrueshëm; "
            "mos shkruani emra ose të dhëna personale)"
        ),
        "en": (
            "One suggestion for the municipality on how to improve these services? (optional; "
            "do not write names or personal details)"
        ),
    },
]
"""The question set a new round starts with."""

KINDS = {q["code"]: q["kind"] for q in DEFAULT_QUESTIONS}
"""Each question code's kind: fixed, whatever the wording of a round."""
CODES = tuple(KINDS)


def default_questions() -> list[dict[str, Any]]:
    """A fresh copy of the default set, for a new round."""
    return copy.deepcopy(DEFAULT_QUESTIONS)


def text_of(question: dict[str, Any], locale: str, service: str = "") -> str:
    """A question's wording in a locale (Albanian when English is empty), service filled in."""
    wording = (question.get("en") if locale == "en" else None) or question["sq"]
    return wording.replace("{service}", service)


def option_text(option: dict[str, str], locale: str) -> str:
    """A choice's wording in a locale (Albanian when English is empty)."""
    return (option.get("en") if locale == "en" else None) or option["sq"]


def values_of(question: dict[str, Any]) -> range:
    """The integer answers a question accepts."""
    kind = question["kind"]
    if kind == "yes_no":
        return range(2)
    if kind == "scale5":
        return range(1, 6)
    if kind == "choice":
        return range(len(question["options"]))
    return range(0)


def valid(questions: list[dict[str, Any]]) -> bool:
    """Whether a stored set has every default code once, in kind, with wording within limits."""
    if [q.get("code") for q in questions] != list(CODES):
        return False
    for question in questions:
        if question.get("kind") != KINDS[question["code"]]:
            return False
        texts = [question.get("sq") or "", question.get("en") or ""]
        if not texts[0].strip() or any(len(text) > MAX_TEXT for text in texts):
            return False
        if question["kind"] == "choice":
            default = next(q for q in DEFAULT_QUESTIONS if q["code"] == question["code"])
            options = question.get("options") or []
            if len(options) != len(default["options"]):
                return False
            if any(not (o.get("sq") or "").strip() for o in options):
                return False
    return True

"""What a citizen reads while answering a report card: pure functions of data and a Translator."""

from __future__ import annotations

from datetime import date
from typing import Any

from markupsafe import Markup

from bot.core.i18n import N_, Translator, plain
from bot.reportcards.services import questions as qs
from bot.reportcards.services.responses import RoundState
from db.models import ReportCardRound

SCALE_LABELS = {
    1: N_("1 – very poor"),
    2: N_("2 – poor"),
    3: N_("3 – fair"),
    4: N_("4 – good"),
    5: N_("5 – very good"),
}
"""The 1-5 answers as buttons, with a word each."""
SHORT_NAMES = {
    "availability": N_("Availability"),
    "reliability": N_("Reliability"),
    "quality": N_("Quality"),
    "responsiveness": N_("Staff helpfulness"),
    qs.RESOLUTION: N_("Time to resolve"),
    qs.PAYMENT: N_("Unofficial payment"),
    qs.SATISFACTION: N_("Overall satisfaction"),
}
"""A question's short name in the summary before sending."""


def title(round_: ReportCardRound, locale: str) -> str:
    """The round's title in a locale (Albanian when there is no English one)."""
    return (round_.title_en if locale == "en" else None) or round_.title_sq


def unavailable(t: Translator, state: RoundState, round_: ReportCardRound | None) -> Markup:
    """Why a report card cannot be answered now."""
    if state is RoundState.NOT_YET_OPEN and round_ is not None:
        return t.gettext(
            "This report card opens on {date}. Please come back then.", date=t.date(round_.opens_on)
        )
    if state is RoundState.CLOSED:
        return t.gettext(
            "This report card is closed and no longer takes answers. Thank you! The results "
            "will be published once they are ready."
        )
    return t.gettext("This report card is not available.")


def under_16(t: Translator) -> Markup:
    """Why under-16s do not take part."""
    return t.gettext(
        "Thank you for wanting to take part! Report cards are answered by people aged 16 and "
        "over, so this one is not for you. You can still read the guides, and report problems "
        "or corruption anonymously from the menu."
    )


def consent_needed(t: Translator) -> Markup:
    """Before the survey: the privacy notice must be accepted."""
    return t.gettext(
        "To answer the report card, please agree to the privacy notice first. Your answers are "
        "stored without your name: only with the municipality, your age band and role."
    )


def intro(t: Translator, round_: ReportCardRound, services: int) -> Markup:
    """Before the first question: what this is, how long, and what is kept."""
    return Markup("\n\n").join(
        [
            Markup("📋 <b>{}</b>").format(title(round_, t.locale)),
            t.ngettext(
                "Citizen monitoring of {count} municipal service: tell us about the service "
                "you used in the last 12 months. One tap per question; you can stop and come "
                "back later.",
                "Citizen monitoring of {count} municipal services: tell us about the services "
                "you used in the last 12 months. One tap per question; you can stop and come "
                "back later.",
                services,
            ),
            privacy_note(t, round_),
        ]
    )


def privacy_note(t: Translator, round_: ReportCardRound) -> Markup:
    """What is stored with the answers, and until when they can be changed."""
    return t.gettext(
        "🔒 Your answers are stored without your name, only with the municipality, your age "
        "band and role. You can change them until {date}; after that they cannot be tied to "
        "you any more.",
        date=t.date(round_.closes_on),
    )


def already_answered(t: Translator, on: date) -> Markup:
    """Someone who already sent answers to this round opens it again."""
    return t.gettext(
        "You answered this report card on {date}. Here are your answers: change any of them "
        "and send again (they replace the earlier ones), or cancel to keep them as they are.",
        date=t.date(on),
    )


def age_question(t: Translator) -> Markup:
    """The age band, when the person has not given one."""
    return t.gettext(
        "Report cards are answered by people aged 16 and over, and the results are counted by "
        "age group. How old are you? (It is kept in your profile; you can change it in "
        "/privacy.)"
    )


def municipality_question(t: Translator) -> Markup:
    """Which municipality the answers are about."""
    return t.gettext("Which municipality are your answers about?")


def progress(
    t: Translator, round_: ReportCardRound, number: int, count: int, service: str
) -> Markup:
    """The header over each question: the round and which service of how many."""
    return Markup("\n").join(
        [
            Markup("📋 {}").format(title(round_, t.locale)),
            t.gettext(
                "<b>Service {number} of {count}</b>: {service}",
                number=number,
                count=count,
                service=service,
            ),
        ]
    )


def question_text(
    t: Translator,
    header: Markup,
    question: dict[str, Any],
    service: str,
    number: int,
    count: int,
) -> Markup:
    """One question under the header; the screening question without a number."""
    wording = qs.text_of(question, t.locale, service)
    if question["code"] == qs.SCREENING:
        return Markup("{}\n\n{}").format(header, wording)
    counter = t.gettext("Question {number} of {count}", number=number, count=count)
    return Markup("{}\n{}\n\n{}").format(header, counter, wording)


def no_answer_label(t: Translator, question: dict[str, Any]) -> str:
    """The button that stores nothing: "Prefer not to say" about payments, else "Don't know"."""
    if question["code"] == qs.PAYMENT:
        return plain(t.gettext("Prefer not to say"))
    return plain(t.gettext("Don't know"))


def value_text(t: Translator, question: dict[str, Any], value: int | None) -> str:
    """An answer as the person chose it (plain text)."""
    if value is None:
        return no_answer_label(t, question)
    if question["kind"] == "scale5":
        return plain(t.gettext(SCALE_LABELS[value]))
    if question["kind"] == "yes_no":
        return plain(t.gettext("Yes") if value else t.gettext("No"))
    return qs.option_text(question["options"][value], t.locale)


def summary(
    t: Translator,
    round_: ReportCardRound,
    municipality: str,
    services: list[tuple[str, dict[str, int]]],
    asked: list[dict[str, Any]],
    suggestion: str | None,
) -> Markup:
    """Everything before sending: the municipality, each service's answers, the suggestion."""
    lines: list[Markup] = [
        t.gettext("<b>Your answers</b>: {title}", title=title(round_, t.locale)),
        t.gettext("Municipality: {name}", name=municipality),
    ]
    for number, (name, given) in enumerate(services, start=1):
        lines.append(Markup(""))
        if given.get(qs.SCREENING) != 1:
            lines.append(
                t.gettext(
                    "<b>{number}. {service}</b>: not used in the last 12 months",
                    number=number,
                    service=name,
                )
            )
            continue
        lines.append(Markup("<b>{}. {}</b>").format(number, name))
        for question in asked:
            code = question["code"]
            if code == qs.SCREENING:
                continue
            label = t.gettext(SHORT_NAMES.get(code, code))
            lines.append(Markup("• {}: {}").format(label, value_text(t, question, given.get(code))))
    lines.append(Markup(""))
    if suggestion:
        lines.append(t.gettext("Suggestion: {text}", text=suggestion))
    else:
        lines.append(t.gettext("Suggestion: none"))
    lines += [Markup(""), privacy_note(t, round_)]
    return Markup("\n").join(lines)


def thanks(t: Translator, replaced: bool) -> Markup:
    """After the answers are stored."""
    if replaced:
        return t.gettext(
            "✅ Your answers are updated (they replace the ones you sent before). Thank you!"
        )
    return t.gettext(
        "✅ Thank you! Your answers are stored. The results, counted together with everyone "
        "else's, will be published after the report card closes."
    )


def suggestion_too_long(t: Translator, length: int) -> Markup:
    """A suggestion over the limit."""
    return t.gettext(
        "That is {length} characters; please shorten it to {limit} at most.",
        length=length,
        limit=qs.SUGGESTION_MAX,
    )

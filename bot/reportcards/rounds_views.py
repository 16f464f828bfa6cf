"""What staff see of report-card rounds, and the invitation citizens get: pure text builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from markupsafe import Markup

from bot.cases.services import case_rules
from bot.core.i18n import N_, Translator, escaped_within, join_lines, shorten
from bot.reportcards.services import questions as question_set
from bot.reportcards.services import rounds
from bot.reportcards.services.rounds import Status
from db.models import ReportCardRound

STATUS_LABELS = {
    Status.DRAFT: N_("📝 Draft"),
    Status.SCHEDULED: N_("🕒 Launched, opens {date}"),
    Status.OPEN: N_("🟢 Open until {date}"),
    Status.ENDED: N_("⏳ Ended {date}, closing"),
    Status.CLOSED: N_("🔒 Closed {date}"),
}
KIND_LABELS = {
    "yes_no": N_("yes / no"),
    "scale5": N_("1–5"),
    "choice": N_("choice"),
    "text": N_("free text"),
}


def title(t: Translator, round_: ReportCardRound) -> str:
    """The round's title in the reader's language (Albanian when no English was given)."""
    return (round_.title_en if t.locale == "en" else None) or round_.title_sq


def service_name(t: Translator, key: str) -> str:
    """A service (a case category) in the reader's language."""
    category = case_rules.category(key)
    if category is None:
        return key
    return category.en if t.locale == "en" else category.sq


def status_label(t: Translator, round_: ReportCardRound, today: date) -> Markup:
    """Draft, launched, open, ended or closed, with the date that matters."""
    state = rounds.status(round_, today)
    moment: Any = {
        Status.DRAFT: None,
        Status.SCHEDULED: round_.opens_on,
        Status.OPEN: round_.closes_on,
        Status.ENDED: round_.closes_on,
        Status.CLOSED: round_.closed_at,
    }[state]
    return t.gettext(STATUS_LABELS[state], date=t.date(moment) if moment else "")


def listing_text(
    t: Translator, found: Sequence[tuple[ReportCardRound, int]], today: date
) -> Markup:
    """The newest rounds: number, title, status, dates and responses."""
    if not found:
        return Markup("\n\n").join(
            [
                t.gettext("<b>Citizen report cards</b>"),
                t.gettext("No rounds yet. Start one with “New round”."),
            ]
        )
    lines: list[str] = [t.gettext("<b>Citizen report cards</b>")]
    for round_, count in found:
        lines += [
            "",
            Markup("<b>#{}</b> {}").format(round_.id, shorten(title(t, round_), 60)),
            Markup("{} · {}").format(
                status_label(t, round_, today),
                t.ngettext("{count} response", "{count} responses", count),
            ),
            t.gettext(
                "{opens} – {closes}", opens=t.date(round_.opens_on), closes=t.date(round_.closes_on)
            ),
        ]
    return join_lines(lines)


def card_text(
    t: Translator,
    round_: ReportCardRound,
    today: date,
    responses: int,
    municipality_names: Sequence[str],
    every_municipality: bool,
    survey_link: str | None = None,
) -> Markup:
    """One round for staff: everything it was defined with and where it stands, and once
    launched, the link that opens its survey from any message."""
    places = (
        t.gettext("all {count} programme municipalities", count=len(municipality_names))
        if every_municipality
        else ", ".join(municipality_names)
    )
    lines = [
        Markup("📋 <b>#{}</b> {}").format(round_.id, round_.title_sq),
    ]
    if round_.title_en:
        lines.append(Markup("🇬🇧 {}").format(round_.title_en))
    lines += [
        status_label(t, round_, today),
        "",
        t.gettext(
            "<b>Open:</b> {opens} – {closes} (both days included)",
            opens=t.date(round_.opens_on),
            closes=t.date(round_.closes_on),
        ),
        t.gettext(
            "<b>Services:</b> {services}",
            services=", ".join(service_name(t, key) for key in round_.services),
        ),
        t.gettext("<b>Municipalities:</b> {places}", places=places),
        t.gettext(
            "<b>Questions:</b> {state}",
            state=t.gettext("edited") if rounds.edited(round_) else t.gettext("the default set"),
        ),
        t.ngettext("{count} response", "{count} responses", responses),
    ]
    if survey_link:
        lines.append(t.gettext("Link to the survey, for any message: {link}", link=survey_link))
    return join_lines(lines)


def invitation(t: Translator, round_: ReportCardRound) -> Markup:
    """The invitation broadcast in one language: what, that it is voluntary and anonymous, and
    until when."""
    services = ", ".join(service_name(t, key) for key in round_.services)
    return Markup("\n\n").join(
        [
            Markup("📋 <b>{}</b>").format(title(t, round_)),
            t.gettext(
                "How well do your municipality's services work? Rate them in a few taps: "
                "{services}.",
                services=services,
            ),
            t.gettext(
                "Taking part is voluntary and anonymous: your answers are never linked to your "
                "name or account. Open until {date}.",
                date=t.date(round_.closes_on),
            ),
        ]
    )


def broadcast_title(round_: ReportCardRound) -> Markup:
    """The invitation's name in the staff broadcast list (stored escaped, as every title)."""
    return escaped_within(f"Report card: {round_.title_sq}", 100)


def launch_text(t: Translator, round_: ReportCardRound, reach: int, today: date) -> Markup:
    """The launch confirmation: who is invited, when, and that the questions freeze."""
    when = (
        t.gettext("now")
        if round_.opens_on <= today
        else t.gettext("on {date}", date=t.date(round_.opens_on))
    )
    return Markup("\n\n").join(
        [
            t.gettext("🚀 <b>Launch “{title}”?</b>", title=round_.title_sq),
            t.ngettext(
                "The invitation goes {when} to {count} subscriber of “Polls and surveys” in its "
                "municipalities (quiet hours and the weekly limit apply).",
                "The invitation goes {when} to {count} subscribers of “Polls and surveys” in its "
                "municipalities (quiet hours and the weekly limit apply).",
                reach,
                when=when,
            ),
            t.gettext("After the launch the questions can no longer be changed."),
        ]
    )


def close_text(t: Translator, round_: ReportCardRound) -> Markup:
    """The early-close confirmation."""
    return Markup("\n\n").join(
        [
            t.gettext("🔒 <b>Close “{title}” now?</b>", title=round_.title_sq),
            t.gettext(
                "No more answers are accepted, and the codes that let people change their "
                "answers are deleted for good. This cannot be undone."
            ),
        ]
    )


def delete_text(t: Translator, round_: ReportCardRound) -> Markup:
    """The confirmation before a draft is deleted."""
    return t.gettext("🗑 <b>Delete the draft “{title}”?</b>", title=round_.title_sq)


def refusal(t: Translator, reason: str) -> Markup:
    """Why a round action was refused (rounds.RoundError.reason)."""
    if reason == "launched":
        return t.gettext("This round has been launched: its questions can no longer be changed.")
    if reason == "ended":
        return t.gettext("Its closing day has passed. Please define a new round.")
    if reason == "questions":
        return t.gettext("Its question set is incomplete. Please reset it to the default.")
    return t.gettext("This round no longer exists.")


# --- the question set ------------------------------------------------------------------------


def question_label(t: Translator, number: int, question: dict[str, Any]) -> str:
    """A question's button: its number and the start of its Albanian wording."""
    return shorten(f"{number}. {question['sq']}", 48)


def questions_text(t: Translator, round_: ReportCardRound) -> Markup:
    """The round's question set in Albanian, numbered, with kinds."""
    lines: list[str] = [
        t.gettext("<b>Questions of “{title}”</b>", title=round_.title_sq),
        t.gettext(
            "Choose one to change its wording. The kinds and answers stay the same, so results "
            "can be compared between rounds."
        ),
        "",
    ]
    for number, question in enumerate(round_.questions, start=1):
        kind = t.gettext(KIND_LABELS.get(question["kind"], question["kind"]))
        lines.append(Markup("{}. {} <i>({})</i>").format(number, question["sq"], kind))
    return join_lines(lines)


def question_text(t: Translator, question: dict[str, Any], number: int) -> Markup:
    """One question in both languages, with its options."""
    missing = t.gettext("(no English: the Albanian is shown)")
    lines: list[str] = [
        t.gettext("<b>Question {number}</b>", number=number),
        Markup("🇦🇱 {}").format(question["sq"]),
        Markup("🇬🇧 {}").format(question.get("en") or missing),
    ]
    for index, option in enumerate(question.get("options") or [], start=1):
        lines.append(Markup("{}. {} / {}").format(index, option["sq"], option.get("en") or missing))
    if question.get("per_service"):
        lines += [
            "",
            t.gettext(
                "Asked once per service: {placeholder} is replaced by the service's name.",
                placeholder=rounds.SERVICE,
            ),
        ]
    return join_lines(lines)


def wording_prompt(
    t: Translator, question: dict[str, Any], field: rounds.Field, now: str
) -> Markup:
    """Ask for new wording, showing the current one."""
    if field.option is None:
        ask = (
            t.gettext("Send the new Albanian wording of the question.")
            if field.language == "sq"
            else t.gettext("Send the new English wording of the question.")
        )
    elif field.language == "sq":
        ask = t.gettext(
            "Send the new Albanian wording of answer {number}.", number=field.option + 1
        )
    else:
        ask = t.gettext("Send the new English wording of answer {number}.", number=field.option + 1)
    lines = [
        ask,
        t.gettext("Now: {text}", text=now or "—"),
        t.gettext("At most {limit} characters.", limit=question_set.MAX_TEXT),
    ]
    if field.option is None and question.get("per_service"):
        lines.append(
            t.gettext(
                "Keep {placeholder} in it: it is replaced by the service's name.",
                placeholder=rounds.SERVICE,
            )
        )
    return Markup("\n").join(lines)


def wording_problem(t: Translator, trouble: rounds.WordingProblem) -> Markup:
    """Why new wording was refused."""
    if trouble == rounds.WordingProblem.TOO_LONG:
        return t.gettext(
            "That is longer than {limit} characters. Please shorten it.",
            limit=question_set.MAX_TEXT,
        )
    if trouble == rounds.WordingProblem.PLACEHOLDER:
        return t.gettext(
            "The wording must keep {placeholder}: it is replaced by each service's name. "
            "Please send it again with {placeholder}.",
            placeholder=rounds.SERVICE,
        )
    return t.gettext("The Albanian wording cannot be empty.")

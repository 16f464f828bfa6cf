"""Longer texts of the reporting flows: safety notes, identification choices, confirmation."""

from __future__ import annotations

from bot.core.i18n import Translator
from db.models import Case, Identification


def safety_text(t: Translator) -> str:
    """Before a corruption report: what the bot can and cannot do, and the official channels."""
    return t.gettext(
        "<b>Report corruption</b>\n"
        "Bribes, abuse of office, nepotism, fraud in public procurement. The PACT team reads "
        "your report, follows it up with the institutions and never publishes it. The bot "
        "cannot investigate or punish: for a crime, go to the police or the prosecution.\n\n"
        "You can report anonymously: the report is not linked to your Telegram account and the "
        "team does not see who sent it, but an anonymous report is harder to follow up. What "
        "you write, send or say can still point to you: leave out details only you would know, "
        "and prefer text to voice notes. I remove hidden data from images and PDFs (place, "
        "camera, author), not what they show.\n\n"
        "Official channels:\n"
        "• Stop Korrupsionit (stopkorrupsionit.al): the government portal, anonymous reports "
        "allowed;\n"
        "• the Ombudsman (avokatipopullit.gov.al): unlawful or improper acts of the "
        "administration, free;\n"
        "• the Commissioner (info@idp.al): refused information and personal data;\n"
        "• if you are a public employee: your institution's whistleblowing unit (Law 60/2016)."
    )


def identity_text(t: Translator) -> str:
    """The three identification modes, plainly."""
    return t.gettext(
        "<b>How do you want to be identified?</b>\n"
        "👤 <b>Named</b>: the team sees your Telegram name and may contact you.\n"
        "🔒 <b>Confidential</b>: the team handles the case but never sees who you are; messages "
        "reach you through the bot.\n"
        "🕶 <b>Anonymous</b>: your account is not linked to the report at all. You get a case "
        "number and a secret code to check it later; without the code nobody can find it "
        "again."
    )


def sent_text(t: Translator, case: Case, secret_code: str | None, review_days: int) -> str:
    """Confirmation: the reference, what happens next, and the secret code for anonymous cases."""
    lines = [
        t.gettext("✅ Sent. Your case number is <b>{reference}</b>.", reference=case.reference),
        t.gettext(
            "What happens next: the team reviews new cases within {days} working days, "
            "contacts the responsible institution when needed, and updates the status.",
            days=review_days,
        ),
    ]
    if secret_code:
        lines.append(
            t.gettext(
                "Your secret code: <code>{code}</code>\n⚠️ Write it down now. With the case "
                "number and this code you can check the case under “My cases” → “Check a case”. "
                "Without the code nobody can find it again, not even the team.",
                code=secret_code,
            )
        )
    else:
        lines.append(t.gettext("You will get a message here when the status changes."))
    if case.identification == Identification.NAMED and not case.forward_consent:
        lines.append(
            t.gettext("Your name stays with the team and is not passed to the institution.")
        )
    return "\n\n".join(lines)

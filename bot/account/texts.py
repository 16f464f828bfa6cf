"""Longer texts reused by several handlers (privacy notice, help), built per translator."""

from __future__ import annotations

from bot.account.services.consent import NOTICE_VERSION
from bot.core.i18n import Translator
from bot.core.settings import Settings

IDP_EMAIL = "info@idp.al"
DEFAULT_CONTROLLER = Settings.model_fields["controller_name"].default


def controller(t: Translator, settings: Settings) -> str:
    """The controller's name in the reader's language (programme.md); a configured one as given."""
    if settings.controller_name == DEFAULT_CONTROLLER:
        return t.gettext(
            "ANTTARC – Albanian National Training and Technical Assistance Resource Center"
        )
    return settings.controller_name


def short_notice(t: Translator, settings: Settings) -> str:
    """The privacy notice shown before anything is stored (privacy.md item 1)."""
    return t.gettext(
        "<b>Your privacy</b>\n"
        "{controller} runs this bot. If you agree, we store your language, age band and "
        "role, and later the requests and reports you choose to send, to handle them and to "
        "run the PACT programme.\n"
        "We keep requests and reports for {months} months after they are closed and then "
        "anonymise them. You can see, download or delete your data and withdraw your consent "
        "at any time with /privacy. You can complain to the Commissioner for the Right to "
        "Information and Personal Data Protection: {idp}.\n\n"
        "Do you agree that we store your data for this?",
        controller=controller(t, settings),
        months=settings.case_retention_months,
        idp=IDP_EMAIL,
    )


def full_notice(t: Translator, settings: Settings) -> str:
    """The complete notice: controller, purposes, basis, retention, rights, minors, complaints."""
    contact = (
        t.gettext("Contact: {contact}", contact=settings.controller_contact)
        if settings.controller_contact
        else ""
    )
    return t.gettext(
        "<b>Privacy notice</b> (version {version})\n\n"
        "<b>Who is responsible:</b> {controller}, which implements the EU-funded PACT programme "
        "(Partnership Against Corruption Together). {contact}\n\n"
        "<b>What we ask you to agree to, each separately:</b>\n"
        "1. storing and handling your requests and reports;\n"
        "2. passing a report to the authority responsible for it;\n"
        "3. receiving campaign messages.\n"
        "You can withdraw each consent at any time with /privacy.\n\n"
        "<b>What we store:</b> your Telegram account number, language, age band and role, and "
        "what you choose to send. We ask only what a step needs. Your name is needed only for "
        "a request for information, because the law asks for it.\n\n"
        "<b>How long:</b> your settings until you delete them with /privacy; requests and "
        "reports {months} months after they are closed, then they are anonymised. When you "
        "delete your data, the reports you filed stay for statistics without your name, your "
        "words or any link to you.\n\n"
        "<b>Anonymous reports:</b> staff never see who sent an anonymous report.\n\n"
        "<b>Citizen report cards:</b> your answers are stored without your name, only with "
        "the municipality, age band and role you gave. While a round is open they are linked "
        "to you by a code, so you can change, download or delete them; when it closes the code "
        "is deleted and they can no longer be tied to you. Results are published only for "
        "groups of at least {threshold} people.\n\n"
        "<b>Under 16:</b> a parent's or guardian's consent is needed, so we offer only "
        "anonymous use.\n\n"
        "<b>Your rights</b> (Law 124/2024 on personal data protection): to see, download, "
        "correct and delete your data and to withdraw consent; /privacy does most of this at "
        "once. You can complain to the Commissioner for the Right to Information and "
        "Personal Data Protection (IDP): {idp}.",
        version=NOTICE_VERSION,
        controller=controller(t, settings),
        contact=contact,
        threshold=settings.suppression_threshold,
        months=settings.case_retention_months,
        idp=IDP_EMAIL,
    )


def help_text(t: Translator) -> str:
    """What the bot is for and its commands."""
    return t.gettext(
        "<b>PACT Civic Bot</b>\n"
        "Part of PACT – Partnership Against Corruption Together, an EU-funded programme in 15 "
        "municipalities of Northern Albania. Here you can:\n"
        "• ask public authorities for information (Law 119/2014) and complain when they do "
        "not answer;\n"
        "• report problems with municipal services, and corruption;\n"
        "• follow campaign news about your municipality.\n\n"
        "/menu – main menu\n"
        "/language – change language\n"
        "/privacy – your data and consents\n"
        "/cancel – stop what you are doing\n"
        "/stop – stop all campaign messages\n"
        "/help – this help"
    )

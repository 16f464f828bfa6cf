"""The right-to-information guide: short pages, one topic each, every page citing its article.

Every statement here must agree with shared/domain/rti.md (Law 119/2014 as amended in 2023).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import CallbackQueryHandler

from bot.core import routing
from bot.core.application import PactContext
from bot.core.i18n import N_, Translator
from bot.core.settings import Settings
from bot.kit import menu
from bot.kit.codec import ButtonCodec
from bot.kit.ui import Button, answer, edit_or_send, keyboard
from bot.rti.services import deadlines

PREFIX = "rtg:"
PAGE = ButtonCodec(PREFIX, int)
INDEX = "rtg:index"

TITLES = (
    N_("Your right"),
    N_("Who must answer"),
    N_("How to ask"),
    N_("Deadlines"),
    N_("Cost"),
    N_("Refusal and partial access"),
    N_("Complaint to the Commissioner"),
    N_("Check first: it may be published"),
)


def page(t: Translator, settings: Settings, number: int) -> str:
    """The text of one page."""
    pages = (
        lambda: t.gettext(
            "<b>Your right to information</b> (Constitution art. 23; Law 119/2014)\n"
            "Any person, Albanian or foreign, a person or an organisation, even stateless, may "
            "ask for public information without giving a reason (art. 3). Information given to "
            "one person cannot be refused to another.\n"
            "Public information is any recorded data a public authority holds in carrying out "
            "a public function, in any form (art. 2)."
        ),
        lambda: t.gettext(
            "<b>Who must answer</b> (art. 2)\n"
            "Every public authority: administrative bodies; legislative, judicial and "
            "prosecution bodies; all organs of local government, that is the 61 municipalities, "
            "their councils and administrative units; state bodies and public entities; "
            "companies where the state holds the majority, such as the water utilities "
            "(Ujësjellës-Kanalizime sh.a.); and anyone given a public function."
        ),
        lambda: t.gettext(
            "<b>How to ask</b> (art. 11)\n"
            "In writing: by hand, by post, by e-mail, or online through Pyet Shtetin. The law "
            "does not provide for oral requests.\n"
            "The request must contain: your name and surname; a postal or e-mail address for "
            "the answer; a description of the information; the form you prefer; anything that "
            "helps to find it. Your identity and signature are needed, a reason is not.\n"
            "The authority registers the request in its Register of Requests and Responses "
            "(art. 8) and gives you its number and the contact of its coordinator for the right "
            "to information (art. 10)."
        ),
        lambda: t.gettext(
            "<b>Deadlines</b> (art. 15)\n"
            "• Answer: as soon as possible, at most {answer} working days from the request.\n"
            "• Unclear request: the authority contacts you within 48 hours.\n"
            "• Held by another authority: the request is forwarded within 10 calendar days and "
            "you are told; the answer is then due {transfer} working days from the day it "
            "reached the first authority.\n"
            "• Extension: at most {extension} working days, only for many or large documents, "
            "searching offices away from the headquarters, or consulting other authorities, and "
            "you must be told at once.\n"
            "• Information already given and recorded in the register: {registered} working "
            "days.\n"
            "• No answer within the deadline counts as a refusal.",
            answer=deadlines.ANSWER_DAYS,
            transfer=deadlines.TRANSFER_DAYS,
            extension=deadlines.EXTENSION_DAYS,
            registered=deadlines.REGISTERED_ANSWER_DAYS,
        ),
        lambda: t.gettext(
            "<b>Cost</b> (art. 13)\n"
            "Free in principle. Only copying and postage may be charged, by a published tariff. "
            "Information sent electronically is free. People who receive social assistance or "
            "legal aid get copies free up to a number of pages."
        ),
        lambda: t.gettext(
            "<b>Refusal and partial access</b> (art. 17)\n"
            "A refusal is always in writing and gives reasons. It may rest only on the grounds "
            "of art. 17: privacy, trade secrets, copyright and patents; national security, "
            "preventing or investigating crime, disciplinary or audit procedures, monetary and "
            "fiscal policy, a fair trial, internal deliberation, international relations. Only "
            "where necessary and proportionate, and not when a higher public interest favours "
            "disclosure.\n"
            "A restriction covers only the part whose release would cause harm: you must get the "
            "rest."
        ),
        lambda: t.gettext(
            "<b>Complaint to the Commissioner</b> (art. 24)\n"
            "If you are refused or get no answer, complain to the Commissioner for the Right to "
            "Information and Personal Data Protection: info@idp.al, or through Pyet Shtetin. "
            "There is no internal review first.\n"
            "• When: within {days} working days from the day you received the refusal or the "
            "deadline passed.\n"
            "• How: in writing, with your request and proof of sending (postal receipt, sent "
            "e-mail, protocol number).\n"
            "• The Commissioner may ask both sides for written submissions and hold a public "
            "hearing, and decides within {decision} working days.\n"
            "After that, the administrative court (art. 25): free legal aid or a lawyer can help.",
            days=deadlines.COMPLAINT_DAYS,
            decision=settings.commissioner_decision_days,
        ),
        lambda: t.gettext(
            "<b>Check first: it may already be published</b> (arts. 4, 5, 7 and 8)\n"
            "Every authority has a Transparency Programme and must publish much of its "
            "information there, and keeps a Register of Requests and Responses. Look there "
            "first. Every authority also has a coordinator for the right to information who "
            "handles requests (art. 10)."
        ),
    )
    return pages[number]()


def _nav(t: Translator, number: int) -> list[list[Button]]:
    """Previous/next, contents, ask, menu."""
    step: list[Button] = []
    if number > 0:
        step.append((t.gettext("⬅️ Previous"), PAGE.data(number - 1)))
    if number < len(TITLES) - 1:
        step.append((t.gettext("Next ➡️"), PAGE.data(number + 1)))
    return [
        step,
        [(t.gettext("📑 Contents"), INDEX), (t.gettext("✍️ Ask for information"), "rti:new")],
        [menu.menu_button(t)],
    ]


async def show(update: Update, context: PactContext) -> None:
    """The contents, or one page (edited in place so the chat stays short)."""
    query = await answer(update)
    t = context.t
    number = PAGE.parse(query.data)
    if number is not None and number < len(TITLES):
        await edit_or_send(
            update, context, page(t, context.services.settings, number), keyboard(*_nav(t, number))
        )
        return
    rows = [[(t.gettext(title), PAGE.data(i))] for i, title in enumerate(TITLES)]
    await edit_or_send(
        update,
        context,
        t.gettext("<b>What is my right?</b> Choose a topic:"),
        keyboard(*rows, [(t.gettext("⬅️ Back"), "menu:rti"), menu.menu_button(t)]),
    )


def routes() -> list[routing.Route]:
    """The guide's pages."""
    return routing.citizen(CallbackQueryHandler(show, pattern=f"^{PREFIX}"))

"""The wiring module: build_application(settings) creates the Application and registers handlers.

Nothing happens at import time; the order of registration below is the order of precedence.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot import access, broadcast_message, drafts, flood
from bot.application import PactApplication, PactContext
from bot.clock import Clock, SystemClock
from bot.handlers import (
    admin_directory,
    broadcast_composer,
    broadcast_list,
    broadcast_progress,
    campaigns,
    cancel,
    case_views,
    errors,
    events,
    fallback,
    help,
    language,
    membership,
    menu,
    my_cases,
    onboarding,
    polls,
    report,
    rti_builder,
    rti_guide,
    rti_requests,
    rti_sent,
    scorecard,
    staff_admin,
    staff_cases,
    staff_reports,
)
from bot.handlers import privacy as privacy_handlers
from bot.handlers import rti_views as rti
from bot.i18n import I18n
from bot.limiter import Budget, StrictRateLimiter
from bot.persistence import DbPersistence
from bot.processor import ChatOrderedProcessor
from bot.replies import ReplyBot
from bot.runtime import Services
from bot.settings import Settings
from db.engine import create_engine, create_sessionmaker


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Database engine, session factory, catalogs and clock (no connection is opened yet)."""
    engine = create_engine(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout,
        pool_timeout=settings.db_pool_timeout,
        command_timeout=settings.db_command_timeout,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=create_sessionmaker(engine),
        i18n=I18n(settings.default_locale, settings.timezone),
        clock=clock or SystemClock(),
        rate_budget=Budget(max(1, int(settings.broadcast_rate)) if settings.broadcast_rate else 30),
    )


def build_application(settings: Settings, *, clock: Clock | None = None) -> PactApplication:
    """The configured Application with every handler registered; not started."""
    services = build_services(settings, clock)
    app = (
        ApplicationBuilder()
        .application_class(PactApplication)
        .bot(build_bot(settings, services.rate_budget))
        .context_types(ContextTypes(context=PactContext))
        .concurrent_updates(ChatOrderedProcessor(settings.max_concurrent_updates))
        .persistence(DbPersistence(services.sessions, services.clock.now))
        .build()
    )
    app.services = services
    register_handlers(app)
    access.guard_staff_flows(app)  # every step of a staff flow re-checks the grant
    return app


def build_bot(settings: Settings, budget: Budget) -> ReplyBot:
    """The replying bot: posting calls wait for the commit, then go first in the shared budget."""
    limiter = (
        StrictRateLimiter(budget=budget, priority=True, private_per_second=None, max_retries=3)
        if settings.telegram_rate_limit
        else None
    )
    return ReplyBot(
        token=settings.require_token(),
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
        request=HTTPXRequest(connection_pool_size=256),
        get_updates_request=HTTPXRequest(connection_pool_size=1),
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
        rate_limiter=limiter,
    )


def register_handlers(app: PactApplication) -> None:
    """All handlers, in order of precedence (first match wins within group 0)."""
    private = filters.ChatType.PRIVATE

    # 0. Flood control (group -3), then draft expiry (group -2), then the staff gate (group -1);
    # drafts are stamped with their last step after every other handler (group 100).
    app.add_handler(flood.handler(), group=-3)
    app.add_handler(TypeHandler(Update, drafts.expire_stale), group=-2)
    app.add_handler(TypeHandler(Update, drafts.stamp), group=100)
    # The staff gate (group -1): staff-only commands and buttons stop here for anyone else.
    app.add_handler(TypeHandler(Update, access.gate), group=-1)

    # 1. Telegram's notices that the person blocked or unblocked the bot.
    app.add_handler(ChatMemberHandler(membership.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))

    # 2. Conversations (persistent): inside one, their own steps and /cancel, /menu come first.
    app.add_handler(rti_builder.conversation())
    app.add_handler(report.conversation())
    for conversation in my_cases.conversations():
        app.add_handler(conversation)
    app.add_handler(staff_cases.conversation())
    app.add_handler(broadcast_composer.conversation())
    app.add_handler(rti_sent.conversation())
    app.add_handler(polls.conversation())
    app.add_handler(events.conversation())
    for conversation in admin_directory.conversations():
        app.add_handler(conversation)

    # 3. Commands citizens can type (private chats only), and the staff command outside flows.
    app.add_handler(CommandHandler("start", onboarding.start, filters=private))
    app.add_handler(CommandHandler("menu", menu.menu_command, filters=private))
    app.add_handler(CommandHandler("help", help.help_command, filters=private))
    app.add_handler(CommandHandler("language", language.language_command, filters=private))
    app.add_handler(CommandHandler("privacy", privacy_handlers.privacy_command, filters=private))
    app.add_handler(CommandHandler("mydata", privacy_handlers.my_data_command, filters=private))
    app.add_handler(CommandHandler("cancel", cancel.cancel, filters=private))
    app.add_handler(CommandHandler("stop", campaigns.stop_command, filters=private))
    app.add_handler(CommandHandler("closed_day", admin_directory.closed_day, filters=private))
    app.add_handler(CommandHandler("inbox", staff_cases.inbox, filters=private))
    app.add_handler(CommandHandler("staff", staff_admin.staff_command, filters=private))
    app.add_handler(CommandHandler("export", staff_reports.export_command, filters=private))
    app.add_handler(CommandHandler("stats", staff_reports.stats_command, filters=private))
    app.add_handler(CommandHandler("templates", staff_admin.templates_command, filters=private))
    app.add_handler(CommandHandler("scorecard", scorecard.scorecard_command, filters=private))

    # 4. Onboarding buttons: consent, language switch on the notice, age band, role.
    app.add_handler(CallbackQueryHandler(onboarding.accept, pattern=f"^{onboarding.ACCEPT}$"))
    app.add_handler(CallbackQueryHandler(onboarding.refuse, pattern=f"^{onboarding.REFUSE}$"))
    app.add_handler(CallbackQueryHandler(onboarding.full, pattern=f"^{onboarding.FULL}$"))
    app.add_handler(
        CallbackQueryHandler(onboarding.switch_language, pattern=f"^{onboarding.SWITCH}")
    )
    app.add_handler(
        CallbackQueryHandler(onboarding.choose_age, pattern=f"^{onboarding.AGE_PREFIX}")
    )
    app.add_handler(
        CallbackQueryHandler(onboarding.choose_role, pattern=f"^{onboarding.ROLE_PREFIX}")
    )

    # 5. Main menu buttons; every item leads to a working feature.
    app.add_handler(CallbackQueryHandler(menu.menu_open, pattern=f"^{menu.OPEN}$"))
    app.add_handler(CallbackQueryHandler(help.help_button, pattern=f"^{menu.HELP}$"))
    app.add_handler(CallbackQueryHandler(language.language_button, pattern=f"^{menu.LANGUAGE}$"))
    app.add_handler(
        CallbackQueryHandler(
            privacy_handlers.privacy_button, pattern=f"^({menu.PRIVACY}|{privacy_handlers.SHOW})$"
        )
    )

    # 6. Language choice and privacy screens.
    app.add_handler(CallbackQueryHandler(language.choose, pattern=f"^{language.PREFIX}"))
    app.add_handler(
        CallbackQueryHandler(privacy_handlers.notice, pattern=f"^{privacy_handlers.NOTICE}$")
    )
    app.add_handler(
        CallbackQueryHandler(privacy_handlers.export, pattern=f"^{privacy_handlers.EXPORT}$")
    )
    app.add_handler(
        CallbackQueryHandler(privacy_handlers.erase, pattern=f"^{privacy_handlers.ERASE}$")
    )
    app.add_handler(
        CallbackQueryHandler(
            privacy_handlers.erase_confirmed, pattern=f"^{privacy_handlers.ERASE_YES}$"
        )
    )
    app.add_handler(
        CallbackQueryHandler(
            privacy_handlers.erase_everything, pattern=f"^{privacy_handlers.ERASE_ALL}$"
        )
    )
    app.add_handler(
        CallbackQueryHandler(
            privacy_handlers.change,
            pattern=f"^({privacy_handlers.GIVE}|{privacy_handlers.WITHDRAW})",
        )
    )

    # 7. Right to information: submenu, guide, my requests, outcomes, complaint, wrong contact.
    app.add_handler(CallbackQueryHandler(rti_requests.rti_menu, pattern=f"^{menu.RTI}$"))
    app.add_handler(CallbackQueryHandler(rti_guide.show, pattern=f"^{rti_guide.PREFIX}"))
    app.add_handler(CallbackQueryHandler(rti_requests.my_requests, pattern=f"^{rti.LIST}$"))
    app.add_handler(CallbackQueryHandler(rti_requests.open_request, pattern=f"^{rti.OPEN}"))
    app.add_handler(CallbackQueryHandler(rti_requests.outcome, pattern=f"^{rti.OUTCOME}"))
    app.add_handler(CallbackQueryHandler(rti_requests.complaint, pattern=f"^{rti.COMPLAINT}"))
    app.add_handler(CallbackQueryHandler(rti_requests.filed, pattern=f"^{rti.FILED}"))
    app.add_handler(CallbackQueryHandler(rti_requests.decided, pattern=f"^{rti.DECIDED}"))
    app.add_handler(CallbackQueryHandler(rti_requests.letter_again, pattern=f"^{rti.LETTER}"))
    app.add_handler(
        CallbackQueryHandler(rti_requests.wrong_contact, pattern=f"^{rti.WRONG_CONTACT}")
    )

    # 8. Campaigns & events: opt in, topics, municipality or region, one-tap opt-out.
    app.add_handler(CallbackQueryHandler(campaigns.open_campaigns, pattern=f"^{campaigns.OPEN}$"))
    app.add_handler(CallbackQueryHandler(campaigns.opt_in, pattern=f"^{campaigns.OPT_IN}$"))
    app.add_handler(CallbackQueryHandler(campaigns.toggle, pattern=f"^{campaigns.TOPIC}"))
    app.add_handler(CallbackQueryHandler(campaigns.choose_place, pattern=f"^{campaigns.PLACE}$"))
    app.add_handler(CallbackQueryHandler(campaigns.region, pattern=f"^{campaigns.REGION}"))
    app.add_handler(
        CallbackQueryHandler(
            campaigns.pick, pattern=f"^({campaigns.PICK}|{campaigns.WHOLE_REGION})"
        )
    )
    app.add_handler(
        CallbackQueryHandler(campaigns.unsubscribe, pattern=f"^{broadcast_message.UNSUBSCRIBE}")
    )
    app.add_handler(CallbackQueryHandler(campaigns.stop_command, pattern=f"^{campaigns.STOP}$"))

    # 9. Polls and events: voting, RSVP, and the staff commands /poll, /polls, /event, /events.
    for handler in [*polls.handlers(), *events.handlers()]:
        app.add_handler(handler)

    # 10. My cases: a case's card, withdrawal, the follow-up answer.
    app.add_handler(CallbackQueryHandler(my_cases.my_cases, pattern=f"^{menu.CASES}$"))
    app.add_handler(CallbackQueryHandler(my_cases.open_case, pattern=f"^{case_views.OPEN_CASE}"))
    app.add_handler(CallbackQueryHandler(my_cases.withdraw, pattern=f"^{case_views.WITHDRAW}"))
    app.add_handler(
        CallbackQueryHandler(my_cases.withdraw_confirmed, pattern=f"^{case_views.WITHDRAW_YES}")
    )
    app.add_handler(CallbackQueryHandler(my_cases.followup, pattern=f"^{case_views.FOLLOWUP}"))

    # 11. Staff buttons (behind the gate): cases, admin, reports, broadcasts and their progress.
    for handler in staff_cases.buttons():
        app.add_handler(handler)
    app.add_handler(CallbackQueryHandler(staff_admin.staff_button, pattern=f"^{staff_admin.P}"))
    app.add_handler(CallbackQueryHandler(scorecard.scorecard_show, pattern=f"^{scorecard.P}"))
    app.add_handler(CallbackQueryHandler(scorecard.publish, pattern=f"^{scorecard.PUBLISH}"))
    app.add_handler(
        CallbackQueryHandler(staff_admin.delete_template, pattern=f"^{staff_admin.TEMPLATE}")
    )
    app.add_handler(
        CallbackQueryHandler(staff_reports.export_period, pattern=f"^{staff_reports.EXPORT}")
    )
    app.add_handler(
        CallbackQueryHandler(staff_reports.stats_period, pattern=f"^{staff_reports.STATS}")
    )
    for handler in broadcast_list.handlers():  # /broadcasts and its Stop buttons
        app.add_handler(handler)
    for handler in broadcast_progress.handlers():  # pause, resume, cancel a running broadcast
        app.add_handler(handler)

    # 12. Catch-alls, last: unknown commands, stray messages of any type, stale buttons.
    app.add_handler(MessageHandler(private & filters.COMMAND, fallback.unknown_command))
    app.add_handler(
        MessageHandler(private & ~filters.StatusUpdate.ALL, fallback.unexpected_message)
    )
    app.add_handler(CallbackQueryHandler(fallback.stale_button))

    # 13. One error handler for everything.
    app.add_error_handler(errors.on_error)

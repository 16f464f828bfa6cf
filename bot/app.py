"""The wiring module: build_application(settings) creates the Application and registers handlers.

Nothing happens at import time. Each module in FEATURES declares its routes (bot/core/routing.py);
this module only puts them in order and the gate builds its table from the same list.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.ext import ApplicationBuilder, ContextTypes, Defaults, TypeHandler

import bot.account.cancel
import bot.account.fallback
import bot.account.help
import bot.account.language
import bot.account.membership
import bot.account.menu
import bot.account.onboarding
import bot.account.privacy
import bot.broadcasting.progress
import bot.campaigns.broadcast_list
import bot.campaigns.composer
import bot.campaigns.hearings
import bot.campaigns.polls
import bot.campaigns.subscribe
import bot.cases.my_cases
import bot.cases.report
import bot.reportcards.results
import bot.reportcards.rounds_admin
import bot.reportcards.survey
import bot.reportcards.survey_link
import bot.rti.builder
import bot.rti.directory_admin
import bot.rti.guide
import bot.rti.requests
import bot.rti.sent
import bot.staff.admin
import bot.staff.reports
import bot.staff.scorecard
import bot.staff.workspace
import bot.transparency.initiatives_admin
from bot.broadcasting.limiter import Budget, StrictRateLimiter
from bot.broadcasting.transport import AiohttpRequest
from bot.core import access, buttons, drafts, errors, flood, logs, routing
from bot.core.application import PactApplication, PactContext
from bot.core.clock import Clock, SystemClock
from bot.core.i18n import I18n
from bot.core.persistence import DbPersistence
from bot.core.processor import ChatOrderedProcessor
from bot.core.replies import ReplyBot
from bot.core.routing import Route
from bot.core.runtime import Services
from bot.core.settings import Settings
from db.engine import create_engine, create_sessionmaker

POOL_BESIDES_UPDATES = 8
"""Database connections beyond one per update in hand: intake, the feeder, the sender, jobs."""


def build_services(settings: Settings, clock: Clock | None = None) -> Services:
    """Database engine, session factory, catalogs and clock (no connection is opened yet)."""
    engine = create_engine(
        settings.database_url,
        connect_timeout=settings.db_connect_timeout,
        pool_timeout=settings.db_pool_timeout,
        command_timeout=settings.db_command_timeout,
        pool_size=settings.max_concurrent_updates + POOL_BESIDES_UPDATES,
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
    logs.name_handlers(app)  # log lines inside a handler carry its name (LOG_FORMAT=json)
    access.guard_staff_flows(app)  # every step of a staff flow re-checks the grant
    return app


def build_bot(settings: Settings, budget: Budget) -> ReplyBot:
    """The replying bot: posting calls wait for the commit, then go first in the shared budget.

    Every call goes through aiohttp (bot/broadcasting/transport.py: about twice the updates per
    second of PTB's httpx transport); getUpdates has a session of its own, so its long poll
    never takes a connection from the replies.
    """
    limiter = (
        StrictRateLimiter(budget=budget, priority=True, private_per_second=None, max_retries=3)
        if settings.telegram_rate_limit
        else None
    )
    return ReplyBot(
        token=settings.require_token(),
        base_url=settings.telegram_base_url,
        base_file_url=settings.telegram_base_file_url,
        request=AiohttpRequest(connections=256),
        get_updates_request=AiohttpRequest(connections=1),
        defaults=Defaults(parse_mode=ParseMode.HTML, tzinfo=settings.tz),
        rate_limiter=limiter,
    )


FEATURES = (
    bot.account.membership,
    bot.reportcards.survey_link,
    bot.account.onboarding,
    bot.account.menu,
    bot.account.help,
    bot.account.language,
    bot.account.privacy,
    bot.rti.requests,
    bot.rti.guide,
    bot.rti.builder,
    bot.cases.report,
    bot.campaigns.subscribe,
    bot.cases.my_cases,
    bot.staff.workspace,
    bot.campaigns.composer,
    bot.rti.sent,
    bot.campaigns.polls,
    bot.campaigns.hearings,
    bot.reportcards.survey,
    bot.staff.admin,
    bot.staff.scorecard,
    bot.staff.reports,
    bot.reportcards.rounds_admin,
    bot.reportcards.results,
    bot.campaigns.broadcast_list,
    bot.broadcasting.progress,
    bot.rti.directory_admin,
    bot.transparency.initiatives_admin,
    bot.account.cancel,
    bot.account.fallback,
)
"""Every module with routes; within each tier (bot/core/routing.py) the first listed wins."""


def routes() -> list[Route]:
    """Every declared route, in the order of FEATURES."""
    return [route for feature in FEATURES for route in feature.routes()]


def register_handlers(app: PactApplication) -> None:
    """The guards around the features, then their routes, in order of precedence.

    Group 0 holds the routes by tier: Telegram's notices, conversations (inside one, its own
    steps and /cancel, /menu come first), commands, buttons, and the catch-alls last.
    """
    # Flood control (group -3), then draft expiry (group -2), then the staff gate (group -1);
    # drafts are stamped with their last step after every other handler (group 100).
    app.add_handler(flood.handler(), group=-3)
    app.add_handler(buttons.handler(), group=-2)  # forged numbers stop here, drafts untouched
    app.add_handler(TypeHandler(Update, drafts.expire_stale), group=-2)
    app.add_handler(TypeHandler(Update, drafts.stamp), group=100)
    # The staff gate (group -1): staff-only commands and buttons stop here for anyone else. Its
    # table is built from the same routes that are registered.
    declared = routes()
    access.install(declared)
    app.add_handler(TypeHandler(Update, access.gate), group=-1)
    routing.register(app, declared)
    # One error handler for everything.
    app.add_error_handler(errors.on_error)

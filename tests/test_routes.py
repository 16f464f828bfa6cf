"""Every command and button the bot answers has a declared permission, and the gate enforces it.

The Application is built as in production and every CallbackQueryHandler and CommandHandler in it
(conversations' entry points, steps and fallbacks included) is matched to the route that declared
it. Citizen-facing ones are listed here one by one, so a staff button declared for everyone (or
registered without a route) fails; staff ones must be refused by the gate to anyone without the
permission (a citizen has none; tests/test_forged_buttons.py replays real presses).
"""

from __future__ import annotations

import re
import warnings
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from inspect import unwrap

import pytest
from telegram import CallbackQuery, Chat, Message, Update, User
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
)

from bot import app as wiring
from bot.account import fallback, help
from bot.core import access, buttons, drafts
from bot.core.application import PactApplication
from bot.core.routing import Route, Tier, button_prefixes, tier
from bot.core.settings import Settings
from bot.kit.codec import ButtonCodec
from bot.staff.services import permissions as staff
from bot.staff.services.permissions import Permission

CITIZEN_COMMANDS = {"start", "menu", "help", "language", "privacy", "mydata", "cancel", "stop"}
CITIZEN_BUTTONS = {
    "",  # the stale-button answer, last of all
    # onboarding, menu, help, language, privacy
    *("onb:yes", "onb:no", "onb:full", "onb:lang:", "onb:age:", "onb:role:"),
    *("menu:open", "menu:help", "menu:language", "lang:", "menu:privacy"),
    *("prv:show", "prv:notice", "prv:export", "prv:erase", "prv:erase:yes", "prv:erase:all"),
    *("prv:give:", "prv:withdraw:", "prv:age", "prv:age:"),
    # right to information: submenu, requests, guide, builder, sent date
    *(
        "menu:rti",
        "rti:mine",
        "rtr:",
        "rto:",
        "rtc:",
        "rtf:",
        "rtk:",
        "rtl:",
        "rtq:",
        "rtw:",
        "rtg:",
    ),
    *("rti:new", "rtb:resume", "rtb:restart", "rtb:region:", "rtb:om", "rtb:ob", "rtb:auth:"),
    *("rtb:back", "rtb:cancel", "rtb:keep", "rtb:rewrite", "rtb:fmt:", "rtb:ch:", "rtb:create"),
    *("rtb:edit:", "rtb:skip", "rts:", "rtsb:back", "rtsd:", "rtsp:cancel", "rtsp:skip"),
    # reports
    *("menu:service", "menu:corruption", "rp:resume", "rp:go", "rp:restart", "rp:cancel"),
    *("rp:region:", "rp:om", "rp:muni:", "rp:back", "rp:unit:", "rp:skip", "rp:cat:", "rp:done"),
    *("rp:id:", "rp:send", "rp:sendfw", "rp:edit:", "rp:follow:", "rp:new"),
    # my cases
    *("menu:cases", "cs:open:", "cs:wd:", "cs:wdy:", "cs:fu:", "cs:check", "cs:add:", "cs:ans:"),
    "cs:addcancel",
    # campaigns, votes, RSVPs
    *("menu:campaigns", "cmp:optin", "cmp:t:", "cmp:place", "cmp:reg:", "cmp:m:", "cmp:wr:"),
    *("cmp:unsub:", "cmp:stop", "pv:", "ev:y:", "ev:n:", "ev:nm:"),
    # report-card survey
    *("crc:go:", "crc:resume", "crc:restart", "crc:cancel", "crc:back", "crc:skip", "crc:edit:"),
    *("crc:age:", "crc:m:", "crc:a:", "crc:dk:", "crc:send", "crc:fix:", "crc:place", "crc:note"),
}
"""Every button prefix open to everyone. A new one is added here on purpose, never by accident."""
STAFF_COMMANDS = {
    **dict.fromkeys(
        ("authority", "import_authorities", "closed_day", "staff", "templates", "scorecard"),
        Permission.ADMIN,
    ),
    **dict.fromkeys(
        ("broadcast", "broadcasts", "poll", "polls", "event", "events"), Permission.BROADCAST
    ),
    "initiatives": Permission.ADMIN,
    "inbox": Permission.CASES,
    "stats": Permission.STATS,
    "export": Permission.EXPORT,
    "rcresults": Permission.REPORT_CARDS,
    "reportcards": Permission.REPORT_CARDS,
}
STAFF_NAMESPACES = {
    "adm:bc:": Permission.BROADCAST,
    "sb:": Permission.BROADCAST,
    "adm:": Permission.ADMIN,
    "stf:": Permission.CASES,
    "ex:": Permission.EXPORT,
    "vw:": Permission.STATS,
    "crc:res:": Permission.REPORT_CARDS,
    "crr:": Permission.REPORT_CARDS,
    "rcr:": Permission.REPORT_CARDS,
}
"""Where staff buttons live, and the permission of each family (the most specific wins)."""
STAFF_FLOWS = {
    "admin_authority": (Permission.ADMIN, "admin"),
    "admin_import": (Permission.ADMIN, "admin"),
    "initiative_editor": (Permission.ADMIN, "initiative_draft"),
    "staff_input": (Permission.CASES, "staff_input"),
    "broadcast_composer": (Permission.BROADCAST, "broadcast_draft"),
    "poll_composer": (Permission.BROADCAST, "poll_draft"),
    "event_composer": (Permission.BROADCAST, "event_draft"),
    "report_card_round": (Permission.REPORT_CARDS, "report_card_round_draft"),
    "report_card_questions": (Permission.REPORT_CARDS, "report_card_questions_draft"),
}
CONVERSATIONS = [
    "rti_builder",
    "report",
    "case_check",
    "case_add",
    "case_answer",
    "staff_input",
    "broadcast_composer",
    "rti_sent",
    "poll_composer",
    "event_composer",
    "report_card_survey",
    "report_card_round",
    "report_card_questions",
    "admin_authority",
    "admin_import",
    "initiative_editor",
]
"""The conversations in order of precedence (a person can be in two at once)."""
TAILS = ("", "1", "1:1", "1:keep", "sq")
"""What follows a prefix in a sample of button data."""


@pytest.fixture(scope="module")
def app() -> PactApplication:
    """The Application as production builds it (nothing is started, no database is opened)."""
    settings = Settings(
        _env_file=None, bot_token="1:test", database_url="sqlite+aiosqlite:///:memory:"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # PTB's per_message advice about our conversations
        return wiring.build_application(settings)


@pytest.fixture(scope="module")
def routes() -> list[Route]:
    """The routes the Application was built from (declared afresh: same declarations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return wiring.routes()


def _inside(handler: BaseHandler) -> Iterator[tuple[str, BaseHandler]]:
    """A handler and, for a conversation, everything in it, each with where it sits."""
    yield "top", handler
    if isinstance(handler, ConversationHandler):
        for inner in handler.entry_points:
            yield f"{handler.name}/entry", inner
        for state, steps in handler.states.items():
            for inner in steps:
                yield f"{handler.name}/{state}", inner
        for inner in handler.fallbacks:
            yield f"{handler.name}/fallback", inner


def _key(where: str, handler: BaseHandler) -> tuple[str, str, str] | None:
    """What a button or command handler answers, and where; None for other handlers."""
    if isinstance(handler, CallbackQueryHandler):
        pattern = handler.pattern
        return where, "button", pattern.pattern if isinstance(pattern, re.Pattern) else ""
    if isinstance(handler, CommandHandler):
        return where, "command", ",".join(sorted(handler.commands))
    return None


def _answered(handlers: list[BaseHandler]) -> Counter[tuple[str, str, str]]:
    """Every button pattern and command among these handlers (conversations opened)."""
    return Counter(
        key
        for handler in handlers
        for where, inner in _inside(handler)
        if (key := _key(where, inner)) is not None
    )


def _buttons(route: Route) -> Iterator[CallbackQueryHandler]:
    """The button handlers of a route, conversations opened."""
    for _where, inner in _inside(route.handler):
        if isinstance(inner, CallbackQueryHandler):
            yield inner


def _sample(handler: CallbackQueryHandler, prefix: str) -> str:
    """Button data the handler accepts that begins with `prefix`."""
    if handler.pattern is None:
        return prefix + "old:1"  # any button at all (the stale-button answer)
    assert isinstance(handler.pattern, re.Pattern)
    for tail in TAILS:
        if handler.pattern.match(prefix + tail):
            return prefix + tail
    codec = ButtonCodec.made.get(handler.pattern.pattern)
    if codec is not None and codec.prefix == prefix:
        return codec.example()
    raise AssertionError(f"{handler.pattern.pattern!r} accepts nothing starting {prefix!r}")


def _press(data: str) -> Update:
    """A button press carrying `data`."""
    user = User(id=5, first_name="Citizen", is_bot=False)
    return Update(1, callback_query=CallbackQuery("q", user, chat_instance="c", data=data))


def _typed(text: str) -> Update:
    """A message typed in a private chat."""
    user = User(id=5, first_name="Citizen", is_bot=False)
    chat = Chat(id=5, type=Chat.PRIVATE)
    return Update(1, message=Message(1, datetime.now(UTC), chat, from_user=user, text=text))


def _namespace(prefix: str) -> Permission | None:
    """The permission of the most specific staff family the prefix belongs to."""
    families = [family for family in STAFF_NAMESPACES if prefix.startswith(family)]
    return STAFF_NAMESPACES[max(families, key=len)] if families else None


def test_every_registered_button_and_command_is_a_declared_route(
    app: PactApplication, routes: list[Route]
) -> None:
    """Group 0 holds exactly the routes' handlers; the other groups hold no button or command
    (but the guard that refuses malformed button numbers before anything else)."""
    registered = app.handlers[0]
    assert len(registered) == len(routes)
    assert _answered(registered) == _answered([route.handler for route in routes])
    for group, handlers in app.handlers.items():
        if group != 0:
            guards = [h for h in handlers if not isinstance(h, TypeHandler)]
            assert [unwrap(h.callback) for h in guards] in ([], [buttons.refuse]), group
    for route in routes:  # an explicit decision: everyone, or one staff permission
        assert route.permission is None or isinstance(route.permission, Permission)


def test_buttons_for_everyone_are_exactly_the_listed_ones(routes: list[Route]) -> None:
    """A button declared for everyone that is not in CITIZEN_BUTTONS fails here."""
    declared = {prefix for route in routes if route.permission is None for prefix in route.buttons}
    assert declared - CITIZEN_BUTTONS == set(), "not listed as open to everyone"
    assert CITIZEN_BUTTONS - declared == set(), "listed but no longer registered"


def test_commands_for_everyone_are_exactly_the_listed_ones(routes: list[Route]) -> None:
    """Everyone's commands are the listed ones; inside staff flows only those serve as exits."""
    declared = {
        command for route in routes if route.permission is None for command in route.commands
    }
    assert declared == CITIZEN_COMMANDS
    for route in routes:
        if route.permission is not None:
            assert route.exits <= CITIZEN_COMMANDS, route.name


def test_the_gate_table_is_built_from_the_routes(app: PactApplication) -> None:
    """Staff commands, staff flows and the families of staff buttons, with their permissions."""
    assert access.STAFF_COMMANDS == STAFF_COMMANDS
    assert access.STAFF_FLOWS == STAFF_FLOWS
    for prefix, permission in access.STAFF_BUTTONS.items():
        assert _namespace(prefix) == permission, prefix
    assert set(help.STAFF_HELP) == set(access.STAFF_COMMANDS)  # /help describes each


def test_every_staff_button_and_command_is_refused_to_a_citizen(
    app: PactApplication, routes: list[Route]
) -> None:
    """Data each staff handler accepts needs its route's permission, which nobody holds by
    default; data each citizen handler accepts passes the gate. Commands likewise."""
    staff_buttons = 0
    for route in routes:
        for handler in _buttons(route):
            for prefix in button_prefixes(handler):
                data = _sample(handler, prefix)
                need = access.required(_press(data))
                if route.permission is None:
                    assert need is None, data
                    continue
                staff_buttons += 1
                assert need is not None and need[1] == route.permission, data
                assert not staff.can(None, route.permission)
        for command in route.commands:
            for text in (f"/{command}", f"/{command.upper()}@pact_test_bot and more"):
                need = access.required(_typed(text))
                expected = None if route.permission is None else (f"/{command}", route.permission)
                assert need == expected, text
    assert staff_buttons >= len(access.STAFF_BUTTONS)


def test_routes_are_registered_in_tiers_between_the_guards(app: PactApplication) -> None:
    """Flood -3, malformed buttons and drafts -2, gate -1, the routes in group 0 by tier, the
    draft stamp at 100."""
    assert sorted(app.handlers) == [-3, -2, -1, 0, 100]
    assert [unwrap(handler.callback) for handler in app.handlers[-2]] == [
        buttons.refuse,
        drafts.expire_stale,
    ]
    assert [unwrap(handler.callback) for handler in app.handlers[-1]] == [access.gate]
    assert [unwrap(handler.callback) for handler in app.handlers[100]] == [drafts.stamp]
    registered = app.handlers[0]
    tiers = [tier(handler) for handler in registered]
    assert tiers == sorted(tiers)
    assert tiers[0] == Tier.NOTICE
    conversations = [h.name for h in registered if isinstance(h, ConversationHandler)]
    assert conversations == CONVERSATIONS
    last = registered[-3:]
    assert [unwrap(handler.callback) for handler in last] == [
        fallback.unknown_command,
        fallback.unexpected_message,
        fallback.stale_button,
    ]
    assert isinstance(last[0], MessageHandler) and isinstance(last[2], CallbackQueryHandler)


def test_no_button_is_hidden_behind_an_earlier_one(app: PactApplication) -> None:
    """Among the buttons outside conversations, no earlier pattern takes a later one's data."""
    buttons = [
        handler
        for handler in app.handlers[0]
        if isinstance(handler, CallbackQueryHandler) and handler.pattern is not None
    ]
    for index, later in enumerate(buttons):
        for prefix in button_prefixes(later):
            data = _sample(later, prefix)
            for earlier in buttons[:index]:
                assert isinstance(earlier.pattern, re.Pattern)
                assert not earlier.pattern.match(data), (earlier.pattern.pattern, data)


async def _noop(update: object, context: object) -> None:
    """A callback for handlers built only to be read."""


@pytest.mark.parametrize(
    ("pattern", "prefixes"),
    [
        (None, ("",)),
        ("^stf:take:", ("stf:take:",)),
        ("^rp:go$", ("rp:go",)),
        (r"^cs:add:\d+$", ("cs:add:",)),
        ("^(menu:privacy|prv:show)$", ("menu:privacy", "prv:show")),
        ("^(sb:ev:m:|sb:ev:none$)", ("sb:ev:m:", "sb:ev:none")),
        ("^stf:x?y", ("stf:",)),
        ("^(?:adm:ab|adm:b)c", ("adm:ab", "adm:b")),
        ("^(?:adm:a|adm:b)c", ("adm:",)),  # one-letter branches become a class
        ("^.*", ("",)),
    ],
)
def test_button_prefixes_are_what_every_match_starts_with(
    pattern: str | None, prefixes: tuple[str, ...]
) -> None:
    """Literal starts up to the first repetition, class or end of a group; one per branch."""
    assert button_prefixes(CallbackQueryHandler(_noop, pattern=pattern)) == prefixes


def test_a_case_insensitive_pattern_cannot_be_gated() -> None:
    """The gate compares prefixes exactly, so it refuses patterns that ignore case."""
    with pytest.raises(ValueError, match="case-insensitive"):
        button_prefixes(CallbackQueryHandler(_noop, pattern=re.compile("^stf:", re.IGNORECASE)))


def _flow(name: str, *fallbacks: BaseHandler) -> ConversationHandler:
    """A one-step staff conversation started by /flow."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ConversationHandler(
            name=name,
            entry_points=[CommandHandler("flow", _noop)],
            states={0: [CallbackQueryHandler(_noop, pattern="^stf:flow:")]},
            fallbacks=list(fallbacks),
        )


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        (
            [
                Route(CallbackQueryHandler(_noop, pattern="^stf:"), Permission.CASES),
                Route(CallbackQueryHandler(_noop, pattern="^stf:mine:"), None),
            ],
            "lies under staff",
        ),
        ([Route(CallbackQueryHandler(_noop, pattern="^.*"), Permission.ADMIN)], "literal prefix"),
        (
            [
                Route(CommandHandler("inbox", _noop), Permission.CASES),
                Route(CommandHandler("inbox", _noop), Permission.STATS),
            ],
            "declared for both",
        ),
        (
            [
                Route(CallbackQueryHandler(_noop, pattern="^ex:a"), Permission.EXPORT),
                Route(CallbackQueryHandler(_noop, pattern="^ex:a"), None),
            ],
            "declared for both",
        ),
        ([Route(_flow("f"), Permission.ADMIN)], "draft key"),
        (
            [Route(_flow("f", CommandHandler("purge", _noop)), Permission.ADMIN, "d")],
            "/purge is not gated",
        ),
    ],
)
def test_the_gate_refuses_declarations_it_could_not_enforce(
    app: PactApplication, routes: list[Route], message: str
) -> None:
    """Building the table fails (and leaves the installed one alone) rather than let a staff
    action through."""
    before = dict(access.STAFF_BUTTONS), dict(access.STAFF_COMMANDS), dict(access.STAFF_FLOWS)
    with pytest.raises(ValueError, match=message):
        access.install(routes)
    assert (access.STAFF_BUTTONS, access.STAFF_COMMANDS, access.STAFF_FLOWS) == before

"""The wizard kernel (bot/kit/wizard.py), once for every wizard on it.

Back, Skip, Edit, resume after a restart, wrong input and a preview with a missing answer are
tested on a tiny wizard registered in the real Application. For every declared wizard: Back at
every step and sub-screen never leaves the flow (WALKS), the committed diagram is the generated
one, button data stays within Telegram's 64 bytes, and the step-id migration (0015) converts
stored conversations and drafts on both backends.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select, text
from telegram import Update

from bot import app as app_module
from bot.core import routing
from bot.core.application import PactContext
from bot.core.state_memory import conversation_states
from bot.kit import wizard as wz
from bot.kit.ui import close_buttons
from bot.kit.wizard import END, NEXT, OnButton, OnText, Question, Screen, Step
from db import migrate
from db.engine import create_engine
from db.models import BotState
from tests import campaign_steps, survey_steps
from tests.databases import backends, fresh_database
from tests.harness import BotHarness, Person
from tests.rti_steps import onboard_english

ROOT = Path(__file__).resolve().parent.parent
BACK = "⬅️ Back"


def _load(path: Path, name: str) -> ModuleType:
    """A module from a file that is not in a package (a script, a migration)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


DIAGRAMS = _load(ROOT / "scripts" / "diagrams.py", "diagrams_script")
MIGRATION = _load(
    ROOT / "db" / "migrations" / "versions" / "0015_wizard_step_ids.py", "wizard_step_ids"
)


def _wizard(spec: str) -> wz.Wizard:
    """A declared wizard from "module:attribute"."""
    module_name, attribute = spec.split(":")
    return getattr(importlib.import_module(module_name), attribute)


WIZARDS = [_wizard(spec) for spec in DIAGRAMS.WIZARDS]


# --- a tiny wizard: colour (with sub-screens) → name (validated text) → note (optional) → preview


async def _ask_colour(context: PactContext, draft: dict) -> Question:
    return Question("Which colour?", [[("Red", "kt:c:red"), ("More…", "kt:more")]])


async def _more(context: PactContext, draft: dict, arg: Any) -> Question:
    return Question("More colours:", [[("Blue", "kt:c:blue"), ("Deeper…", "kt:deeper")]])


async def _deeper(context: PactContext, draft: dict, arg: Any) -> Question:
    return Question(f"Deepest colours ({arg}):", [[("Green", "kt:c:green")]])


async def _colour(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    draft["colour"] = value
    await close_buttons(update)
    return NEXT


async def _show_more(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    return wz.show("more")


async def _show_deeper(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    return wz.show("deeper", "dark")


async def _ask_name(context: PactContext, draft: dict) -> Question:
    return Question("Your name?")


async def _name(update: Update, context: PactContext, draft: dict, typed: str) -> wz.Move:
    if len(typed) < 2:
        return wz.retry("At least two letters, please.")
    draft["name"] = typed
    return NEXT


async def _ask_note(context: PactContext, draft: dict) -> Question:
    return Question("A note?")


async def _note(update: Update, context: PactContext, draft: dict, typed: str) -> wz.Move:
    draft["note"] = typed
    return NEXT


async def _preview(context: PactContext, draft: dict) -> Question:
    summary = f"Preview: {draft['colour']} / {draft['name']} / {draft.get('note', '-')}"
    return Question(
        summary,
        [
            [("OK", "kt:ok")],
            [TINY.edit_button("✏️ Name", "kt.name"), TINY.edit_button("✏️ Note", "kt.note")],
        ],
    )


SAVED: list[dict] = []


async def _ok(update: Update, context: PactContext, draft: dict, value: str) -> wz.Move:
    SAVED.append(dict(TINY.drop(context) or {}))
    await close_buttons(update)
    return END


TINY = wz.Wizard(
    name="kernel_test",
    prefix="kt:",
    draft_key="kernel_test_draft",
    steps=(
        Step(
            "kt.colour",
            _ask_colour,
            accepts=(
                OnButton("c:", _colour, exact=False),
                OnButton("more", _show_more),
                OnButton("deeper", _show_deeper),
            ),
            keys=("colour",),
            screens=(Screen("more", _more), Screen("deeper", _deeper)),
        ),
        Step(
            "kt.name",
            _ask_name,
            accepts=(OnText(_name),),
            keys=("name",),
            hint=lambda t: "Please type your name.",
        ),
        Step("kt.note", _ask_note, accepts=(OnText(_note),), keys=("note",), optional=True),
        Step("kt.preview", _preview, accepts=(OnButton("ok", _ok),)),
    ),
    branches={"only": ("kt.colour", "kt.name", "kt.note", "kt.preview")},
    branch_of=lambda draft: "only",
    entries=(wz.Entry(fresh=lambda context: {}, command="kt"),),
    preview="kt.preview",
    resume_text=lambda t: "You have a test in progress. Continue where you stopped?",
)

TINY_FEATURE = SimpleNamespace(routes=lambda: routing.citizen(TINY.conversation()))


@pytest.fixture
async def tiny(fake, database_url, monkeypatch: pytest.MonkeyPatch):
    """The real Application with the tiny wizard registered first."""
    monkeypatch.setattr(app_module, "FEATURES", (TINY_FEATURE, *app_module.FEATURES))
    harness = BotHarness(fake, database_url)
    await harness.start()
    SAVED.clear()
    yield harness
    await harness.stop()


def _draft(bot: BotHarness, person: Person, wizard: wz.Wizard) -> dict | None:
    return bot.app.user_data.get(person.fake.user_id, {}).get(wizard.draft_key)


async def _stored_state(bot: BotHarness, person: Person, wizard: wz.Wizard) -> object:
    """The conversation state kept in the database for the person's private chat."""
    user = person.fake.user_id
    key = f"{wizard.name}:{json.dumps([user, user])}"
    async with bot.app.services.sessions() as session:
        data = await session.scalar(select(BotState.data).where(BotState.key == key))
    return data and data["state"]


def _state(bot: BotHarness, person: Person, wizard: wz.Wizard) -> object:
    states = conversation_states(bot.app).get(wizard.name, {})
    return next((s for key, s in states.items() if person.fake.user_id in key[:2]), None)


async def test_back_skip_edit_and_wrong_input(tiny: BotHarness) -> None:
    arta = tiny.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/kt")
    assert arta.last.text == "Which colour?" and BACK not in arta.last.labels, "first: no Back"
    await arta.press_data("kt:back", message_id=arta.last.message_id)
    assert arta.last.text == "Which colour?", "a stale Back on the first step asks it again"
    await arta.act("send_sticker")
    assert arta.last.text == "Please use the buttons above."
    await arta.text("red")
    assert arta.last.text == "Please use the buttons above.", "one answer, nothing stored"
    await arta.press("More…")
    await arta.press("Deeper…")
    assert arta.last.text == "Deepest colours (dark):" and BACK in arta.last.labels
    await arta.press(BACK)
    assert arta.last.text == "More colours:", "Back on a sub-screen: the screen before it"
    await arta.press(BACK)
    assert arta.last.text == "Which colour?"
    await arta.press("Red")
    assert arta.last.text == "Your name?" and "Skip" not in arta.last.labels
    await arta.act("send_sticker")
    assert arta.last.text == "Please type your name.", "the step's own hint"
    await arta.text("A")
    assert arta.last.text == "At least two letters, please."
    await arta.text("Ana")
    assert arta.last.text == "A note?" and "Skip" in arta.last.labels
    await arta.press(BACK)
    assert arta.last.text == "Your name?"
    assert _draft(tiny, arta, TINY)["name"] == "Ana", "Back keeps the answers"
    await arta.text("Ana")
    await arta.press("Skip")
    assert arta.last.text == "Preview: red / Ana / -"
    await arta.press("✏️ Name")
    assert arta.last.text == "Your name?"
    await arta.text("Besa")
    assert arta.last.text == "Preview: red / Besa / -", "after an edit: back to the preview"
    await arta.press("✏️ Note")
    await arta.text("Hello")
    assert arta.last.text == "Preview: red / Besa / Hello"
    await arta.press(BACK)
    assert arta.last.text == "A note?", "Back from the preview: the step before it"
    await arta.press("Skip")
    assert _draft(tiny, arta, TINY).get("note") is None, "Skip drops the answer"
    await arta.press("OK")
    assert SAVED == [{"colour": "red", "name": "Besa", "step": "kt.preview"}]
    assert _state(tiny, arta, TINY) is None and _draft(tiny, arta, TINY) is None


async def test_resume_after_restart(tiny: BotHarness) -> None:
    arta = tiny.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/kt")
    await arta.press("More…")
    await tiny.restart()
    await arta.press("Blue")
    assert arta.last.text == "Your name?", "the state and the screen stack survive a restart"
    await arta.text("Ana")
    await tiny.restart()
    assert await _stored_state(tiny, arta, TINY) == "kt.note", "memory reads it on the next update"
    await arta.command("/menu")
    assert _draft(tiny, arta, TINY)["step"] == "kt.note", "/menu keeps the draft"
    await arta.command("/kt")
    assert "Continue where you stopped?" in arta.last.text
    await arta.text("hello")
    assert arta.last.text == "Please use the buttons above."
    await arta.press("▶️ Continue")
    assert arta.last.text == "A note?"
    await arta.command("/kt")
    await arta.press("🔄 Start again")
    assert arta.last.text == "Which colour?"
    assert _draft(tiny, arta, TINY) == {"step": "kt.colour"}


async def test_a_preview_with_a_missing_answer_asks_it(tiny: BotHarness) -> None:
    arta = tiny.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/kt")
    await arta.press("Red")
    await arta.text("Ana")
    await arta.press("Skip")
    del tiny.app.user_data[arta.fake.user_id][TINY.draft_key]["name"]  # an old or torn draft
    await arta.press("✏️ Note")
    await arta.text("Hi")
    assert arta.last.text == "Your name?", "the first missing answer, not a crash"
    await arta.text("Besa")
    assert arta.last.text == "Preview: red / Besa / Hi", "then the preview"
    await arta.press("✖️ Cancel")
    assert arta.seen("Cancelled.") and _draft(tiny, arta, TINY) is None
    assert _state(tiny, arta, TINY) is None, "Cancel leaves the flow"


async def test_start_inside_a_flow_answers_as_start_and_keeps_the_draft(tiny: BotHarness) -> None:
    """/start leaves the flow and is answered by the /start route (the kit names no feature)."""
    besa = tiny.person(language_code="en")
    await besa.command("/kt")
    await besa.press("Red")
    await besa.command("/start")
    assert "✅ I agree" in besa.last.labels, "onboarding starts where the person is"
    assert _state(tiny, besa, TINY) is None and _draft(tiny, besa, TINY)["colour"] == "red"
    arta = tiny.person(language_code="en")
    await onboard_english(arta)
    await arta.command("/kt")
    await arta.press("Red")
    await arta.command("/start")
    assert arta.seen("Welcome back!") and _state(tiny, arta, TINY) is None
    await arta.command("/kt")
    await arta.press("▶️ Continue")
    assert arta.last.text == "Your name?", "the draft was kept"


def test_step_ids_and_button_data_fit() -> None:
    """Step ids are names (no digits: button data numbers are ids), Edit data ≤ 64 bytes."""
    for wizard in [TINY, *WIZARDS]:
        keys = [step.key for step in wizard.steps]
        assert len(keys) == len(set(keys)), wizard.name
        for step in wizard.steps:
            assert not any(c.isdigit() for c in step.id), step.id
            assert len(f"{wizard.prefix}edit:{step.key}".encode()) <= 64, step.id
        for order in wizard.branches.values():
            assert order[-1] == wizard.preview and all(wizard.step(s) for s in order)


@pytest.mark.parametrize("wizard", WIZARDS, ids=lambda w: w.name)
def test_committed_diagrams_match(wizard: wz.Wizard) -> None:
    """Each .mmd is generated from the declarations: run scripts/diagrams.py after a change."""
    [path] = [path for declared, path in DIAGRAMS.declared() if declared is wizard]
    assert path.read_text(encoding="utf-8") == wz.diagram(wizard), (
        f"run scripts/diagrams.py: {path}"
    )


# --- Back at every step and sub-screen of every wizard ---------------------------------------


@dataclass(frozen=True)
class Act:
    """One thing a person does, a fragment of the newest message after it, and Back's check.

    With `back_to`, Back is pressed right after (the forged "<prefix>back" where no Back button
    is shown), `back_to` must be in the newest message, the conversation and draft must
    survive, and `again` (default: this act) must lead back to `expect`. On the first step
    (`back_to` == `expect`) Back asks the same question again and nothing is redone.
    """

    kind: str
    value: str = ""
    expect: str = ""
    back_to: str | None = None
    again: tuple[Act, ...] = ()
    args: tuple[Any, ...] = ()


@dataclass(frozen=True)
class Walk:
    """A wizard ("module:attribute"), how its person is made, and the acts through it."""

    wizard: str
    setup: Callable[[BotHarness], Awaitable[Person]]
    acts: tuple[Act, ...]
    name: str = ""


async def _do(person: Person, act: Act) -> None:
    if act.kind == "press":
        await person.press(act.value)
    elif act.kind == "text":
        await person.text(act.value)
    elif act.kind == "command":
        await person.command(act.value)
    else:
        await person.act(act.kind, *act.args)


async def english_person(bot: BotHarness) -> Person:
    """Someone who agreed to the privacy notice, in English."""
    person = bot.person(language_code="en")
    await onboard_english(person)
    return person


REPORT_SERVICE = Walk(
    "bot.cases.report:WIZARD",
    english_person,
    (
        Act("command", "/menu", "What would you like to do?"),
        Act("press", "🛠 Report a service problem", "Which municipality?", "Which municipality?"),
        Act("press", "Shkodër", "Choose the municipality:", "Which municipality?"),
        Act("press", "Other municipality", "Type the name", "Choose the municipality:"),
        Act("text", "shkod", "Did you mean:", "Type the name of the municipality:"),
        Act(
            "press",
            "Municipality of Shkodër",
            "Which administrative unit or village?",
            "Which municipality?",
            again=(Act("press", "Shkodër"), Act("press", "Municipality of Shkodër")),
        ),
        Act("text", "Fshati Ri", "Is “Fshati Ri”", "Which administrative unit or village?"),
        Act(
            "press",
            "✔️ Yes, that is the place",
            "What is the problem about?",
            "Which administrative unit or village?",
            again=(Act("text", "Fshati Ri"), Act("press", "✔️ Yes, that is the place")),
        ),
        Act("press", "Street lighting", "What happened?", "What is the problem about?"),
        Act("text", "Lights off on the main road.", "Where exactly?", "What happened?"),
        Act("send_location", "", "Photos?", "Where exactly?", args=(41.8667, 19.4167)),
        Act("send_photo", "", "1 file received"),
        Act("press", "✔️ Done", "How do you want to be identified?", "Photos?"),
        Act("press", "👤 Named", "Check your report", "How do you want to be identified?"),
    ),
    "report-service",
)

REPORT_CORRUPTION = Walk(
    "bot.cases.report:WIZARD",
    english_person,
    (
        Act("command", "/menu", "What would you like to do?"),
        Act("press", "🚨 Report corruption", "Report corruption", "Report corruption"),
        Act("press", "Continue ➡️", "Which institution or office?", "Report corruption"),
        Act("text", "Urban planning office", "What happened?", "Which institution or office?"),
        Act("text", "An official asked for money.", "When did it happen?", "What happened?"),
        Act("text", "Last week", "Evidence?", "When did it happen?"),
        Act("send_voice", "", "1 file received"),
        Act("press", "✔️ Done", "How do you want to be identified?", "Evidence?"),
        Act(
            "press",
            "🔒 Confidential",
            "Your report has a voice note.",
            "How do you want to be identified?",
        ),
        Act(
            "press",
            "🎙 Keep the voice note",
            "Check your report",
            "How do you want to be identified?",
            again=(Act("press", "🔒 Confidential"), Act("press", "🎙 Keep the voice note")),
        ),
    ),
    "report-corruption",
)

BROADCAST_COMPOSER = Walk(
    "bot.campaigns.composer:WIZARD",
    campaign_steps.composer_admin,
    (
        Act(
            "command",
            "/broadcast",
            "Send the Albanian text",
            "Send the Albanian text",
            again=(Act("command", "/broadcast"), Act("press", "▶️ Continue")),
        ),
        Act("text", "Lajm", "Now the English text", "Send the Albanian text"),
        Act("text", "News", "Add a button under the message?", "Now the English text"),
        Act("press", "🔗 Link", "label and the web address", "Add a button under the message?"),
        Act("text", "Lexo https://pact.al", "🔗 Lexo → https://pact.al"),
        Act("press", "🗓 Join event", "There is no upcoming event", "Add a button"),
        Act("press", "⬅️ Back", "Add a button"),
        Act("press", "📊 Poll", "There is no open poll", "Add a button"),
        Act("press", "⬅️ Back", "Add a button"),
        Act("press", "Continue ➡️", "Which topics", "Add a button"),
        Act("press", "⬜ Anti-corruption", "Which topics"),
        Act("press", "Continue ➡️", "For which municipality", "Which topics"),
        Act("press", "Shkodër", "Choose the municipality:", "For which municipality"),
        Act(
            "press",
            "The whole region of Shkodër",
            "It reaches 0 people",
            "For which municipality",
            again=(Act("press", "Shkodër"), Act("press", "The whole region of Shkodër")),
        ),
        Act("press", "Age: all", "It reaches 0 people"),
        Act("press", "Continue ➡️", "When should it be sent?", "It reaches 0 people"),
        Act("press", "🕒 At a date and time", "Type the date and time", "When should it be"),
        Act("text", "2026-12-20 10:00", "Ready to schedule", "Type the date and time"),
        Act("press", "✏️ Place", "For which municipality"),
        Act("press", "All municipalities", "Ready to schedule"),
    ),
    "broadcast-composer",
)

POLL_COMPOSER = Walk(
    "bot.campaigns.polls:WIZARD",
    campaign_steps.composer_admin,
    (
        Act(
            "command",
            "/poll",
            "New poll.",
            "Send the question in Albanian",
            again=(Act("command", "/poll"), Act("press", "▶️ Continue")),
        ),
        Act("text", "A po?", "Now the question in English", "Send the question in Albanian"),
        Act("text", "Yes?", "Send the options", "Now the question in English"),
        Act("text", "Po | Yes\nJo | No", "Preview", "Send the options"),
    ),
    "poll-composer",
)

EVENT_COMPOSER = Walk(
    "bot.campaigns.hearings:WIZARD",
    campaign_steps.composer_admin,
    (
        Act("command", "/event", "New event.", "New event."),
        Act("text", "Forum rinor", "In which municipality?", "New event."),
        Act("press", "Shkodër", "Choose the municipality:", "In which municipality?"),
        Act(
            "press",
            "Municipality of Shkodër",
            "Where exactly?",
            "In which municipality?",
            again=(Act("press", "Shkodër"), Act("press", "Municipality of Shkodër")),
        ),
        Act("text", "Online", "When does it start?", "Where exactly?"),
        Act("text", "2026-12-05 17:00", "Add a short description", "When does it start?"),
        Act("text", "Pyetje.", "Preview", "Add a short description"),
        Act("press", "✏️ When", "When does it start?"),
        Act("text", "2026-12-06 17:00", "6 December 2026, 17:00"),
    ),
    "event-composer",
)

PERSONAL_TEXT = "Please send me my pension file and my certificate."
RTI_BUILDER = Walk(
    "bot.rti.builder:WIZARD",
    english_person,
    (
        Act("command", "/menu", "What would you like to do?"),
        Act("press", "⚖️ Right to information", "Anyone may ask"),
        Act("press", "✍️ Ask for information", "Which authority?", "Which authority?"),
        Act("press", "Shkodër", "Choose the municipality:", "Which authority?"),
        Act("text", "zzzz", "I found no authority", "Choose the municipality:"),
        Act("press", "⬅️ Back", "Choose the municipality:"),
        Act("press", "⬅️ Back", "Which authority?"),
        Act("press", "Other public body", "Choose the public body", "Which authority?"),
        Act("press", "⬅️ Back", "Which authority?"),
        Act("press", "Other municipality", "Type the name", "Which authority?"),
        Act("text", "kurbin", "Here is what I found:", "Type the name of the municipality:"),
        Act(
            "press",
            "Municipality of Kurbin",
            "What information do you want?",
            "Which authority?",
            again=(Act("text", "kurbin"), Act("press", "Municipality of Kurbin")),
        ),
        Act("text", PERSONAL_TEXT, "looks like a personal matter", "What information do you"),
        Act(
            "press",
            "Continue anyway",
            "In what form?",
            "What information do you want?",
            again=(Act("text", PERSONAL_TEXT), Act("press", "Continue anyway")),
        ),
        Act("press", "📄 Paper copy", "Where should the authority", "In what form?"),
        Act("press", "📮 Postal address", "Type your postal address", "Where should the"),
        Act("text", "Rruga e Dibrës 10, Krumë", "Your name and surname", "Type your postal"),
        Act("text", "Besa Gjoni", "Check your request", "Your name and surname"),
    ),
    "rti-builder",
)

REPORT_CARD_ROUND = Walk(
    "bot.reportcards.rounds_admin:WIZARD",
    campaign_steps.composer_admin,
    (
        Act("command", "/reportcards", "Citizen report cards"),
        Act("press", "➕ New round", "Send the round's title", "Send the round's title"),
        Act("text", "Raundi", "title in English", "Send the round's title"),
        Act("text", "Round", "Which services", "title in English"),
        Act("press", "⬜ Street lighting", "Which services"),
        Act("press", "Continue ➡️", "In which municipalities?", "Which services"),
        Act("press", "⬜ Shkodër", "In which municipalities?"),
        Act("press", "Continue ➡️", "When does it open?", "In which municipalities?"),
        Act("press", "Tomorrow", "When does it close?", "When does it open?"),
        Act("press", "2 weeks: until 7 December 2026", "Preview", "When does it close?"),
        Act("press", "✏️ Municipalities", "In which municipalities?"),
        Act("press", "Continue ➡️", "Preview"),
    ),
    "report-card-round",
)

INITIATIVE_EDITOR = Walk(
    "bot.transparency.initiatives_admin:WIZARD",
    campaign_steps.composer_admin,
    (
        Act("command", "/initiatives", "No funded initiatives yet."),
        Act("press", "➕ Add initiative", "In which grant round", "In which grant round"),
        Act("press", "Round 1", "Which organisation", "In which grant round"),
        Act("text", "Qendra Rinore", "In which municipality?", "Which organisation"),
        Act("press", "Kukës", "Choose the municipality:", "In which municipality?"),
        Act(
            "press",
            "Municipality of Has",
            "What is it about?",
            "In which municipality?",
            again=(Act("press", "Kukës"), Act("press", "Municipality of Has")),
        ),
        Act("text", "Buxheti", "When does it start?", "What is it about?"),
        Act("text", "03/2025", "When does it end?", "When does it start?"),
        Act("text", "12/2025", "How large is the grant?", "When does it end?"),
        Act("press", "up to €5,000", "A public link", "How large is the grant?"),
        Act("text", "https://example.org", "Preview", "A public link"),
        Act("press", "✏️ Topic", "What is it about?"),
        Act("text", "Buxheti me pjesëmarrje", "Buxheti me pjesëmarrje"),
    ),
    "initiative-editor",
)

REPORT_CARD_SURVEY = Walk(
    "bot.reportcards.survey:WIZARD",
    survey_steps.at_first_question,
    (
        Act(
            "press",
            "Municipality of Shkodër",
            "Service 1 of 2",
            "Which municipality",
            again=(Act("press", "✔️ Municipality of Shkodër"),),
        ),
        Act("press", "Yes", "Question 1 of 7", "in the last 12 months?", (Act("press", "✔️ Yes"),)),
        Act("press", "4 – good", "Question 2 of 7", "Question 1", (Act("press", "✔️ 4 – good"),)),
        Act("press", "Don't know", "Question 3 of 7", "Question 2 of 7"),
        Act("press", "3 – fair", "Question 4 of 7"),
        Act("press", "5 – very good", "Question 5 of 7"),
        Act(
            "press",
            "The same day",
            "Question 6 of 7",
            "Question 5 of 7",
            again=(Act("press", "✔️ The same day"),),
        ),
        Act("press", "No", "Question 7 of 7", "Question 6 of 7", (Act("press", "✔️ No"),)),
        Act("press", "4 – good", "Service 2 of 2", "Question 7", (Act("press", "✔️ 4 – good"),)),
        Act("press", "No", "One suggestion", "Service 2 of 2", (Act("press", "✔️ No"),)),
        Act("text", "Më shumë kosha", "Your answers", "One suggestion"),
        Act("press", "✏️ Drinking water supply", "Service 1 of 2"),
        Act("press", "No", "Your answers"),
    ),
    "report-card-survey",
)

WALKS = [
    REPORT_SERVICE,
    REPORT_CORRUPTION,
    BROADCAST_COMPOSER,
    POLL_COMPOSER,
    EVENT_COMPOSER,
    RTI_BUILDER,
    REPORT_CARD_ROUND,
    INITIATIVE_EDITOR,
    REPORT_CARD_SURVEY,
]
"""One Walk per wizard (or branch); add yours here (long walks live in your steps module)."""


@pytest.mark.parametrize("walk", WALKS, ids=lambda walk: walk.name or walk.wizard)
async def test_back_at_every_step_never_leaves_the_flow(bot: BotHarness, walk: Walk) -> None:
    wizard = _wizard(walk.wizard)
    person = await walk.setup(bot)
    for act in walk.acts:
        await _do(person, act)
        assert act.expect in (person.last.text or ""), (act, person.last.text)
        if act.back_to is None:
            continue
        if BACK in person.last.labels:
            await person.press(BACK, message=person.last)
        else:
            await person.press_data(f"{wizard.prefix}back", message_id=person.last.message_id)
        assert act.back_to in (person.last.text or ""), ("Back", act, person.last.text)
        assert _state(bot, person, wizard) not in (None, -1), ("Back left the flow", act)
        assert _draft(bot, person, wizard), ("Back lost the draft", act)
        if act.back_to == act.expect:
            continue  # the first step: Back asked it again, nothing to redo
        for redo in act.again or (act,):
            await _do(person, redo)
        assert act.expect in (person.last.text or ""), ("again", act, person.last.text)


# --- the step-id migration ------------------------------------------------------------------


def test_migration_targets_are_declared_steps() -> None:
    """Every id the migration writes is a step (or the resume offer) of the wizard it names."""
    by_name = {wizard.name: wizard for wizard in WIZARDS}
    for name, entry in MIGRATION.STEP_IDS.items():
        wizard = by_name[name]
        known = {step.id for step in wizard.steps} | {wizard.resume_state}
        targets = [v for v in entry["states"].values() if isinstance(v, str)]
        assert set(targets) | set(entry.get("also", {})) <= known, name
        assert entry["draft"] == wizard.draft_key, name


async def _rows(engine: Any) -> dict[tuple[str, str], Any]:
    async with engine.connect() as conn:
        found = await conn.execute(text("SELECT kind, key, data FROM bot_state"))
        return {
            (kind, key): json.loads(data) if isinstance(data, str) else data
            for kind, key, data in found
        }


@pytest.mark.parametrize("backend", backends())
async def test_migration_converts_stored_states_and_drafts(backend: str, tmp_path: Path) -> None:
    engine = create_engine(await fresh_database(backend, tmp_path))
    now = datetime(2026, 12, 1, tzinfo=UTC)
    rows = [
        ("conv", "report:[5001, 5001]", {"state": 2}),
        ("user_data", "5001", {"report_draft": {"kind": "service", "step": 2}, "x": 1}),
        ("conv", "report:[5002, 5002]", {"state": 0}),
        ("user_data", "5002", {"report_draft": {"kind": "corruption", "files": []}}),
        ("conv", "report:[5003, 5003]", {"state": 99}),
        ("user_data", "5003", {"report_draft": {"kind": "service", "step": 99}}),
        ("conv", "report:[5004, 5004]", {"state": 0}),
        ("user_data", "5004", {"report_draft": {"kind": "service", "step": 10}}),
        ("conv", "other_flow:[5001, 5001]", {"state": 3}),
        ("conv", "poll_composer:[5005, 5005]", {"state": 2}),
        ("user_data", "5005", {"poll_draft": {"question_sq": "A?", "question_en": "Q?"}}),
        ("conv", "broadcast_composer:[5006, 5006]", {"state": 4}),
        ("user_data", "5006", {"broadcast_draft": {"sq": "Tekst", "buttons": []}}),
        ("conv", "rti_builder:[5007, 5007]", {"state": 0}),
        ("user_data", "5007", {"rti_draft": {"authority_id": 1}}),
    ]
    try:
        await migrate.upgrade(engine, "0014_revocations_by_telegram_id")
        async with engine.begin() as conn:
            for kind, key, data in rows:
                await conn.execute(
                    text(
                        "INSERT INTO bot_state (kind, key, data, updated_at) "
                        "VALUES (:kind, :key, :data, :now)"
                    ),
                    {"kind": kind, "key": key, "data": json.dumps(data), "now": now},
                )
        await migrate.upgrade(engine)
        after = await _rows(engine)
        assert after[("conv", "report:[5001, 5001]")] == {"state": "report.unit"}
        assert after[("user_data", "5001")] == {
            "report_draft": {"kind": "service", "step": "report.unit"},
            "x": 1,
        }
        assert after[("conv", "report:[5002, 5002]")] == {"state": "report.safety"}
        assert after[("conv", "report:[5004, 5004]")] == {"state": "report.resume"}
        assert after[("user_data", "5004")]["report_draft"]["step"] == "report.preview"
        assert ("conv", "report:[5003, 5003]") not in after, "an unknown number: asked again"
        assert after[("user_data", "5003")] == {"report_draft": {"kind": "service"}}
        assert after[("conv", "other_flow:[5001, 5001]")] == {"state": 3}, "others untouched"
        assert after[("user_data", "5005")]["poll_draft"] == {
            "question_sq": "A?",
            "question_en": "Q?",
            "step": "poll.options",
        }, "a composer draft without a step gets its conversation's"
        assert after[("user_data", "5006")]["broadcast_draft"]["step"] == "broadcast.topics"
        assert after[("user_data", "5002")]["report_draft"]["step"] == "report.safety"
        assert after[("conv", "rti_builder:[5007, 5007]")] == {"state": "rti_builder.resume"}
        assert after[("user_data", "5007")] == {"rti_draft": {"authority_id": 1}}, (
            "the resume offer is not a step"
        )

        await migrate.downgrade(engine, "0014_revocations_by_telegram_id")
        back = await _rows(engine)
        assert back[("conv", "report:[5001, 5001]")] == {"state": 2}
        assert back[("user_data", "5001")]["report_draft"]["step"] == 2
        assert back[("conv", "report:[5002, 5002]")] == {"state": 0}
        assert back[("conv", "report:[5004, 5004]")] == {"state": 0}
        assert back[("user_data", "5004")]["report_draft"]["step"] == 10
        assert back[("conv", "poll_composer:[5005, 5005]")] == {"state": 2}
    finally:
        await engine.dispose()

"""The wizard kernel: a one-question-at-a-time flow declared once, its plumbing written once.

A wizard is a list of `Step`s. Each step has a string id ("report.unit"), a question (a function
of the context and the draft that returns a `Question`: text and button rows), what it accepts
(`OnButton`, `OnText`, `OnMessage` for media or a location), whether it may be skipped, where
Back goes, and optional sub-screens (`Screen`: a region's municipalities, search results). The
kernel builds the ConversationHandler (states are the step ids) and does the rest the same way for
every wizard:

* the draft lives in ``user_data[wizard.draft_key]``, with ``"step"`` the current step id and
  ``"screens"`` the stack of sub-screens shown on it (both JSON, persisted between restarts);
* starting again while a draft exists asks "Continue where you stopped?";
* Back goes exactly one screen back: from a sub-screen to the screen before it, from a step's
  question to the previous step (`Step.back`, by default the previous step of the draft's branch);
  on the first step there is no Back button and a stale one asks the first question again;
  Back never leaves the flow;
* Skip on optional steps (the step's `keys` are dropped from the draft);
* Edit from the preview ("<prefix>edit:<step key>") asks that step and, once answered, returns to
  the preview; a preview with an answer missing asks the first missing step instead;
* one wrong-input answer per step ("Please use the buttons above." or the step's own `hint`),
  which changes nothing;
* Cancel ("<prefix>cancel") and /cancel, /menu, /start leave (bot/kit/flow.py).

Answer handlers return a `Move`: `NEXT` (the answer is in the draft: go on, or back to the
preview when editing), `STAY` (the handler replied; same step), `retry(text)`, `goto(step_id)`,
`show(screen, arg)` (push a sub-screen) or `END` (the handler finished the flow and replied).
`diagram(wizard)` renders the Mermaid diagram committed next to the wizard's module
(scripts/diagrams.py writes them; a test compares).
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import KeyboardButton, Message, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.ext.filters import BaseFilter

from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.kit import answers, flow
from bot.kit.ui import Button, answer, close_buttons, edit_or_send, keyboard, send

STEP, SCREENS, EDITING = "step", "screens", "editing"
"""Draft keys the kernel owns: the current step id, the sub-screen stack, "return to preview"."""
REPLY_KEYBOARD = "reply_keyboard"
"""Draft key: a step's reply keyboard is open; holds what to say when it is closed unused."""
RESUME = "resume"
"""Suffix of the resume offer's state id ("<wizard>.resume")."""


# --- what a step shows and what a handler answers -----------------------------------------------


@dataclass(frozen=True)
class ReplyKeys:
    """A reply keyboard under the input field (e.g. "📍 Send my location"), one-time.

    Sent with `text` just before the question (a message carries one keyboard only). The
    handler that takes its answer closes it (`Wizard.release`); leaving the step otherwise
    closes it with `closed` ("📍 No location sent.").
    """

    text: str
    buttons: Sequence[Sequence[KeyboardButton]]
    closed: str


@dataclass(frozen=True)
class Question:
    """A rendered question: HTML text and button rows (the kernel adds Skip, Back and Cancel)."""

    text: str
    rows: Sequence[Sequence[Button]] = ()
    keys: ReplyKeys | None = None


class MoveKind(enum.StrEnum):
    """The kinds of move a handler can ask for."""

    NEXT = "next"
    STAY = "stay"
    END = "end"
    REDRAW = "redraw"
    RETRY = "retry"
    GOTO = "goto"
    SHOW = "show"


@dataclass(frozen=True)
class Move:
    """What a handler asks the kernel to do next (use the constants and functions below)."""

    kind: MoveKind
    target: str | None = None
    arg: Any = None
    text: str | None = None
    editing: bool = False
    on: str | None = None


NEXT = Move(MoveKind.NEXT)
"""The answer is stored: the next step of the branch, or the preview when editing."""
STAY = Move(MoveKind.STAY)
"""Stay on this step and screen (the handler has replied)."""
END = Move(MoveKind.END)
"""The flow is over (the handler replied and dropped or stored the draft)."""
REDRAW = Move(MoveKind.REDRAW)
"""Show the current screen again in place, editing the pressed message (toggles, counts)."""


def retry(text: str) -> Move:
    """Say why the answer was not taken and stay (nothing is lost)."""
    return Move(MoveKind.RETRY, text=text)


def goto(step_id: str, editing: bool = False) -> Move:
    """Ask another step; with `editing`, return to the preview once it is answered."""
    return Move(MoveKind.GOTO, target=step_id, editing=editing)


def show(screen: str, arg: Any = None, on: str | None = None) -> Move:
    """Show a sub-screen (Back returns to the screen shown before it).

    Of this step, or with `on` of another step, shown over that step's question (Back from it
    asks that step's question).
    """
    return Move(MoveKind.SHOW, target=screen, arg=arg, on=on)


def screen_arg(draft: dict) -> Any:
    """The argument of the sub-screen on top (None when the step's question is shown)."""
    stack = draft.get(SCREENS) or []
    return stack[-1].get("arg") if stack else None


Render = Callable[[PactContext, dict], Awaitable[Question]]
"""A step's question from the context (Translator: ``context.t``) and the draft."""
ScreenRender = Callable[[PactContext, dict, Any], Awaitable[Question]]
"""A sub-screen from the context, the draft and the argument `show` gave it (JSON)."""
ButtonHandler = Callable[[Update, PactContext, dict, str], Awaitable[Move]]
"""A press: update, context, draft, and the data after the button's own prefix."""
TextHandler = Callable[[Update, PactContext, dict, str], Awaitable[Move]]
"""Typed text (trimmed): update, context, draft, text."""
MessageHandlerFn = Callable[[Update, PactContext, dict, Message], Awaitable[Move]]
"""A photo, document, voice note, location...: update, context, draft, the message."""


def text_answer(limit: int, key: str) -> TextHandler:
    """Typed text of at most `limit` characters stored under `key`; empty or too long is asked
    again with a translated reason."""

    async def typed(update: Update, context: PactContext, draft: dict, text: str) -> Move:
        t = context.t
        if not text:
            return retry(t.gettext("Please type your answer as text."))
        if len(text) > limit:
            return retry(
                t.gettext("That is longer than {limit} characters. Please shorten it.", limit=limit)
            )
        draft[key] = text
        return NEXT

    return typed


@dataclass(frozen=True)
class OnButton:
    """Buttons whose data is "<wizard prefix><key>" (exact) or starts with it (`exact=False`).

    The kernel answers the press first unless `answer=False` (the handler answers with a toast).
    """

    key: str
    handle: ButtonHandler
    exact: bool = True
    answer: bool = True


@dataclass(frozen=True)
class OnText:
    """Typed text; the handler validates it and returns `retry(...)` when it is not usable."""

    handle: TextHandler


@dataclass(frozen=True)
class OnMessage:
    """Any other message a filter accepts (filters.PHOTO, filters.VOICE, filters.LOCATION...)."""

    filter: BaseFilter
    handle: MessageHandlerFn


Accept = OnButton | OnText | OnMessage


@dataclass(frozen=True)
class Screen:
    """A sub-screen of a step; `label` names it in the diagram."""

    name: str
    render: ScreenRender
    label: str = ""


@dataclass(frozen=True)
class Step:
    """One question of a wizard, declared once.

    `keys`: the draft keys that answer it (any one set counts; Skip drops them all; no keys:
    nothing to answer, e.g. a note with a Continue button). `back`: where Back goes, from the
    draft (None: the previous step of the branch). `hint`: the wrong-input answer (default:
    "Please type your answer as text." for text steps, "Please use the buttons above." else).
    `on_edit`: run when Edit is pressed on the preview, before the question. `label` (what
    moves on) and `goes` ({step id: label}, other ways out) are for the diagram only.
    """

    id: str
    ask: Render
    accepts: tuple[Accept, ...] = ()
    keys: tuple[str, ...] = ()
    optional: bool = False
    back: Callable[[dict], str | None] | None = None
    screens: tuple[Screen, ...] = ()
    hint: Callable[[Translator], str] | None = None
    on_edit: Callable[[PactContext, dict], None] | None = None
    label: str = ""
    goes: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        """The short key in Edit buttons: the id after its last dot ("report.unit" → "unit")."""
        return self.id.rsplit(".", 1)[-1]

    def answered(self, draft: dict) -> bool:
        """Whether the draft holds an answer (always, for a step with no keys)."""
        return not self.keys or any(draft.get(key) not in (None, "", []) for key in self.keys)

    def screen(self, name: str) -> Screen | None:
        """A sub-screen by name."""
        return next((screen for screen in self.screens if screen.name == name), None)


Greet = Callable[[Update, PactContext, dict], Awaitable[None]]
Admit = Callable[[Update, PactContext], Awaitable[bool]]
"""Whether the person may enter; when not, it has replied why (and the flow does not start)."""


@dataclass(frozen=True)
class Entry:
    """A way into the wizard: a button (exact data) or a command.

    `fresh` makes a new draft; `matches` tells whether an existing draft belongs to this entry
    (then the person is asked whether to continue it); `greet` sends notes before the first
    question of a new draft; `admit`, checked first, may refuse entry (it replies why).
    """

    fresh: Callable[[PactContext], dict]
    button: str | None = None
    command: str | None = None
    matches: Callable[[dict], bool] = lambda draft: True
    greet: Greet | None = None
    label: str = ""
    admit: Admit | None = None


@dataclass(frozen=True)
class Wizard:
    """A whole wizard: its steps, their order per branch, its entries and its preview.

    `name` is the persistent conversation's name; `prefix` starts every button's data ("rp:");
    `branches` maps a branch name to its step ids in order (each ends with `preview`);
    `branch_of` picks the draft's branch. Steps outside every branch (e.g. a question after the
    preview) are reached with `goto` and declare their `back`. `handlers` adds plain
    ConversationHandler handlers to a state (rarely needed). `title` heads the diagram;
    `discarded` is what Cancel and /cancel say they dropped.
    """

    name: str
    prefix: str
    draft_key: str
    steps: tuple[Step, ...]
    branches: Mapping[str, tuple[str, ...]]
    branch_of: Callable[[dict], str]
    entries: tuple[Entry, ...]
    preview: str
    resume_text: Callable[[Translator], str]
    title: str = ""
    discarded: Callable[[Translator], str] | None = None
    """What Cancel and /cancel say they discarded ("Your draft report was discarded.")."""

    def __post_init__(self) -> None:
        """Tell /cancel what this wizard's draft is called."""
        if self.discarded is not None:
            answers.DISCARDED[self.draft_key] = self.discarded

    # --- lookups ---------------------------------------------------------------------------

    @property
    def resume_state(self) -> str:
        """The state of the "Continue where you stopped?" offer."""
        return f"{self.name}.{RESUME}"

    def step(self, step_id: str | None) -> Step | None:
        """A step by id (None for unknown ids, e.g. an old integer)."""
        return next((step for step in self.steps if step.id == step_id), None)

    def order(self, draft: dict) -> tuple[str, ...]:
        """The step ids of the draft's branch, in order."""
        return self.branches[self.branch_of(draft)]

    def first(self, draft: dict) -> str:
        """The first step of the draft's branch."""
        return self.order(draft)[0]

    def draft(self, context: PactContext) -> dict:
        """The draft (created empty when missing)."""
        return context.user_data.setdefault(self.draft_key, {})

    def drop(self, context: PactContext) -> dict | None:
        """Forget the draft (after sending, or when the person starts again); returns it."""
        return context.user_data.pop(self.draft_key, None)

    def previous(self, draft: dict, step_id: str) -> str | None:
        """Where Back goes from a step's question: its own rule or the branch's previous step."""
        step = self.step(step_id)
        if step is not None and step.back is not None:
            return step.back(draft)
        order = self.order(draft)
        if step_id not in order or order.index(step_id) == 0:
            return None
        return order[order.index(step_id) - 1]

    def first_missing(self, draft: dict) -> str | None:
        """The first required step before the preview without an answer, or None."""
        for step_id in self.order(draft):
            step = self.step(step_id)
            if step_id == self.preview or step is None:
                break
            if not step.optional and not step.answered(draft):
                return step_id
        return None

    def edit_button(self, label: str, step_id: str) -> Button:
        """A preview button that edits one step: data carries the step's key, never a number."""
        step = self.step(step_id)
        assert step is not None, step_id
        return (label, f"{self.prefix}edit:{step.key}")

    # --- the kernel's moves ---------------------------------------------------------------

    async def ask(self, update: Update, context: PactContext, step_id: str) -> str:
        """Ask a step's question (the preview first checks that nothing is missing)."""
        draft = self.draft(context)
        if step_id == self.preview:
            missing = self.first_missing(draft)
            if missing is not None:
                draft[EDITING] = True  # once answered, back to the preview (which checks again)
                step_id = missing
            else:
                draft.pop(EDITING, None)
        step = self.step(step_id) or self.step(self.first(draft))
        assert step is not None
        if REPLY_KEYBOARD in draft and draft.get(STEP) != step.id:
            await send(update, context, draft.pop(REPLY_KEYBOARD), ReplyKeyboardRemove())
        draft[STEP] = step.id
        draft.pop(SCREENS, None)
        question = await step.ask(context, draft)
        await self._send(update, context, step, question, on_screen=False)
        return step.id

    async def _show(
        self, update: Update, context: PactContext, step: Step, in_place: bool = False
    ) -> str:
        """Render the screen on top of the step's stack (its question when the stack is empty)."""
        draft = self.draft(context)
        stack = draft.get(SCREENS) or []
        screen = step.screen(stack[-1]["name"]) if stack else None
        if screen is None and not in_place:
            return await self.ask(update, context, step.id)
        if screen is None:
            question = await step.ask(context, draft)
        else:
            question = await screen.render(context, draft, stack[-1].get("arg"))
        await self._send(update, context, step, question, screen is not None, in_place)
        return step.id

    async def _send(
        self,
        update: Update,
        context: PactContext,
        step: Step,
        question: Question,
        on_screen: bool,
        in_place: bool = False,
    ) -> None:
        """The question with Skip (optional steps), Back (unless first) and Cancel under it."""
        t = context.t
        rows = [list(row) for row in question.rows]
        if step.optional and not on_screen:
            rows.append([(t.gettext("Skip"), f"{self.prefix}skip")])
        nav: list[Button] = []
        if on_screen or self.previous(self.draft(context), step.id) is not None:
            nav.append((t.gettext("⬅️ Back"), f"{self.prefix}back"))
        nav.append((t.gettext("✖️ Cancel"), f"{self.prefix}cancel"))
        rows.append(nav)
        if question.keys is not None and not on_screen and in_place:
            await close_buttons(update)  # a reply keyboard comes with a new message only
            in_place = False
        if question.keys is not None and not on_screen and not in_place:
            keys = question.keys
            markup = ReplyKeyboardMarkup(keys.buttons, resize_keyboard=True, one_time_keyboard=True)
            await send(update, context, keys.text, markup)
            self.draft(context)[REPLY_KEYBOARD] = str(keys.closed)
        reply = edit_or_send if in_place else send
        await reply(update, context, question.text, keyboard(*rows))

    def release(self, context: PactContext) -> ReplyKeyboardRemove | None:
        """For the message that takes a step's reply-keyboard answer: the keyboard's removal."""
        draft = context.user_data.get(self.draft_key) or {}
        return ReplyKeyboardRemove() if draft.pop(REPLY_KEYBOARD, None) is not None else None

    async def _next(self, update: Update, context: PactContext, step_id: str) -> str:
        """After an answer: the preview when editing, else the following step of the branch."""
        draft = self.draft(context)
        if draft.pop(EDITING, None):
            return await self.ask(update, context, self.preview)
        order = self.order(draft)
        if step_id not in order or step_id == order[-1]:
            return await self.ask(update, context, self.preview)
        return await self.ask(update, context, order[order.index(step_id) + 1])

    async def apply(self, update: Update, context: PactContext, step: Step, move: Move) -> object:
        """Carry out a handler's move; returns the conversation's next state."""
        if move.kind is MoveKind.END:
            return ConversationHandler.END
        draft = self.draft(context)
        if move.kind is MoveKind.NEXT:
            draft.pop(SCREENS, None)
            return await self._next(update, context, step.id)
        if move.kind is MoveKind.GOTO:
            if move.editing:
                draft[EDITING] = True
            return await self.ask(update, context, move.target or step.id)
        if move.kind is MoveKind.SHOW:
            if move.on is not None and move.on != step.id:
                step = self.step(move.on) or step
                draft[STEP], draft[SCREENS] = step.id, []
            stack = draft.setdefault(SCREENS, [])
            stack.append({"name": move.target, "arg": move.arg})
            return await self._show(update, context, step)
        if move.kind is MoveKind.REDRAW:
            return await self._show(update, context, step, in_place=True)
        if move.kind is MoveKind.RETRY and move.text:
            await send(update, context, move.text)
        return step.id

    # --- handlers the kernel adds to every step -------------------------------------------

    def _current(self, context: PactContext) -> Step:
        """The step the draft is at (the branch's first for a draft without a known step)."""
        draft = self.draft(context)
        step = self.step(draft.get(STEP)) or self.step(self.first(draft))
        assert step is not None
        return step

    async def _back(self, update: Update, context: PactContext) -> object:
        """One screen back; on the first step's question, ask it again. Never leaves."""
        await answer(update)
        draft = self.draft(context)
        step = self._current(context)
        stack = draft.get(SCREENS) or []
        if stack:  # still on the step being edited: it returns to the preview once answered
            stack.pop()  # the screen turns back into the one before it: no header left behind
            return await self._show(update, context, step, in_place=True)
        await close_buttons(update)
        draft.pop(EDITING, None)
        target = self.previous(draft, step.id)
        return await self.ask(update, context, target or step.id)

    async def _skip(self, update: Update, context: PactContext) -> object:
        """Skip an optional step (its answer is dropped); a stale Skip asks the step again."""
        await answer(update)
        await close_buttons(update)
        draft = self.draft(context)
        step = self._current(context)
        if not step.optional:
            return await self.ask(update, context, step.id)
        for key in step.keys:
            draft.pop(key, None)
        draft.pop(SCREENS, None)
        return await self._next(update, context, step.id)

    async def _edit(self, update: Update, context: PactContext) -> object:
        """Edit one answer from the preview, then come back to it."""
        query = await answer(update)
        await close_buttons(update)
        draft = self.draft(context)
        key = (query.data or "").removeprefix(f"{self.prefix}edit:")
        order = self.order(draft)
        step = next((s for s in self.steps if s.key == key and s.id in order), None)
        if step is None or step.id == self.preview:
            return await self.ask(update, context, self.preview)
        if step.on_edit is not None:
            step.on_edit(context, draft)
        draft[EDITING] = True
        return await self.ask(update, context, step.id)

    async def _wrong_input(self, update: Update, context: PactContext) -> object:
        """Input the step does not take: its one hint; nothing changes."""
        step = self._current(context)
        t = context.t
        if step.hint is not None:
            text = step.hint(t)
        elif any(isinstance(accept, OnText) for accept in step.accepts):
            text = t.gettext("Please type your answer as text.")
        else:
            text = t.gettext("Please use the buttons above.")
        await send(update, context, text)
        return step.id

    def _button(self, step: Step, accept: OnButton) -> CallbackQueryHandler:
        async def pressed(update: Update, context: PactContext) -> object:
            query = update.callback_query
            assert query is not None
            if accept.answer:
                await answer(update)
            value = (query.data or "").removeprefix(self.prefix + accept.key)
            move = await accept.handle(update, context, self.draft(context), value)
            return await self.apply(update, context, step, move)

        end = "$" if accept.exact else ""
        return CallbackQueryHandler(pressed, pattern=f"^{re.escape(self.prefix + accept.key)}{end}")

    def _text(self, step: Step, accept: OnText) -> MessageHandler:
        async def typed(update: Update, context: PactContext) -> object:
            text = flow.typed_text(update)
            move = await accept.handle(update, context, self.draft(context), text)
            return await self.apply(update, context, step, move)

        return MessageHandler(filters.TEXT & ~filters.COMMAND, typed)

    def _message(self, step: Step, accept: OnMessage) -> MessageHandler:
        async def received(update: Update, context: PactContext) -> object:
            message = update.effective_message
            assert message is not None
            move = await accept.handle(update, context, self.draft(context), message)
            return await self.apply(update, context, step, move)

        return MessageHandler(accept.filter & ~filters.COMMAND, received)

    def _step_handlers(self, step: Step) -> list[BaseHandler]:
        """A step's own answers (media before text), then Back, Skip, Edit, Cancel, wrong input."""
        own: list[BaseHandler] = []
        for accept in step.accepts:
            if isinstance(accept, OnButton):
                own.append(self._button(step, accept))
        own += [self._message(step, a) for a in step.accepts if isinstance(a, OnMessage)]
        own += [self._text(step, a) for a in step.accepts if isinstance(a, OnText)]
        kernel: list[BaseHandler] = [
            CallbackQueryHandler(self._back, pattern=f"^{re.escape(self.prefix)}back$"),
            CallbackQueryHandler(self._skip, pattern=f"^{re.escape(self.prefix)}skip$"),
            CallbackQueryHandler(flow.cancel_button, pattern=f"^{re.escape(self.prefix)}cancel$"),
        ]
        if step.id == self.preview:
            kernel.append(
                CallbackQueryHandler(self._edit, pattern=f"^{re.escape(self.prefix)}edit:")
            )
        anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
        return [*own, *kernel, MessageHandler(anything, self._wrong_input)]

    # --- entries and the resume offer -----------------------------------------------------

    def _entry(self, entry: Entry) -> BaseHandler:
        async def begin(update: Update, context: PactContext) -> object:
            if update.callback_query is not None:
                await answer(update)
            if entry.admit is not None and not await entry.admit(update, context):
                return ConversationHandler.END
            draft = context.user_data.get(self.draft_key)
            if draft and entry.matches(draft):
                t = context.t
                await send(
                    update,
                    context,
                    self.resume_text(t),
                    keyboard(
                        [
                            (t.gettext("▶️ Continue"), f"{self.prefix}resume"),
                            (t.gettext("🔄 Start again"), f"{self.prefix}restart"),
                        ]
                    ),
                )
                return self.resume_state
            return await self._begin(update, context, entry)

        if entry.button is not None:
            return CallbackQueryHandler(begin, pattern=f"^{re.escape(entry.button)}$")
        assert entry.command is not None
        return CommandHandler(entry.command, begin, filters=filters.ChatType.PRIVATE)

    async def _begin(self, update: Update, context: PactContext, entry: Entry) -> str:
        """A new draft: the entry's notes, then the first question."""
        draft = entry.fresh(context)
        context.user_data[self.draft_key] = draft
        if entry.greet is not None:
            await entry.greet(update, context, draft)
        return await self.ask(update, context, self.first(draft))

    async def _resume(self, update: Update, context: PactContext) -> object:
        """Continue at the saved step."""
        await answer(update)
        await close_buttons(update)
        draft = self.draft(context)
        step = self.step(draft.get(STEP))
        return await self.ask(update, context, step.id if step else self.first(draft))

    async def _restart(self, update: Update, context: PactContext) -> object:
        """Drop the draft and begin again through the entry it came from."""
        await answer(update)
        await close_buttons(update)
        old = self.drop(context) or {}
        entry = next((e for e in self.entries if e.matches(old)), self.entries[0])
        return await self._begin(update, context, entry)

    def conversation(self) -> ConversationHandler:
        """The persistent ConversationHandler: one state per step id, plus the resume offer."""
        anything = ~filters.COMMAND & ~filters.StatusUpdate.ALL
        states: dict[object, list[BaseHandler]] = {
            self.resume_state: [
                CallbackQueryHandler(self._resume, pattern=f"^{re.escape(self.prefix)}resume$"),
                CallbackQueryHandler(self._restart, pattern=f"^{re.escape(self.prefix)}restart$"),
                CallbackQueryHandler(
                    flow.cancel_button, pattern=f"^{re.escape(self.prefix)}cancel$"
                ),
                MessageHandler(anything, self._wrong_input_resume),
            ]
        }
        for step in self.steps:
            states[step.id] = self._step_handlers(step)
        return ConversationHandler(
            name=self.name,
            persistent=True,
            allow_reentry=True,
            entry_points=[self._entry(entry) for entry in self.entries],
            states=states,
            fallbacks=flow.exits(),
        )

    async def _wrong_input_resume(self, update: Update, context: PactContext) -> object:
        """Input while the resume offer waits: use its buttons."""
        await send(update, context, context.t.gettext("Please use the buttons above."))
        return self.resume_state


# --- the diagram --------------------------------------------------------------------------


def _node(step_id: str) -> str:
    """A Mermaid state id for a step id (dots are not allowed there)."""
    return re.sub(r"\W", "_", step_id)


def diagram(wizard: Wizard) -> str:
    """The Mermaid state diagram of a wizard, generated from its declarations."""
    lines = [f"%% {line}" for line in (wizard.title or wizard.name).splitlines()]
    lines += [
        "%% Generated from the declarations by scripts/diagrams.py: do not edit.",
        "%% Every step has Back (one screen back, never out of the flow; none on the first",
        "%% step) and Cancel; /cancel, /menu, /start leave. Wrong input gets one hint.",
        "stateDiagram-v2",
    ]
    for step in wizard.steps:
        lines.append(f"    {_node(step.id)}: {step.id}" + (" (optional)" if step.optional else ""))
    lines.append(
        f"    {_node(wizard.resume_state)}: Continue where you stopped? (at the saved step)"
    )
    edges: list[str] = []

    def edge(source: str, target: str, label: str = "") -> None:
        text = f"    {source} --> {target}" + (f": {label}" if label else "")
        if text not in edges:
            edges.append(text)

    for entry in wizard.entries:
        trigger = entry.button or f"/{entry.command}"
        edge("[*]", _node(wizard.resume_state), f"{entry.label or trigger}, with a draft")
    for branch, order in wizard.branches.items():
        edge("[*]", _node(order[0]), branch)
        edge(_node(wizard.resume_state), _node(order[0]), f"start again ({branch})")
        for before, after in itertools.pairwise(order):
            step = wizard.step(before)
            label = step.label if step and step.label else ""
            edge(_node(before), _node(after), label)
    for step in wizard.steps:
        for target, label in step.goes.items():
            edge(_node(step.id), _node(target) if target != "[*]" else "[*]", label)
        for screen in step.screens:
            node = f"{_node(step.id)}__{screen.name}"
            edge(_node(step.id), node, screen.label or screen.name)
            edge(node, _node(step.id), "Back")
    edges.append(
        f"    note right of {_node(wizard.preview)}: Edit asks that step, then returns here;"
        " a missing answer is asked first"
    )
    return "\n".join(lines + edges) + "\n"

"""Wizard steps by name: stored conversation states and draft steps become string step ids.

The wizards moved onto the kernel in bot/kit/wizard.py, whose steps are named ("report.unit")
instead of numbered (range(n)), so inserting a step no longer re-points saved conversations. The
conversations in progress at upgrade time resume: in ``bot_state`` every conversation row
(kind "conv", key "<name>:[chat, user]", data {"state": <int>}) of a wizard named in STEP_IDS
gets its new state id, and every person's draft (kind "user_data", data {<draft key>: {...}})
gets its "step" converted the same way; a draft with no "step" (the poll and broadcast composers
kept none) gets the step its conversation row was converted to (not the resume offer). A number
with no entry drops the conversation row (the person starts that flow again, the draft kept) or
the draft's step (the first question is asked).
Downgrade maps the ids back to their numbers.

To add a wizard, add one entry to STEP_IDS, keyed by the ConversationHandler's name:

    "rti_builder": {
        "draft": "rti_draft",                          # the draft's user_data key
        "states": {0: "rti_builder.resume", 1: "rti.authority", ...},   # old number: new id
    },

A value in "states" may instead be a function of the person's draft (a dict, {} when none) that
returns the id, for a number whose meaning depended on the draft; list the ids such a function
returns under "also" ({id: old number}, the resume state too) so the downgrade can map
them back.

Revision ID: 0015_wizard_step_ids
Revises: 0014_revocations_by_telegram_id
Create Date: 2026-12-02 10:00:00.000000
"""

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0015_wizard_step_ids"
down_revision: str | None = "0014_revocations_by_telegram_id"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _report_resume(draft: dict) -> str:
    """Old 0 was the resume offer, or the corruption safety notes before any step was asked."""
    if draft.get("kind") == "corruption" and "step" not in draft:
        return "report.safety"
    return "report.resume"


STEP_IDS: dict[str, dict[str, Any]] = {
    "report": {
        "draft": "report_draft",
        "states": {
            0: _report_resume,
            1: "report.municipality",
            2: "report.unit",
            3: "report.category",
            4: "report.institution",
            5: "report.description",
            6: "report.when",
            7: "report.location",
            8: "report.files",
            9: "report.identity",
            10: "report.preview",
            11: "report.similar",
        },
        "also": {"report.resume": 0, "report.safety": 0},
    },
    "broadcast_composer": {
        "draft": "broadcast_draft",
        "states": {
            0: "broadcast.sq",
            1: "broadcast.en",
            2: "broadcast.buttons",
            3: "broadcast.link",
            4: "broadcast.topics",
            5: "broadcast.place",
            6: "broadcast.audience",
            7: "broadcast.when",
            8: "broadcast.moment",
            9: "broadcast.confirm",
        },
    },
    "poll_composer": {
        "draft": "poll_draft",
        "states": {
            0: "poll.question_sq",
            1: "poll.question_en",
            2: "poll.options",
            3: "poll.preview",
        },
    },
    "event_composer": {
        "draft": "event_draft",
        "states": {
            0: "event.title",
            1: "event.town",
            2: "event.place",
            3: "event.when",
            4: "event.description",
            5: "event.preview",
        },
    },
    "rti_builder": {
        "draft": "rti_draft",
        "states": {
            0: "rti_builder.resume",
            1: "rti.authority",
            2: "rti.information",
            3: "rti.information",  # the personal-matter warning: its buttons work on the step
            4: "rti.format",
            5: "rti.channel",
            6: "rti.address",
            7: "rti.name",
            8: "rti.preview",
        },
        "also": {"rti.information": 2},
    },
}
"""Conversation name → its draft key and {old number: new step id} (see the module docstring)."""

CONVERSATION, USER_DATA = "conv", "user_data"

bot_state = sa.table(
    "bot_state",
    sa.column("kind", sa.String),
    sa.column("key", sa.String),
    sa.column("data", sa.JSON),
)


def _forward(states: Mapping[int, Any], number: object, draft: dict) -> str | None:
    """The new id of an old number (None when it has none or is not a number)."""
    if not isinstance(number, int) or isinstance(number, bool):
        return None
    target = states.get(number)
    return target(draft) if callable(target) else target


def _backward(entry: Mapping[str, Any]) -> Callable[[object, dict], int | None]:
    """A new id's old number (None when it has none)."""
    numbers = {value: number for number, value in entry["states"].items() if isinstance(value, str)}
    numbers.update(entry.get("also", {}))
    return lambda step, draft: numbers.get(step) if isinstance(step, str) else None


def _user_of(key: str) -> str | None:
    """The Telegram user of a conversation row's key "<name>:[chat, user]"."""
    try:
        parts = json.loads(key.split(":", 1)[1])
    except (IndexError, ValueError):
        return None
    return str(parts[1] if len(parts) >= 2 else parts[0]) if parts else None


def _convert(
    forward: bool,
) -> None:
    """Rewrite conversation states and draft steps of every wizard in STEP_IDS."""
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(bot_state.c.kind, bot_state.c.key, bot_state.c.data).where(
            bot_state.c.kind.in_([CONVERSATION, USER_DATA])
        )
    ).all()
    user_data = {row.key: row.data for row in rows if row.kind == USER_DATA}
    reached: dict[tuple[str, str], str] = {}  # (user, conversation name): its new step id
    for row in rows:
        if row.kind != CONVERSATION or not isinstance(row.data, dict):
            continue
        name = row.key.split(":", 1)[0]
        entry = STEP_IDS.get(name)
        if entry is None:
            continue
        user = _user_of(row.key) or ""
        person = user_data.get(user) or {}
        draft = person.get(entry["draft"]) if isinstance(person, dict) else None
        draft = draft if isinstance(draft, dict) else {}
        state = row.data.get("state")
        new = _forward(entry["states"], state, draft) if forward else _backward(entry)(state, draft)
        where = (bot_state.c.kind == row.kind) & (bot_state.c.key == row.key)
        if new is None:
            connection.execute(sa.delete(bot_state).where(where))
        else:
            connection.execute(sa.update(bot_state).where(where).values(data={"state": new}))
            if forward and new != f"{name}.resume":
                reached[(user, name)] = new
    for key, data in user_data.items():
        if not isinstance(data, dict):
            continue
        changed = dict(data)
        for name, entry in STEP_IDS.items():
            draft = changed.get(entry["draft"])
            if not isinstance(draft, dict):
                continue
            draft = dict(draft)
            if "step" in draft:
                step = (
                    _forward(entry["states"], draft["step"], draft)
                    if forward
                    else _backward(entry)(draft["step"], draft)
                )
                if step is None:
                    draft.pop("step")
                else:
                    draft["step"] = step
                draft.pop("screens", None)
            elif (key, name) in reached:
                # Composers before the kernel kept no step in the draft: the conversation's.
                draft["step"] = reached[(key, name)]
            else:
                continue
            changed[entry["draft"]] = draft
        if changed != data:
            where = (bot_state.c.kind == USER_DATA) & (bot_state.c.key == key)
            connection.execute(sa.update(bot_state).where(where).values(data=changed))


def upgrade() -> None:
    """Numbers to step ids."""
    _convert(forward=True)


def downgrade() -> None:
    """Step ids back to numbers."""
    _convert(forward=False)

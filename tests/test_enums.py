"""Statuses, kinds and roles are enums: stored as their value in a VARCHAR, read back as members,
and never compared with a bare string in bot/."""

from __future__ import annotations

import ast
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Enum, select, text
from sqlalchemy.exc import StatementError

from db.base import Base
from db.engine import create_engine, create_sessionmaker
from db.models import OutboxKind, OutboxMessage, OutboxStatus, Role, StaffMember, StaffRole, User

BOT = Path(__file__).resolve().parents[1] / "bot"
NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
NAMES = ("status", "kind", "role")
"""Attribute and column names whose values come from a fixed set."""
STILL_TEXT = {
    ("reminders", "kind"): "reminder kinds are spread over the rti, hearings and jobs modules",
    ("bot_state", "kind"): "PTB persistence's own keys (conversations, user data), not ours",
}
"""Columns of these names that stay plain strings, with the reason."""
EXCEPTIONS: dict[tuple[str, str], str] = {}
"""Comparisons with a string literal allowed in bot/, by file and source text, with the reason."""


async def test_enum_columns_store_the_value_and_read_back_the_member(database_url: str) -> None:
    engine = create_engine(database_url)
    sessions = create_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            user = User(telegram_id=1, role=Role.ACTIVIST, created_at=NOW, updated_at=NOW)
            session.add(user)
            await session.flush()
            session.add(
                StaffMember(
                    user_id=user.id, role=StaffRole.CASEWORKER, display_name="A", granted_at=NOW
                )
            )
            session.add(
                OutboxMessage(
                    kind=OutboxKind.REPORTER_ANSWER,
                    chat_id=1,
                    status=OutboxStatus.PENDING,
                    created_at=NOW,
                )
            )
        async with sessions() as session:
            row = (await session.execute(select(OutboxMessage))).scalar_one()
            member = (await session.execute(select(StaffMember))).scalar_one()
            role = (await session.execute(select(User.role))).scalar_one()
            stored = (await session.execute(text("SELECT kind, status FROM outbox"))).one()
            pending = await session.execute(
                select(OutboxMessage.id).where(OutboxMessage.status == OutboxStatus.PENDING)
            )
        assert type(row.kind) is OutboxKind and row.kind is OutboxKind.REPORTER_ANSWER
        assert type(row.status) is OutboxStatus and row.status is OutboxStatus.PENDING
        assert member.role is StaffRole.CASEWORKER
        assert role is Role.ACTIVIST
        assert tuple(stored) == ("answer", "pending")
        assert type(stored[0]) is str
        assert pending.scalars().all() == [row.id]
    finally:
        await engine.dispose()


async def test_a_value_outside_the_enum_is_refused(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with pytest.raises(StatementError):
            async with create_sessionmaker(engine).begin() as session:
                session.add(
                    OutboxMessage(kind="telegram", chat_id=1, status="queued", created_at=NOW)
                )
    finally:
        await engine.dispose()


def test_status_kind_and_role_columns_are_enums() -> None:
    plain = {
        (table.name, column.name)
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if column.name in NAMES and not isinstance(column.type, Enum)
    }
    assert plain == set(STILL_TEXT)


def _string_literal(node: ast.expr) -> bool:
    """A str constant, or a tuple/list/set holding one."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return any(_string_literal(item) for item in node.elts)
    return False


def _named(node: ast.expr) -> bool:
    """`something.status`, `.kind` or `.role`."""
    return isinstance(node, ast.Attribute) and node.attr in NAMES


def _literal_comparisons(tree: ast.AST) -> list[str]:
    """`x.status == "sent"`, `x.kind in ("a", "b")`, `Model.role.in_(["admin"])` and the like."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(map(_named, sides)) and any(map(_string_literal, sides)):
                found.append(ast.unparse(node))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("in_", "not_in", "is_", "is_not", "startswith")
            and _named(node.func.value)
            and any(map(_string_literal, node.args))
        ):
            found.append(ast.unparse(node))
    return found


def test_no_status_kind_or_role_is_compared_with_a_string_literal() -> None:
    found = {
        (path.relative_to(BOT).as_posix(), source)
        for path in sorted(BOT.rglob("*.py"))
        for source in _literal_comparisons(ast.parse(path.read_text(encoding="utf-8")))
    }
    assert found - set(EXCEPTIONS) == set(), "compare with the enum member instead"


def test_the_scan_finds_what_it_looks_for() -> None:
    source = 'a.status == "sent"\nb.kind in ("x",)\nC.role.in_(["admin"])\nd.status == S.SENT\n'
    assert _literal_comparisons(ast.parse(source)) == [
        "a.status == 'sent'",
        "b.kind in ('x',)",
        "C.role.in_(['admin'])",
    ]

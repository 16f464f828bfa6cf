"""Feature packages stay apart: handlers talk to another feature only through its pure modules.

Read from the source (ast), nothing imported: a module under bot/<feature>/ may import another
feature's ``services`` and ``views`` (and the broadcasting machinery named in SHARED), never its
handlers; nothing under bot/*/services/ imports telegram; bot/core and bot/kit import no feature
handlers (bot/app.py composes them). Known exceptions are listed with the reason each remains.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
FEATURES = ("account", "rti", "cases", "staff", "campaigns", "broadcasting")
SHARED = {
    "bot.broadcasting.message": "what a broadcast message is: its buttons' data, no handler",
    "bot.broadcasting.sender": "the delivery engine every sending feature drives, no handler",
    "bot.broadcasting.outbox": "the outbox every feature sends through, no handler",
    "bot.broadcasting.limiter": "Telegram's rate limits, no handler",
}
"""Modules of a feature that are machinery rather than handlers, open to every feature."""
EXCEPTIONS: dict[tuple[str, str], str] = {}
"""(importer, imported) pairs that cross a boundary today, each with why it is still there."""


def _modules() -> Iterator[tuple[str, Path]]:
    """Every module under bot/, by dotted name."""
    for path in sorted(BOT.rglob("*.py")):
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def _imports(path: Path) -> set[str]:
    """The modules a file imports (``from a import b`` counts a.b when b is a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    known = {name for name, _ in _modules()}
    return {name for name in found if name in known or not name.startswith("bot.")}


def _feature(module: str) -> str | None:
    """The feature a module belongs to (None for bot.core, bot.kit, bot.app)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in FEATURES else None


def _pure(module: str) -> bool:
    """A module any other part may use: a feature's services, its views, or shared machinery."""
    parts = module.split(".")
    return (
        len(parts) == 2  # the package itself
        or parts[2] in ("services", "views")
        or module in SHARED
    )


def _crossings() -> set[tuple[str, str]]:
    """Imports of another feature's handler modules, from features, bot/core and bot/kit."""
    crossings: set[tuple[str, str]] = set()
    for name, path in _modules():
        if name == "bot.app":
            continue  # composes every feature's routes
        own = _feature(name)
        for imported in _imports(path):
            other = _feature(imported)
            if other is not None and other != own and not _pure(imported):
                crossings.add((name, imported))
    return crossings


def test_no_module_imports_another_features_handlers() -> None:
    """Shared answers live in bot/kit, cross-feature work goes through services or effects."""
    unexpected = _crossings() - set(EXCEPTIONS)
    assert not unexpected, sorted(unexpected)


def test_every_listed_exception_is_still_needed() -> None:
    """An exception that no longer occurs is removed from the list."""
    assert set(EXCEPTIONS) - _crossings() == set()


@pytest.mark.parametrize(
    "name", [name for name, _ in _modules() if ".services" in name and _feature(name)]
)
def test_services_do_not_import_telegram(name: str) -> None:
    """Services are Telegram-free: handlers parse updates, services work on data."""
    path = dict(_modules())[name]
    assert not [m for m in _imports(path) if m == "telegram" or m.startswith("telegram.")]

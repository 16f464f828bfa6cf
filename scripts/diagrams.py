"""Write the Mermaid diagram of every wizard next to its module (bot/cases/report.mmd, ...).

The diagrams are generated from the declarations (bot.kit.wizard.diagram); a test fails when a
committed one differs. Run after changing a wizard: .venv/bin/python scripts/diagrams.py
"""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.kit.wizard import Wizard, diagram

WIZARDS = (
    "bot.campaigns.polls:WIZARD",
    "bot.cases.report:WIZARD",
    "bot.campaigns.composer:WIZARD",
    "bot.campaigns.hearings:WIZARD",
    "bot.transparency.initiatives_admin:WIZARD",
    "bot.rti.builder:WIZARD",
    "bot.reportcards.survey:WIZARD",
    "bot.reportcards.rounds_admin:WIZARD",
)
"""Every wizard on the kernel, as "module:attribute"; add one line per converted wizard."""


def declared() -> list[tuple[Wizard, Path]]:
    """Each wizard with the path of its diagram (the module's path with .mmd)."""
    found = []
    for spec in WIZARDS:
        module_name, attribute = spec.split(":")
        module = importlib.import_module(module_name)
        assert module.__file__ is not None
        found.append((getattr(module, attribute), Path(module.__file__).with_suffix(".mmd")))
    return found


def main() -> None:
    """Write every diagram that changed, and say which."""
    for wizard, path in declared():
        text = diagram(wizard)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")


if __name__ == "__main__":
    main()

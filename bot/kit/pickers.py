"""Choosing a municipality or authority: by region buttons or by typing part of the name."""

from __future__ import annotations

from telegram import Update

from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.kit import wizard
from bot.kit.ui import Button, rows_of
from bot.rti import views as rti_views
from bot.rti.services import directory
from bot.rti.services.authority_search import fold
from db.models import Authority
from db.repositories import authorities as authorities_repo


async def all_sorted(context: PactContext) -> list[Authority]:
    """The whole directory, in display order."""
    found = await authorities_repo.all_authorities(context.scope.session)
    return sorted(found, key=directory.sort_key)


async def in_region(context: PactContext, region: str) -> list[Authority]:
    """Programme municipalities of one region."""
    return [
        a
        for a in await all_sorted(context)
        if a.kind == directory.MUNICIPALITY and a.in_programme and a.qark == region
    ]


async def others(context: PactContext) -> list[Authority]:
    """Public bodies other than municipalities: prefectures, water utilities, councils, others."""
    return [a for a in await all_sorted(context) if a.kind != directory.MUNICIPALITY]


async def search(
    context: PactContext, text: str, municipalities_only: bool = False
) -> list[Authority]:
    """Matches for typed text, with or without diacritics."""
    pool = await all_sorted(context)
    if municipalities_only:
        pool = [a for a in pool if a.kind == directory.MUNICIPALITY]
    return directory.search(pool, text)


def region_rows(region_prefix: str) -> list[list[Button]]:
    """The four programme regions, two per row."""
    regions = [(name, f"{region_prefix}{name}") for name in directory.REGION_ORDER]
    return [regions[:2], regions[2:]]


def choice_rows(t: Translator, found: list[Authority], pick_prefix: str) -> list[list[Button]]:
    """Authorities as buttons, two per row."""
    buttons = [(rti_views.authority_label(t, a), f"{pick_prefix}{a.id}") for a in found]
    return rows_of(buttons)


def results_header(t: Translator, text: str, found: list[Authority]) -> str:
    """The header over search results: "Did you mean" only when no name matches exactly."""
    typed = fold(text).strip()
    names = (
        name
        for a in found
        for name in (a.name, directory.display_name(a), rti_views.authority_label(t, a))
    )
    if any(fold(name).strip() == typed for name in names):
        return t.gettext("Here is what I found:")
    return t.gettext("Did you mean:")


def municipality_screen(pick_prefix: str) -> wizard.Screen:
    """A wizard step's sub-screen of one region's municipalities, each button `pick_prefix` and
    its id; Back returns to the regions (open it with `open_region`)."""

    async def render(context: PactContext, draft: dict, region: str) -> wizard.Question:
        t = context.t
        found = await in_region(context, region)
        return wizard.Question(
            t.gettext("Choose the municipality:"), choice_rows(t, found, pick_prefix)
        )

    return wizard.Screen("region", render, "a region's municipalities")


async def open_region(
    update: Update, context: PactContext, draft: dict, region: str
) -> wizard.Move:
    """A region pressed: its municipalities as the step's sub-screen."""
    return wizard.show("region", region)

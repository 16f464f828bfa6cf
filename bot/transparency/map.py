"""The site's map: programme municipalities' seats over Albania's outline, as inline SVG markup.

Pure: figures in, markup out, no i18n and no I/O beyond the shipped data files read once
(db/data/municipality_seats.csv from GeoNames, CC BY 4.0; bot/transparency/data/
albania_outline.json from Natural Earth, public domain; scripts/build_map_data.py made both).

Call ``render_map(points, title=..., description=..., legend_title=..., no_data_label=...)``
with one ``MapPoint(slug, name, value, label, href)`` per municipality, every text already
translated and formatted by the caller (``label`` is what shows next to the seat, e.g. "72" or
"< 10"; ``value`` None means no data or suppressed, and then ``label`` should say so without a
number). The result is a ``<figure>`` holding the ``<svg role="img" data-testid="map">`` and an
HTML legend (``data-testid="map-legend"``); the page should add a table with the same figures.
"""

from __future__ import annotations

import csv
import json
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from markupsafe import Markup, escape

SEATS_CSV = Path(__file__).resolve().parents[2] / "db" / "data" / "municipality_seats.csv"
OUTLINE_JSON = Path(__file__).resolve().parent / "data" / "albania_outline.json"

ATTRIBUTION = (
    "Municipality seats: GeoNames (geonames.org), CC BY 4.0. "
    "Outline of Albania: Natural Earth (naturalearthdata.com), public domain."
)
"""The map data's licences, for the site's footer (names and licences need no translation)."""

BACKGROUND = "#ffffff"
"""The page behind the legend and the map's sea."""
LAND = "#f4f1ea"
OUTLINE_STROKE = "#6b6b6b"
TEXT = "#1f1f1f"
"""Text of the legend and the labels (16.6:1 on white, 14.7:1 on the land)."""
HALO = "#ffffff"
INITIATIVE_FILL = "#a14a00"
"""The funded-initiatives diamond: white numbers on it 5.8:1, itself 5.5:1 on the land."""
NO_DATA_INK = "#595959"
"""The hatching and dashed ring of "no data / suppressed" (6.2:1 on the land, 7:1 on white)."""
CLASS_COLOURS = ("#21908d", "#2c728e", "#3b528b", "#472d7b", "#440154")
"""Five sequential classes (viridis, its darker part), low to high; each ≥ 3:1 on the land."""

NORTH, SOUTH, WEST, EAST = 42.68, 41.38, 19.08, 20.78
"""The part of Albania shown: the north, where the programme's 15 municipalities are."""
WIDTH = 560.0
RADIUS = 10.0
PAD = 4.0

LABEL_SIDE = {
    "shkoder": "left",
    "malesi-e-madhe": "above",
    "vau-i-dejes": "below",
    "puke": "below",
    "fushe-arrez": "above",
    "lezhe": "left",
    "mirdite": "right",
    "kurbin": "left",
    "kukes": "right",
    "has": "right",
    "tropoje": "right",
    "diber": "right",
    "mat": "above",
    "bulqize": "right",
    "klos": "left",
}
"""Where each seat's label goes so that neighbouring labels don't overlap (default: right)."""


@dataclass(frozen=True)
class MapPoint:
    """One municipality on the map, every text already translated and formatted."""

    slug: str
    name: str
    value: float | None
    label: str
    href: str
    initiatives: int = 0
    """Funded initiatives there: drawn as a numbered diamond beside the seat when any."""
    initiatives_label: str = ""
    """The same in words ("2 funded initiatives"), for the seat's tooltip and screen readers."""


@dataclass(frozen=True)
class Seat:
    """A municipality's seat from db/data/municipality_seats.csv."""

    municipality: str
    seat: str
    lat: float
    lon: float


def municipality_slug(name: str) -> str:
    """A URL slug: ASCII, lower case, hyphens ("Malësi e Madhe" → "malesi-e-madhe")."""
    plain = "".join(
        ch for ch in unicodedata.normalize("NFKD", name) if not unicodedata.combining(ch)
    )
    return "-".join(plain.lower().replace("-", " ").split())


@cache
def seats() -> dict[str, Seat]:
    """The programme municipalities' seats by slug, from the shipped GeoNames extract."""
    with SEATS_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    return {
        municipality_slug(row["municipality"]): Seat(
            row["municipality"], row["seat"], float(row["lat"]), float(row["lon"])
        )
        for row in rows
    }


@cache
def outline() -> tuple[tuple[tuple[float, float], ...], ...]:
    """Albania's outline: rings of (lon, lat), from the shipped Natural Earth extract."""
    data = json.loads(OUTLINE_JSON.read_text(encoding="utf-8"))
    return tuple(tuple((lon, lat) for lon, lat in ring) for ring in data["rings"])


def outline_bounds() -> tuple[float, float, float, float]:
    """(west, south, east, north) of the whole outline, in degrees."""
    points = [p for ring in outline() for p in ring]
    lons, lats = [p[0] for p in points], [p[1] for p in points]
    return min(lons), min(lats), max(lons), max(lats)


_KX = math.cos(math.radians((NORTH + SOUTH) / 2))
_SCALE = WIDTH / ((EAST - WEST) * _KX)
HEIGHT = round((NORTH - SOUTH) * _SCALE, 1)


def project(lon: float, lat: float) -> tuple[float, float]:
    """SVG coordinates of a point: equirectangular, true to scale at the shown part's middle."""
    return round((lon - WEST) * _KX * _SCALE, 1), round((NORTH - lat) * _SCALE, 1)


def relative_luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a "#rrggbb" colour."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2 contrast ratio of two "#rrggbb" colours, from 1 to 21."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def class_of(value: float, domain: tuple[float, float], classes: int) -> int:
    """The class (0 = lowest) of a value on equal intervals of the domain; clamped."""
    low, high = domain
    if high <= low:
        return 0
    index = math.floor((value - low) / (high - low) * classes)
    return min(classes - 1, max(0, index))


def default_legend_labels(domain: tuple[float, float], classes: int) -> list[str]:
    """ "0–20", "20–40", … for equal intervals (numbers need no translation)."""
    low, high = domain
    step = (high - low) / classes
    edges = [low + step * i for i in range(classes + 1)]
    return [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(classes)]


def _outline_path() -> str:
    rings = []
    for ring in outline():
        points = [project(lon, lat) for lon, lat in ring]
        rings.append("M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    return "".join(rings)


INSET_HEIGHT = 130.0
INSET_MARGIN = 8.0


def _inset() -> str:
    """A small whole Albania in the sea's corner, the part shown framed: where the north lies."""
    west, south, east, north = outline_bounds()
    scale = INSET_HEIGHT / (north - south)
    left, top = INSET_MARGIN, HEIGHT - INSET_HEIGHT - INSET_MARGIN

    def at(lon: float, lat: float) -> tuple[float, float]:
        return round(left + (lon - west) * _KX * scale, 1), round(top + (north - lat) * scale, 1)

    rings = []
    for ring in outline():
        points = [at(lon, lat) for lon, lat in ring[::3]]
        rings.append("M" + "L".join(f"{x:g},{y:g}" for x, y in points) + "Z")
    x0, y0 = at(max(west, WEST), min(north, NORTH))
    x1, y1 = at(min(east, EAST), max(south, SOUTH))
    return (
        '<g class="map-inset">'
        f'<path d="{"".join(rings)}" fill="{LAND}" stroke="{OUTLINE_STROKE}" stroke-width="0.75"/>'
        f'<rect x="{x0:g}" y="{y0:g}" width="{x1 - x0:.1f}" height="{y1 - y0:.1f}" fill="none" '
        f'stroke="{TEXT}" stroke-width="1.25"/></g>'
    )


def _label(point: MapPoint, x: float, y: float) -> str:
    side = LABEL_SIDE.get(point.slug, "right")
    gap = RADIUS + 4
    anchor, lx, ly = {
        "right": ("start", x + gap, y - 2),
        "left": ("end", x - gap, y - 2),
        "above": ("middle", x, y - gap - 14),
        "below": ("middle", x, y + gap + 10),
    }[side]
    return (
        f'<text x="{lx:g}" y="{ly:g}" text-anchor="{anchor}" class="map-name" fill="{TEXT}" '
        f'stroke="{HALO}" stroke-width="3" paint-order="stroke" stroke-linejoin="round">'
        f"{escape(point.name)}"
        f'<tspan x="{lx:g}" dy="14" class="map-value">{escape(point.label)}</tspan></text>'
    )


def _seat(point: MapPoint, colour: str | None) -> str:
    seat = seats().get(point.slug)
    if seat is None:
        raise ValueError(f"no seat for municipality {point.slug!r}")
    x, y = project(seat.lon, seat.lat)
    if colour is None:
        circle = (
            f'<circle cx="{x:g}" cy="{y:g}" r="{RADIUS:g}" fill="url(#map-no-data)" '
            f'stroke="{NO_DATA_INK}" stroke-width="1.5" stroke-dasharray="3 2" '
            'class="map-seat map-no-data"/>'
        )
    else:
        circle = (
            f'<circle cx="{x:g}" cy="{y:g}" r="{RADIUS:g}" fill="{colour}" stroke="{HALO}" '
            'stroke-width="1.5" class="map-seat"/>'
        )
    tooltip = f"{point.name}: {point.label}"
    if point.initiatives:
        tooltip += f"; {point.initiatives_label}"
    return (
        f'<a href="{escape(point.href)}" data-slug="{escape(point.slug)}">'
        f"<title>{escape(tooltip)}</title>{circle}"
        f"{_diamond(point.initiatives, x, y, LABEL_SIDE.get(point.slug, 'right'))}"
        f"{_label(point, x, y)}</a>"
    )


def _diamond_shape(cx: float, cy: float, half: float) -> str:
    """A diamond's points around a centre."""
    return f"{cx:g},{cy - half:g} {cx + half:g},{cy:g} {cx:g},{cy + half:g} {cx - half:g},{cy:g}"


DIAMOND_OFFSET = {
    "right": (-RADIUS, -RADIUS),
    "left": (RADIUS, -RADIUS),
    "above": (RADIUS, RADIUS),
    "below": (RADIUS, -RADIUS),
}
"""Where a seat's diamond sits, by the side its label is on: never on the label."""


def _diamond(count: int, x: float, y: float, side: str) -> str:
    """The numbered diamond of a seat's funded initiatives, on the side away from its label
    (bot/transparency/map.py LABEL_SIDE); none for 0."""
    if count <= 0:
        return ""
    dx, dy = DIAMOND_OFFSET[side]
    cx, cy = round(x + dx, 1), round(y + dy, 1)
    return (
        f'<g class="map-initiatives" data-initiatives="{count}">'
        f'<polygon points="{_diamond_shape(cx, cy, 9)}" fill="{INITIATIVE_FILL}" '
        f'stroke="{HALO}" stroke-width="1.5"/>'
        f'<text x="{cx:g}" y="{cy + 3.5:g}" text-anchor="middle" font-size="10" '
        f'font-weight="bold" fill="{HALO}">{count}</text></g>'
    )


def _diamond_swatch() -> str:
    """The legend's sample of the initiatives diamond."""
    return (
        '<svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">'
        f'<polygon points="{_diamond_shape(10, 10, 8)}" fill="{INITIATIVE_FILL}" '
        f'stroke="{HALO}" stroke-width="1.5"/></svg>'
    )


def _swatch(fill: str, stroke: str, dashed: bool) -> str:
    dash = ' stroke-dasharray="3 2"' if dashed else ""
    return (
        '<svg width="20" height="20" viewBox="0 0 20 20" aria-hidden="true" focusable="false">'
        f'<circle cx="10" cy="10" r="8" fill="{fill}" stroke="{stroke}" stroke-width="1.5"{dash}/>'
        "</svg>"
    )


def render_map(
    points: Sequence[MapPoint],
    *,
    title: str,
    description: str,
    legend_title: str,
    no_data_label: str,
    domain: tuple[float, float] = (0.0, 100.0),
    legend_labels: Sequence[str] | None = None,
    initiatives_legend: str | None = None,
) -> Markup:
    """The map figure: SVG of the outline and one labelled, linked circle per point, and a legend.

    ``points``: one MapPoint per municipality (slug as on the site, e.g. "fushe-arrez"; name,
    label and href already translated/formatted; value None = no data or suppressed, drawn
    hatched with a dashed ring and no class colour). ``domain``: the indicator's range, cut into
    len(CLASS_COLOURS) equal classes; ``legend_labels``: one text per class (default "0–20", …).
    ``title``/``description`` become the SVG's <title>/<desc>. ``initiatives_legend``: the
    legend's words for the numbered diamond of funded initiatives (shown when any point has
    some). Every text is escaped here.
    """
    classes = len(CLASS_COLOURS)
    labels = list(legend_labels) if legend_labels is not None else None
    labels = labels or default_legend_labels(domain, classes)
    if len(labels) != classes:
        raise ValueError(f"{classes} legend labels expected, got {len(labels)}")
    seats_markup = []
    for point in points:
        colour = (
            None if point.value is None else CLASS_COLOURS[class_of(point.value, domain, classes)]
        )
        seats_markup.append(_seat(point, colour))
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" '
        'role="img" aria-labelledby="map-title map-desc" data-testid="map" class="map" '
        f'font-family="sans-serif" font-size="14" style="background:{BACKGROUND}">'
        f'<title id="map-title">{escape(title)}</title>'
        f'<desc id="map-desc">{escape(description)}</desc>'
        "<defs>"
        '<pattern id="map-no-data" width="5" height="5" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)">'
        f'<rect width="5" height="5" fill="{BACKGROUND}"/>'
        f'<line x1="0" y1="0" x2="0" y2="5" stroke="{NO_DATA_INK}" stroke-width="2"/>'
        "</pattern>"
        "</defs>"
        f'<path d="{_outline_path()}" fill="{LAND}" stroke="{OUTLINE_STROKE}" '
        'stroke-width="1" stroke-linejoin="round" class="map-outline"/>'
        f"{_inset()}"
        f"<g>{''.join(seats_markup)}</g>"
        "</svg>"
    )
    items = [
        f"<li>{_swatch(colour, HALO, dashed=False)} <span>{escape(text)}</span></li>"
        for colour, text in zip(CLASS_COLOURS, labels, strict=True)
    ]
    items.append(
        f"<li>{_swatch('url(#map-no-data)', NO_DATA_INK, dashed=True)} "
        f"<span>{escape(no_data_label)}</span></li>"
    )
    if initiatives_legend and any(point.initiatives for point in points):
        items.append(f"<li>{_diamond_swatch()} <span>{escape(initiatives_legend)}</span></li>")
    legend = (
        f'<div class="map-legend" data-testid="map-legend" '
        f'style="color:{TEXT};background:{BACKGROUND}">'
        f'<p class="map-legend-title">{escape(legend_title)}</p>'
        f'<ul style="list-style:none;padding:0">{"".join(items)}</ul></div>'
    )
    return Markup(f'<figure class="map-figure" style="margin:0">{svg}{legend}</figure>')

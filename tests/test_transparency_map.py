"""The site's map: shipped seat and outline data, projection, classes, no-data style, escaping."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from bot.transparency import map as sitemap
from bot.transparency.map import (
    BACKGROUND,
    CLASS_COLOURS,
    INITIATIVE_FILL,
    LAND,
    NO_DATA_INK,
    TEXT,
    MapPoint,
    contrast_ratio,
    project,
    render_map,
    seats,
)

SLUGS = {
    "shkoder",
    "malesi-e-madhe",
    "vau-i-dejes",
    "puke",
    "fushe-arrez",
    "lezhe",
    "mirdite",
    "kurbin",
    "kukes",
    "has",
    "tropoje",
    "diber",
    "mat",
    "bulqize",
    "klos",
}
MUNICIPALITIES = Path(__file__).resolve().parent.parent / "db" / "data" / "municipalities.csv"


def points(values: dict[str, float | None] | None = None) -> list[MapPoint]:
    """One point per seat; values default to 50; label "< 10" when the value is None."""
    values = values or {}
    found = []
    for slug, seat in seats().items():
        value = values.get(slug, 50.0)
        label = "< 10" if value is None else f"{value:g}"
        found.append(MapPoint(slug, seat.municipality, value, label, f"/sq/m/{slug}"))
    return found


def render(found: list[MapPoint], **kwargs: object) -> str:
    """The map with fixed texts unless overridden."""
    texts = {
        "title": "Harta e bashkive",
        "description": "Indeksi i kënaqësisë sipas bashkisë",
        "legend_title": "Indeksi",
        "no_data_label": "Pa të dhëna",
    }
    texts.update(kwargs)
    return str(render_map(found, **texts))


def seat_markup(svg: str, slug: str) -> str:
    """The <a> element of one seat."""
    match = re.search(rf'<a href="[^"]*" data-slug="{slug}">.*?</a>', svg)
    assert match, slug
    return match.group(0)


def test_every_programme_municipality_has_a_seat_in_the_north_inside_the_outline() -> None:
    with MUNICIPALITIES.open(encoding="utf-8", newline="") as f:
        programme = {row["municipality"] for row in csv.DictReader(f) if row["pact"] == "yes"}
    assert {seat.municipality for seat in seats().values()} == programme
    assert set(seats()) == SLUGS
    west, south, east, north = sitemap.outline_bounds()
    assert 19 < west < east < 21.1 and 39.5 < south < north < 42.7  # Albania, not elsewhere
    for seat in seats().values():
        assert west < seat.lon < east and south < seat.lat < north, seat
        assert seat.lat > 41.3, seat
        assert sitemap.SOUTH < seat.lat < sitemap.NORTH and sitemap.WEST < seat.lon < sitemap.EAST


def inside(lon: float, lat: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: whether a point lies inside a closed ring."""
    found = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            found = not found
    return found


def test_every_seat_lies_inside_albanias_outline_and_sea_points_do_not() -> None:
    (mainland,) = sitemap.outline()
    assert len(mainland) > 400 and mainland[0] == mainland[-1]
    for seat in seats().values():
        assert inside(seat.lon, seat.lat, mainland), seat
    assert not inside(19.2, 41.6, mainland)  # the Adriatic off Lezhë
    assert not inside(20.8, 42.3, mainland)  # Kosovo, east of Has
    assert inside(19.9, 41.0, mainland)  # Elbasan, in the south


def test_the_inset_frames_the_part_shown() -> None:
    svg = render(points())
    inset = re.search(r'<g class="map-inset">.*?</g>', svg)
    assert inset is not None
    frame = re.search(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"', inset.group(0)
    )
    assert frame is not None
    x, y, width, height = map(float, frame.groups())
    assert 0 < x and x + width < sitemap.WIDTH / 4 and y + height < sitemap.HEIGHT
    assert height < sitemap.INSET_HEIGHT / 2  # the north is less than half of the country


def test_klos_is_the_one_in_diber_not_elbasan() -> None:
    klos = seats()["klos"]
    assert klos.lat > 41.4  # Klos in Elbasan lies at 40.95


def test_projection_puts_shkoder_west_of_kukes_and_north_up() -> None:
    shkoder, kukes, burrel = seats()["shkoder"], seats()["kukes"], seats()["mat"]
    (xs, ys), (xk, _), (_, yb) = (
        project(shkoder.lon, shkoder.lat),
        project(kukes.lon, kukes.lat),
        project(burrel.lon, burrel.lat),
    )
    assert xs < xk
    assert ys < yb  # Shkodër is north of Burrel: smaller y
    for seat in seats().values():
        x, y = project(seat.lon, seat.lat)
        assert 0 < x < sitemap.WIDTH and 0 < y < sitemap.HEIGHT


def test_values_take_the_class_colour_of_their_interval() -> None:
    svg = render(points({"shkoder": 5, "kukes": 95, "has": 100, "puke": 0, "mat": 41}))
    assert f'fill="{CLASS_COLOURS[0]}"' in seat_markup(svg, "shkoder")
    assert f'fill="{CLASS_COLOURS[0]}"' in seat_markup(svg, "puke")
    assert f'fill="{CLASS_COLOURS[4]}"' in seat_markup(svg, "kukes")
    assert f'fill="{CLASS_COLOURS[4]}"' in seat_markup(svg, "has")
    assert f'fill="{CLASS_COLOURS[2]}"' in seat_markup(svg, "mat")
    assert 'href="/sq/m/kukes"' in seat_markup(svg, "kukes")


def test_suppressed_values_render_hatched_with_no_number() -> None:
    svg = render(points({"has": None, "klos": None}))
    for slug in ("has", "klos"):
        markup = seat_markup(svg, slug)
        assert 'fill="url(#map-no-data)"' in markup and "stroke-dasharray" in markup
        assert not any(f'fill="{colour}"' in markup for colour in CLASS_COLOURS)
        text = re.sub(r"<[^>]+>", " ", markup)
        assert "< 10" in str(text.replace("&lt;", "<"))
        assert not re.search(r"\d", text.replace("10", "")), text
    assert 'fill="url(#map-no-data)"' not in seat_markup(svg, "kukes")
    assert svg.count('id="map-no-data"') == 1


def test_svg_and_legend_carry_roles_titles_and_test_ids() -> None:
    svg = render(points())
    assert re.search(r'<svg [^>]*role="img"[^>]*data-testid="map"', svg)
    assert '<title id="map-title">Harta e bashkive</title>' in svg
    assert '<desc id="map-desc">Indeksi i kënaqësisë sipas bashkisë</desc>' in svg
    legend = svg[svg.index('data-testid="map-legend"') :]
    for label in ("0–20", "20–40", "40–60", "60–80", "80–100", "Pa të dhëna", "Indeksi"):
        assert f">{label}<" in legend
    assert svg.count("<a href=") == 15


def test_custom_legend_labels_and_domain() -> None:
    labels = ["< 5", "5–10", "10–20", "20–40", "40+"]
    svg = render(points({"kukes": 39}), legend_labels=labels)
    assert "&lt; 5" in svg and "40+" in svg
    assert f'fill="{CLASS_COLOURS[1]}"' in seat_markup(
        render(points({"kukes": 3}), domain=(0, 10)), "kukes"
    )
    with pytest.raises(ValueError):
        render(points(), legend_labels=["a", "b"])


def test_every_text_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    found = [
        MapPoint("kukes", hostile, 10, '"><b>', '/sq/m/kukes" onclick="x'),
        MapPoint("has", "Has", None, "&", "/sq/m/has"),
    ]
    svg = render(
        found, title=hostile, description=hostile, legend_title=hostile, no_data_label=hostile
    )
    assert "<script>" not in svg and "<b>" not in svg and '" onclick' not in svg
    assert "&lt;script&gt;" in svg and "&amp;" in svg


def test_unknown_municipality_is_refused() -> None:
    with pytest.raises(ValueError):
        render([MapPoint("tirane", "Tiranë", 3, "3", "/sq/m/tirane")])


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)
    assert contrast_ratio("#777777", "#ffffff") < 4.5  # the known first grey that fails
    assert contrast_ratio("#ffffff", "#767676") == contrast_ratio("#767676", "#ffffff")


def test_legend_and_swatches_are_legible() -> None:
    assert contrast_ratio(TEXT, BACKGROUND) >= 4.5
    assert contrast_ratio(TEXT, LAND) >= 4.5  # the seat labels sit on the land
    for colour in (*CLASS_COLOURS, NO_DATA_INK):
        assert contrast_ratio(colour, BACKGROUND) >= 3, colour
        assert contrast_ratio(colour, LAND) >= 3, colour
    lightness = [sitemap.relative_luminance(c) for c in CLASS_COLOURS]
    assert lightness == sorted(lightness, reverse=True)  # sequential: darker means more
    svg = render(points())
    legend = svg[svg.index('data-testid="map-legend"') :]
    assert f"color:{TEXT};background:{BACKGROUND}" in legend


def test_funded_initiatives_are_numbered_diamonds_with_a_legend() -> None:
    """A seat with initiatives gets a diamond with their number; the legend explains it."""
    points = [
        MapPoint(
            slug,
            slug,
            50.0,
            "50",
            f"/sq/m/{slug}",
            initiatives=2 if slug == "has" else 0,
            initiatives_label="2 initiatives" if slug == "has" else "",
        )
        for slug in seats()
    ]
    markup = render_map(
        points,
        title="t",
        description="d",
        legend_title="l",
        no_data_label="n",
        initiatives_legend="Funded initiatives",
    )
    assert markup.count('class="map-initiatives"') == 1
    assert 'data-initiatives="2"' in markup and "Has: 50; 2 initiatives" not in markup
    assert "has: 50; 2 initiatives" in markup
    assert "Funded initiatives" in markup
    assert contrast_ratio(INITIATIVE_FILL, "#ffffff") >= 4.5
    assert contrast_ratio(INITIATIVE_FILL, LAND) >= 3
    without = render_map(
        [MapPoint(slug, slug, 50.0, "50", "/") for slug in seats()],
        title="t",
        description="d",
        legend_title="l",
        no_data_label="n",
        initiatives_legend="Funded initiatives",
    )
    assert "map-initiatives" not in without and "Funded initiatives" not in without

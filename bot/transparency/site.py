"""The public transparency site on the bot's aiohttp server: pages, open data and static files.

Read-only, rendered on the server with Jinja2 (Albanian, English switch), no cookies, no scripts,
no request to anywhere else. Every view reads only the snapshot (bot/transparency/snapshot.py).
URL map: / → /sq/; /{lang}/ overview; /{lang}/m/{slug} a municipality; /{lang}/data open data
and method; /open-data/{municipalities,report-cards,initiatives}.{csv,json}; /static/....
"""

from __future__ import annotations

import enum
import functools
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from bot.cases.services import case_rules
from bot.core.i18n import N_, I18n, Translator
from bot.core.settings import SUPPORTED_LOCALES
from bot.transparency import opendata
from bot.transparency.map import CLASS_COLOURS, MapPoint, render_map
from bot.transparency.services import figures
from bot.transparency.services.initiatives import band_label
from bot.transparency.snapshot import Snapshot, SnapshotCache
from db.models import GrantBand

HERE = Path(__file__).resolve().parent
TEMPLATES, STATIC = HERE / "templates", HERE / "static"
DEFAULT_LANGUAGE = "sq"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; "
        "style-src-attr 'unsafe-inline'; script-src 'none'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "interest-cohort=(), browsing-topics=()",
}
PAGE_CACHE = "public, max-age=60"
STATIC_CACHE = "public, max-age=3600"
SITE_PREFIXES = ("/sq", "/en", "/open-data", "/static")
LICENCE_LINK = Markup('<a rel="license" href="{url}">CC BY 4.0</a>').format(
    url=opendata.LICENCE_URL
)


class Kind(enum.StrEnum):
    """How an indicator's figure is written: a count, a 0-1 share, days, a 0-100 index."""

    COUNT = "count"
    SHARE = "share"
    DAYS = "days"
    INDEX = "index"


@dataclass(frozen=True)
class Indicator:
    """A figure the overview's map can be shaded by."""

    key: str
    label: str
    kind: Kind
    value: Callable[[dict[str, Any]], float | None]


INDICATORS = (
    Indicator("cases_received", N_("Cases received"), Kind.COUNT, lambda m: m["cases"]["received"]),
    Indicator(
        "resolved_share", N_("Share resolved"), Kind.SHARE, lambda m: m["cases"]["resolved_share"]
    ),
    Indicator(
        "median_days_to_resolve",
        N_("Median days to resolve"),
        Kind.DAYS,
        lambda m: m["cases"]["median_days_to_resolve"],
    ),
    Indicator(
        "rti_sent", N_("Requests for information sent"), Kind.COUNT, lambda m: m["rti"]["sent"]
    ),
    Indicator(
        "rti_on_time_share",
        N_("Share of requests answered on time"),
        Kind.SHARE,
        lambda m: m["rti"]["on_time_share"],
    ),
    Indicator(
        "satisfaction",
        N_("Report-card satisfaction (0–100)"),
        Kind.INDEX,
        lambda m: m["satisfaction_index"],
    ),
)
INDICATOR = {indicator.key: indicator for indicator in INDICATORS}


@functools.cache
def categories() -> dict[str, case_rules.Category]:
    """The service categories by key, read from their file once per process."""
    return {category.key: category for category in case_rules.categories()}


class Formats:
    """How figures are written on a page, in its language; suppressed counts as "< 10"."""

    def __init__(self, t: Translator, threshold: int) -> None:
        self.t = t
        self.threshold = threshold

    def count(self, value: int | str | None) -> str:
        """A count, "< 10" when it is suppressed, "hidden" when it protects a suppressed one."""
        if value is None:
            return f"< {self.t.number(self.threshold)}"
        if value == figures.HIDDEN:
            return str(self.t.gettext("hidden"))
        return self.t.number(int(value))

    def share(self, value: float | None) -> str:
        """A 0-1 share as a whole percentage, "—" when not given."""
        return "—" if value is None else f"{self.t.number(round(value * 100))}%"

    def days(self, value: float | None) -> str:
        """A number of days, "—" when not given."""
        return "—" if value is None else self.t.number(round(value, 1))

    def index(self, value: float | None) -> str:
        """A 0-100 index, "—" when not given."""
        return "—" if value is None else self.t.number(round(value))

    def figure(self, indicator: Indicator, town: dict[str, Any]) -> str:
        """A municipality's value of an indicator, written."""
        value = indicator.value(town)
        if indicator.kind == Kind.COUNT:
            return self.count(None if value is None else int(value))
        return getattr(self, indicator.kind.value)(value)

    def category(self, key: str) -> str:
        """A service category's name in the page's language."""
        found = categories().get(key)
        return found.label(self.t.locale) if found else key

    def grant_band(self, key: str) -> str:
        """A grant size band in words (bot/transparency/services/initiatives.py)."""
        return band_label(self.t, GrantBand(key))


def environments(i18n: I18n) -> dict[str, Environment]:
    """A Jinja2 environment per language, its gettext the project's catalog (HTML-escaping)."""
    envs = {}
    for code in SUPPORTED_LOCALES:
        env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=StrictUndefined,
            extensions=["jinja2.ext.i18n"],
        )
        t = i18n.translator(code)
        env.install_gettext_callables(t.gettext, t.ngettext, newstyle=False)  # type: ignore[attr-defined]
        env.globals["t"] = t
        env.globals["licence_link"] = LICENCE_LINK
        env.filters["todate"] = date.fromisoformat
        envs[code] = env
    return envs


def map_svg(
    towns: list[dict[str, Any]],
    indicator: Indicator,
    fmt: Formats,
    initiatives: Sequence[dict[str, Any]] = (),
) -> Markup:
    """The overview's map (bot/transparency/map.py): every programme municipality's seat shaded
    by the indicator, its figure written next to it, its funded initiatives counted in a
    diamond, linked to its page."""
    t, lang = fmt.t, fmt.t.locale
    scale = 100.0 if indicator.kind == Kind.SHARE else 1.0
    funded = Counter(item["municipality"] for item in initiatives)
    points = []
    for town in towns:
        value = indicator.value(town)
        count = funded[town["slug"]]
        points.append(
            MapPoint(
                slug=town["slug"],
                name=town["name"],
                value=None if value is None else float(value) * scale,
                label=fmt.figure(indicator, town),
                href=f"/{lang}/m/{town['slug']}",
                initiatives=count,
                initiatives_label=str(
                    t.ngettext("{count} funded initiative", "{count} funded initiatives", count)
                ),
            )
        )
    present = [point.value for point in points if point.value is not None]
    if indicator.kind in (Kind.SHARE, Kind.INDEX):
        high = 100.0
    else:
        high = float(max(5, math.ceil(max(present, default=0) / 5) * 5))
    step = high / len(CLASS_COLOURS)
    unit = "%" if indicator.kind == Kind.SHARE else ""
    if indicator.kind == Kind.COUNT:  # whole numbers: classes that do not share an edge
        labels = [
            f"{t.number(math.ceil(step * i))}–{t.number(math.ceil(step * (i + 1)) - 1)}"
            for i in range(len(CLASS_COLOURS) - 1)
        ]
        labels.append(
            f"{t.number(math.ceil(step * (len(CLASS_COLOURS) - 1)))}–{t.number(int(high))}"
        )
    else:
        labels = [
            f"{t.number(round(step * i, 1))}–{t.number(round(step * (i + 1), 1))}{unit}"
            for i in range(len(CLASS_COLOURS))
        ]
    label = str(t.gettext(indicator.label))
    return render_map(
        points,
        title=str(t.gettext("Programme municipalities: {indicator}", indicator=label)),
        description=str(
            t.gettext(
                "Each circle is the seat of one of the 15 programme municipalities, coloured by "
                "its figure; the table below gives the same figures."
            )
        ),
        legend_title=label,
        no_data_label=str(
            t.gettext(
                "No figure: not enough data, or fewer than {threshold}", threshold=fmt.threshold
            )
        ),
        domain=(0.0, high),
        legend_labels=labels,
        initiatives_legend=str(t.gettext("Funded civil-society initiatives (number)")),
    )


class Site:
    """The site's views over one snapshot cache and the Jinja2 environments."""

    def __init__(self, i18n: I18n, cache: SnapshotCache, threshold: int) -> None:
        self.i18n = i18n
        self.cache = cache
        self.threshold = threshold
        self.envs = environments(i18n)

    def render(
        self,
        request: web.Request,
        lang: str,
        template: str,
        status: int = 200,
        snapshot: Snapshot | None = None,
        **values: Any,
    ) -> web.Response:
        """A page in `lang` with the path of the same page in the other language."""
        t = self.i18n.translator(lang)
        other = "en" if lang == "sq" else "sq"
        path = request.path
        switch = f"/{other}{path[3:]}" if path[:4] in ("/sq/", "/en/") else f"/{other}/"
        if path in ("/sq", "/en"):
            switch = f"/{other}/"
        if request.query_string:
            switch = f"{switch}?{request.query_string}"
        threshold = snapshot.data["threshold"] if snapshot else self.threshold
        html = (
            self.envs[lang]
            .get_template(template)
            .render(
                lang=lang,
                other=other,
                switch=switch,
                fmt=Formats(t, threshold),
                snapshot=snapshot,
                built_at=t.datetime(snapshot.built_at) if snapshot else None,
                threshold=threshold,
                **values,
            )
        )
        response = web.Response(text=html, status=status, content_type="text/html")
        if snapshot is not None:
            response.last_modified = snapshot.built_at
        return response

    async def snapshot_or_wait(self, request: web.Request, lang: str) -> Snapshot | web.Response:
        """The snapshot, or a 503 page saying the figures are still being prepared."""
        snapshot = await self.cache.get()
        if snapshot is None:
            response = self.render(request, lang, "preparing.html", status=503)
            response.headers["Retry-After"] = "60"
            return response
        return snapshot

    async def root(self, _request: web.Request) -> web.Response:
        """/ → the Albanian overview."""
        return web.Response(status=302, headers={"Location": f"/{DEFAULT_LANGUAGE}/"})

    async def language_root(self, request: web.Request) -> web.Response:
        """/sq → /sq/."""
        return web.Response(status=301, headers={"Location": f"{request.path}/"})

    async def overview(self, request: web.Request) -> web.Response:
        """The overview: what PACT is, the map by an indicator, the table, the initiatives."""
        lang = request.match_info["lang"]
        snapshot = await self.snapshot_or_wait(request, lang)
        if isinstance(snapshot, web.Response):
            return snapshot
        indicator = INDICATOR.get(request.query.get("indicator", ""), INDICATORS[0])
        t = self.i18n.translator(lang)
        return self.render(
            request,
            lang,
            "overview.html",
            snapshot=snapshot,
            indicators=INDICATORS,
            indicator=indicator,
            map_svg=map_svg(
                snapshot.data["municipalities"],
                indicator,
                Formats(t, snapshot.data["threshold"]),
                snapshot.data["initiatives"],
            ),
            towns=snapshot.data["municipalities"],
            names={m["slug"]: m["name"] for m in snapshot.data["municipalities"]},
            initiatives=snapshot.data["initiatives"],
        )

    async def municipality(self, request: web.Request) -> web.Response:
        """A programme municipality's page."""
        lang = request.match_info["lang"]
        snapshot = await self.snapshot_or_wait(request, lang)
        if isinstance(snapshot, web.Response):
            return snapshot
        town = snapshot.municipality(request.match_info["slug"])
        if town is None:
            return self.not_found(request, lang)
        return self.render(
            request,
            lang,
            "municipality.html",
            snapshot=snapshot,
            town=town,
            initiatives=[
                i for i in snapshot.data["initiatives"] if i["municipality"] == town["slug"]
            ],
        )

    async def data_page(self, request: web.Request) -> web.Response:
        """The open data, its schema, the method and the licence."""
        lang = request.match_info["lang"]
        snapshot = await self.cache.get()
        return self.render(
            request,
            lang,
            "data.html",
            snapshot=snapshot,
            datasets=opendata.DATASETS,
            fields=opendata.FIELDS,
        )

    async def open_data(self, request: web.Request) -> web.Response:
        """/open-data/<dataset>.csv or .json."""
        dataset = opendata.DATASETS.get(request.match_info["name"])
        if dataset is None:
            return self.not_found(request, DEFAULT_LANGUAGE)
        snapshot = await self.cache.get()
        if snapshot is None:
            return web.Response(
                status=503, text="figures not built yet", headers={"Retry-After": "60"}
            )
        if request.match_info["ext"] == "csv":
            body, content_type = opendata.to_csv(dataset, snapshot), "text/csv"
        else:
            body, content_type = opendata.to_json(dataset, snapshot), "application/json"
        response = web.Response(text=body, content_type=content_type, charset="utf-8")
        response.last_modified = snapshot.built_at
        response.headers["Link"] = f'<{opendata.LICENCE_URL}>; rel="license"'
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response

    def not_found(self, request: web.Request, lang: str | None = None) -> web.Response:
        """The 404 page, in the language of the path (Albanian otherwise)."""
        if lang is None:
            lang = "en" if request.path.startswith("/en/") or request.path == "/en" else "sq"
        return self.render(request, lang, "not_found.html", status=404)

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        """Security and cache headers on every response; the translated 404 for GET and HEAD."""

        @web.middleware
        async def headers(
            request: web.Request,
            handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
        ) -> web.StreamResponse:
            try:
                response = await handler(request)
            except web.HTTPNotFound:
                if request.method not in ("GET", "HEAD"):
                    raise
                response = self.not_found(request)
            if unchanged(request, response):
                response.set_status(304)  # aiohttp sends no body with a 304
            response.headers.update(SECURITY_HEADERS)
            if request.path.startswith("/static/"):
                response.headers["Cache-Control"] = STATIC_CACHE
            elif request.path.startswith(SITE_PREFIXES) or request.path == "/":
                response.headers.setdefault("Cache-Control", PAGE_CACHE)
            return response

        return headers


def unchanged(request: web.Request, response: web.StreamResponse) -> bool:
    """Whether a GET/HEAD asked If-Modified-Since and the figures are no newer."""
    since, modified = request.if_modified_since, response.last_modified
    return (
        response.status == 200
        and since is not None
        and modified is not None
        and modified.replace(microsecond=0) <= since
    )


def install(web_app: web.Application, i18n: I18n, cache: SnapshotCache, threshold: int) -> Site:
    """Add the site's routes and its headers middleware to the bot's aiohttp application."""
    site = Site(i18n, cache, threshold)
    web_app.middlewares.append(site.middleware())
    lang = "{lang:sq|en}"
    router = web_app.router
    router.add_get("/", site.root)
    router.add_get(f"/{lang}", site.language_root)
    router.add_get(f"/{lang}/", site.overview)
    router.add_get(f"/{lang}/m/{{slug:[a-z-]+}}", site.municipality)
    router.add_get(f"/{lang}/data", site.data_page)
    router.add_get("/open-data/{name:[a-z-]+}.{ext:csv|json}", site.open_data)
    router.add_static("/static/", STATIC, append_version=False)
    return site

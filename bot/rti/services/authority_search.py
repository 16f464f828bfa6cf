"""Finding an authority from what people type: Albanian forms, generic words, one-letter typos."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from db.models import Authority, AuthorityKind

THRESHOLD = 80.0
"""The lowest score a match may have (0–100)."""
SPREAD = 15.0
"""Matches more than this below the best one are noise next to it and are left out."""
TOKEN_FLOOR = 60.0
"""A query word scoring below this against an authority counts as not found there."""
SEAT_WEIGHT, UNIT_WEIGHT = 0.95, 0.9
"""A match on a municipality's seat or administrative unit counts a little less than its name."""

KINDS: dict[str, frozenset[str]] = {
    "municipality": frozenset(
        "bashkia bashkise bashki bashkine bashkite bashkis bashkive municipality".split()
    ),
    "prefecture": frozenset(
        "prefektura prefektures prefekturen prefekture prefekturave prefekturat "
        "prefekt prefekti prefektit prefektin prefecture prefect".split()
    ),
    "region": frozenset("qark qarku qarkut qarkun qarqe qarqet county region".split()),
    "council": frozenset("keshill keshilli keshillit keshillin council".split()),
    "water": frozenset(
        "ujesjelles ujesjellesi ujesjellesit ujesjellesin ujesjellese ujesjellesa "
        "kanalizime kanalizimet kanalizimeve ujesjellese water utility".split()
    ),
}
"""Generic words, by the kind of body they name: not a name, but a hint which body is meant."""
STOPWORDS = frozenset("i e te se per dhe ne nga of the and a sh sha shpk".split())
"""Articles, prepositions and "sh.a.", which say nothing about which body is meant."""
ENDINGS = ("it", "in", "es", "en", "ut", "un", "a", "i", "e", "u")
"""Albanian case and article endings of place names (Kukës/Kukësi/Kukësit, Lezhë/Lezha/Lezhës)."""


@dataclass(frozen=True)
class Word:
    """A typed or listed word: folded as written, and reduced to its stem."""

    raw: str
    stem: str


@dataclass(frozen=True)
class Analysis:
    """What a text says: the name words, and the kinds of body its generic words name."""

    words: tuple[Word, ...]
    kinds: frozenset[str]


def fold(text: str) -> str:
    """Lower case without diacritics or punctuation: "Fushë-Arrëz" → "fushe arrez"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def stem(word: str) -> str:
    """The same stem for every form of a place name: shkodër, shkodra, shkodrës → "shkodr"."""
    stripped = True
    while stripped:
        stripped = False
        for ending in ENDINGS:
            if word.endswith(ending) and len(word) - len(ending) >= 3:
                word, stripped = word[: -len(ending)], True
                break
    if word.endswith("er") and len(word) >= 4:
        word = word[:-2] + "r"
    return word


def _kind_of(raw: str) -> str | None:
    """The kind a generic word names, also misspelt by one letter (ujesjeles, prefektra)."""
    from rapidfuzz.distance import DamerauLevenshtein  # on the first search, not at start-up

    for kind, words in KINDS.items():
        if raw in words:
            return kind
    if len(raw) >= 6:
        for kind, words in KINDS.items():
            if any(DamerauLevenshtein.distance(raw, known, score_cutoff=1) <= 1 for known in words):
                return kind
    return None


@lru_cache(maxsize=4096)
def analyse(text: str) -> Analysis:
    """Split a text into name words and generic kinds (cached: a pure function of the text)."""
    words: list[Word] = []
    kinds: set[str] = set()
    for raw in fold(text).split():
        if raw in STOPWORDS:
            continue
        kind = _kind_of(raw)
        if kind:
            kinds.add(kind)
        else:
            words.append(Word(raw, stem(raw)))
    return Analysis(tuple(words), frozenset(kinds))


@lru_cache(maxsize=65536)
def similarity(typed: Word, listed: Word) -> float:
    """How well a typed word fits a listed one (0–100): same stem, typed start, one typo, fuzzy."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import DamerauLevenshtein

    if typed.raw == listed.raw or typed.stem == listed.stem:
        return 100.0
    best = 0.0
    if listed.raw.startswith(typed.raw):
        best = 95.0 if len(typed.raw) >= 3 else 85.0
    elif len(typed.raw) >= 4 and typed.raw in listed.raw:
        best = 85.0
    for a, b in ((typed.raw, listed.raw), (typed.stem, listed.stem)):
        if min(len(a), len(b)) >= 4 and DamerauLevenshtein.distance(a, b, score_cutoff=1) <= 1:
            best = max(best, 90.0)
        best = max(best, fuzz.ratio(a, b))
    return best


def _joined(words: tuple[Word, ...]) -> tuple[Word, ...]:
    """The words written together too, for "vaudejes" or "fushearrez"."""
    if len(words) < 2:
        return words
    raw = "".join(word.raw for word in words)
    return (*words, Word(raw, stem(raw)))


def _fields(authority: Authority) -> list[tuple[tuple[Word, ...], float]]:
    """Where a typed word may be found, with how much a match there counts."""
    name = analyse(authority.name).words
    fields = [(_joined(name), 1.0)]
    if authority.kind == AuthorityKind.MUNICIPALITY:
        fields.append((_joined(analyse(authority.seat or "").words), SEAT_WEIGHT))
        units = (analyse(unit).words for unit in (authority.units or "").split(";"))
        fields.append((tuple(word for words in units for word in _joined(words)), UNIT_WEIGHT))
    else:
        fields.append((analyse(authority.qark or "").words, 1.0))
    return fields


KIND_HINTS = {"municipality": "municipality", "prefecture": "prefecture", "water_utility": "water"}
"""The generic kind each directory kind is, also when its name has no generic word."""


def _kinds(authority: Authority) -> frozenset[str]:
    """The kinds of body an authority is, from its name's generic words and its kind."""
    hint = KIND_HINTS.get(str(authority.kind))
    return analyse(authority.name).kinds | ({hint} if hint else set())


def score(query: Analysis, authority: Authority) -> float:
    """How well an authority fits the query (0–100)."""
    kinds = _kinds(authority)
    kind_share = len(query.kinds & kinds) / len(query.kinds) if query.kinds else 1.0
    if not query.words:
        return 100.0 * kind_share
    fields = _fields(authority)
    total = 0.0
    for typed in query.words:
        best = max(
            (similarity(typed, listed) * weight for words, weight in fields for listed in words),
            default=0.0,
        )
        total += best if best >= TOKEN_FLOOR else 0.0
    name = analyse(authority.name).words
    covered = sum(
        1 for listed in name if any(similarity(typed, listed) >= THRESHOLD for typed in query.words)
    )
    coverage = covered / len(name) if name else 0.0
    kind_factor = 0.85 + 0.15 * kind_share if query.kinds else 1.0
    return total / len(query.words) * kind_factor * (0.95 + 0.05 * coverage)


def best_matches(authorities: Iterable[Authority], text: str, limit: int = 8) -> list[Authority]:
    """The authorities that fit typed text, best first (ties keep the given order)."""
    query = analyse(text[:200])
    if not query.words and not query.kinds:
        return []
    scored = [(round(score(query, authority), 1), authority) for authority in authorities]
    scored = [(points, authority) for points, authority in scored if points >= THRESHOLD]
    if not scored:
        return []
    floor = max(points for points, _authority in scored) - SPREAD
    scored.sort(key=lambda item: -item[0])
    return [authority for points, authority in scored if points >= floor][:limit]

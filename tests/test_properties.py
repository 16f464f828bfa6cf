"""Random update sequences through the real Application: handled, answered, rows consistent.

Hypothesis draws who a new person is and what they do: commands, text (long, HTML-like, odd
Unicode), taps on visible and stale buttons, forged callback data, photos, documents,
locations, stickers, voice notes, contacts, Telegram re-delivering an earlier update, and kills
of the Application (idle, or with an update in hand) followed by a new start on the same
database. After every update: it was handled, a message got at least one message back and a
tap got exactly one callback answer (a refused second attempt is printed as a note; the update
in hand at a kill is answered at least once). A re-delivered update makes no call and changes no
row. After every example: no warning or error was logged, nobody got the apology, staff got no
alert, and the database invariants of tests/property_world.py hold.

Profiles (PACT_PROPERTY_PROFILE): ``ci`` (the default) runs 500 examples of up to 8 actions in
a fixed derandomised sequence, so CI is reproducible; ``long`` runs 5,000 fresh random examples
of up to 20 actions (``--hypothesis-seed=N`` repeats one run); ``quick`` runs 50::

    PACT_PROPERTY_PROFILE=long .venv/bin/pytest -q -p no:cacheprovider tests/test_properties.py
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.databases import backends
from tests.property_world import (
    BIG_NUMBERS,
    Command,
    Forge,
    Kill,
    Media,
    Press,
    PressStale,
    Redeliver,
    Start,
    Text,
    Trap,
    World,
    trapped,
)

_COMMON = {
    "deadline": None,
    "database": None,
    "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("pact-ci", max_examples=500, derandomize=True, **_COMMON)
settings.register_profile("pact-long", max_examples=5000, **_COMMON)
settings.register_profile("pact-quick", max_examples=50, derandomize=True, **_COMMON)
PROFILE = f"pact-{os.environ.get('PACT_PROPERTY_PROFILE', 'ci')}"
LONGEST = 20 if PROFILE == "pact-long" else 8
"""Actions per example: short in CI (500 examples in about a minute), longer in the long run."""

# ---- what people type ---------------------------------------------------------------------------

WORDS = (
    "hello",
    "Shkodër",
    "shkoder",
    "fushe arrez",
    "Tiranë",
    "Velipojë",
    "PACT-2026-00001",
    "PACT-2026-99999",
    "arta@example.com",
    "not an e-mail",
    "Arta Kelmendi",
    "<b>&",
    "</i>",
    '<a href="javascript:alert(1)">x</a>',
    "&amp; &lt; &#0;",
    "{name} %s {0} %(x)s",
    "'; DROP TABLE cases; --",
    "1",
    "0",
    "-1",
    "99999999999999999999",
    "Yes",
    "Po",
    "✅ I agree",
    "23.11.2026",
    "32.13.2026",
    "2026-11-23",
    "\u202eevil\u202c",
    "a\u0301\u0308",
    "🇦🇱🚧",
    "The street lights on the main road have been off for two weeks.",
)
_UNICODE = st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t")
LONG = st.sampled_from(("a", "ë", "😀", "<b>", "&")).flatmap(
    lambda unit: st.integers(500, 4096 // (2 if unit == "😀" else len(unit))).map(
        lambda n: unit * n
    )
)
TEXTS = st.one_of(
    st.sampled_from(WORDS),
    st.text(_UNICODE, min_size=1, max_size=40).filter(lambda s: s.strip()),
    LONG,
)

COMMANDS = st.one_of(
    st.sampled_from(
        [
            Command("/start"),
            Command("/menu"),
            Command("/cancel"),
            Command("/help"),
            Command("/privacy"),
            Command("/language"),
            Command("/mydata"),
            Command("/stop"),
            Command("/inbox"),
            Command("/broadcast"),
            Command("/dance"),
        ]
    ),
    st.builds(
        Command,
        st.sampled_from(["/start", "/menu", "/help"]),
        st.text(st.characters(min_codepoint=33, max_codepoint=0x2FF), min_size=1, max_size=64),
    ),
)

MEDIA = st.one_of(
    st.builds(
        Media,
        st.sampled_from(["photo", "pdf", "jpeg_document", "junk_document", "sticker", "voice"]),
    ),
    st.builds(Media, st.just("contact")),
    st.builds(Media, st.just("photo"), caption=TEXTS.map(lambda s: s[:1024])),
    st.builds(
        Media,
        st.just("location"),
        latitude=st.floats(-90, 90),
        longitude=st.floats(-180, 180),
    ),
)

HANDLER_NUMBERS = (1, 2**31, 2**63, 10**20, "²")
"""Ids after a handler's prefix: small ones that may exist, ones beyond any column, and a
character str.isdigit() accepts but int() refuses."""
HANDLER_FORGED = st.builds(
    Forge,
    data=st.none(),
    pick=st.integers(0, 1000),
    number=st.sampled_from(HANDLER_NUMBERS),
    how=st.just("handler"),
)
FORGED = st.one_of(
    st.builds(
        Forge,
        data=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=64).filter(
            lambda s: len(s.encode()) <= 64
        ),
    ),
    st.builds(
        Forge,
        data=st.none(),
        pick=st.integers(0, 50),
        number=st.sampled_from(BIG_NUMBERS),
        how=st.sampled_from(["number", "numbers", "negative", "truncate", "append", "prefix"]),
    ),
)

PICK = st.integers(0, 30)
SIMPLE = st.one_of(
    st.builds(Press, PICK),
    st.builds(Text, TEXTS),
    COMMANDS,
    MEDIA,
)
KILL = st.builds(
    Kill,
    during=st.one_of(st.none(), SIMPLE),
    at_call=st.integers(0, 4),
    applied=st.booleans(),
)
WEIGHTED: list[st.SearchStrategy[Any]] = (
    [st.builds(Press, PICK)] * 100
    + [st.builds(Text, TEXTS)] * 16
    + [COMMANDS] * 12
    + [MEDIA] * 8
    + [st.builds(PressStale, PICK)] * 8
    + [FORGED] * 8
    + [HANDLER_FORGED] * 12
    + [st.builds(Redeliver, PICK)] * 8
)
"""Taps on visible buttons most (they lead deep into the flows), the rest often enough."""
OTHER = st.sampled_from(WEIGHTED).flatmap(lambda strategy: strategy)
ACTION = st.integers(0, 999).flatmap(lambda n: KILL if 500 <= n < 510 else OTHER)
"""About one action in 100 is a kill (a restart costs as much as ten updates)."""
ACTIONS = st.lists(ACTION, min_size=1, max_size=LONGEST)
STARTS = st.builds(
    Start,
    kind=st.sampled_from(
        ["new", "new", "consented", "consented", "half", "refused", "minor", "caseworker"]
    ),
    language=st.sampled_from(["sq", "en", None, "de"]),
)


@pytest.mark.parametrize("backend", backends())
def test_random_update_sequences(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    trap = Trap()
    began = time.monotonic()
    with asyncio.Runner() as runner, trapped(monkeypatch, trap):
        world = runner.run(World.open(backend, tmp_path, trap))
        try:

            @settings(settings.get_profile(PROFILE))
            @given(start=STARTS, actions=ACTIONS)
            def example(start: Start, actions: list[Any]) -> None:
                """One new person doing the drawn actions."""
                runner.run(world.play(start, actions))

            example()
        finally:
            runner.run(world.close())
    print(f"\n{backend} ({PROFILE}, {time.monotonic() - began:.1f} s): {world.summary()}")

"""Deterministic 429 injection, to prove the bot survives Telegram's flood control."""

from __future__ import annotations

import random

from .errors import ApiError, too_many_requests

EXEMPT = frozenset({"getupdates", "getme", "setwebhook"})


class FloodInjector:
    """Decides, with a seeded RNG, which calls answer "429 Too Many Requests"."""

    def __init__(self) -> None:
        self.share = 0.0
        self.retry_after = 1
        self.methods: frozenset[str] | None = None
        self._rng = random.Random(0)
        self.injected = 0

    def configure(
        self, share: float, retry_after: int, methods: set[str] | None, seed: int
    ) -> None:
        """Refuse about ``share`` of eligible calls from now on (0 disables)."""
        if not 0.0 <= share <= 1.0:
            raise ValueError("share must be within [0, 1]")
        self.share = share
        self.retry_after = retry_after
        self.methods = frozenset(m.lower() for m in methods) if methods is not None else None
        self._rng = random.Random(seed)

    def check(self, method: str) -> ApiError | None:
        """The 429 error for this call, or None if it goes through."""
        if self.share <= 0.0:
            return None
        name = method.lower()
        eligible = name in self.methods if self.methods is not None else name not in EXEMPT
        if not eligible or self._rng.random() >= self.share:
            return None
        self.injected += 1
        return too_many_requests(self.retry_after)

"""Broadcast rate: one message to each of N private chats through StrictRateLimiter.

Run: python bench/broadcast_rate.py [--count 3000] [--latency 0.05] [--flood-share 0.05]
     [--compare]
The fake Bot API answers on loopback; this script times each call when it reaches the server
(by wrapping the fake's flood check, the first thing every method call goes through) and reports
the average rate and the most calls that arrived inside any sliding 1-second window. It runs
StrictRateLimiter with its defaults, then again with a share of sendMessage calls answered 429
(retry_after 1 s); --compare adds PTB's AIORateLimiter with its defaults. The figures go in
docs/benchmarks.md; this is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram.ext import AIORateLimiter, ApplicationBuilder, BaseRateLimiter

from bot.broadcasting.limiter import StrictRateLimiter
from bot.core import logs
from fakeapi import FakeTelegram

FIRST_CHAT = 100_000


@dataclass
class Outcome:
    """What one broadcast achieved, as the server saw it."""

    delivered: int
    failed: int
    elapsed: float
    arrivals: list[float]
    refused: int

    @property
    def rate(self) -> float:
        """Delivered messages per second of wall time."""
        return self.delivered / self.elapsed

    @property
    def busiest_second(self) -> int:
        """Most sendMessage calls (429s included) arriving inside any sliding 1-second window."""
        first = 0
        most = 0
        for last, at in enumerate(self.arrivals):
            while self.arrivals[first] <= at - 1.0:
                first += 1
            most = max(most, last - first + 1)
        return most


def time_arrivals(fake: FakeTelegram) -> list[float]:
    """Record when each sendMessage reaches the server, without editing the fake."""
    arrivals: list[float] = []
    check = fake.flood.check

    def timed_check(method: str) -> object:
        if method == "sendMessage":
            arrivals.append(time.monotonic())
        return check(method)

    fake.flood.check = timed_check  # type: ignore[method-assign]
    return arrivals


async def broadcast(
    make_limiter: Callable[[], BaseRateLimiter], count: int, latency: float, flood_share: float
) -> Outcome:
    """Send one message to each of ``count`` fresh private chats and time it."""
    fake = FakeTelegram()
    await fake.start()
    users = [fake.user(user_id=FIRST_CHAT + i) for i in range(count)]
    arrivals = time_arrivals(fake)
    app = (
        ApplicationBuilder()
        .token("1:BENCH")
        .base_url(fake.base_url)
        .base_file_url(fake.base_file_url)
        .rate_limiter(make_limiter())
        .build()
    )
    async with app:
        fake.latency = latency
        fake.inject_429(flood_share, retry_after=1, methods={"sendMessage"}, seed=1)
        started = time.monotonic()
        sends = (app.bot.send_message(user.user_id, "Broadcast") for user in users)
        results = await asyncio.gather(*sends, return_exceptions=True)
        elapsed = time.monotonic() - started
    delivered = sum(len(user.messages) for user in users)
    failed = sum(isinstance(result, BaseException) for result in results)
    outcome = Outcome(delivered, failed, elapsed, arrivals, fake.flood.injected)
    await fake.stop()
    return outcome


def report(label: str, count: int, outcome: Outcome) -> None:
    """Print one configuration's figures."""
    print(
        f"  {label}: {outcome.delivered}/{count} delivered ({outcome.failed} raised) "
        f"in {outcome.elapsed:.1f} s, "
        f"{outcome.rate:.2f} msg/s, busiest 1 s window {outcome.busiest_second} calls, "
        f"{outcome.refused} answered 429"
    )


async def main() -> None:
    """Print one line per configuration."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--flood-share", type=float, default=0.05)
    parser.add_argument("--compare", action="store_true", help="also PTB's AIORateLimiter")
    args = parser.parse_args()
    logs.configure("ERROR")
    print(f"{args.count} private chats, {args.latency * 1000:.0f} ms round trip")
    runs: list[tuple[str, Callable[[], BaseRateLimiter], float]] = [
        ("StrictRateLimiter()", StrictRateLimiter, 0.0),
        (f"StrictRateLimiter(), {args.flood_share:.0%} 429s", StrictRateLimiter, args.flood_share),
    ]
    if args.compare:
        runs.append(("AIORateLimiter()", AIORateLimiter, 0.0))
    for label, make_limiter, share in runs:
        outcome = await broadcast(make_limiter, args.count, args.latency, share)
        report(label, args.count, outcome)


if __name__ == "__main__":
    asyncio.run(main())

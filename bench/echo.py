"""A bare echo bot's updates per second against the fake Bot API: the peers PACT is compared with.

Run: python bench/echo.py --bot aiogram|ptb|ptb-aiohttp [--users 100] [--per-user 30]
[--latency 0.05]. The bot runs in its own process (bench/peers/); this process runs the fake
Bot API. All users send their texts at once (a burst); timed from the first text queued to the
last echo reaching the fake server. Prints one JSON line; order_kept says whether every chat got
its echoes in the order it sent them.
"""

from __future__ import annotations

import argparse
import asyncio
import time

from benchkit import TOKEN, BenchFake, BotProcess, emit, interruptible, warm_up

PEERS = {
    "aiogram": ["bench/peers/aiogram_echo.py"],
    "ptb": ["bench/peers/ptb_echo.py", "--request", "httpx"],
    "ptb-aiohttp": ["bench/peers/ptb_echo.py", "--request", "aiohttp"],
}
FIRST_USER = 20_000


async def run(args: argparse.Namespace) -> dict[str, object]:
    """One burst against one peer."""
    fake = BenchFake()
    await fake.start()
    api = f"http://{fake.host}:{fake.port}"
    bot = BotProcess([*PEERS[args.bot], "--api", api, "--token", TOKEN])
    bot.start()
    try:
        await warm_up(fake, bot, "warm-up")
        fake.latency = args.latency
        users = [fake.user(user_id=FIRST_USER + i, language_code="en") for i in range(args.users)]
        started = time.perf_counter()
        for k in range(args.per_user):
            for user in users:
                await user.send_text(f"m{k}")
        expected = [f"m{k}" for k in range(args.per_user)]
        for user in users:
            await fake.wait_chat(
                user.user_id,
                lambda uid=user.user_id: fake.chat_version.get(uid, 0) >= args.per_user,
                timeout=args.timeout,
            )
        elapsed = time.perf_counter() - started
        order_kept = all(fake.sent_texts(user.user_id) == expected for user in users)
        total = args.users * args.per_user
        return {
            "bench": "echo",
            "bot": args.bot,
            "latency_ms": round(args.latency * 1000),
            "updates": total,
            "seconds": round(elapsed, 3),
            "updates_per_s": round(total / elapsed, 1),
            "order_kept": order_kept,
        }
    finally:
        fake.latency = 0.0
        await bot.stop()
        await fake.stop()


def main() -> None:
    """Parse arguments, run, print the JSON line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bot", choices=sorted(PEERS), required=True)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--per-user", type=int, default=30)
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=300)
    args = parser.parse_args()
    interruptible()
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

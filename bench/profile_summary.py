"""Summarise a py-spy raw profile (collapsed stacks) of the bot's main thread by package.

Run: python bench/profile_summary.py profile.raw [--markdown]
Every sample is charged to the package of its innermost frame that is not the standard
library's plumbing (self time by package), and each package's inclusive share is given too; the
busiest functions follow. Idle time (waiting in epoll) is left out: shares are of busy samples.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
PACKAGES = (
    ("bot/", "ours (bot/)"),
    ("db/", "ours (db/)"),
    ("sqlalchemy/", "sqlalchemy"),
    ("asyncpg/", "asyncpg"),
    ("aiosqlite/", "aiosqlite"),
    ("sqlite3/", "sqlite3"),
    ("httpx/", "httpx/httpcore"),
    ("httpcore/", "httpx/httpcore"),
    ("anyio/", "httpx/httpcore"),
    ("h11/", "httpx/httpcore"),
    ("aiohttp/", "aiohttp"),
    ("yarl/", "aiohttp"),
    ("multidict/", "aiohttp"),
    ("telegram/", "telegram (PTB)"),
    ("apscheduler/", "apscheduler"),
    ("markupsafe/", "markupsafe"),
    ("babel/", "babel"),
    ("json/", "json"),
    ("asyncio/", "asyncio"),
    ("selectors.py", "asyncio"),
    ("hashlib", "hashlib"),
    ("logging/", "logging"),
)
IDLE = ("EpollSelector.select (selectors.py:", "select (selectors.py:")


def package(file: str) -> str:
    """The package group a source file belongs to."""
    for marker, name in PACKAGES:
        if marker in file:
            return name
    if file.startswith("<frozen importlib") or "importlib/" in file:
        return "imports"
    return "other"


def _file(frame: str) -> str:
    """The file part of a py-spy frame "function (path:line)"."""
    match = FRAME.match(frame.strip())
    return match.group("file") if match else frame


def read(path: Path) -> list[tuple[list[str], int]]:
    """(frames outermost first, samples) of the main thread's busy stacks."""
    stacks = []
    for line in path.read_text(errors="replace").splitlines():
        if not line.strip():
            continue
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if frames and frames[0].startswith("thread ("):
            if not frames[0].endswith("MainThread"):
                continue
            frames = frames[1:]
        if not frames or frames[-1].startswith(IDLE):
            continue
        stacks.append((frames, int(count)))
    return stacks


def summarise(path: Path, top: int = 15) -> tuple[str, dict[str, float]]:
    """Markdown tables of self and inclusive share by package and the top functions."""
    stacks = read(path)
    total = sum(count for _, count in stacks) or 1
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    functions: Counter[str] = Counter()
    for frames, count in stacks:
        own[package(_file(frames[-1]))] += count
        for name in {package(_file(frame)) for frame in frames}:
            inclusive[name] += count
        functions[frames[-1].strip()] += count
    lines = [
        f"{total} busy samples of the main thread",
        "",
        "| package | self | inclusive |",
        "| --- | --- | --- |",
    ]
    for name, count in own.most_common():
        lines.append(
            f"| {name} | {100 * count / total:.1f} % | {100 * inclusive[name] / total:.1f} % |"
        )
    lines += ["", "| busiest functions (self) | share |", "| --- | --- |"]
    for name, count in functions.most_common(top):
        if count:
            lines.append(f"| `{name}` | {100 * count / total:.1f} % |")
    groups = {name: round(100 * count / total, 1) for name, count in own.most_common()}
    return "\n".join(lines) + "\n", groups


def main() -> None:
    """Print the summary."""
    parser = argparse.ArgumentParser()
    parser.add_argument("raw", type=Path)
    args = parser.parse_args()
    print(summarise(args.raw)[0])


if __name__ == "__main__":
    main()

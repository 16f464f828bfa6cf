"""Every performance figure in one run, the peers side by side, written into docs/benchmarks.md.

Run: python bench/run_all.py [--quick] [--reps 3] [--users 500] [--no-extras] [--no-write]
[--server postgresql+asyncpg://postgres@127.0.0.1:5432/postgres] [--json-out results.jsonl]

In order: the echo peers (aiogram 3, PTB 22 with HTTPX, PTB with the project's aiohttp request)
and PACT's full service-report flow (bench/full_flow.py, burst, PostgreSQL, limits lifted)
interleaved A B C D A B C D ... for --reps rounds, so a busy moment of the machine hits all of
them alike (medians; ratios against aiogram's echo); the last PACT round is profiled with
py-spy. Then once each: the flow on SQLite; aiogram's echo and the flow on both databases at a
50 ms round trip; the flow paced at 100 updates/s; the flow under production limits. Then the
other bench scripts that exist (bench/poll_presses.py, stats_scale.py, export_scale.py,
startup.py, workers.py), each a subprocess whose last line is a JSON object. Each measurement
is its own process; the flow's people are onboarded once per database into a seed that every
flow run copies (full_flow.py --seed-cache). Their JSON lines are collected, tabulated against
the targets of issue #14 and written between the run_all markers of docs/benchmarks.md.

--quick is a smoke run (a few people, one round, no other scripts unless --extras): under
2 minutes. The full run takes about 15 minutes on an idle 2-core machine once the bot handles a
few hundred updates a second; at today's rates and on a loaded machine, longer.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- run_all:begin -->", "<!-- run_all:end -->"
HEADING = "## Summary (`bench/run_all.py`)"
PEERS = ("aiogram", "ptb", "ptb-aiohttp")
PEER_NAMES = {
    "aiogram": "aiogram 3 echo",
    "ptb": "PTB 22 echo, HTTPXRequest (bare: one update at a time)",
    "ptb-aiohttp": "PTB 22 echo, the project's AiohttpRequest (one at a time)",
}
EXTRAS = ("poll_presses.py", "stats_scale.py", "export_scale.py", "startup.py", "workers.py")


def measure(argv: list[str], timeout: float, log: list[str]) -> dict[str, Any] | None:
    """Run one bench script; its last JSON line, or None (the failure is logged)."""
    started = time.monotonic()
    command = [sys.executable, *argv]
    print(f"$ {' '.join(argv)}", flush=True)
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.terminate()  # the script stops its bot and drops its database
        try:
            process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
        log.append(f"{' '.join(argv)}: no result within {timeout:.0f} s")
        print("  timed out", flush=True)
        return None
    took = time.monotonic() - started
    for line in reversed(stdout.splitlines()):
        if line.startswith("{"):
            try:
                result = json.loads(line)
            except ValueError:
                break
            result["_argv"] = argv
            result["_took_s"] = round(took, 1)
            print(f"  {took:.0f} s: {line[:300]}", flush=True)
            return result
    tail = (stderr or stdout).strip().splitlines()[-3:]
    log.append(f"{' '.join(argv)}: exit {process.returncode}, {' / '.join(tail)[:400]}")
    print(f"  failed ({process.returncode}): {' / '.join(tail)[:400]}", flush=True)
    return None


def median(results: list[dict[str, Any] | None], key: str) -> float | None:
    """The median of one figure over the runs that produced it."""
    values = [r[key] for r in results if r and r.get(key) is not None]
    return statistics.median(values) if values else None


def rates(results: list[dict[str, Any] | None]) -> str:
    """The single runs' rates, for the table."""
    return ", ".join(f"{r['updates_per_s']:.0f}" for r in results if r)


def flow_checks(result: dict[str, Any] | None) -> str:
    """What the flow checked: cases stored and per-chat order."""
    if not result:
        return "failed"
    cases = f"{result['cases']}/{result['users']} cases"
    if result.get("stuck"):
        cases += f" ({result['stuck']} people never got a reply within the step timeout)"
    return f"{cases}, order {'kept' if result['order_kept'] else 'BROKEN'}"


def flow_ok(result: dict[str, Any] | None) -> bool:
    """Cases stored and order kept."""
    return bool(result and result["cases_ok"] and result["order_kept"])


def ms(value: float | None) -> str:
    """Milliseconds for the table: whole above 100 ms."""
    if value is None:
        return "–"
    return f"{value:.0f} ms" if value >= 100 else f"{value:.1f} ms"


def verdict(ok: bool | None) -> str:
    """Table cell for met / not met / no target."""
    return "—" if ok is None else ("yes" if ok else "**no**")


class Plan:
    """Which measurements, at what size."""

    def __init__(self, args: argparse.Namespace) -> None:
        quick = args.quick
        self.reps = args.reps or (1 if quick else 3)
        self.users = args.users or (10 if quick else 500)
        self.paced_users = 10 if quick else max(1, min(self.users, 200))
        self.limited_users = 10 if quick else max(1, min(self.users, 100))
        self.echo = ["--users", "20", "--per-user", "10"] if quick else []
        self.server = args.server
        self.extras = (args.extras or not quick) and not args.no_extras
        self.quick = quick
        self.seeds = tempfile.mkdtemp(prefix="pact-bench-seeds-")

    def flow(self, *extra: str, users: int | None = None, database: str | None = None) -> list:
        """argv of one full_flow run."""
        return [
            "bench/full_flow.py",
            "--users",
            str(users or self.users),
            "--database",
            database or self.server,
            "--seed-cache",
            self.seeds,
            *extra,
        ]


def run(plan: Plan, log: list[str]) -> dict[str, Any]:
    """Every measurement, in order; returns the results by name."""
    found: dict[str, Any] = {name: [] for name in PEERS}
    found["flow_pg"] = []
    profile = Path(tempfile.mkdtemp(prefix="pact-bench-")) / "profile.txt"
    for round_number in range(plan.reps):
        for name in PEERS:
            found[name].append(measure(["bench/echo.py", "--bot", name, *plan.echo], 600, log))
        last = round_number == plan.reps - 1
        extra = ["--profile", str(profile)] if last else []
        found["flow_pg"].append(measure(plan.flow(*extra), 3600, log))
    found["profile"] = profile.read_text() if profile.exists() else None
    found["flow_sqlite"] = measure(plan.flow(database="sqlite"), 3600, log)
    found["aiogram_50"] = measure(
        ["bench/echo.py", "--bot", "aiogram", "--latency", "0.05", *plan.echo], 600, log
    )
    found["flow_sqlite_50"] = measure(plan.flow("--latency", "0.05", database="sqlite"), 3600, log)
    found["flow_pg_50"] = measure(plan.flow("--latency", "0.05"), 3600, log)
    found["flow_paced"] = measure(plan.flow("--paced", "100", users=plan.paced_users), 3600, log)
    found["flow_limited"] = measure(
        plan.flow("--rate-limit", "on", users=plan.limited_users), 3600, log
    )
    drop = ["--drop-seed", "--database", plan.server, "--seed-cache", plan.seeds]
    subprocess.run([sys.executable, "bench/full_flow.py", *drop], cwd=ROOT, check=False)
    shutil.rmtree(plan.seeds, ignore_errors=True)
    found["extras"] = {}
    if plan.extras:
        for script in EXTRAS:
            path = ROOT / "bench" / script
            if not path.exists():
                continue
            flags = ["--quick"] if plan.quick and "--quick" in path.read_text() else []
            found["extras"][script] = measure([f"bench/{script}", *flags], 5400, log)
    return found


def peer_rows(found: dict[str, Any]) -> tuple[list[list[str]], float | None]:
    """Rows of the echo peers; aiogram's median."""
    aiogram = median(found["aiogram"], "updates_per_s")
    rows = []
    for name in PEERS:
        value = median(found[name], "updates_per_s")
        if value is None:
            rows.append([PEER_NAMES[name], "failed", "reference", "—"])
            continue
        ratio = f", {value / aiogram:.2f}× aiogram" if aiogram and name != "aiogram" else ""
        done = [r for r in found[name] if r]
        kept = sum(1 for r in done if r["order_kept"])
        ratio += f"; per-chat order kept in {kept} of {len(done)} runs"
        rows.append(
            [
                f"{PEER_NAMES[name]}, burst",
                f"{value:.0f} updates/s (median of {rates(found[name])}){ratio}",
                "reference",
                "—",
            ]
        )
    return rows, aiogram


def flow_rows(found: dict[str, Any], aiogram: float | None) -> list[list[str]]:
    """Rows of PACT's full flow."""
    rows = []

    def ratio(value: float | None) -> str:
        return f", {value / aiogram:.2f}× aiogram" if value and aiogram else ""

    pg = [r for r in found["flow_pg"] if r]
    value = median(pg, "updates_per_s")
    if value is not None:
        ok = value >= 400 and bool(aiogram) and value >= 0.5 * aiogram and all(map(flow_ok, pg))
        rows.append(
            [
                f"PACT full flow, burst, PostgreSQL, limits lifted ({pg[0]['users']} people, "
                f"{pg[0]['updates']} updates)",
                f"{value:.0f} updates/s (median of {rates(pg)}){ratio(value)}; "
                f"p50 {ms(median(pg, 'p50_ms'))}, p99 {ms(median(pg, 'p99_ms'))}; "
                f"{pg[0]['calls_per_update']} calls/update; {flow_checks(pg[-1])}",
                "≥ 400 updates/s and ≥ 0.5× aiogram",
                verdict(ok),
            ]
        )
    else:
        rows.append(["PACT full flow, burst, PostgreSQL, limits lifted", "failed", "≥ 400/s", "—"])

    def single(key: str, label: str, target: str, test: Callable[[dict], bool] | None) -> None:
        result = found.get(key)
        if not result:
            rows.append([label, "failed", target, "—"])
            return
        figure = (
            f"{result['updates_per_s']:.0f} updates/s{ratio(result['updates_per_s'])}; "
            f"p50 {ms(result['p50_ms'])}, p99 {ms(result['p99_ms'])}; {flow_checks(result)}"
        )
        met = None if test is None else (test(result) and flow_ok(result))
        rows.append([f"{label} ({result['users']} people)", figure, target, verdict(met)])

    single("flow_sqlite", "PACT full flow, burst, SQLite, limits lifted", "—", None)
    echo50 = found.get("aiogram_50")
    rows.append(
        [
            "aiogram 3 echo at a 50 ms round trip, burst",
            f"{echo50['updates_per_s']:.0f} updates/s" if echo50 else "failed",
            "reference",
            "—",
        ]
    )
    fast = lambda r: r["updates_per_s"] >= 700  # noqa: E731
    single("flow_sqlite_50", "PACT full flow at 50 ms, SQLite, limits lifted", "≥ 700/s", fast)
    single("flow_pg_50", "PACT full flow at 50 ms, PostgreSQL, limits lifted", "≥ 700/s", fast)
    paced = found.get("flow_paced")
    if paced:
        rows.append(
            [
                f"PACT full flow paced at 100 updates/s, PostgreSQL ({paced['users']} people)",
                f"delivered {paced['updates_per_s']:.0f}/s; delivery to reply p50 "
                f"{ms(paced['p50_ms'])}, p99 {ms(paced['p99_ms'])}; {flow_checks(paced)}",
                "p99 < 15 ms",
                verdict(paced["p99_ms"] is not None and paced["p99_ms"] < 15 and flow_ok(paced)),
            ]
        )
    else:
        rows.append(["PACT full flow paced at 100 updates/s", "failed", "p99 < 15 ms", "—"])
    single("flow_limited", "PACT full flow, burst, PostgreSQL, production limits", "—", None)
    return rows


def _scalars(data: dict[str, Any]) -> str:
    """The plain figures of a JSON object, "key value; ..."."""
    parts = []
    for key, value in data.items():
        if key.startswith("_") or key == "bench" or isinstance(value, dict | list):
            continue
        parts.append(f"{key} {value}")
    return "; ".join(parts)


def extra_rows(found: dict[str, Any]) -> list[list[str]]:
    """Rows of the other scripts: their figures as they report them."""
    rows = []
    for script, result in found["extras"].items():
        if not result:
            rows.append([f"`bench/{script}`", "failed", "see the issue", "—"])
            continue
        if script == "poll_presses.py":
            for item in result.get("results", []):
                p99 = item.get("answer_p99_s")
                rows.append(
                    [
                        f"{item.get('users')} {item.get('kind')} presses within "
                        f"{item.get('window_s')} s, production limits ({item.get('backend')})",
                        f"callback answered p50 {item.get('answer_p50_s')} s, p99 {p99} s; "
                        f"busiest second {item.get('busiest_second_counted')} calls, "
                        f"{item.get('busiest_second_per_chat')} in one chat",
                        "p99 ≤ 2 s; ≤ 30 calls/s, ≤ 1/s per chat",
                        verdict(
                            p99 is not None
                            and p99 <= 2
                            and item.get("busiest_second_counted", 99) <= 30
                            and item.get("busiest_second_per_chat", 9) <= 1
                        ),
                    ]
                )
            continue
        rows.append([f"`bench/{script}`", _scalars(result) or "see its output", "see #14", "—"])
    return rows


def table(rows: list[list[str]]) -> str:
    """A Markdown table."""
    lines = ["| configuration | measured | target | met? |", "| --- | --- | --- | --- |"]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def machine() -> str:
    """A one-line note about where this ran."""
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at the end {load}"
    )


def section(found: dict[str, Any], plan: Plan, took: float, log: list[str]) -> str:
    """The Markdown written between the markers."""
    peers, aiogram = peer_rows(found)
    rows = peers + flow_rows(found, aiogram) + extra_rows(found)
    mode = "quick (smoke run, not figures)" if plan.quick else "full"
    parts = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {mode} mode, {plan.reps} round(s), "
        f"{took / 60:.1f} minutes; {machine()}. Every bot runs in its own process against the "
        "fake Bot API (`fakeapi/`) in the driver's process; updates/s are from the first update "
        "queued to the last reply received; latencies from the bot fetching an update to its "
        "reply reaching the fake server. The flow's people are onboarded before the clock starts.",
        "",
        table(rows),
    ]
    if found.get("profile"):
        parts += [
            "",
            "Profile of the bot's main thread during the last PostgreSQL burst (py-spy, busy "
            "samples only; self time by package of the innermost frame, inclusive: any frame of "
            "the package on the stack). On a loaded machine, time spent waiting for a CPU is "
            "charged to the frame where the process was preempted, often a socket write:",
            "",
            found["profile"].strip(),
        ]
    if log:
        parts += ["", "Did not run cleanly:", ""] + [f"- {line}" for line in log]
    return "\n".join(parts)


def write(text: str) -> None:
    """Replace the section between the markers (or add it after the introduction)."""
    doc = DOC.read_text()
    block = f"{BEGIN}\n{text}\n{END}"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        doc = head + block + rest.split(END, 1)[1]
    else:
        first = doc.find("\n## ")
        insert = f"\n{HEADING}\n\n{block}\n"
        doc = doc + insert if first < 0 else doc[:first] + "\n" + insert + doc[first:]
    DOC.write_text(doc)


def main() -> None:
    """Run everything, print the section, write it into docs/benchmarks.md."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smoke run: few people, one round")
    parser.add_argument("--reps", type=int, default=0, help="interleaved rounds (default 3)")
    parser.add_argument("--users", type=int, default=0, help="people in the flow (default 500)")
    parser.add_argument("--server", default="postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--extras", action="store_true", help="with --quick: the other scripts")
    parser.add_argument("--no-extras", action="store_true", help="skip the other scripts")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the docs")
    parser.add_argument("--json-out", type=Path, default=None, help="also save every result")
    parser.add_argument("--from-json", type=Path, default=None, help="re-render a saved run")
    args = parser.parse_args()
    plan = Plan(args)
    log: list[str] = []
    if args.from_json:
        found = json.loads(args.from_json.read_text())
        took, log = found.pop("_took_s", 0.0), found.pop("_log", [])
    else:
        started = time.monotonic()
        found = run(plan, log)
        took = time.monotonic() - started
    if args.json_out:
        saved = {**found, "_took_s": took, "_log": log}
        args.json_out.write_text(json.dumps(saved, ensure_ascii=False, indent=1))
    text = section(found, plan, took, log)
    print(text)
    if not args.no_write:
        write(text)


if __name__ == "__main__":
    main()

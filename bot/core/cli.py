"""Command line: `pact-bot [run|playground|migrate]`."""

from __future__ import annotations

import argparse
import asyncio
import sys

from pydantic import ValidationError

from bot.core import logs
from bot.core.settings import MissingTokenError, Settings


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pact-bot` script and of `python -m bot`."""
    parser = argparse.ArgumentParser(prog="pact-bot", description="PACT Civic Bot")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run against Telegram (needs BOT_TOKEN)")
    run.add_argument(
        "--role",
        help="one of several processes on PostgreSQL: some of fetch,work,send (PROCESS_ROLE)",
    )
    play = sub.add_parser("playground", help="chat with the bot in this terminal, no token needed")
    play.add_argument("--language", default="sq", help="Telegram language_code of the test user")
    sub.add_parser("migrate", help="upgrade the database schema to the newest revision")
    args = parser.parse_args(argv)

    try:
        role = getattr(args, "role", None)
        settings = Settings(**({"process_role": role} if role else {}))
    except ValidationError as error:
        for problem in error.errors():  # never str(error): it repeats the values, secrets too
            field = ".".join(str(part) for part in problem["loc"]).upper()
            print(f"{field}: {problem['msg'].removeprefix('Value error, ')}", file=sys.stderr)
        return 2
    logs.configure(
        settings.log_level,
        secrets=[
            secret.get_secret_value()
            for secret in (settings.bot_token, settings.webhook_secret, settings.metrics_token)
            if secret is not None
        ],
        fmt=settings.log_format,
    )
    command = args.command
    if command is None:
        command = "run" if settings.bot_token else "playground"
        if command == "playground":
            if not sys.stdin.isatty():
                print(MissingTokenError(), file=sys.stderr)
                return 2
            print("No BOT_TOKEN is set: starting the playground (a local fake Telegram).")
    try:
        if command == "run":
            from bot.core.cluster import refuse_sqlite
            from bot.core.runner import serve

            problem = refuse_sqlite(settings)
            if problem:
                print(problem, file=sys.stderr)
                return 2

            asyncio.run(serve(settings))
        elif command == "playground":
            from bot.core.playground import play as run_playground

            asyncio.run(run_playground(settings, getattr(args, "language", "sq")))
        else:
            asyncio.run(_migrate(settings))
    except MissingTokenError as error:
        print(error, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


async def _migrate(settings: Settings) -> None:
    """`pact-bot migrate`."""
    from bot.core.cluster import set_up_alone
    from db.engine import create_engine
    from db.migrate import upgrade

    engine = create_engine(settings.database_url)
    async with set_up_alone(settings):  # several containers may start at once
        await upgrade(engine)
    await engine.dispose()

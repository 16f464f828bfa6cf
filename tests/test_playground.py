"""The playground drives the real bot through the fake server from scripted terminal input."""

from __future__ import annotations

from bot.core.playground import play
from bot.core.settings import Settings


async def test_playground_walks_onboarding_and_survives_a_restart(database_url: str) -> None:
    lines = iter(
        [
            "/start",
            "1",
            "4",
            "5",
            ":sticker",
            ":block",
            "hello",
            ":unblock",
            ":restart",
            "/menu",
            ":quit",
        ]
    )
    output: list[str] = []

    async def read(_prompt: str) -> str:
        return next(lines)

    settings = Settings(_env_file=None, database_url=database_url)
    await play(settings, "sq", read=read, write=output.append)
    text = "\n".join(output)
    assert "Mirë se vini" in text
    assert "[1] ✅ Pajtohem" in text
    assert "Pëlqimi juaj u regjistrua" in text
    assert "Sa vjeç jeni?" in text
    assert "Këtë mesazh nuk mund ta përdor këtu" in text
    assert "has blocked the bot" in text, "the playground explains instead of crashing"
    assert "(bot restarted)" in text
    assert "Menyja kryesore" in text.split("(bot restarted)")[1]

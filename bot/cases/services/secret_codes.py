"""Secret codes of anonymous cases: making, hashing off the event loop, and the limits on tries.

A wrong try is remembered against the person who typed it (users.id), never against the case,
so a stranger guessing codes locks out only themselves: per (person, case) after a few wrong
tries, and per person across all cases after more. Rows cascade away when the person is erased.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CodeAttempt

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
MAX_CODE_FAILURES = 5
"""Wrong tries by one person on one case within the window before that case refuses them."""
MAX_USER_FAILURES = 10
"""Wrong tries by one person on any cases or unknown numbers within the window: all refuse."""
WINDOW = timedelta(hours=1)
"""How long a wrong try counts, and so how long it is kept (see `prune`)."""
_DUMMY_SALT = bytes(16)


def new_secret_code() -> str:
    """Eight characters people can read back without confusing 0/O or 1/I: "K7MZ-Q2RA"."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _normalise_code(code: str) -> str:
    """Upper case, only the alphabet's letters: dashes, spaces and typos of case do not matter."""
    return "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)


def hash_code(code: str, salt: bytes | None = None) -> str:
    """scrypt hash of a secret code, with its salt (CPU-heavy: call through `hash_off_loop`)."""
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(_normalise_code(code).encode(), salt=salt, n=2**14, r=8, p=1)
    return f"scrypt${salt.hex()}${digest.hex()}"


def check_code(code: str, stored: str | None) -> bool:
    """Whether a typed code matches the stored hash; without a hash the same work is done anyway."""
    try:
        _scheme, salt, _digest = (stored or "").split("$")
        raw_salt = bytes.fromhex(salt)
    except ValueError:
        hash_code(code, _DUMMY_SALT)
        return False
    return hmac.compare_digest(hash_code(code, raw_salt), stored or "")


async def hash_off_loop(code: str) -> str:
    """`hash_code` in a worker thread, so other people's updates are not held up."""
    return await asyncio.to_thread(hash_code, code)


async def check_off_loop(code: str, stored: str | None) -> bool:
    """`check_code` in a worker thread, so other people's updates are not held up."""
    return await asyncio.to_thread(check_code, code, stored)


async def _failures(session: AsyncSession, user_id: int, now: datetime, *where: object) -> int:
    """How many wrong tries of this person inside the window match the extra conditions."""
    result = await session.execute(
        select(func.count())
        .select_from(CodeAttempt)
        .where(CodeAttempt.user_id == user_id, CodeAttempt.at > now - WINDOW, *where)
    )
    return int(result.scalar_one())


async def refused(session: AsyncSession, user_id: int, case_id: int | None, now: datetime) -> bool:
    """Whether this person must wait: too many wrong tries on this case, or on any cases."""
    if await _failures(session, user_id, now) >= MAX_USER_FAILURES:
        return True
    return (
        case_id is not None
        and await _failures(session, user_id, now, CodeAttempt.case_id == case_id)
        >= MAX_CODE_FAILURES
    )


async def record_failure(
    session: AsyncSession, user_id: int, case_id: int | None, now: datetime
) -> None:
    """Remember one wrong try (case_id None: a number that names no anonymous case)."""
    session.add(CodeAttempt(user_id=user_id, case_id=case_id, at=now))
    await session.flush()


async def forget(session: AsyncSession, user_id: int, case_id: int) -> None:
    """After the right code: this person's wrong tries on that case go (they linked the two)."""
    await session.execute(
        delete(CodeAttempt).where(CodeAttempt.user_id == user_id, CodeAttempt.case_id == case_id)
    )


async def prune(session: AsyncSession, now: datetime) -> int:
    """Drop everyone's tries past the window: a try links an account to a case, keep none longer."""
    result = await session.execute(delete(CodeAttempt).where(CodeAttempt.at <= now - WINDOW))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]

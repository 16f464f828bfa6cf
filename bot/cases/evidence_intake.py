"""Evidence files from Telegram: download, clean off the event loop, send back the neutral copy.

Used by the report flow and by "add information" to a case. Sending a Telegram file_id keeps the
sender's original file name, so every document is downloaded, cleaned (bot.cases.services.evidence)
and uploaded again under a neutral name; the upload goes to the sender ("this copy is what the
team will see") and its new file_id is what is stored and later forwarded to staff.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from io import BytesIO
from typing import TypeVar

from telegram import Document, InputFile, Update

from bot.cases.services import evidence
from bot.cases.services.evidence import Kind, Refusal
from bot.core import replies
from bot.core.application import PactContext
from bot.core.i18n import Translator
from bot.core.runtime import Services
from bot.kit.ui import send
from db.models import Identification

T = TypeVar("T")
_SLOTS = "evidence_cleanings"


def cleaning_slots(services: Services) -> asyncio.Semaphore:
    """One semaphore per application: at most settings.cleanings_at_once decodes at a time."""
    slots = services.cache.get(_SLOTS)
    if not isinstance(slots, asyncio.Semaphore):
        slots = asyncio.Semaphore(services.settings.cleanings_at_once)
        services.cache[_SLOTS] = slots
    return slots


async def off_loop(services: Services, work: Callable[..., T], *args: object) -> T:
    """Run CPU-bound cleaning in a worker thread, waiting for a free slot first."""
    async with cleaning_slots(services):
        return await asyncio.to_thread(work, *args)


async def take_document(
    update: Update,
    context: PactContext,
    number: int,
    mode: Identification | None,
    images_only: bool = False,
) -> dict | None:
    """The stored form of a document just sent (neutral copy), or None after saying why not.

    `number` names the copy (evidence-<number>.<ext>); `mode` is the report's identification
    when already chosen (documents that cannot be cleaned are refused in private modes).
    """
    message = update.effective_message
    doc = message.document if message else None
    if doc is None or update.effective_chat is None:
        return None
    t = context.t
    services = context.services
    if doc.file_size and doc.file_size > evidence.MAX_INPUT_BYTES:
        await send(update, context, refusal_text(t, Refusal.TOO_BIG))
        return None
    try:
        raw = bytes(await _download(doc))
        prepared = await off_loop(
            services,
            evidence.prepare,
            raw,
            doc.file_name,
            doc.mime_type,
            services.settings.image_max_pixels,
            images_only,
        )
    except evidence.RefusedError as refused:
        await send(update, context, refusal_text(t, refused.reason))
        return None
    if images_only and prepared.kind is not Kind.IMAGE:
        await send(update, context, t.gettext("Please send photos here."))
        return None
    if not evidence.allowed(prepared.kind, mode):
        await send(update, context, private_refusal_text(t))
        return None
    name = evidence.neutral_name(number, prepared.extension)
    with replies.immediately():  # its file id is kept with the answer, so it is needed now
        copy = await context.bot.send_document(
            update.effective_chat.id,
            InputFile(BytesIO(prepared.content), filename=name),
            caption=_caption(t, prepared, name, mode),
        )
    if copy.document is None:
        return None
    return {
        "kind": "document",
        "file_id": copy.document.file_id,
        "file_name": name,
        "cleaned": prepared.cleaned,
    }


async def _download(doc: Document) -> bytearray:
    """The document's bytes from Telegram."""
    return await (await doc.get_file()).download_as_bytearray()


def _caption(
    t: Translator, prepared: evidence.Prepared, name: str, mode: Identification | None
) -> str:
    """What was done to the copy, said under it."""
    if prepared.kind is Kind.IMAGE and prepared.converted_from:
        return t.gettext(
            "I converted this HEIC photo to JPEG and removed its hidden data (place, camera, "
            "date). This copy is what the team will see."
        )
    if prepared.kind is Kind.IMAGE:
        return t.gettext(
            "I removed the hidden data from this image (place, camera, date). This copy is "
            "what the team will see."
        )
    if prepared.kind is Kind.PDF:
        return t.gettext(
            "I removed the hidden data from this PDF (author, title, the program that made "
            "it). This copy, named {name}, is what the team will see.",
            name=name,
        )
    if mode is Identification.NAMED:
        return t.gettext("This copy, named {name}, is what the team will see.", name=name)
    return t.gettext(
        "This copy, named {name}, is what the team will see. Word files and other documents "
        "can carry the author's name inside, and I cannot remove it: if you report anonymously "
        "or confidentially, I will not keep this file. A PDF or a photo of the page is safer.",
        name=name,
    )


def refusal_text(t: Translator, reason: Refusal) -> str:
    """Why a file was not taken, and what to send instead."""
    texts = {
        Refusal.EMPTY: t.gettext("This file is empty. Please send another file."),
        Refusal.TOO_BIG: t.gettext(
            "This file is too large for me (at most 20 MB, 500 pages). Please send a smaller one."
        ),
        Refusal.IMAGE_TOO_LARGE: t.gettext(
            "This image has too many pixels for me to clean safely. Please send it as a photo "
            "(not as a file), or a smaller image."
        ),
        Refusal.UNREADABLE_IMAGE: t.gettext(
            "I could not read this image. Please send another file."
        ),
        Refusal.HEIC_FAILED: t.gettext(
            "I could not convert this HEIC photo, so I cannot remove its hidden data (place, "
            "camera, date). Please send it as a photo (not as a file), or as JPEG."
        ),
        Refusal.UNREADABLE_PDF: t.gettext(
            "I could not read this PDF, so I cannot remove its hidden data (such as the "
            "author's name). Please send another file or a photo of the pages."
        ),
        Refusal.LOCKED_PDF: t.gettext(
            "This PDF is protected by a password, so I cannot remove its hidden data. Please "
            "send it without the password, or a photo of the pages."
        ),
    }
    return texts[reason]


def private_refusal_text(t: Translator) -> str:
    """Why an uncleanable document is not taken in an anonymous or confidential report."""
    return t.gettext(
        "I cannot take this file in an anonymous or confidential report: Word files and other "
        "documents can carry the author's name inside, and I cannot remove it. Please send a "
        "PDF or a photo of the page instead."
    )

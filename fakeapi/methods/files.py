"""getFile: turns a file_id into a path the download route serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import bad_request
from ..params import Params
from ..registry import api_method

if TYPE_CHECKING:
    from ..core import FakeTelegram


@api_method("getFile")
async def get_file(fake: FakeTelegram, p: Params) -> dict[str, Any]:
    """The File object of a known file_id."""
    file_id = p.text("file_id")
    if not file_id:
        raise bad_request("file_id not specified")
    stored = fake.state.files.get(file_id)
    if stored is None:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    return stored.to_file()

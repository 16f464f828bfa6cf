"""Bot API method handlers; importing this package registers all of them."""

from . import account, editing, files, polling, sending

__all__ = ["account", "editing", "files", "polling", "sending"]

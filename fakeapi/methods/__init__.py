"""Bot API method handlers; importing this package registers all of them."""

from . import account, editing, files, forum, polling, sending

__all__ = ["account", "editing", "files", "forum", "polling", "sending"]

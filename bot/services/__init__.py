"""Domain services: plain async functions over a session, no Telegram imports."""

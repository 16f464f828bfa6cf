"""Outbox rows and what each person was actually sent; no Telegram."""

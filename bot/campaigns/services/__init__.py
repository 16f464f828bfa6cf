"""Campaign rules: subscriptions, audiences, recurrence, polls, hearings; no Telegram."""

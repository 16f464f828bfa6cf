"""Account rules: consent, profile, erasure, the person's data, retention; no Telegram."""

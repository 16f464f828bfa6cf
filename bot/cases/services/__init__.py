"""Case rules: references, identification, evidence cleaning, secret codes, quotas; no Telegram."""

"""Report-card services: rounds, responses, results; no Telegram here."""

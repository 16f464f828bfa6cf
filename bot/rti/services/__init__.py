"""Right-to-information rules: requests, deadlines, letters, directory, working days; no
Telegram."""

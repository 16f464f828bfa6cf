"""Staff rules: permissions, casework, statistics, exports, templates; no Telegram."""

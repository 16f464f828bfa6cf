"""The bot's machinery: application, unit of work, gate, inbox, replies, persistence, runner."""

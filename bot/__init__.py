"""PACT Civic Bot: right to information, complaints and civic campaigns on Telegram."""

__version__ = "0.1.0"

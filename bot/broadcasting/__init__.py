"""Sending to many: the outbox, the rate budget, the sender and its progress message."""

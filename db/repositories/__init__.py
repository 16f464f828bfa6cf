"""Queries and inserts; they flush when they must but never commit."""

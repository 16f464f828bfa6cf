"""Persistence: SQLAlchemy models, async engine and sessions, repositories, Alembic migrations."""

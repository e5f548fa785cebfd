"""Alembic migrations of every domain, run by ``smartseoul db upgrade``."""

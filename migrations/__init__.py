"""Alembic migrations of the newsmon archive (run with `newsmon init`)."""

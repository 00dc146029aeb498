"""Alembic environment: the engine hands us an open connection (see app.store.database.migrate)."""

from __future__ import annotations

from alembic import context

from app.store.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.store.database.migrate()")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

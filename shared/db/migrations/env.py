"""Alembic environment: the URL comes from the caller (shared.db.migrate) or from Settings."""

from __future__ import annotations

from alembic import context

from shared.db.engine import make_engine
from shared.db.models import Base

config = context.config
url = config.get_main_option("sqlalchemy.url")
if not url:
    from shared.settings import get_settings

    url = get_settings().resolved_database_url


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    # Migration 0004's search structures have no models (FTS5 tables, tsvector and trigram indexes, trigger-kept
    # documents, the indexer's state): autogenerate leaves everything named search_* alone.
    return not (name or "").startswith("search_")


def run() -> None:
    engine = make_engine(url, foreign_keys=False)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            include_name=include_name,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=url, target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run()

"""Alembic environment of the preserve catalog (DESIGN.md, "Catalog").

There is no alembic.ini: `preserve.catalog.engine.alembic_config` builds the Config in code
and passes an open connection in `config.attributes["connection"]` (or a URL in
`config.attributes["url"]`). Migrations are written by hand in `versions/`, with
`batch_alter_table` for alterations so each runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import context
from preserve.catalog.records import Base

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no catalog connection or URL given to the Alembic environment")
    from preserve.catalog.engine import make_engine

    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            _run(connection)
    finally:
        engine.dispose()


def run_offline() -> None:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()

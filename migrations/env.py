"""Alembic environment: the URL comes from Synergia's settings, never from alembic.ini."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import event, pool
from sqlalchemy.engine import create_engine
from sqlmodel.sql.sqltypes import AutoString

from synergia_tui import models
from synergia_tui.models.types import ExactDecimal, UTCDateTime

config = context.config
target_metadata = models.metadata

# Only the plain `alembic` command configures logging from the ini file; Synergia's own calls
# pass a URL and keep their log file.
if config.config_file_name is not None and "url" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url():
    url = config.attributes.get("url")
    if url is None:
        from synergia_tui.core.config import load_settings

        url = load_settings().database_url
    return url


def render_item(type_, obj, autogen_context):
    """Render Synergia's portable column types by their import path."""
    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    if type_ == "type" and isinstance(obj, (ExactDecimal, UTCDateTime)):
        autogen_context.imports.add("import synergia_tui.models.types")
        if isinstance(obj, ExactDecimal):
            return f"synergia_tui.models.types.ExactDecimal({obj.precision}, {obj.scale})"
        return "synergia_tui.models.types.UTCDateTime()"
    return False


def include_object(obj, name, type_, reflected, compare_to):
    """Leave out of comparisons with the models what belongs to the database alone: the
    full-text index (migrations 0007 and 0008: SQLite's FTS5 tables and their shadow tables,
    PostgreSQL's ``search`` columns and its indexes named ``*_search``) and PostgreSQL's
    ``messages.user_id`` (0009) and ``sync_channels`` (0010)."""
    if type_ == "table" and reflected and name and "_fts" in name:
        return False
    if type_ == "table" and reflected and name == "sync_channels":
        return False  # PostgreSQL's live-sync channels (migration 0010)
    if type_ == "column" and reflected and name == "search":
        return False
    if type_ == "column" and reflected and name == "user_id" and obj.table.name == "messages":
        return False  # PostgreSQL's owner of a message, for its policy (migration 0009)
    return not (type_ == "index" and reflected and name and name.endswith("_search"))


def _configure(**kwargs) -> None:
    url = kwargs.pop("url", None)
    connection = kwargs.get("connection")
    models.use_partial_indexes(
        connection.dialect.name if connection is not None else url.get_backend_name()
    )
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        render_item=render_item,
        include_object=include_object,
        compare_type=True,
        compare_server_default=False,
        # Each migration commits on its own or not at all, on SQLite too (its DDL is
        # transactional; Alembic assumes otherwise): one that fails leaves the database at the
        # revision before it, with that revision's schema and data as they were.
        transactional_ddl=True,
        transaction_per_migration=True,
        url=url,
        **kwargs,
    )


def _sqlite_transactions(engine) -> None:
    """Make SQLAlchemy's transactions real SQLite transactions, DDL included.

    The sqlite3 driver begins a transaction only before INSERT, UPDATE or DELETE, so CREATE,
    ALTER and DROP would commit one by one; SQLAlchemy's documented workaround (pysqlite,
    "Serializable isolation / Savepoints / Transactional DDL") hands BEGIN to SQLAlchemy.
    """

    @event.listens_for(engine, "connect")
    def _no_driver_transactions(dbapi_connection, _record):
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(connection):
        # IMMEDIATE: the write lock up front, so a reader cannot make the migration fail later
        # with "database is locked" when it upgrades its lock.
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def run_migrations_offline() -> None:
    _configure(url=_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    if engine.dialect.name == "sqlite":
        _sqlite_transactions(engine)
    with engine.connect() as connection:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

"""The shared metadata, with a constraint naming convention so migrations diff cleanly."""

from __future__ import annotations

import uuid

from sqlalchemy import Index, MetaData, text
from sqlmodel import SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLModel.metadata = MetaData(naming_convention=NAMING_CONVENTION)
metadata = SQLModel.metadata


def new_id() -> uuid.UUID:
    """A fresh primary key."""
    return uuid.uuid4()


def partial_index(name: str, *columns: str, where: str, unique: bool = False) -> Index:
    """An index over only the rows matching ``where`` (SQL that both backends read alike).

    The predicate waits in ``info`` until a backend is used (``use_partial_indexes``): naming a
    dialect's option here would import that dialect at once, and PostgreSQL's brings its whole
    set of drivers (4 MiB) into an app running on SQLite.
    """
    return Index(name, *columns, unique=unique, info={"where": where})


def use_partial_indexes(dialect_name: str) -> None:
    """Give every partial index its predicate in ``dialect_name``'s terms (repeatable)."""
    for table in metadata.tables.values():
        for index in table.indexes:
            where = index.info.get("where")
            if where is not None:
                index.dialect_options[dialect_name]["where"] = text(where)

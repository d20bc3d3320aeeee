"""One unit of work per service call: a session, its repositories, one commit."""

from __future__ import annotations

import logging
from types import TracebackType

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session

from synergia_tui.core.db import create_session_factory, create_writer_session_factory
from synergia_tui.core.errors import (
    ConflictError,
    driver_reason,
    is_permission_denied,
    permission_denied,
    storage_error,
)
from synergia_tui.repositories import (
    ChatRepository,
    MessageRepository,
    ModelRepository,
    PresetRepository,
    RoleRepository,
    SearchRepository,
)

log = logging.getLogger(__name__)


def describe_database_error(exc: BaseException) -> str:
    """A one-line, secret-free reason for a driver error."""
    return driver_reason(exc)


class Database:
    """The engine and its session factories, shared by every service."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = create_session_factory(engine)
        self._writer = create_writer_session_factory(engine)

    @property
    def backend(self) -> str:
        return self.engine.url.get_backend_name()

    def unit_of_work(self, *, write: bool = False) -> UnitOfWork:
        """A fresh unit of work; use it in a ``with`` block and call ``commit()`` to keep changes."""
        return UnitOfWork(self._writer() if write else self._reader())

    def dispose(self) -> None:
        self.engine.dispose()


class UnitOfWork:
    """Owns one session; database failures leave it as typed errors, never driver exceptions."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.models = ModelRepository(session)
        self.chats = ChatRepository(session)
        self.messages = MessageRepository(session)
        self.presets = PresetRepository(session)
        self.search = SearchRepository(session)
        self.roles = RoleRepository(session)

    def __enter__(self) -> UnitOfWork:
        return self

    def commit(self) -> None:
        self.session.commit()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed without expiring the loaded rows, so read
        # objects can still be built from them after the unit of work ends.
        try:
            self.session.close()
        except SQLAlchemyError:
            log.warning("closing the session failed", exc_info=True)
        if isinstance(exc, IntegrityError):
            log.info("integrity error: %s", describe_database_error(exc))
            raise ConflictError(
                f"The change conflicts with stored data: {describe_database_error(exc)}"
            ) from exc
        if isinstance(exc, SQLAlchemyError) and is_permission_denied(exc):
            denied = permission_denied(exc, self.session.get_bind().engine.url.username)
            log.info("permission denied: %s", denied)
            raise denied from exc
        if isinstance(exc, SQLAlchemyError):
            error = storage_error(exc, self.session.get_bind().engine.url)
            log.warning("database error: %s", error)
            raise error from exc

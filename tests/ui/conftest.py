"""Fixtures for UI tests: real services on a real (embedded SQLite) database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container, build
from synergia_tui.core.config import Settings


@pytest.fixture
def ui_container(tmp_path: Path) -> Iterator[Container]:
    """A migrated embedded database for user ``alice`` and the services over it."""
    url = URL.create("sqlite+pysqlite", database=str(tmp_path / "ui" / "synergia.db"))
    settings = Settings(synergia_database_url=url.render_as_string(hide_password=False), synergia_user="alice")
    container = build(settings)
    container.ensure_schema()
    yield container
    container.close()

"""`synergia health` checks that an SQLite file is intact, within a time limit, and names the
settings to check when the server does not answer."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import build
from synergia_tui.core.config import load_settings
from synergia_tui.core.errors import UNAVAILABLE, StorageError, postgres_unreachable
from synergia_tui.models import Message
from synergia_tui.services import health as health_module
from synergia_tui.services.health import HealthService
from synergia_tui.ui.app import open_database
from tests.conftest import settings_for
from tests.faults.conftest import free_port
from tests.support import add_model, run_synergia

MESSAGES = 2000


@pytest.fixture
def full_database(tmp_path: Path) -> Path:
    """An SQLite database at head holding a chat of 2,000 messages, its WAL folded in."""
    path = tmp_path / "db" / "synergia.db"
    container = build(settings_for(URL.create("sqlite+pysqlite", database=str(path))))
    try:
        container.ensure_schema()
        model = add_model(container)
        chat = container.chats.create_chat(model_id=model.id)
        with container.db.unit_of_work(write=True) as uow:
            uow.session.add_all(
                Message(chat_id=chat.id, model_id=model.id, role="user", content=f"{n} " * 60)
                for n in range(MESSAGES)
            )
            uow.commit()
    finally:
        container.close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def damage_the_middle(path: Path, pages: int = 4) -> None:
    """Overwrite a few pages in the middle of the file with noise; the first page stays intact."""
    with sqlite3.connect(path) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    total = path.stat().st_size // page_size
    assert total > 40, "the database is too small to damage in the middle"
    noise = random.Random(10).randbytes(page_size * pages)
    with open(path, "r+b") as handle:
        handle.seek((total // 2) * page_size)
        handle.write(noise)


def test_a_healthy_database_passes_the_integrity_check(full_database):
    result = run_synergia("health", "--json", SYNERGIA_SQLITE_PATH=str(full_database))
    assert (result.returncode, result.stderr) == (0, "")
    report = json.loads(result.stdout)
    assert report["status"] == "healthy"
    assert report["database"]["integrity"] == "ok"


def test_a_database_damaged_in_the_middle_is_unhealthy_and_says_why(full_database):
    damage_the_middle(full_database)
    result = run_synergia("health", SYNERGIA_SQLITE_PATH=str(full_database))
    assert result.returncode == 1, result.stdout
    assert "status:    unhealthy" in result.stdout
    problems = [line for line in result.stdout.splitlines() if line.startswith("problem:")]
    assert len(problems) == 1
    assert "the database file is damaged: " in problems[0]
    assert "Traceback" not in result.stdout + result.stderr

    as_json = run_synergia("health", "--json", SYNERGIA_SQLITE_PATH=str(full_database))
    report = json.loads(as_json.stdout)
    assert as_json.returncode == 1
    assert (report["status"], report["database"]["integrity"]) == ("unhealthy", "damaged")


def test_an_integrity_check_past_its_time_limit_is_reported_incomplete_not_damaged(
    full_database,
):
    container = build(settings_for(URL.create("sqlite+pysqlite", database=str(full_database))))
    try:
        health = HealthService(
            container.db, version="test", display_url="sqlite", integrity_timeout_s=0
        )
        report = health.check()
    finally:
        container.close()
    assert report.database.integrity == "incomplete"
    assert report.status == "healthy"
    assert report.problems == []


def test_a_server_database_has_no_file_to_check(container, backend):
    report = container.health.check()
    assert report.status == "healthy"
    assert report.database.integrity == ("ok" if backend == "sqlite" else None)


def test_the_status_bars_frequent_checks_read_the_whole_file_only_now_and_then(
    full_database, monkeypatch
):
    container = build(settings_for(URL.create("sqlite+pysqlite", database=str(full_database))))
    try:
        assert container.health.check().database.integrity == "ok"
        damage_the_middle(full_database)
        container.db.engine.dispose()  # no page of the old file left in a connection's cache
        assert container.health.check().database.integrity == "ok"  # the verdict of a moment ago
        monkeypatch.setattr(health_module, "INTEGRITY_EVERY_S", 0.0)
        report = container.health.check()
    finally:
        container.close()
    assert (report.status, report.database.integrity) == ("unhealthy", "damaged")


# -- a PostgreSQL server that does not answer ------------------------------------------------

PASSWORD = "Sup3r-Secret-pw"


@pytest.fixture
def nobody_listening() -> dict[str, str]:
    """The original backend's settings, pointing at a port where no server listens."""
    return {
        "POSTGRES_SERVER": "127.0.0.1",
        "POSTGRES_PORT": str(free_port()),
        "POSTGRES_USER": "alice",
        "POSTGRES_PASSWORD": PASSWORD,
        "POSTGRES_DB": "synergia",
    }


def _the_line(settings: dict[str, str]) -> str:
    return postgres_unreachable(f"127.0.0.1:{settings['POSTGRES_PORT']}", "Connection refused")


def test_health_names_the_settings_that_point_at_an_unreachable_server(nobody_listening):
    result = run_synergia("health", **nobody_listening)
    assert (result.returncode, result.stderr) == (1, "")
    lines = result.stdout.splitlines()
    assert "status:    unhealthy" in lines
    assert f"reachable: no: {_the_line(nobody_listening)}" in lines
    assert f"problem:   database unreachable: {_the_line(nobody_listening)}" in lines
    assert PASSWORD not in result.stdout

    as_json = run_synergia("health", "--json", **nobody_listening)
    report = json.loads(as_json.stdout)
    assert (as_json.returncode, report["database"]["error"]) == (1, _the_line(nobody_listening))
    assert PASSWORD not in as_json.stdout


def test_the_tui_opening_an_unreachable_server_says_the_same_line(nobody_listening, monkeypatch):
    for name, value in nobody_listening.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StorageError) as refused:
        open_database(load_settings())
    assert refused.value.message == UNAVAILABLE + _the_line(nobody_listening)

"""Health: what `synergia health` and the services say about a database that is up or down."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy.engine import make_url

from synergia_tui.bootstrap import build
from synergia_tui.core import migrations
from synergia_tui.core.errors import StorageError
from synergia_tui.models import AIModelCreate
from tests.conftest import settings_for
from tests.support import run_commands, run_synergia

DOWN_URL = "postgresql://synergia:Sup3r-Secret-pw@127.0.0.1:1/synergia"
HEALTH_KEYS = {"status", "timestamp", "version", "uptime_s", "database"}
DATABASE_KEYS = {"backend", "reachable", "latency_ms", "revision", "head"}


@pytest.fixture
def down_container():
    built = build(settings_for(make_url(DOWN_URL)))
    yield built
    built.close()


def test_a_reachable_database_at_head_is_healthy(container, backend):
    report = container.health.check()
    assert report.status == "healthy"
    assert report.database.backend == backend
    assert report.database.reachable is True
    assert report.database.latency_ms is not None and report.database.latency_ms >= 0
    assert report.database.revision == report.database.head == migrations.head_revision()
    assert report.timestamp.tzinfo is not None


def test_a_database_behind_the_code_is_degraded(empty_db_url):
    built = build(settings_for(empty_db_url))
    try:
        report = built.health.check()
    finally:
        built.close()
    assert report.status == "degraded"
    assert report.database.reachable is True
    assert report.database.revision is None
    assert report.problems


def test_a_database_that_is_down_is_reported_unhealthy_quickly(down_container):
    start = time.monotonic()
    report = down_container.health.check()
    assert time.monotonic() - start < 5
    assert report.status == "unhealthy"
    assert report.database.reachable is False
    assert report.database.error
    assert "Sup3r-Secret-pw" not in report.database.url


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.models.list_models(),
        lambda c: c.chats.list_chats(),
        lambda c: c.models.add_model(
            AIModelCreate(name="gpt", provider="openai", api_model="gpt-4o-mini")
        ),
    ],
    ids=["list models", "list chats", "add model"],
)
def test_services_on_a_database_that_is_down_raise_storage_error(down_container, call):
    with pytest.raises(StorageError) as caught:
        call(down_container)
    message = str(caught.value)
    assert message.startswith("Database unavailable")
    assert "\n" not in message
    assert "Sup3r-Secret-pw" not in message


def test_synergia_health_reports_a_healthy_database(db_url, backend):
    plain, as_json = run_commands(db_url, ["health"], ["health", "--json"])
    assert plain.returncode == 0, plain.stderr
    assert "status:    healthy" in plain.stdout
    assert f"database:  {backend}" in plain.stdout
    assert "reachable: yes" in plain.stdout
    assert plain.stderr == ""

    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert HEALTH_KEYS <= report.keys()
    assert DATABASE_KEYS <= report["database"].keys()
    assert report["status"] == "healthy"
    assert report["database"]["backend"] == backend
    assert report["database"]["reachable"] is True
    assert report["database"]["revision"] == report["database"]["head"]
    assert isinstance(report["uptime_s"], float | int)
    assert as_json.stderr == ""


def test_the_installed_command_reports_health_and_creates_the_embedded_database(
    isolated_env, tmp_path
):
    result = run_synergia("health", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "status:    healthy" in result.stdout
    assert result.stderr == ""
    assert (isolated_env / "data" / "synergia" / "synergia.db").exists()


def test_synergia_health_exits_1_quickly_with_the_reason_and_masks_the_password(
    tmp_path, isolated_env
):
    start = time.monotonic()
    result = run_synergia("health", SYNERGIA_DATABASE_URL=DOWN_URL, cwd=tmp_path)
    assert time.monotonic() - start < 10
    assert result.returncode == 1
    assert "reachable: no" in result.stdout
    assert "127.0.0.1" in result.stdout
    assert "Sup3r-Secret-pw" not in result.stdout + result.stderr
    assert "***" in result.stdout

    (as_json,) = run_commands(make_url(DOWN_URL), ["health", "--json"])
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["status"] == "unhealthy"
    assert report["database"]["reachable"] is False
    assert report["database"]["error"]
    assert "Sup3r-Secret-pw" not in as_json.stdout + as_json.stderr
    log = isolated_env / "state" / "synergia" / "synergia.log"
    assert "Sup3r-Secret-pw" not in log.read_text()

"""The log file: private, rotating, and never carrying a secret."""

from __future__ import annotations

import http.server
import logging
import logging.handlers
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from synergia_tui.core import logging as synergia_logging
from synergia_tui.core.logging import configure_logging, redact


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture
def log_file(isolated_env: Path, umask_022) -> Iterator[Path]:
    """Logging configured as the app does, restored afterwards so pytest keeps its own."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    path = configure_logging("DEBUG", secrets=["pg-Passw0rd!"])
    yield path
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in saved_handlers:
        root.addHandler(handler)
    root.setLevel(saved_level)


def _logged(path: Path) -> str:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_text()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("connecting to postgresql://synergia:hunter2@db:5432/app", "hunter2"),
        ("headers={'Authorization': 'Bearer sk-live-abcdef1234567890'}", "abcdef1234567890"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload", "eyJhbGciOiJIUzI1NiJ9"),
        ("Authorization: Basic dXNlcjpzM2NyZXQ=", "dXNlcjpzM2NyZXQ"),
        ("x-api-key: sk-ant-api03-ABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP"),
        ("key is sk-proj-AAAABBBBCCCCDDDD in the env", "AAAABBBBCCCCDDDD"),
        ("password=topsecret&user=bob", "topsecret"),
        ('{"api_key": "gsk_0123456789abcdef"}', "0123456789abcdef"),
    ],
)
def test_redaction_removes_passwords_keys_and_authorization(text, secret):
    scrubbed = redact(text)
    assert secret not in scrubbed
    assert "***" in scrubbed


def test_redaction_keeps_ordinary_text():
    text = "listed 3 models in 12 ms for user alice"
    assert redact(text) == text


def test_log_records_are_scrubbed_in_message_arguments_and_tracebacks(log_file):
    log = logging.getLogger("synergia_tui.test")
    log.info("connecting to %s", "postgresql://app:hunter2@db/app")
    log.warning("sending headers %r", {"Authorization": "Bearer sk-abcdefghijklmnop"})
    log.info("the configured password is pg-Passw0rd! (registered secret)")
    try:
        raise RuntimeError("login failed for api_key=sk-zyxwvutsrqponmlk")
    except RuntimeError:
        log.exception("provider call failed")
    text = _logged(log_file)
    for secret in ("hunter2", "sk-abcdefghijklmnop", "pg-Passw0rd!", "sk-zyxwvutsrqponmlk"):
        assert secret not in text
    assert "provider call failed" in text
    assert "RuntimeError" in text


def test_log_lines_carry_timestamp_logger_level_and_message(log_file):
    logging.getLogger("synergia_tui.format").warning("disk almost full")
    line = _logged(log_file).strip().splitlines()[-1]
    parts = line.split(" - ")
    assert parts[1:] == ["synergia_tui.format", "WARNING", "disk almost full"]


def test_noisy_libraries_log_only_warnings(log_file):
    logging.getLogger("httpx2").info("HTTP Request: GET https://api.example/v1/models")
    logging.getLogger("sqlalchemy.engine").info("SELECT 1")
    logging.getLogger("httpx2").warning("connection pool is full")
    logged = _logged(log_file)
    assert "HTTP Request" not in logged
    assert "SELECT 1" not in logged
    assert "connection pool is full" in logged  # silenced below WARNING, not muted


class _Ok(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # the server's own access log would go to stderr


def test_the_sdks_http_client_does_not_log_each_request(log_file):
    # The provider SDKs talk through httpx2, which logs every request at INFO under its own name.
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with httpx2.Client() as client:
            response = client.get(f"http://127.0.0.1:{server.server_port}/v1/models")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert response.status_code == 200
    assert "HTTP Request" not in _logged(log_file)


def test_the_log_is_private_even_under_a_permissive_umask(log_file, isolated_env):
    assert log_file == isolated_env / "state" / "synergia" / "synergia.log"
    assert _mode(log_file) == 0o600
    assert _mode(log_file.parent) == 0o700


def test_the_log_rotates_at_10_mb_keeping_3_private_backups(log_file):
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h, logging.handlers.RotatingFileHandler)
    )
    assert (handler.maxBytes, handler.backupCount) == (10 * 1024 * 1024, 3)
    assert (synergia_logging.MAX_BYTES, synergia_logging.BACKUP_COUNT) == (10 * 1024 * 1024, 3)
    handler.maxBytes = 2_000  # rotate after a few lines instead of writing 40 MB
    log = logging.getLogger("synergia_tui.rotation")
    for n in range(200):
        log.info("line %d %s", n, "x" * 100)
    files = sorted(log_file.parent.glob("synergia.log*"))
    assert [f.name for f in files] == [
        "synergia.log",
        "synergia.log.1",
        "synergia.log.2",
        "synergia.log.3",
    ]
    assert all(_mode(f) == 0o600 for f in files)

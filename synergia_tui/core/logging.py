"""The log file: rotating, private, and scrubbed of secrets."""

from __future__ import annotations

import logging
import logging.handlers
import re
from collections.abc import Iterable
from pathlib import Path

from synergia_tui.core import paths
from synergia_tui.core.safe_text import neutralize

LOG_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
MAX_BYTES = 10 * 1024 * 1024
BACKUP_COUNT = 3
NOISY_LOGGERS = (
    "httpx",
    "httpx2",  # what the provider SDKs send through: one INFO line per HTTP request
    "httpcore",
    "openai",
    "anthropic",
    "urllib3",
    "asyncio",
    "uvicorn",
    "uvicorn.access",
    "sqlalchemy",
    "sqlalchemy.engine",
    "alembic",
    "psycopg",
    "markdown_it",
)
MASK = "***"

_PATTERNS = [
    # Authorization / api-key headers, in dict reprs or raw header form.
    re.compile(
        r"(?i)((?:authorization|proxy-authorization)['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+|basic\s+)?[^\s'\",}]+"
    ),
    re.compile(
        r"(?i)((?:x-api-key|api[_-]?key|apikey|password|passwd|pwd|secret|token)['\"]?\s*[:=]\s*['\"]?)[^\s'\",}&]+"
    ),
    # user:password@ in URLs.
    re.compile(r"(://[^/\s:@]+:)[^@\s/]+(@)"),
    # Bare provider keys.
    re.compile(r"()\b(?:sk-ant-|sk-|gsk_|xai-)[A-Za-z0-9_\-]{8,}"),
]


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every password, API key and Authorization value replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(
            lambda m: m.group(1) + MASK + (m.group(2) if m.re.groups >= 2 else ""), text
        )
    return text


class RedactingFilter(logging.Filter):
    """Scrubs each record's final text (message, arguments and traceback) before it is written.

    Secrets are masked, and control characters made visible (newlines and tabs kept): a provider's
    error body or a chat title quoted in a message must not drive the terminal of whoever runs
    `less` or `tail -f` on the log.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = {s for s in secrets if s}

    def add_secret(self, secret: str | None) -> None:
        """Also scrub this exact value from now on (e.g. an API key read from the environment)."""
        if secret:
            self.secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._clean(record.getMessage())
        record.args = None
        if record.exc_info:
            formatter = logging.Formatter()
            record.exc_text = self._clean(formatter.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self._clean(record.exc_text)
        if record.stack_info:
            record.stack_info = self._clean(record.stack_info)
        return True

    def _clean(self, text: str) -> str:
        return neutralize(redact(text, self.secrets))


_filter = RedactingFilter()


def redaction_filter() -> RedactingFilter:
    """The process-wide filter, so other layers can register secrets they read."""
    return _filter


def log_path() -> Path:
    """The current log file."""
    return paths.state_dir() / "synergia.log"


def configure_logging(
    level: str = "INFO", secrets: Iterable[str] = (), path: Path | None = None
) -> Path:
    """Send every log record to the rotating file (and nowhere else), scrubbed of secrets."""
    path = path or log_path()
    paths.private_file(path)
    handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    for secret in secrets:
        _filter.add_secret(secret)
    handler.addFilter(_filter)
    _PrivateRotation.install(handler)

    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return path


class _PrivateRotation:
    """Keeps rotated files 0600 as well."""

    @staticmethod
    def install(handler: logging.handlers.RotatingFileHandler) -> None:
        def rotator(source: str, dest: str) -> None:
            Path(source).rename(dest)
            Path(dest).chmod(0o600)
            paths.private_file(Path(source))

        handler.rotator = rotator

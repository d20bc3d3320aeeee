"""The typed errors every layer raises; each carries a message fit to show a user."""

from __future__ import annotations


class SynergiaError(Exception):
    """Base of every error Synergia shows to a user; ``str(error)`` is the message."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigError(SynergiaError):
    """A setting has a value Synergia cannot use."""

    exit_code = 2


class NotFoundError(SynergiaError):
    """The thing asked for does not exist (or is deleted, or belongs to someone else)."""


class ConflictError(SynergiaError):
    """The change clashes with what is stored, e.g. a duplicate model name."""


class ValidationError(SynergiaError):
    """The input breaks a business rule (empty prompt, negative price, ...)."""


class StorageError(SynergiaError):
    """The database could not be reached or refused the work."""


class SchemaError(StorageError):
    """The database schema is not the revision this version of Synergia expects."""


class ProviderError(SynergiaError):
    """An AI provider failed to answer."""

    retryable = False
    """Whether asking again, after a pause, may well succeed (busy or unreachable provider)."""


class ProviderAuthError(ProviderError):
    """The provider refused the API key (HTTP 401/403) or no key was found."""


class ProviderRateLimitedError(ProviderError):
    """The provider asked us to slow down (HTTP 429)."""

    retryable = True

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ProviderUnavailableError(ProviderError):
    """The provider could not be reached, timed out, or failed on its side (5xx)."""

    retryable = True


class ProviderBadResponseError(ProviderError):
    """The provider answered with something we cannot use (404 model, garbage, error event)."""

"""Business rules for the model catalogue."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal, InvalidOperation

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ConflictError, NotFoundError, ValidationError
from synergia_tui.models import PROVIDER_NAMES, AIModel, AIModelCreate, AIModelRead, AIModelUpdate
from synergia_tui.providers.base import CREDENTIALS_IN_URL, has_credentials
from synergia_tui.services.unit_of_work import Database, UnitOfWork
from synergia_tui.services.validation import single_line, storable_text

MAX_PRICE = Decimal("100000000")
PRICE_PLACES = Decimal("0.000001")
MAX_CONTEXT_WINDOW = 2**31 - 1  # an INTEGER column on PostgreSQL
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LOOKS_LIKE_KEY = re.compile(r"^(sk-|sk_|gsk_|xai-|AIza)")


def read_model(row: AIModel) -> AIModelRead:
    return AIModelRead.model_validate(row, from_attributes=True)


def check_price(value: object, what: str) -> Decimal:
    """A price per million tokens: a finite, non-negative decimal."""
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError(f"{what} must be a number, got {value!r}") from None
    if not price.is_finite():
        raise ValidationError(f"{what} must be a finite number")
    if price < 0:
        raise ValidationError(f"{what} must not be negative")
    if price >= MAX_PRICE:  # NUMERIC(14, 6) holds values below 10^8
        raise ValidationError(f"{what} is too large")
    if price.as_tuple().exponent < -6:  # type: ignore[operator]
        raise ValidationError(f"{what} has more than 6 decimal places")
    # Stored with six places on both backends, so `--json` prints the same text on each.
    return price.quantize(PRICE_PLACES)


def _check_fields(data: AIModelCreate) -> AIModelCreate:
    name = single_line(data.name, "Name", max_length=200)
    provider = (data.provider or "").strip().lower()
    if provider not in PROVIDER_NAMES:
        raise ValidationError(
            f"Unknown provider {data.provider!r} (use {', '.join(PROVIDER_NAMES)})"
        )
    api_model = single_line(data.api_model, "Model id", max_length=200)
    base_url = (data.base_url or "").strip() or None
    if base_url is not None:
        single_line(base_url, "Base URL", max_length=500)
        if not re.match(r"^https?://[^\s/]+", base_url):
            raise ValidationError("Base URL must start with http:// or https://")
        # A user:password part would be stored in clear text, listed by `models list --json`, and
        # sent (and echoed in errors) as Basic auth; the message never repeats the URL.
        if has_credentials(base_url):
            raise ValidationError(CREDENTIALS_IN_URL)
    api_key_env = (data.api_key_env or "").strip() or None
    if api_key_env is not None:
        if _LOOKS_LIKE_KEY.match(api_key_env):
            raise ValidationError(
                "API key env takes the NAME of an environment variable, not the key itself"
            )
        if not _ENV_NAME.match(api_key_env) or len(api_key_env) > 200:
            raise ValidationError(f"API key env {api_key_env!r} is not a valid variable name")
    price = check_price(data.price_per_million_tokens, "Price")
    output_price = None
    if data.output_price_per_million_tokens is not None:
        output_price = check_price(data.output_price_per_million_tokens, "Output price")
    if data.context_window is not None and data.context_window <= 0:
        raise ValidationError("Context window must be a positive number of tokens")
    if data.context_window is not None and data.context_window > MAX_CONTEXT_WINDOW:
        raise ValidationError("Context window is too large")
    if data.max_output_tokens is not None and data.max_output_tokens <= 0:
        raise ValidationError("Max output tokens must be a positive number of tokens")
    if data.max_output_tokens is not None and data.max_output_tokens > MAX_CONTEXT_WINDOW:
        raise ValidationError("Max output tokens is too large")
    return AIModelCreate(
        name=name,
        provider=provider,
        api_model=api_model,
        base_url=base_url,
        api_key_env=api_key_env,
        price_per_million_tokens=price,
        output_price_per_million_tokens=output_price,
        context_window=data.context_window,
        max_output_tokens=data.max_output_tokens,
        is_enabled=data.is_enabled,
    )


class ModelService:
    """Adds, edits, enables, disables and (softly) deletes AI models."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_models(self, *, enabled_only: bool = False) -> list[AIModelRead]:
        """Live models by name; with ``enabled_only`` just the ones that can be picked."""
        with self.db.unit_of_work() as uow:
            return [read_model(m) for m in uow.models.list_live(enabled_only=enabled_only)]

    def get_model(self, ref: str | uuid.UUID) -> AIModelRead:
        """A live model by name or id."""
        with self.db.unit_of_work() as uow:
            return read_model(self._find(uow, ref))

    def add_model(self, data: AIModelCreate) -> AIModelRead:
        """Add a model; its name must not already exist among live models."""
        data = _check_fields(data)
        with self.db.unit_of_work(write=True) as uow:
            if uow.models.get_live_by_name(data.name) is not None:
                raise ConflictError(f"Model '{data.name}' already exists")
            row = uow.models.add(AIModel.model_validate(data))
            uow.commit()
            return read_model(row)

    def edit_model(self, ref: str | uuid.UUID, changes: AIModelUpdate) -> AIModelRead:
        """Change the given fields of a model, with the same checks as adding one."""
        with self.db.unit_of_work(write=True) as uow:
            row = self._find(uow, ref)
            merged = AIModelCreate.model_validate(
                {**row.model_dump(), **changes.model_dump(exclude_unset=True)}
            )
            merged = _check_fields(merged)
            if merged.name != row.name and uow.models.get_live_by_name(merged.name) is not None:
                raise ConflictError(f"Model '{merged.name}' already exists")
            for key, value in merged.model_dump().items():
                setattr(row, key, value)
            row.updated_at = utcnow()
            uow.commit()
            return read_model(row)

    def set_enabled(self, ref: str | uuid.UUID, enabled: bool) -> AIModelRead:
        """Enable or disable a model; disabled models cannot be picked or sent to."""
        with self.db.unit_of_work(write=True) as uow:
            row = self._find(uow, ref)
            row.is_enabled = enabled
            row.updated_at = utcnow()
            uow.commit()
            return read_model(row)

    def delete_model(self, ref: str | uuid.UUID) -> None:
        """Soft-delete a model: history keeps showing its name, lists stop showing it."""
        with self.db.unit_of_work(write=True) as uow:
            row = self._find(uow, ref)
            row.is_deleted = True
            row.is_enabled = False
            row.updated_at = utcnow()
            uow.commit()

    @staticmethod
    def _find(uow: UnitOfWork, ref: str | uuid.UUID) -> AIModel:
        row: AIModel | None
        if isinstance(ref, uuid.UUID):
            row = uow.models.get(ref)
            row = None if row is None or row.is_deleted else row
        else:
            row = uow.models.get_live_by_name(storable_text(ref.strip(), "Model name"))
        if row is None:
            raise NotFoundError(f"Model '{ref}' not found")
        return row

"""AI models in the catalogue (table ``models``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from sqlalchemy import Boolean, CheckConstraint, Column, text
from sqlmodel import Field, SQLModel

from synergia_tui.core.clock import utcnow
from synergia_tui.models.base import new_id, partial_index
from synergia_tui.models.types import ExactDecimal, UTCDateTime

ProviderName = Literal["openai", "anthropic", "ollama"]
PROVIDER_NAMES: tuple[str, ...] = ("openai", "anthropic", "ollama")
PRICE_TYPE = ExactDecimal(14, 6)


class AIModelBase(SQLModel):
    """Fields a user sets on a model."""

    name: str = Field(max_length=200)
    provider: str = Field(max_length=32)
    api_model: str = Field(max_length=200)
    base_url: str | None = Field(default=None, max_length=500)
    api_key_env: str | None = Field(default=None, max_length=200)
    price_per_million_tokens: Decimal = Field(default=Decimal(0), sa_type=PRICE_TYPE)
    output_price_per_million_tokens: Decimal | None = Field(default=None, sa_type=PRICE_TYPE)
    context_window: int | None = None
    max_output_tokens: int | None = None
    """Cap on a reply's length in tokens; unset means the provider's default (see providers)."""
    is_enabled: bool = Field(default=True, sa_column_kwargs={"server_default": text("true")})


class AIModel(AIModelBase, table=True):
    """A model row. ``name`` is unique among models that are not deleted."""

    __tablename__ = "models"
    __table_args__ = (
        partial_index("uq_models_name_live", "name", unique=True, where="is_deleted = false"),
        CheckConstraint("CAST(price_per_million_tokens AS REAL) >= 0", name="price_not_negative"),
        CheckConstraint(
            "output_price_per_million_tokens IS NULL OR CAST(output_price_per_million_tokens AS REAL) >= 0",
            name="output_price_not_negative",
        ),
        CheckConstraint("provider IN ('openai', 'anthropic', 'ollama')", name="known_provider"),
        CheckConstraint(
            "max_output_tokens IS NULL OR max_output_tokens > 0", name="max_output_tokens_positive"
        ),
    )

    id: uuid.UUID = Field(default_factory=new_id, primary_key=True)
    is_deleted: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class AIModelCreate(SQLModel):
    """Input to add a model."""

    name: str
    provider: str
    api_model: str
    base_url: str | None = None
    api_key_env: str | None = None
    price_per_million_tokens: Decimal = Decimal(0)
    output_price_per_million_tokens: Decimal | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    is_enabled: bool = True


class AIModelUpdate(SQLModel):
    """Input to edit a model; only the fields given change."""

    name: str | None = None
    provider: str | None = None
    api_model: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    price_per_million_tokens: Decimal | None = None
    output_price_per_million_tokens: Decimal | None = None
    context_window: int | None = None
    max_output_tokens: int | None = None
    is_enabled: bool | None = None


class AIModelRead(SQLModel):
    """A model as the UI and CLI see it."""

    model_config = {"frozen": True}  # typed as SQLModel's own config dict

    id: uuid.UUID
    name: str
    provider: str
    api_model: str
    base_url: str | None
    api_key_env: str | None
    price_per_million_tokens: Decimal
    output_price_per_million_tokens: Decimal | None
    context_window: int | None
    max_output_tokens: int | None = None
    is_enabled: bool
    is_deleted: bool
    created_at: datetime
    updated_at: datetime

    @property
    def output_price(self) -> Decimal:
        """The output price, which falls back to the input price when unset."""
        if self.output_price_per_million_tokens is None:
            return self.price_per_million_tokens
        return self.output_price_per_million_tokens

"""Queries over ``models``."""

from __future__ import annotations

import uuid

from sqlmodel import Session, col, select

from synergia_tui.models import AIModel


class ModelRepository:
    """Finds and stores AI models."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, model: AIModel) -> AIModel:
        self.session.add(model)
        self.session.flush()
        return model

    def get(self, model_id: uuid.UUID) -> AIModel | None:
        """A model by id, deleted or not (history needs deleted ones too)."""
        return self.session.get(AIModel, model_id)

    def get_live_by_name(self, name: str) -> AIModel | None:
        statement = select(AIModel).where(AIModel.name == name, col(AIModel.is_deleted).is_(False))
        return self.session.exec(statement).first()

    def list_live(self, *, enabled_only: bool = False) -> list[AIModel]:
        statement = select(AIModel).where(col(AIModel.is_deleted).is_(False))
        if enabled_only:
            statement = statement.where(col(AIModel.is_enabled).is_(True))
        return list(self.session.exec(statement.order_by(col(AIModel.name), col(AIModel.id))))

    def names_by_id(self, ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
        if not ids:
            return {}
        statement = select(AIModel.id, AIModel.name).where(col(AIModel.id).in_(ids))
        return {row[0]: row[1] for row in self.session.exec(statement)}

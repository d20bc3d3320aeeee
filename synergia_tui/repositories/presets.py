"""Queries over ``prompts`` (system-prompt presets), always scoped to one user."""

from __future__ import annotations

from sqlmodel import Session, col, select

from synergia_tui.models import Preset


class PresetRepository:
    """Finds and stores one user's presets."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, preset: Preset) -> Preset:
        self.session.add(preset)
        self.session.flush()
        return preset

    def get(self, user_id: str, name: str, *, for_update: bool = False) -> Preset | None:
        statement = select(Preset).where(Preset.user_id == user_id, Preset.name == name)
        if for_update:
            statement = statement.with_for_update()
        return self.session.exec(statement).first()

    def all(self, user_id: str) -> list[Preset]:
        """The user's presets by name."""
        statement = select(Preset).where(Preset.user_id == user_id).order_by(col(Preset.name))
        return list(self.session.exec(statement))

    def delete(self, preset: Preset) -> None:
        self.session.delete(preset)
        self.session.flush()

"""System-prompt presets: one user's named system prompts, and the default a new chat starts with.

Presets live in the database (table ``prompts``), not in a file, so that on a shared server they
follow the user from host to host like the rest of their data. The default preset is a setting
(``SYNERGIA_DEFAULT_PRESET``): a name, looked up here when a new chat is started.
"""

from __future__ import annotations

from synergia_tui.core.clock import utcnow
from synergia_tui.core.errors import ConfigError, NotFoundError, ValidationError
from synergia_tui.models import PRESET_NAME_LENGTH, Preset, PresetRead
from synergia_tui.services.messages import MAX_PROMPT_CHARS
from synergia_tui.services.unit_of_work import Database, UnitOfWork
from synergia_tui.services.validation import single_line, storable_text

NAMES_SHOWN = 10


def read_preset(row: Preset) -> PresetRead:
    return PresetRead(name=row.name, text=row.text, updated_at=row.updated_at)


def check_system_prompt(text: str, what: str = "System prompt") -> str:
    """Refuse a system prompt that cannot be sent or stored."""
    if len(text) > MAX_PROMPT_CHARS:
        raise ValidationError(f"{what} is longer than {MAX_PROMPT_CHARS:,} characters")
    return storable_text(text, what)


def _known(uow: UnitOfWork, user_id: str) -> str:
    names = [p.name for p in uow.presets.all(user_id)]
    if not names:
        return "there are no presets yet: add one with `synergia prompts set NAME TEXT`"
    shown = ", ".join(names[:NAMES_SHOWN])
    more = f" and {len(names) - NAMES_SHOWN} more" if len(names) > NAMES_SHOWN else ""
    return f"presets: {shown}{more}"


class PresetService:
    """Lists, saves and removes one user's presets; ``default_name`` is the setting's value."""

    def __init__(self, db: Database, user_id: str, *, default_name: str | None = None) -> None:
        self.db = db
        self.user_id = user_id
        self.default_name = default_name

    def list_presets(self) -> list[PresetRead]:
        """The user's presets, by name."""
        with self.db.unit_of_work() as uow:
            return [read_preset(p) for p in uow.presets.all(self.user_id)]

    def get_preset(self, name: str) -> PresetRead:
        """The preset called ``name``, or NotFoundError naming the ones there are."""
        with self.db.unit_of_work() as uow:
            preset = uow.presets.get(self.user_id, name.strip())
            if preset is None:
                raise NotFoundError(f"No preset named '{name}' ({_known(uow, self.user_id)})")
            return read_preset(preset)

    def save_preset(self, name: str, text: str) -> PresetRead:
        """Add the preset ``name``, or replace its text if it exists."""
        name = single_line(name, "Preset name", max_length=PRESET_NAME_LENGTH)
        if not text.strip():
            raise ValidationError("Preset text is empty")
        check_system_prompt(text, "Preset text")
        with self.db.unit_of_work(write=True) as uow:
            now = utcnow()
            preset = uow.presets.get(self.user_id, name, for_update=True)
            if preset is None:
                preset = uow.presets.add(
                    Preset(
                        user_id=self.user_id, name=name, text=text, created_at=now, updated_at=now
                    )
                )
            else:
                preset.text = text
                preset.updated_at = now
            uow.commit()
            return read_preset(preset)

    def delete_preset(self, name: str) -> None:
        """Remove the preset; chats started from it keep their text."""
        with self.db.unit_of_work(write=True) as uow:
            preset = uow.presets.get(self.user_id, name.strip(), for_update=True)
            if preset is None:
                raise NotFoundError(f"No preset named '{name}' ({_known(uow, self.user_id)})")
            uow.presets.delete(preset)
            uow.commit()

    def default_preset(self) -> PresetRead | None:
        """The preset a new chat starts with (None: no default set). A default that names no
        preset is a configuration error, reported in one line."""
        if self.default_name is None:
            return None
        with self.db.unit_of_work() as uow:
            preset = uow.presets.get(self.user_id, self.default_name)
            if preset is None:
                raise ConfigError(
                    f"SYNERGIA_DEFAULT_PRESET: no preset named '{self.default_name}' "
                    f"({_known(uow, self.user_id)})"
                )
            return read_preset(preset)

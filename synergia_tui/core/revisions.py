"""The revisions this version of Synergia ships, read from the migration files (no Alembic).

Kept apart from ``core.migrations`` (which needs SQLAlchemy) so the start-up fast path can tell
whether a database is at head before SQLAlchemy is imported.
"""

from __future__ import annotations

import re

from synergia_tui.core import paths

_REVISION = re.compile(r"""^revision\s*(?::[^=\n]+)?=\s*['"]([^'"]+)['"]""", re.MULTILINE)
_DOWN_REVISION = re.compile(r"""^down_revision\s*(?::[^=\n]+)?=\s*(.+)$""", re.MULTILINE)
_QUOTED = re.compile(r"""['"]([^'"]+)['"]""")


def known_revisions() -> dict[str, tuple[str, ...]]:
    """Every revision this version of Synergia ships, with the revisions it follows."""
    revisions: dict[str, tuple[str, ...]] = {}
    for script in sorted((paths.resource("migrations") / "versions").glob("*.py")):
        source = script.read_text(encoding="utf-8")
        revision = _REVISION.search(source)
        if revision is None:
            continue
        down = _DOWN_REVISION.search(source)
        revisions[revision.group(1)] = tuple(_QUOTED.findall(down.group(1))) if down else ()
    return revisions


def head_revision() -> str | None:
    """The newest revision this version of Synergia knows (the history is linear)."""
    revisions = known_revisions()
    followed = {down for downs in revisions.values() for down in downs}
    heads = sorted(set(revisions) - followed)
    return heads[0] if heads else None

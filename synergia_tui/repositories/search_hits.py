"""Full-text search over one user's messages and chat titles (see migrations 0007 and 0008):
FTS5 on SQLite, ``tsvector`` on PostgreSQL.

**Ranking, and what it costs.** Ranking every match of a common word (bm25 / ts_rank) costs time
in proportion to how many messages hold it: with a million messages, a word in one message of
ten took 270 ms on SQLite and 300 ms on PostgreSQL, past the 100 ms a search may take. So the
matches are ranked a *window* at a time, newest first: the best matches among the newest
``WINDOW_MATCHES`` or so, then the best among the window before, and so on (see each backend's
module for how its windows are cut). A search with fewer matches than that, which is nearly
every search of a rare word, a name or a phrase, is ranked over all of them exactly; one with
more shows the best of what is recent first, which for a word in a tenth of everything is what
a reader wants anyway. Newest first among equal ranks, titles after messages among equals; a
search within one chat is always ranked exactly (a chat is small).

Only the page of hits is given a snippet.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

SNIPPET_WORDS = 16
WINDOW_MATCHES = 5_000
"""About how many matches are ranked together (the cost of a search grows with it)."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A visible hit before its snippet is drawn: where it ranks, and what it shows."""

    window: int
    rank: float
    """Lower is better (bm25's sign; PostgreSQL's ts_rank is negated to match)."""
    created_at: datetime
    chat_id: uuid.UUID
    message_id: uuid.UUID | None
    role: str | None
    chat_title: str
    key: tuple[str, object]
    """What the backend draws the snippet from: ``("m", …)`` a message, ``("c", …)`` a title."""


def order_key(hit: Candidate) -> tuple[float, ...]:
    """Window, then rank, then newest first, then the greater id first, titles last."""
    by_id = (0, -hit.message_id.int) if hit.message_id is not None else (1, 0)
    return (hit.window, hit.rank, -hit.created_at.timestamp(), *by_id)


def best(hits: list[Candidate], count: int) -> list[Candidate]:
    return sorted(hits, key=order_key)[:count]

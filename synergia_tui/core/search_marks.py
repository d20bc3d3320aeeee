"""Where a search's words are in a text, found as the databases find them: whole words, any
case, accents ignored, a prefix term matching the words it starts.

The databases say which messages match; this says where in a message, to highlight the matches
on screen (and to step through them with ``n``/``N``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from synergia_tui.core.search_query import Term

_WORD = re.compile(r"\w+")


@lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    folded = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
    return folded.casefold() or char


def fold(text: str) -> tuple[str, list[int]]:
    """``text`` in lower case without accents, and for each of its characters the index of
    the character of ``text`` it came from (``ß`` folds to ``ss``: two characters, one index)."""
    parts: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = char if char.isascii() and not char.isupper() else _fold_char(char)
        parts.append(folded)
        origin.extend([index] * len(folded))
    return "".join(parts), origin


def pattern_for(terms: list[Term]) -> re.Pattern[str] | None:
    """One pattern for every word of ``terms``, to run on a ``fold``-ed text (None: no word).
    A phrase's words are each highlighted: the database has said they stand in a row."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for term in terms:
        found = [fold(word)[0] for word in _WORD.findall(term.text)]
        if term.kind == "prefix" and found:
            prefixes.add(found[-1])
            words.update(found[:-1])
        else:
            words.update(found)
    alternatives = [re.escape(p) + r"\w*" for p in sorted(prefixes, key=len, reverse=True)]
    alternatives += [re.escape(w) + r"(?!\w)" for w in sorted(words, key=len, reverse=True)]
    if not alternatives:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + ")")


def find_matches(text: str, pattern: re.Pattern[str] | None) -> list[tuple[int, int]]:
    """The ``(start, end)`` character ranges of ``text`` that ``pattern`` (``pattern_for``)
    matches, in order."""
    if pattern is None or not text:
        return []
    folded, origin = fold(text)
    return [
        (origin[m.start()], origin[m.end() - 1] + 1) for m in pattern.finditer(folded) if m.end()
    ]

"""What a search box or `synergia search` is given, read the same way for both databases.

Words are ANDed; ``"a phrase"`` matches those words in a row; a word ending in ``*`` matches
every word it starts. Each database splits a term into words as it split the text it indexed
(FTS5's ``unicode61``, PostgreSQL's parser), so a term matches what it looks like in a message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_PART = re.compile(r'"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+")

Kind = Literal["words", "phrase", "prefix"]


@dataclass(frozen=True)
class Term:
    kind: Kind
    text: str


def parse(query: str) -> list[Term]:
    """The terms of ``query`` (an unclosed quote runs to the end; a term without a letter or
    digit in it is dropped)."""
    terms: list[Term] = []
    for phrase, bare in _PART.findall(query):
        if phrase or not bare:
            if _WORD.search(phrase):
                terms.append(Term("phrase", phrase.strip()))
        elif bare.endswith("*") and _WORD.search(bare):
            words = _WORD.findall(bare)
            terms.extend(Term("words", word) for word in words[:-1])
            terms.append(Term("prefix", words[-1]))
        elif _WORD.search(bare):
            terms.append(Term("words", bare))
    return terms


def fts5_match(terms: list[Term]) -> str:
    """An FTS5 ``MATCH`` expression: each term a quoted string (never read as FTS5 syntax),
    a prefix marked ``*``, all ANDed."""
    parts = []
    for term in terms:
        quoted = '"' + term.text.replace('"', '""') + '"'
        parts.append(quoted + " *" if term.kind == "prefix" else quoted)
    return " AND ".join(parts)


def tsquery_parts(terms: list[Term]) -> list[tuple[str, str]]:
    """PostgreSQL: each term as (function, argument), to be ANDed (``&&``): ``plainto_tsquery``
    for words, ``phraseto_tsquery`` for a phrase, ``to_tsquery`` with ``:*`` for a prefix (a
    lone word, quoted)."""
    parts = []
    for term in terms:
        if term.kind == "prefix":
            parts.append(("to_tsquery", "'" + term.text.replace("'", "''") + "':*"))
        elif term.kind == "phrase":
            parts.append(("phraseto_tsquery", term.text))
        else:
            parts.append(("plainto_tsquery", term.text))
    return parts

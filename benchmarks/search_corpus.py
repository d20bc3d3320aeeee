"""A corpus for the search benchmark: chats and messages whose words follow Zipf's law.

Real text is Zipfian: a few words are in most messages, most words are in a few. Search cost
follows the same curve (a common word's posting list is long, a rare one's short), so uniform
random words would measure the wrong thing. The vocabulary is a few dozen real words for the
head of the curve, then made-up words of two or three syllables for the tail; each message draws
its words independently, so a phrase of two common words is as frequent as chance makes it.

Planted on purpose: ``RARE`` in exactly ``RARE_HITS`` messages; ``NO_MATCH`` in none (its letters
are not in any syllable). Some chats belong to another user and some are in the trash, so the
search must filter them out as it would on a real shared file.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from benchmarks.databases import BENCH_USER

OTHER_USER = "someone-else"
HEAD = (
    "the to and a of is in you it that error for this with on can be use not are your if as or "
    "file data code function python query table server test value list type user time run "
    "database request model change line version config build return string memory cache page "
    "thread index search import"
).split()
_SYLLABLES = "ka lo mi ne ru ta vo zi pe sa do fu gi ho ju be ri mo na tu".split()
RARE = "quokka"
RARE_HITS = 7
NO_MATCH = "xylophone"
COMMON = "error"
"""About one message in five holds it."""
PHRASE = '"the error"'
"""Two common words in a row (the most common word, then ``COMMON``)."""
ZIPF_S = 1.05
VERSION = 2
"""Bump when the corpus changes, so a cached copy of an older one is not reused."""


@dataclass(frozen=True)
class CorpusSize:
    chats: int
    messages_per_chat: int

    @property
    def messages(self) -> int:
        return self.chats * self.messages_per_chat

    @property
    def key(self) -> str:
        """Names the cached copy: the corpus's version and size."""
        return f"v{VERSION}-{self.chats}x{self.messages_per_chat}"


def prefix_query() -> str:
    """Four letters of the commonest made-up word and a star: a prefix FTS5 has no index for
    (it indexes 2 and 3), so every word it starts is looked up and merged."""
    return vocabulary()[len(HEAD)][:4] + "*"


def vocabulary() -> list[str]:
    tail = ["".join(p) for n in (2, 3) for p in itertools.product(_SYLLABLES, repeat=n)]
    random.Random(1).shuffle(tail)  # no alphabetical bias in which made-up words are common
    return HEAD + tail


class _Words:
    """Zipf-distributed words, drawn in large blocks (one ``choices`` call per block is ~50×
    faster than one per message)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.vocab = vocabulary()
        self.cum = list(
            itertools.accumulate(1 / rank**ZIPF_S for rank in range(1, len(self.vocab) + 1))
        )
        self.block: list[str] = []
        self.at = 0

    def take(self, n: int) -> list[str]:
        if self.at + n > len(self.block):
            self.block = self.rng.choices(self.vocab, cum_weights=self.cum, k=max(n, 1_000_000))
            self.at = 0
        words = self.block[self.at : self.at + n]
        self.at += n
        return words


def corpus(
    size: CorpusSize, model_id: uuid.UUID, *, seed: int = 13
) -> tuple[list[tuple], Iterator[tuple]]:
    """Chat rows (``datagen.CHAT_COLUMNS``) and a lazy stream of their message rows, oldest
    first. One chat in ten is another user's, one in twenty of the bench user's is deleted."""
    rng = random.Random(seed)
    words = _Words(rng)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    step = timedelta(seconds=30)
    rare_at = set(rng.sample(range(size.messages), RARE_HITS))
    chats = []
    for i in range(size.chats):
        user = OTHER_USER if i % 10 == 9 else BENCH_USER
        title = " ".join(words.take(rng.randint(2, 6))).capitalize()
        created = start + i * size.messages_per_chat * step
        updated = created + (size.messages_per_chat - 1) * step
        deleted = user == BENCH_USER and i % 20 == 3
        chats.append((uuid.uuid4(), user, title, model_id, None, deleted, created, updated))

    def messages() -> Iterator[tuple]:
        n = 0
        for chat in chats:
            for j in range(size.messages_per_chat):
                user = j % 2 == 0
                text = words.take(rng.randint(4, 20) if user else rng.randint(12, 50))
                if n in rare_at:
                    text[len(text) // 2] = RARE
                yield (
                    uuid.uuid4(),
                    chat[0],
                    model_id,
                    "user" if user else "assistant",
                    " ".join(text),
                    "complete",
                    None,
                    None if user else 120,
                    None if user else 480,
                    None if user else Decimal("0.000306"),
                    chat[6] + j * step,
                    n % 100 == 42,  # one message in a hundred deleted
                )
                n += 1

    return chats, messages()

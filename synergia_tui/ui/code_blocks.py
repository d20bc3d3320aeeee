"""Finding the fenced code blocks of a Markdown message (to copy one)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt


@dataclass(frozen=True, slots=True)
class CodeBlock:
    """One fenced or indented code block."""

    language: str
    code: str

    @property
    def preview(self) -> str:
        """The first non-blank line, to recognise the block in a list."""
        return next((line.strip() for line in self.code.splitlines() if line.strip()), "(empty)")


def code_blocks(markdown: str) -> list[CodeBlock]:
    """Every code block of ``markdown``, in reading order."""
    tokens = MarkdownIt("gfm-like").parse(markdown)
    return [
        CodeBlock(language=(token.info or "").strip(), code=token.content)
        for token in tokens
        if token.type in ("fence", "code_block")
    ]


_BARE_URL = re.compile(r"\bhttps?://[^\s<>()\[\]`]+[^\s<>()\[\].,;:!?'\"`]")


def links(markdown: str) -> list[str]:
    """Every link target of ``markdown`` (Markdown links, autolinks and bare URLs outside code),
    first seen first, each once."""
    found: dict[str, None] = {}
    for token in MarkdownIt("gfm-like").parse(markdown):
        for child in token.children or ():
            if child.type == "link_open" and child.attrs.get("href"):
                found[str(child.attrs["href"])] = None
            elif child.type == "text":
                found.update(dict.fromkeys(_BARE_URL.findall(child.content)))
    return list(found)

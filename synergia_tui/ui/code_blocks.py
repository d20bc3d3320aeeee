"""Finding the fenced code blocks of a Markdown message (to copy one)."""

from __future__ import annotations

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

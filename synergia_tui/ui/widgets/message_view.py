"""One message on screen: a header line and its Markdown body, which can grow as a reply streams.

Streaming hook (for the reply engineer)::

    view = await pane.append_message(assistant_message)  # a MessageRead, status "streaming"
    await view.append_stream(chunk)              # as many times as chunks arrive
    await view.set_final(finished_message)       # the MessageRead from finish_reply()

``append_stream`` feeds a ``Markdown.get_stream`` (which batches fast updates) and the pane
stays scrolled to the bottom while the user has not scrolled away (``anchor``).

A long reply streams into a chain of short Markdown segments; each segment that can no longer
change is drawn once and replaced by a ``RenderedSegment`` holding those lines. Textual lays out
every Markdown block on every frame, so without this a reply of thousands of tokens would cost
more per frame the longer it grows.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore
from textual import events
from textual.app import ComposeResult
from textual.await_complete import AwaitComplete
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, Markdown, Static
from textual.widgets.markdown import MarkdownStream

from synergia_tui.core.safe_text import neutralize, one_line
from synergia_tui.ui.highlight import highlight_strip
from synergia_tui.ui.widgets.offline_render import DrawnLines, draw_lines

if TYPE_CHECKING:
    from synergia_tui.models import MessageRead

STREAM_FLUSH_S = 0.2
SEGMENT_BLOCKS = 24
DRAW_FINISHED = True
"""Show finished messages as their drawn lines (tests turn it off for a reference pane of live
Markdown widgets, Textual's own rendering, to compare the drawn lines with)."""
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")


def _segment_split(segment_text: str, chunk: str) -> int | None:
    """Where in ``chunk`` a new Markdown segment may start: after its last blank line that is
    outside a code fence (counting fences from the segment's start), or None."""
    inside = False
    position = 0
    split = None
    for line in (segment_text + chunk).splitlines(keepends=True):
        if _FENCE.match(line):
            inside = not inside
        position += len(line)
        if not inside and not line.strip() and position > len(segment_text):
            split = position - len(segment_text)
    return split


ROLE_LABELS = {"user": "You", "assistant": "Assistant", "system": "System"}


def header_text(message: MessageRead) -> str:
    """``You → gpt-4o`` / ``Assistant · gpt-4o · cancelled · 2/3``: who wrote it, its state,
    and which version of its turn it is."""
    model = one_line(message.model_name) if message.model_name else None
    role = ROLE_LABELS.get(message.role, one_line(message.role))
    if message.role == "user":
        text = f"{role} → {model}" if model else role
    else:
        text = f"{role} · {model}" if model else role
    if message.status == "cut":
        text += " · stopped at the token limit"
    elif message.status != "complete":
        text += f" · {message.status}"
    if message.tokens_estimated and message.status != "streaming":
        text += " · tokens estimated"
    if message.siblings > 1:
        text += f" · {message.sibling}/{message.siblings}"  # versions of this turn: ←/→
    return text


PROMPT_RULES_OFF = ("heading", "lheading", "hr", "reference", "html_block", "html_inline")
"""Markdown a prompt does not mean: a pasted shell or Python comment (``# …``) is no heading,
``---`` no rule, ``[x]: …`` no hidden link definition, ``<tag>`` no vanishing HTML."""


def _hard_breaks(state: StateCore) -> None:
    # Textual draws a soft break as a space (Markdown joins the lines of a paragraph); in a
    # prompt every newline is the user's own, so each is kept.
    for token in state.tokens:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"
                child.tag = "br"


def _prompt_parser() -> MarkdownIt:
    """Markdown for what the user wrote: every line break kept, fenced code a code block, and
    none of the block syntax plain text sets off by accident (``PROMPT_RULES_OFF``). Replies
    are standard Markdown."""
    parser = MarkdownIt("gfm-like", {"html": False}).disable(list(PROMPT_RULES_OFF))
    parser.core.ruler.after("inline", "prompt_hard_breaks", _hard_breaks)
    return parser


class RenderedSegment(Widget):
    """Markdown shown as the lines it drew: a finished message's body, or a finished stretch of
    a streaming reply.

    One widget with a fixed height instead of dozens of Markdown blocks: layout skips it, and
    drawing it is a list lookup. ``source`` is its Markdown, for drawing again at a new width or
    in a new theme; at a width other than ``width`` it asks its view to (``Stale``).
    """

    DEFAULT_CSS = """
    RenderedSegment {
        width: 1fr;
    }
    RenderedSegment > .rendered-segment--match {
        background: $warning-muted;
        text-style: bold underline;
    }
    """
    COMPONENT_CLASSES = {"rendered-segment--match"}
    """How a search's matches are marked (``highlight``); underlined too, for ``NO_COLOR``."""

    @dataclass
    class Stale(Message):
        """The segment is now shown at another width than it was drawn at."""

    @dataclass
    class LinkClicked(Message):
        """A link in the drawn lines was clicked (Markdown's own ``LinkClicked``, drawn)."""

        href: str

    def __init__(self, source: str, lines: list[Strip], width: int) -> None:
        super().__init__()
        self.source = source
        self.width = width
        self._lines = lines
        self._highlight: re.Pattern[str] | None = None
        self._highlighted: dict[int, Strip] = {}
        self.styles.height = len(lines)

    @property
    def highlight(self) -> re.Pattern[str] | None:
        """A search's words (``search_marks.pattern_for``), marked where they are shown."""
        return self._highlight

    @highlight.setter
    def highlight(self, pattern: re.Pattern[str] | None) -> None:
        if pattern != self._highlight:
            self._highlight = pattern
            self._highlighted.clear()
            self.refresh()

    def render_line(self, y: int) -> Strip:
        if not 0 <= y < len(self._lines):
            return Strip.blank(self.size.width)
        if self._highlight is None:
            return self._lines[y]
        line = self._highlighted.get(y)
        if line is None:
            style = self.get_component_rich_style("rendered-segment--match", partial=True)
            line = self._highlighted[y] = highlight_strip(self._lines[y], self._highlight, style)
        return line

    def show(self, lines: list[Strip], width: int) -> None:
        """Show other lines (drawn at ``width``)."""
        self._lines = lines
        self._highlighted.clear()
        self.width = width
        self.styles.height = len(lines)
        self.refresh(layout=True)

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width and event.size.width != self.width:
            self.post_message(self.Stale())

    def action_link(self, href: str) -> None:
        # The drawn lines keep Markdown's ``@click`` actions; a click lands here.
        self.post_message(self.LinkClicked(href))


class MessageMarkdown(Markdown):
    """A message's Markdown body, which tells its view once it has a size (can be drawn), and
    whether its blocks are still being mounted (``settled``)."""

    class LaidOut(Message):
        """The body has been given a size."""

    _latest: AwaitComplete | None = None

    def update(self, markdown: str) -> AwaitComplete:
        self._latest = super().update(markdown)
        return self._latest

    def append(self, markdown: str) -> AwaitComplete:
        self._latest = super().append(markdown)
        return self._latest

    @property
    def settled(self) -> bool:
        """Its last update (or append) has mounted its blocks. Until then it may draw what an
        earlier one left (the empty document it was mounted with, say), not its ``source``."""
        return self._latest is None or self._latest.is_done

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width:
            self.post_message(self.LaidOut())


class MessageView(Vertical):
    """One message: a header line and its Markdown body (control characters made visible).

    A finished message's body is a Markdown only until it has been laid out once: then it is
    drawn, and shown as those lines (a ``RenderedSegment``), kept in ``drawn`` (the pane's) for
    the next time the message is mounted at that width and theme. The pane's window mounts and
    unmounts messages all the time; this way each costs a Markdown once, then a few lines.
    """

    def __init__(
        self,
        message: MessageRead,
        drawn: DrawnLines | None = None,
        highlight: re.Pattern[str] | None = None,
    ) -> None:
        super().__init__(classes=f"message -{message.role}")
        self.message = message
        self._highlight = highlight
        self._drawn = drawn
        self._stream: MarkdownStream | None = None
        self._streamed = ""
        self._pending: list[str] = []
        self._segment_text = ""
        self._freeze_wanted = False  # a finished Markdown body is waiting to be drawn
        self._flush_timer: Timer | None = None
        self._last_flush = 0.0

    def compose(self) -> ComposeResult:
        yield Label(header_text(self.message), classes="message-header", markup=False)
        source = neutralize(self.message.content)
        known = self._known_lines()
        if known is not None:
            yield self._segment(source, *known)
        else:
            yield self._new_markdown(source)
        yield Static(self._error_text(), classes="message-error", markup=False)

    def _segment(self, source: str, lines: list[Strip], width: int) -> RenderedSegment:
        segment = RenderedSegment(source, lines, width)
        segment.highlight = self._highlight
        return segment

    @property
    def highlight(self) -> re.Pattern[str] | None:
        """A search's words, marked in the body once it is drawn (see ``RenderedSegment``)."""
        return self._highlight

    @highlight.setter
    def highlight(self, pattern: re.Pattern[str] | None) -> None:
        self._highlight = pattern
        for segment in self.query_children(RenderedSegment):
            segment.highlight = pattern

    @property
    def finished(self) -> bool:
        """The message can no longer change (not a reply still streaming into this view)."""
        return self.message.status != "streaming" and self._stream is None and not self._pending

    def _draw_key(self) -> tuple[object, ...]:
        message = self.message
        return (message.id, message.status, hash(message.content), self.app.theme)

    def _known_lines(self, width: int | None = None) -> tuple[list[Strip], int] | None:
        """The body's lines drawn before (at ``width``, or the width last drawn at)."""
        if self._drawn is None or not self.finished or not DRAW_FINISHED:
            return None
        width = width or self._drawn.width
        lines = self._drawn.get(self._draw_key(), width)
        return None if lines is None else (lines, width)

    def _new_markdown(self, text: str = "") -> Markdown:
        # open_links=False: a link in a message is never opened by itself (see LinkClicked).
        return MessageMarkdown(
            text,
            open_links=False,
            # A prompt's line breaks are the user's own: keep them (models write real Markdown).
            parser_factory=_prompt_parser if self.message.role == "user" else None,
        )

    def on_mount(self) -> None:
        self._show_state()

    class Drawable(Message):
        """The view's finished Markdown body has its blocks: the pane draws it (``draw_body``)
        after the next refresh, with the other views that are ready, in one go."""

        def __init__(self, view: MessageView) -> None:
            super().__init__()
            self.view = view

    def on_markdown_table_of_contents_updated(self, event: Markdown.TableOfContentsUpdated) -> None:
        # Posted when a Markdown has mounted its blocks: once laid out, a finished one is drawn.
        event.stop()
        if self.finished and DRAW_FINISHED:
            self._freeze_wanted = True
            self.post_message(self.Drawable(self))

    def on_message_markdown_laid_out(self, event: MessageMarkdown.LaidOut) -> None:
        event.stop()
        if self._freeze_wanted:  # not drawn yet, for it was not laid out yet
            self.post_message(self.Drawable(self))

    def draw_body(self) -> tuple[Markdown, RenderedSegment] | None:
        """A finished message's Markdown body and the lines it draws, to show instead (the
        caller swaps them); None when it cannot be drawn (yet)."""
        bodies = self._bodies()
        if not self.finished or len(bodies) != 1 or not isinstance(bodies[0], Markdown):
            return None
        body = bodies[0]
        if isinstance(body, MessageMarkdown) and not body.settled:
            # An update still mounting its blocks (a reply shown whole as it ended, while the
            # empty body it was mounted with was being set up): draw once it has them.
            self.call_after_refresh(self.post_message, self.Drawable(self))
            return None
        if body.children and not body.size.height:
            return None  # its blocks are not laid out yet: drawn once they are (LaidOut)
        lines = draw_lines(body)
        if lines is None:
            return None  # not laid out yet (drawn once it is), or no longer mounted
        self._freeze_wanted = False
        width = body.size.width
        if self._drawn is not None:
            self._drawn.put(self._draw_key(), width, lines)
        return body, self._segment(body.source or "", lines, width)

    def _bodies(self) -> list[Markdown | RenderedSegment]:
        return [child for child in self.children if isinstance(child, Markdown | RenderedSegment)]

    @property
    def markdown(self) -> Markdown:
        """The Markdown body (of a long streamed reply: its last segment)."""
        return self.query_children(Markdown).last()

    @property
    def shown_source(self) -> str:
        """The Markdown on screen: every segment's source, in order."""
        return "".join(child.source or "" for child in self._bodies())

    async def append_stream(self, text: str) -> None:
        """Add a chunk of a streaming reply. The first chunk after a pause is shown at once;
        the ones after it in batches, at most ``STREAM_FLUSH_S`` apart."""
        self._streamed += text
        self._pending.append(text)
        if self._flush_timer is not None:
            return
        since = time.monotonic() - self._last_flush
        if since >= STREAM_FLUSH_S:
            await self._flush_stream()
        else:
            # Batches, five a second: as smooth to read as one per token, and the event loop
            # stays free for the keyboard.
            self._flush_timer = self.set_timer(STREAM_FLUSH_S - since, self._flush_stream)

    async def _flush_stream(self) -> None:
        self._flush_timer = None
        self._last_flush = time.monotonic()
        if not self._pending:
            return
        if not self.is_attached or not self.query_children(Markdown):
            return  # the view is being unmounted (its text is kept in ``_streamed``)
        chunk = neutralize("".join(self._pending))
        self._pending.clear()
        segment = self.markdown
        if len(segment.children) >= SEGMENT_BLOCKS:
            # Start a new segment at a blank line outside code fences; the closed one is drawn
            # once and replaced by its lines (see RenderedSegment).
            split = _segment_split(self._segment_text, chunk)
            if split is not None:
                await self._write(chunk[:split])
                await self._end_markdown_stream()
                await self.mount(self._new_markdown(), after=segment)
                self._segment_text = ""
                chunk = chunk[split:]
                self.call_after_refresh(self._freeze, segment)
        await self._write(chunk)

    async def _freeze(self, segment: Markdown) -> None:
        """Replace a closed segment by the lines it draws."""
        if segment.parent is not self or not self.is_attached:
            return  # removed meanwhile (joined again by a redraw, or the view left the window)
        if segment is self.query_children(Markdown).last():
            return  # the stream ended and the segments were joined again meanwhile
        if isinstance(segment, MessageMarkdown) and not segment.settled:
            self.call_after_refresh(self._freeze, segment)  # its last blocks are on their way
            return
        lines = draw_lines(segment)
        if lines is None:
            return  # not laid out (or no longer mounted): it stays a Markdown, still correct
        await self.mount(self._segment(segment.source, lines, segment.size.width), before=segment)
        await segment.remove()

    async def on_rendered_segment_stale(self, event: RenderedSegment.Stale) -> None:
        event.stop()
        await self.redraw()

    async def redraw(self) -> None:
        """Draw again what is shown as drawn lines (at a new width, or in a new theme)."""
        segments = list(self.query_children(RenderedSegment))
        if not segments:
            return
        if self.query_children(Markdown):
            # A streaming reply: one Markdown again (the closed segments are redrawn as it grows).
            await self._end_markdown_stream()
            await self._show_whole(self.shown_source, neutralized=True)
            return
        body = segments[0]
        known = self._known_lines(body.size.width)
        if known is not None:
            body.show(*known)
            return
        # Its Markdown again, drawn anew once laid out (see on_markdown_table_of_contents_updated).
        with self.app.batch_update():
            await self.mount(self._new_markdown(self.shown_source), before=body)
            await self.remove_children(segments)

    async def _write(self, text: str) -> None:
        if not text:
            return
        if self._stream is None:
            self._stream = Markdown.get_stream(self.markdown)
        self._segment_text += text
        await self._stream.write(text)

    async def _end_markdown_stream(self) -> None:
        if self._stream is not None:
            await self._stream.stop()
            self._stream = None

    async def _end_stream(self) -> None:
        if self._flush_timer is not None:
            self._flush_timer.stop()
            self._flush_timer = None
        self._pending.clear()
        await self._end_markdown_stream()

    async def _show_whole(self, text: str, *, neutralized: bool = False) -> None:
        """One Markdown body showing ``text`` (the segments of a stream joined again)."""
        if not self.query_children(Markdown):
            await self.mount(self._new_markdown(), before=self._bodies()[0])
        body = self.markdown
        others = [child for child in self._bodies() if child is not body]
        if others:
            await self.remove_children(others)
        self._segment_text = text if neutralized else neutralize(text)
        await body.update(self._segment_text)

    async def resume_stream(self, text: str) -> None:
        """Show everything a reply streamed so far, then keep growing it with ``append_stream``."""
        await self._end_stream()
        self._streamed = text
        await self._show_whole(text)

    async def set_final(self, message: MessageRead) -> None:
        """Show the finished (or cancelled, or failed) reply as stored."""
        pending = "".join(self._pending)
        shown = self._streamed[: len(self._streamed) - len(pending)] if pending else self._streamed
        await self._end_stream()
        self.message = message
        for header in self.query_children(".message-header").results(Label):
            header.update(header_text(message))
        if message.content != shown:
            if shown and message.content.startswith(shown):
                # What had not reached the screen yet (a stop, or the last batch): add it.
                await self.markdown.append(neutralize(message.content[len(shown) :]))
            else:
                await self._show_whole(message.content)
        for error in self.query_children(".message-error").results(Static):
            error.update(self._error_text())
        self._show_state()

    def _error_text(self) -> str:
        return f"⚠ {neutralize(self.message.error)}" if self.message.error else ""

    def _show_state(self) -> None:
        self.set_class(self.message.status == "streaming", "-streaming")
        self.set_class(self.message.status in ("error", "cancelled"), "-failed")
        # (A view being unmounted, as the pane's window moves on, may have lost its children.)
        for error in self.query_children(".message-error").results(Static):
            error.display = bool(self.message.error)

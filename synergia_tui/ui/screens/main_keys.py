"""The main screen's keys and palette commands: every action has a binding id and a command."""

from __future__ import annotations

from textual.binding import Binding, BindingType

MAIN_BINDINGS: list[BindingType] = [
    Binding("ctrl+n", "new_chat", "New chat", id="main.new_chat"),
    Binding("ctrl+o", "models", "Models", id="main.models"),
    # Search every chat (the chat list's title filter is a tab away, and in the palette).
    Binding("ctrl+f", "search", "Search", id="main.search"),
    Binding("f4", "open_editor", "Editor", id="main.open_editor"),
    Binding("f2", "rename_chat", "Rename", id="main.rename_chat"),
    # Out of the footer to make room at 80 columns (rare, and it asks first); in the palette.
    Binding("f8", "delete_chat", "Delete", id="main.delete_chat", show=False),
    # Priority: the prompt box (a TextArea) takes f6 for "select line" otherwise. Not in the
    # footer, which has no room left at 80 columns; the palette lists it.
    Binding(
        "f6", "system_prompt", "System prompt", id="main.system_prompt", show=False, priority=True
    ),
    Binding("ctrl+l", "copy_last_reply", "Copy reply", id="main.copy_last_reply"),
    Binding("ctrl+g", "copy_code_block", "Copy code", id="main.copy_code_block", show=False),
    Binding("ctrl+t", "toggle_sidebar", "Sidebar", id="main.toggle_sidebar"),
    # The trash: in the palette, out of the footer (no room at 80 columns).
    Binding("f9", "toggle_trash", "Trash", id="main.toggle_trash", show=False),
    Binding("escape", "stop_reply", "Stop reply", id="main.stop_reply"),
    Binding("ctrl+r", "retry_reply", "Retry", id="main.retry_reply"),
    # The message cursor: from anywhere on the screen; its keys then work in the pane.
    Binding("alt+up", "previous_message", "Messages", id="main.previous_message"),
    Binding("alt+down", "next_message", "Next message", show=False, id="main.next_message"),
]

# (command palette title, action, help) for every action of this screen.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("New chat", "new_chat", "Start a new chat"),
    ("Models", "models", "Pick the model for this chat, or manage models"),
    ("Open in editor", "open_editor", "Write the prompt in $VISUAL / $EDITOR"),
    ("Rename chat", "rename_chat", "Give the selected chat a new title"),
    ("Delete chat", "delete_chat", "Delete the selected chat (asks first)"),
    (
        "System prompt",
        "system_prompt",
        "Show or edit the open chat's system prompt, or pick a preset",
    ),
    ("Copy last reply", "copy_last_reply", "Copy the newest reply to your clipboard"),
    ("Copy code block", "copy_code_block", "Pick a code block of this chat to copy"),
    ("Toggle sidebar", "toggle_sidebar", "Show or hide the chat list"),
    ("Search", "search", "Search every chat's messages and titles (ctrl+f)"),
    ("Find in chat", "find_in_chat", "Search the open chat's messages (/ from the message cursor)"),
    ("Find chat", "find_chat", "Filter the chat list by title"),
    ("Trash", "toggle_trash", "Show the deleted chats in the sidebar, or the chats again (f9)"),
    ("Restore chat", "restore_chat", "Take the highlighted chat out of the trash (r)"),
    ("Stop reply", "stop_reply", "Stop this chat's streaming reply (what arrived is kept)"),
    (
        "Retry reply",
        "retry_reply",
        "Answer the last prompt again (after an error, or to regenerate)",
    ),
    (
        "Continue reply",
        "continue_reply",
        "Ask the model to go on from a reply that stopped at the token limit",
    ),
    ("Previous message", "previous_message", "Move the message cursor up (then up/down)"),
    ("Next message", "next_message", "Move the message cursor down"),
    ("Message actions", "message_menu", "The selected message's actions and links (enter)"),
    ("Copy message", "copy_message", "Copy the selected message, or the newest (c)"),
    ("Quote message", "quote_message", "Quote the selected message in the prompt (q)"),
    ("Edit prompt", "edit_message", "Edit the selected prompt, or the last one, and resend (e)"),
    (
        "Regenerate reply",
        "regenerate_message",
        "Answer the selected reply's prompt again, as a new version (r)",
    ),
    ("Fork chat", "fork_message", "A new chat with the conversation up to the selected message"),
    ("Previous version", "previous_version", "Show the selected turn's previous version (←)"),
    ("Next version", "next_version", "Show the selected turn's next version (→)"),
)

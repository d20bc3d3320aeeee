"""Steering a conversation while PostgreSQL is stopped: switching versions, forking, setting a
system prompt, searching and stepping through matches fail with one clear error, change
nothing, and work once the server is back."""

# ruff: noqa: F811
from __future__ import annotations

import pytest

from synergia_tui.bootstrap import build
from synergia_tui.core.errors import SynergiaError
from tests.conftest import settings_for
from tests.fake_provider_server import Script, fake_provider  # noqa: F401
from tests.test_replies import add_model, ask, fake_key, stream  # noqa: F401


@pytest.mark.usefixtures("fake_key")
async def test_switch_fork_and_system_prompt_with_the_server_stopped(
    outage_postgres, fake_provider
):
    cluster, url = outage_postgres
    container = build(settings_for(url))
    try:
        model = add_model(container, fake_provider)
        fake_provider.script = Script(reply="first answer")
        chat_id, _ = await ask(container, model, "a question")
        reply = container.messages.list_messages(chat_id).messages[1]
        fake_provider.script = Script(reply="second answer")
        await stream(container, container.replies.prepare(chat_id, replacing=reply.id))
        path = [m.content for m in container.messages.list_messages(chat_id).messages]
        assert path == ["a question", "second answer"]
        newest = container.messages.list_messages(chat_id).messages[1]
        chats_before = len(container.chats.list_chats().chats)

        cluster.stop()
        attempts = {
            "switch": lambda: container.messages.switch_sibling(chat_id, newest.id, -1),
            "fork": lambda: container.messages.fork_chat(chat_id, newest.id),
            "system prompt": lambda: container.chats.set_system_prompt(chat_id, "Be brief."),
            "search": lambda: container.search.search("answer"),
            "next match": lambda: container.search.next_match("answer", chat_id),
            "show a found version": lambda: container.messages.show_version_of(chat_id, reply.id),
        }
        for what, attempt in attempts.items():
            with pytest.raises(SynergiaError) as failed:
                attempt()
            said = str(failed.value)
            assert "\n" not in said and said, what  # one line, for the status bar or stderr
            assert "Traceback" not in said
        cluster.start()

        # Nothing changed meanwhile; each works now.
        chat = container.chats.get_chat(chat_id)
        assert chat.system_prompt is None
        assert len(container.chats.list_chats().chats) == chats_before
        assert [m.content for m in container.messages.list_messages(chat_id).messages] == path
        container.messages.switch_sibling(chat_id, newest.id, -1)
        back = [m.content for m in container.messages.list_messages(chat_id).messages]
        assert back == ["a question", "first answer"]
        fork = container.messages.fork_chat(chat_id, reply.id)  # on the path again
        assert fork.id != chat_id
        assert container.chats.set_system_prompt(chat_id, "Be brief.").system_prompt == "Be brief."
        assert {h.message_id for h in container.search.search("first")} >= {reply.id}
    finally:
        container.close()

"""`synergia export` and `synergia import`: Synergia's own documents and ChatGPT's exports."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL

from synergia_tui.bootstrap import Container, build
from synergia_tui.core.errors import ValidationError
from synergia_tui.models import Message
from synergia_tui.services.chatgpt_format import read_conversations
from synergia_tui.services.transfer import TransferService
from tests.conftest import settings_for
from tests.support import add_model, run_commands

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _empty(url: URL) -> None:
    """Delete every row, as a database that was never used."""
    engine = create_engine(url)
    with engine.begin() as conn:
        for table in ("messages", "chats", "prompts", "models"):
            conn.execute(text(f"DELETE FROM {table}"))
    engine.dispose()


def _chat_with_a_tree(container: Container) -> uuid.UUID:
    """A chat with a system prompt, a priced reply and a second version of it (off the path)."""
    model = add_model(container, "gpt", price="0.15", output_price="0.60")
    chat = container.chats.create_chat(model_id=model.id, system_prompt="Be brief.\nAlways.")
    prompt = container.messages.add_user_message(chat.id, "What is 2+2? « ünïcode » \u202e")
    reply = container.messages.start_reply(chat.id, model.id)
    container.messages.finish_reply(
        reply.id, content="**4**", prompt_tokens=1234, completion_tokens=567
    )
    with container.db.unit_of_work(write=True) as uow:
        uow.session.add(
            Message(
                chat_id=chat.id,
                parent_id=prompt.id,
                on_path=False,
                model_id=model.id,
                role="assistant",
                content="Four.",
                status="cut",
                prompt_tokens=10,
                completion_tokens=3,
                cost=Decimal("0.000003300001"),
                finish_reason="length",
                created_at=T0,
            )
        )
        uow.commit()
    return chat.id


def _chatgpt_export() -> list[dict[str, Any]]:
    """Two conversations in the documented shape of ChatGPT's conversations.json."""

    def node(nid, parent, children, role=None, parts=None, *, t=None, hidden=False, **content):
        message = None
        if role is not None:
            message = {
                "id": nid,
                "author": {"role": role, "name": None, "metadata": {}},
                "create_time": t,
                "content": {"content_type": content.pop("kind", "text"), **content}
                | ({"parts": parts} if parts is not None else {}),
                "metadata": {"model_slug": "gpt-4o"} if role == "assistant" else {},
            }
            if hidden:
                message["metadata"]["is_visually_hidden_from_conversation"] = True
        return {"id": nid, "message": message, "parent": parent, "children": children}

    base = T0.timestamp()
    first = {
        "title": "Cats\nand dogs",
        "create_time": base,
        "update_time": base + 60,
        "current_node": "c1",
        "conversation_id": "conv-1",
        "mapping": {
            "root": node("root", None, ["sys"]),
            "sys": node("sys", "root", ["hid"], "system", ["You are a cat expert."], t=base),
            "hid": node("hid", "sys", ["u1"], "system", [""], t=base, hidden=True),
            "u1": node(
                "u1",
                "hid",
                ["a1", "a2"],
                "user",
                [
                    {"content_type": "image_asset_pointer", "asset_pointer": "file-service://f1"},
                    "Look",
                ],
                t=base + 1,
                kind="multimodal_text",
            ),
            "a1": node("a1", "u1", [], "assistant", ["A cat."], t=base + 2),
            "a2": node("a2", "u1", ["c1"], "assistant", ["A kitten."], t=base + 3),
            "c1": node(
                "c1",
                "a2",
                [],
                "assistant",
                t=base + 4,
                kind="code",
                language="python",
                text="print(1)",
            ),
        },
    }
    second = {
        "title": "Second",
        "create_time": base + 100,
        "update_time": base + 200,
        "current_node": "x1",
        "mapping": {
            "x0": node("x0", None, ["x1"], "user", ["hello"], t=base + 100),
            "x1": node("x1", "x0", [], "assistant", ["hi"], t=base + 101),
        },
    }
    return [first, second]


def _write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _count(url: URL, table: str) -> int:
    engine = create_engine(url)
    with engine.connect() as conn:
        value = conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
    engine.dispose()
    return int(value)


def test_export_then_import_into_an_empty_database_gives_the_same_document(db_url, tmp_path):
    container = build(settings_for(db_url))
    chat_id = _chat_with_a_tree(container)
    container.chats.create_chat(title="Empty one")
    container.close()
    exported = tmp_path / "all.json"
    (first,) = run_commands(db_url, ["export", "--format", "json", "-o", str(exported)])
    assert first[0] == 0, first
    document = json.loads(exported.read_text(encoding="utf-8"))
    assert document["format"] == "synergia"
    assert [len(c["messages"]) for c in document["chats"]] == [3, 0]
    assert document["chats"][0]["chat"]["id"] == str(chat_id)
    assert document["chats"][0]["usage"]["cost"] == "0.000525300000"

    _empty(db_url)
    imported, again = run_commands(
        db_url, ["import", str(exported)], ["export", "--format", "json"]
    )
    assert imported[0] == 0, imported
    assert "chats: 2 added" in imported[1] and "messages: 3 added" in imported[1]
    assert "placeholders" in imported[1] and "gpt" in imported[1]
    assert again[0] == 0, again
    assert again[1] == exported.read_text(encoding="utf-8")
    # The branch is still off the path, and the placeholder model cannot be used until set up.
    models = json.loads(run_commands(db_url, ["models", "list", "--json"])[0][1])
    assert [(m["name"], m["is_enabled"]) for m in models] == [("gpt", False)]


def test_importing_the_same_file_twice_adds_nothing(db_url, tmp_path):
    container = build(settings_for(db_url))
    _chat_with_a_tree(container)
    container.close()
    synergia_file = tmp_path / "s.json"
    run_commands(db_url, ["export", "-o", str(synergia_file)])
    chatgpt_file = _write(tmp_path / "conversations.json", _chatgpt_export())

    results = run_commands(
        db_url,
        ["import", str(synergia_file)],
        ["import", str(chatgpt_file)],
        ["import", str(chatgpt_file), "--format", "chatgpt"],
    )
    assert "chats: 0 added, 1 already there; messages: 0 added, 3 already there" in results[0][1]
    assert "chats: 2 added" in results[1][1]
    assert "chats: 0 added, 2 already there; messages: 0 added, 6 already there" in results[2][1]
    assert (_count(db_url, "chats"), _count(db_url, "messages")) == (3, 9)


def test_a_chatgpt_export_becomes_a_tree_on_the_current_path(container, db_url, tmp_path):
    path = _write(tmp_path / "conversations.json", _chatgpt_export())
    (result,) = run_commands(db_url, ["import", str(path)])
    assert result[0] == 0, result
    assert "placeholders" in result[1] and "gpt-4o" in result[1]
    cats, second = TransferService(container.db, container.chats.user_id).export_chats()
    chat = cats.export.chat
    assert chat.title == "Cats and dogs"
    assert chat.system_prompt == "You are a cat expert."  # the hidden one is skipped
    assert chat.model_name == "gpt-4o"
    assert chat.created_at == T0
    by_content = {m.content: m for m in cats.export.messages}
    prompt = by_content["[image omitted: file-service://f1]\n\nLook"]
    assert prompt.role == "user" and prompt.parent_id is None  # its system parents are skipped
    assert prompt.created_at == T0 + timedelta(seconds=1)
    old, new = by_content["A cat."], by_content["A kitten."]
    assert old.parent_id == new.parent_id == prompt.id
    assert (old.on_path, new.on_path) == (False, True)
    assert (old.sibling, new.sibling, new.siblings) == (1, 2, 2)
    code = by_content["```python\nprint(1)\n```"]
    assert code.parent_id == new.id and code.on_path
    assert cats.export.leaf_id == code.id
    assert {m.model_name for m in cats.export.messages if m.role == "assistant"} == {"gpt-4o"}
    assert [m.content for m in second.export.path] == ["hello", "hi"]


@pytest.mark.parametrize(
    ("content", "told"),
    [
        (
            '[{"mapping": {"a": {"id": "a"}}},\n  {"mapping" {}}]',
            "not valid JSON: Expecting ':' delimiter at line 2, column 14",
        ),
        (None, "conversation 2, node n2: missing author"),
        ("nul", "conversation 2 (c2), message"),
    ],
)
def test_a_malformed_file_is_refused_with_where_and_nothing_is_imported(
    db_url, tmp_path, content, told
):
    path = tmp_path / "bad.json"
    conversations = _chatgpt_export()
    bad = {
        "id": "c2",
        "title": "Broken",
        "create_time": None,
        "current_node": "n2",
        "mapping": {
            "n1": {
                "id": "n1",
                "parent": None,
                "children": ["n2"],
                "message": {
                    "author": {"role": "user"},
                    "content": {"content_type": "text", "parts": ["x"]},
                },
            },
            "n2": {
                "id": "n2",
                "parent": "n1",
                "children": [],
                "message": {"content": {"content_type": "text", "parts": ["y"]}},
            },
        },
    }
    if content == "nul":
        bad["mapping"]["n2"]["message"]["author"] = {"role": "assistant"}
        bad["mapping"]["n2"]["message"]["content"]["parts"] = ["ok\x00 then"]
    if content is None or content == "nul":
        path.write_text(json.dumps([conversations[0], bad]), encoding="utf-8")
    else:
        path.write_text(content, encoding="utf-8")
    (result,) = run_commands(db_url, ["import", str(path)])
    code, out, err = result
    assert code == 1 and out == ""
    assert told in err and err.count("\n") == 1 and "Traceback" not in err
    if content == "nul":
        assert "NUL byte" in err and "at character 3" in err
    assert (_count(db_url, "chats"), _count(db_url, "messages"), _count(db_url, "models")) == (
        0,
        0,
        0,
    )


def test_export_takes_chosen_chats_and_writes_markdown_one_after_another(db_url, tmp_path):
    container = build(settings_for(db_url))
    chat_id = _chat_with_a_tree(container)
    other = container.chats.create_chat(title="Other")
    container.chats.create_chat(title="Not asked for")
    container.close()
    md, chosen, unknown = run_commands(
        db_url,
        ["export", "--format", "md", "--chat", str(chat_id), "--chat", str(other.id)[:8]],
        ["export", "--chat", str(other.id)],
        ["export", "--chat", "0000000000"],
    )
    assert md[0] == 0
    assert md[1].index("# What is 2+2?") < md[1].index("# Other")
    assert "Not asked for" not in md[1] and "**4**" in md[1]
    assert [c["chat"]["title"] for c in json.loads(chosen[1])["chats"]] == ["Other"]
    assert unknown[0] == 1 and "No chat id starts with" in unknown[2]


def test_a_single_chat_export_imports_too_with_its_totals(container, tmp_path, db_url):
    chat_id = _chat_with_a_tree(container)
    single = tmp_path / "one.json"
    (out,) = run_commands(db_url, ["chats", "export", str(chat_id), "--format", "json"])
    single.write_text(out[1], encoding="utf-8")
    _empty(db_url)
    (imported,) = run_commands(db_url, ["import", str(single)])
    assert "chats: 1 added" in imported[1]
    usage = container.chats.usage(chat_id)
    # Without totals in the file they are the messages' sums (here, with the branch's too).
    assert usage.cost == Decimal("0.000525300000") + Decimal("0.000003300001")


def test_import_reports_progress_per_chat_and_refuses_a_lone_surrogate(container):
    service = TransferService(container.db, container.chats.user_id)
    seen: list[tuple[int, int]] = []
    service.import_chats(
        read_conversations(_chatgpt_export()), progress=lambda d, t: seen.append((d, t))
    )
    assert seen == [(1, 2), (2, 2)]
    with pytest.raises(ValidationError, match="conversation 1"):
        data = _chatgpt_export()
        data[0]["mapping"]["u1"]["message"]["content"]["parts"] = ["bad \ud800"]
        service.import_chats(read_conversations(data))

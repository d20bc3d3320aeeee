"""`synergia usage`: tokens and cost summed by day, model and chat, exactly, on both backends.

The rows are written with known costs (decimals a float would round) and days, across two
models and two chats of alice, plus a chat of bob's that must never count for her.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from synergia_tui.bootstrap import Container
from synergia_tui.core.errors import ValidationError
from synergia_tui.models import AIModelCreate, AIModelUpdate, Message
from synergia_tui.services.usage import UsageService
from tests.support import run_commands

COSTS = ["0.000123456789", "0.100000000001", "12.345678901234", "0.000000000007"]


def _replies(container: Container, chat_id: uuid.UUID, model_id: uuid.UUID, rows) -> None:
    """A prompt and a priced reply per (day, prompt tokens, completion tokens, cost)."""
    with container.db.unit_of_work(write=True) as uow:
        parent = None
        for day, prompt, completion, cost in rows:
            at = datetime(2026, 11, day, 12, 0, tzinfo=UTC)
            ask = Message(
                chat_id=chat_id,
                model_id=model_id,
                role="user",
                content="q",
                created_at=at,
                parent_id=parent,
            )
            reply = Message(
                chat_id=chat_id,
                model_id=model_id,
                role="assistant",
                content="a",
                created_at=at,
                parent_id=ask.id,
                prompt_tokens=prompt,
                completion_tokens=completion,
                cost=Decimal(cost),
            )
            uow.session.add_all([ask, reply])
            parent = reply.id
        uow.commit()


@pytest.fixture
def spending(container: Container, other_user: Container):
    cheap = container.models.add_model(
        AIModelCreate(name="cheap", provider="openai", api_model="a", price_per_million_tokens=1)
    )
    dear = container.models.add_model(
        AIModelCreate(name="dear", provider="openai", api_model="b", price_per_million_tokens=9)
    )
    first = container.chats.create_chat(title="First", model_id=cheap.id)
    second = container.chats.create_chat(title="Second", model_id=dear.id)
    _replies(container, first.id, cheap.id, [(1, 10, 20, COSTS[0]), (2, 30, 40, COSTS[1])])
    _replies(container, second.id, dear.id, [(2, 50, 60, COSTS[2]), (3, 70, 80, COSTS[3])])
    bobs = other_user.chats.create_chat(title="Bob's", model_id=cheap.id)
    _replies(other_user, bobs.id, cheap.id, [(2, 1000, 1000, "5")])
    return cheap, dear, first, second


def test_sums_by_day_model_and_chat_are_exact_and_only_the_users(container, spending):
    cheap, dear, first, second = spending
    service = UsageService(container.db, container.chats.user_id)
    total = sum((Decimal(c) for c in COSTS), Decimal(0))

    by_day = service.report(by="day")
    assert [(r.key, r.prompt_tokens, r.completion_tokens, r.cost) for r in by_day.rows] == [
        ("2026-11-01", 10, 20, Decimal(COSTS[0])),
        ("2026-11-02", 80, 100, Decimal(COSTS[1]) + Decimal(COSTS[2])),
        ("2026-11-03", 70, 80, Decimal(COSTS[3])),
    ]
    assert (by_day.total.prompt_tokens, by_day.total.completion_tokens) == (160, 200)
    assert by_day.total.cost == total == Decimal("12.445802358031")

    by_model = service.report(by="model")
    assert [(r.key, r.cost) for r in by_model.rows] == [
        ("cheap", Decimal(COSTS[0]) + Decimal(COSTS[1])),
        ("dear", Decimal(COSTS[2]) + Decimal(COSTS[3])),
    ]
    by_chat = service.report(by="chat")
    assert [(r.key, r.title) for r in by_chat.rows] == [  # the most expensive first
        (str(second.id), "Second"),
        (str(first.id), "First"),
    ]
    assert by_chat.total.cost == by_model.total.cost == total

    days = service.report(by="day", since=date(2026, 11, 2), until=date(2026, 11, 2))
    assert [r.key for r in days.rows] == ["2026-11-02"]
    with pytest.raises(ValidationError, match="before"):
        service.report(since=date(2026, 11, 3), until=date(2026, 11, 1))


def test_a_price_change_rewrites_no_past_cost(container, spending):
    cheap, *_ = spending
    service = UsageService(container.db, container.chats.user_id)
    before = service.report(by="model")
    container.models.edit_model(cheap.id, AIModelUpdate(price_per_million_tokens=Decimal(500)))
    after = service.report(by="model")
    assert after == before


def test_the_command_prints_the_documented_json_and_a_table(db_url, spending):
    as_json, table, by_chat, bad = run_commands(
        db_url,
        ["usage", "--json"],
        ["usage", "--by", "model"],
        ["usage", "--by", "chat", "--since", "2026-11-03", "--json"],
        ["usage", "--by", "week"],
    )
    assert as_json.returncode == 0, as_json.stderr
    document = json.loads(as_json.stdout)
    fields = {"key", "prompt_tokens", "completion_tokens", "reasoning_tokens", "cost"}
    assert set(document) == {"rows", "total"}
    assert all(set(row) == fields for row in [*document["rows"], document["total"]])
    assert [row["key"] for row in document["rows"]] == ["2026-11-01", "2026-11-02", "2026-11-03"]
    assert document["rows"][1]["cost"] == "12.445678901235"
    assert document["total"] == {
        "key": "total",
        "prompt_tokens": 160,
        "completion_tokens": 200,
        "reasoning_tokens": 0,
        "cost": "12.445802358031",
    }
    assert table.returncode == 0
    lines = table.stdout.splitlines()
    assert lines[0].split() == ["MODEL", "PROMPT", "COMPLETION", "REASONING", "COST", "$"]
    assert lines[1].split()[0] == "cheap" and lines[-1].split()[0] == "total"
    (row,) = json.loads(by_chat.stdout)["rows"]
    assert row["cost"] == "0.000000000007"
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1

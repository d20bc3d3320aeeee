from decimal import Decimal

from synergia_tui.models import AIModelCreate


def test_a_prompt_is_stored_and_titles_its_chat(container):
    model = container.models.add_model(
        AIModelCreate(
            name="gpt",
            provider="openai",
            api_model="gpt-4o-mini",
            price_per_million_tokens=Decimal("0.15"),
        )
    )
    chat = container.chats.create_chat(model_id=model.id)
    container.messages.add_user_message(chat.id, "Hello there\nsecond line")
    page = container.messages.list_messages(chat.id)
    assert [m.content for m in page.messages] == ["Hello there\nsecond line"]
    assert container.chats.get_chat(chat.id).title == "Hello there"

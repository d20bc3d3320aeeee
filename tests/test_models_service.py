"""The model catalogue: unique live names, validated fields, soft delete (both backends)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from synergia_tui.core.errors import ConflictError, NotFoundError, ValidationError
from synergia_tui.models import AIModelCreate, AIModelUpdate
from synergia_tui.services.models import check_price
from tests.support import add_model


def test_a_model_name_that_already_exists_is_refused(container):
    add_model(container, "gpt")
    with pytest.raises(ConflictError, match="already exists"):
        add_model(container, "gpt")
    assert [m.name for m in container.models.list_models()] == ["gpt"]


def test_renaming_a_model_onto_an_existing_name_is_refused(container):
    add_model(container, "gpt")
    add_model(container, "claude")
    with pytest.raises(ConflictError, match="already exists"):
        container.models.edit_model("claude", AIModelUpdate(name="gpt"))


def test_a_deleted_models_name_can_be_reused(container):
    add_model(container, "gpt")
    container.models.delete_model("gpt")
    again = add_model(container, "gpt", price="2")
    assert container.models.get_model("gpt").id == again.id


def test_soft_deleted_models_disappear_from_lists_and_lookups(container):
    add_model(container, "gpt")
    add_model(container, "claude")
    container.models.delete_model("gpt")
    assert [m.name for m in container.models.list_models()] == ["claude"]
    with pytest.raises(NotFoundError):
        container.models.get_model("gpt")
    with pytest.raises(NotFoundError):
        container.models.delete_model("gpt")


def test_disabled_models_are_listed_but_not_offered_for_picking(container):
    add_model(container, "gpt")
    add_model(container, "claude", enabled=False)
    assert [m.name for m in container.models.list_models()] == ["claude", "gpt"]
    assert [m.name for m in container.models.list_models(enabled_only=True)] == ["gpt"]
    container.models.set_enabled("claude", True)
    assert len(container.models.list_models(enabled_only=True)) == 2


def test_prices_are_stored_as_exact_decimals(container):
    add_model(container, "gpt", price="0.150001", output_price="0.6")
    model = container.models.get_model("gpt")
    assert model.price_per_million_tokens == Decimal("0.150001")
    assert model.output_price_per_million_tokens == Decimal("0.6")
    assert isinstance(model.price_per_million_tokens, Decimal)


def test_the_output_price_falls_back_to_the_input_price(container):
    model = add_model(container, "gpt", price="0.15")
    assert model.output_price_per_million_tokens is None
    assert model.output_price == Decimal("0.15")


def test_editing_changes_only_the_fields_given(container):
    add_model(container, "gpt", price="0.15", output_price="0.6")
    edited = container.models.edit_model("gpt", AIModelUpdate(price_per_million_tokens="1.5"))
    assert edited.price_per_million_tokens == Decimal("1.5")
    assert edited.output_price_per_million_tokens == Decimal("0.6")
    assert edited.api_model == "gpt-4o-mini"
    assert edited.updated_at > edited.created_at


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price_per_million_tokens": Decimal("-1")}, "must not be negative"),
        ({"output_price_per_million_tokens": Decimal("-0.01")}, "must not be negative"),
        ({"provider": "openia"}, "Unknown provider"),
        ({"name": "   "}, "Name is required"),
        ({"base_url": "ftp://example.com"}, "Base URL"),
        ({"api_key_env": "sk-abcdefghijklmnop"}, "NAME of an environment variable"),
        ({"api_key_env": "MY KEY"}, "not a valid variable name"),
        ({"context_window": 0}, "Context window"),
        ({"context_window": 2**31}, "Context window is too large"),
        ({"api_key_env": "K" * 201}, "not a valid variable name"),
        ({"name": "n" * 201}, "longer than 200"),
        ({"api_model": "m" * 201}, "longer than 200"),
        ({"price_per_million_tokens": Decimal("0.0000001")}, "6 decimal places"),
    ],
)
def test_bad_model_fields_are_refused_with_a_readable_message(container, changes, message):
    data = {"name": "gpt", "provider": "openai", "api_model": "gpt-4o-mini", **changes}
    with pytest.raises(ValidationError, match=message):
        container.models.add_model(AIModelCreate(**data))
    assert container.models.list_models() == []


@pytest.mark.parametrize(
    ("bad", "message"),
    [("bad\x00name", "control characters"), ("bad\ud800name", "surrogate"), ("a\nb", "one line")],
)
def test_model_names_that_cannot_be_stored_alike_are_refused(container, bad, message):
    with pytest.raises(ValidationError, match=f"Name .*{message}|Name must be a single line"):
        add_model(container, bad)
    assert container.models.list_models() == []


@pytest.mark.parametrize("bad", ["bad\x00name", "bad\ud800name"])
def test_looking_up_an_unstorable_model_name_is_refused_not_a_driver_error(container, bad):
    with pytest.raises(ValidationError, match="Model name contains"):
        container.models.get_model(bad)


def test_an_unknown_model_is_not_found(container):
    with pytest.raises(NotFoundError, match="'nope' not found"):
        container.models.set_enabled("nope", False)


@pytest.mark.parametrize("price", ["99999999.999999", "0", "0.000001"])
def test_every_accepted_price_is_stored_on_both_backends(container, price):
    model = add_model(container, "edge", price=price, output_price=price)
    assert container.models.get_model(model.id).price_per_million_tokens == Decimal(price)


@pytest.mark.parametrize("price", ["100000000", "1e9"])
def test_prices_beyond_what_the_database_holds_are_refused(container, price):
    with pytest.raises(ValidationError, match="Price is too large"):
        add_model(container, "x", price=price)
    with pytest.raises(ValidationError, match="Output price is too large"):
        add_model(container, "x", price="1", output_price=price)


@pytest.mark.parametrize(
    ("raw", "message"),
    [("NaN", "finite"), ("Infinity", "finite"), ("abc", "must be a number"), ("-0.5", "negative")],
)
def test_typed_prices_are_checked_before_they_reach_a_model(raw, message):
    with pytest.raises(ValidationError, match=message):
        check_price(raw, "Price")

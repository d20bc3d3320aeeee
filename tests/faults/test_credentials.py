"""A password inside a model's base URL is refused, and never stored, logged or echoed."""

from __future__ import annotations

import base64
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text

from synergia_tui.bootstrap import build
from synergia_tui.core.config import Settings
from synergia_tui.core.errors import ProviderError, ValidationError
from synergia_tui.models import AIModelCreate, AIModelUpdate
from synergia_tui.providers.base import CREDENTIALS_IN_URL, ProviderTarget, create_provider
from tests.support import add_model, run_synergia

SECRET = "s3cret-Pw0rd"
URL_WITH_PASSWORD = f"https://alice:{SECRET}@llm.example.com/v1"
# What an HTTP client would send (and echo) for that URL: the Basic-auth form of the password.
BASIC_AUTH = base64.b64encode(f"alice:{SECRET}".encode()).decode()


def _model(base_url: str) -> AIModelCreate:
    return AIModelCreate(
        name="private",
        provider="openai",
        api_model="gpt-4o-mini",
        base_url=base_url,
        price_per_million_tokens=Decimal("1"),
    )


@pytest.mark.parametrize(
    "base_url",
    [URL_WITH_PASSWORD, "https://alice@llm.example.com/v1", f"http://:{SECRET}@10.0.0.1:8080"],
)
def test_adding_a_model_with_credentials_in_its_base_url_is_refused(container, base_url):
    with pytest.raises(ValidationError) as refused:
        container.models.add_model(_model(base_url))
    assert refused.value.message == CREDENTIALS_IN_URL
    assert "--api-key-env" in refused.value.message
    assert container.models.list_models() == []


def test_editing_a_base_url_to_hold_credentials_is_refused_and_keeps_the_old_one(container):
    add_model(container, "gpt")
    with pytest.raises(ValidationError, match="must not contain credentials"):
        container.models.edit_model("gpt", AIModelUpdate(base_url=URL_WITH_PASSWORD))
    assert container.models.get_model("gpt").base_url is None


def test_an_at_sign_in_the_path_of_a_base_url_is_not_a_credential(container):
    model = container.models.add_model(_model("https://llm.example.com/v1/@team"))
    assert model.base_url == "https://llm.example.com/v1/@team"


def _files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_models_add_refuses_a_password_in_the_base_url_without_echoing_it(isolated_env, tmp_path):
    result = run_synergia(
        "models",
        "add",
        "private",
        "--provider",
        "openai",
        "--model",
        "gpt-4o-mini",
        "--base-url",
        URL_WITH_PASSWORD,
        cwd=tmp_path,
        LOG_LEVEL="DEBUG",
    )
    assert result.returncode == 1
    assert result.stderr == f"synergia: {CREDENTIALS_IN_URL}\n"
    assert SECRET not in result.stdout + result.stderr

    listed = run_synergia("models", "list", "--json", cwd=tmp_path)
    assert (listed.returncode, listed.stdout.strip()) == (0, "[]")

    written = _files_under(isolated_env)
    assert any(path.name == "synergia.db" for path in written)
    assert any(path.name == "synergia.log" for path in written)
    for path in written:
        content = path.read_bytes()
        assert SECRET.encode() not in content, path
        assert BASIC_AUTH.encode() not in content, path


def test_no_provider_is_ever_reached_through_a_url_with_credentials():
    target = ProviderTarget("openai", "gpt-4o-mini", base_url=URL_WITH_PASSWORD)
    with pytest.raises(ProviderError) as refused:
        create_provider(target, environ={"OPENAI_API_KEY": "sk-test"})
    assert refused.value.message == CREDENTIALS_IN_URL


def test_models_discover_refuses_a_password_in_the_base_url_without_echoing_it(tmp_path):
    # Port 1 on loopback: were the URL used, the error would be "cannot connect to <the URL>".
    result = run_synergia(
        "models",
        "discover",
        "--provider",
        "openai",
        "--base-url",
        f"http://alice:{SECRET}@127.0.0.1:1/v1",
        cwd=tmp_path,
        OPENAI_API_KEY="sk-test",
    )
    assert (result.returncode, result.stderr) == (1, f"synergia: {CREDENTIALS_IN_URL}\n")
    assert SECRET not in result.stdout


def test_a_model_stored_with_credentials_before_the_check_is_never_contacted(
    isolated_env, tmp_path
):
    container = build(Settings(synergia_user="alice"))
    try:
        container.ensure_schema()
        add_model(container, "legacy")
        with container.db.engine.begin() as connection:
            connection.execute(
                text("UPDATE models SET base_url = :url"),
                {"url": f"http://alice:{SECRET}@127.0.0.1:1/v1"},
            )
    finally:
        container.close()
    result = run_synergia(
        "ask", "--model", "legacy", "hello", cwd=tmp_path, OPENAI_API_KEY="sk-test"
    )
    assert result.returncode == 1
    assert CREDENTIALS_IN_URL in result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert SECRET not in result.stdout + result.stderr

"""`synergia models discover` lists what a server offers and adds the chosen models."""

# ruff: noqa: F811
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fake_provider_server import Script, fake_provider  # noqa: F401

SYNERGIA = str(Path(sys.executable).with_name("synergia"))


def synergia(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-discover-0000000000"}
    return subprocess.run([SYNERGIA, *args], env=env, capture_output=True, text=True, timeout=60)


def test_discover_lists_an_openai_compatible_servers_models(isolated_env, fake_provider):
    fake_provider.script = Script(models=("alpha-1", "beta-2"))
    result = synergia(
        "models",
        "discover",
        "--provider",
        "openai",
        "--base-url",
        fake_provider.openai_base_url,
        "--json",
    )
    assert result.returncode == 0, result.stderr
    assert [m["api_model"] for m in json.loads(result.stdout)] == ["alpha-1", "beta-2"]


def test_discover_adds_only_the_chosen_ollama_models(isolated_env, fake_provider):
    fake_provider.script = Script(models=("llama3.2:latest", "qwen2.5:7b"))
    url = fake_provider.ollama_base_url
    result = synergia(
        "models", "discover", "--provider", "ollama", "--base-url", url, "--add", "qwen2.5:7b"
    )
    assert result.returncode == 0, result.stderr
    models = json.loads(synergia("models", "list", "--json").stdout)
    assert [(m["name"], m["provider"], m["base_url"]) for m in models] == [
        ("qwen2.5:7b", "ollama", url)
    ]


def test_discover_from_a_dead_server_fails_with_one_line(isolated_env):
    result = synergia(
        "models", "discover", "--provider", "openai", "--base-url", "http://127.0.0.1:1/v1"
    )
    assert result.returncode == 1
    assert "cannot connect" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1

"""A real HTTP server on 127.0.0.1 that speaks OpenAI, Anthropic and Ollama wire formats.

Tests drive it by setting ``server.script`` and read back ``server.requests``::

    def test_something(fake_provider):
        fake_provider.script = Script(reply="Hi there", status=429, retry_after="7")
        ...  # point a provider at fake_provider.openai_base_url

``server.enqueue(first, second)`` scripts the next requests one each, in order, before
``server.script`` applies again. Each request takes its script when it is recorded, under one lock,
so swapping the script while an earlier request is still being served never changes that request,
and a request a test has seen in ``server.requests`` already holds its script.

Routes: ``POST /v1/chat/completions`` (OpenAI SSE), ``POST /v1/messages`` (Anthropic SSE),
``GET /v1/models`` (OpenAI list, or Anthropic's when the request carries ``anthropic-version``),
``GET /api/tags`` (Ollama). Streams use chunked transfer encoding, as the real services do, so a
cut stream is a truncated body, not a clean end.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest

MAX_DELAY = 5.0
"""No scripted wait lasts longer than this, so a wrong script cannot hang the suite."""


@dataclass
class Script:
    """What the server does with a request: set as the default, or queued for one request."""

    reply: str = "Hello from the fake provider."
    chunks: Sequence[str] | None = None
    """Explicit deltas; by default the reply is split into words (each keeps its trailing space)."""
    tokens_per_second: float = 1000.0
    prompt_tokens: int = 11
    completion_tokens: int | None = None
    """Defaults to the number of chunks."""
    models: Sequence[str] = ("fake-model-a", "fake-model-b")

    status: int | None = None
    """Answer every request with this HTTP status and the provider's real JSON error body."""
    error_message: str | None = None
    retry_after: str | None = None
    """``Retry-After`` header value sent with an error status."""
    headers_delay: float = 0.0
    """Seconds to wait before sending the status line (to provoke client timeouts)."""
    cut_after: int | None = None
    """Drop the connection, mid-body, after this many text chunks."""
    hold_after: int | None = None
    """Go silent after this many text chunks (the reply is still streaming), for ``MAX_DELAY``
    or until the server stops, then drop the connection."""
    end_early_after: int | None = None
    """End the body cleanly after this many text chunks, with no finish / stop / [DONE]."""
    malformed_after: int | None = None
    """Send a ``data:`` line that is not JSON after this many text chunks."""
    error_event_after: int | None = None
    """Send the provider's in-stream error after this many text chunks."""
    error_event_type: str | None = None
    """Type of that error; default ``server_error`` (OpenAI) or ``overloaded_error`` (Anthropic)."""
    finish_reason: str = "stop"
    """OpenAI's ``finish_reason`` on the last choice, e.g. ``length`` for an answer cut short."""
    stop_reason: str = "end_turn"
    """Anthropic's ``stop_reason`` in ``message_delta``, e.g. ``max_tokens``."""

    def text_chunks(self) -> list[str]:
        """The deltas the reply is streamed as."""
        if self.chunks is not None:
            return list(self.chunks)
        return re.findall(r"\S+\s*", self.reply) or [self.reply]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it; header names are lower-case."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: Any


@dataclass
class _Fault:
    """Where a streamed body departs from the happy path."""

    kind: str  # "cut" | "end" | "malformed" | "error"
    after: int


_OPENAI_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: {masked}. "
        "You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model `{model}` does not exist or you do not have access to it.",
    ),
    429: (
        "requests",
        "rate_limit_exceeded",
        "Rate limit reached for {model} on requests per min (RPM): Limit 3, Used 3.",
    ),
    500: (
        "server_error",
        None,
        "The server had an error while processing your request. Sorry about that!",
    ),
    503: ("server_error", None, "The engine is currently overloaded, please try again later"),
}

_ANTHROPIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "model: {model}"),
    429: ("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."),
    500: ("api_error", "Internal server error"),
    503: ("api_error", "Service unavailable"),
    529: ("overloaded_error", "Overloaded"),
}


class FakeProviderServer:
    """A threaded HTTP server on an ephemeral port; use as a context manager or via the fixture."""

    def __init__(self, script: Script | None = None, *, port: int = 0) -> None:
        self._port = port
        self._script = script or Script()
        self._queued: list[Script] = []
        self._requests: list[RecordedRequest] = []
        self._outcomes: list[str] = []
        self._lock = threading.Lock()
        self._outcome_added = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self.connections_opened = 0
        """How many TCP connections clients have opened (a reused client opens one)."""
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeProviderServer:
        """Bind 127.0.0.1 (on a free port unless one was given) and serve from a daemon thread."""
        handler = type("_BoundHandler", (_Handler,), {"owner": self})
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-provider-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake every waiting handler, drop open connections, and stop serving."""
        self._stopping.set()
        if self._httpd is None:
            return
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                continue  # already closed by the handler
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=MAX_DELAY)
        self._httpd = None

    def __enter__(self) -> FakeProviderServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- addresses and records ------------------------------------------------------------------

    @property
    def port(self) -> int:
        assert self._httpd is not None, "the server is not running"
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (the Anthropic SDK's base URL; it appends ``/v1/...``)."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_base_url(self) -> str:
        return self.url

    @property
    def ollama_base_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def script(self) -> Script:
        """What every request gets when no queued script is left."""
        with self._lock:
            return self._script

    @script.setter
    def script(self, script: Script) -> None:
        with self._lock:
            self._script = script

    def enqueue(self, *scripts: Script) -> None:
        """Answer the next requests with ``scripts``, one each, in order."""
        with self._lock:
            self._queued.extend(scripts)

    def wait_for_outcomes(self, count: int, timeout: float = MAX_DELAY) -> list[str]:
        """How the first ``count`` requests ended, waiting up to ``timeout`` s for them to end.

        Each is ``"served"`` (the server wrote all its script said, faults included) or
        ``"abandoned"`` (the client hung up while it was being written). Blocking: call it on a thread from async tests.
        """
        with self._outcome_added:
            self._outcome_added.wait_for(lambda: len(self._outcomes) >= count, timeout)
            return list(self._outcomes)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            assert self._requests, "the server has received no request"
            return self._requests[-1]

    # -- used by the handler --------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> Script:
        """Keep ``request`` and bind its script, in one step."""
        with self._lock:
            self._requests.append(request)
            return self._queued.pop(0) if self._queued else self._script

    def _finished(self, outcome: str) -> None:
        with self._outcome_added:
            self._outcomes.append(outcome)
            self._outcome_added.notify_all()

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
                self.connections_opened += 1
            else:
                self._connections.discard(connection)

    def _sleep(self, seconds: float) -> bool:
        """Wait up to ``MAX_DELAY``; ``False`` when the server is stopping."""
        if seconds <= 0:
            return not self._stopping.is_set()
        return not self._stopping.wait(min(seconds, MAX_DELAY))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    owner: FakeProviderServer

    def setup(self) -> None:
        super().setup()
        self.owner._track(self.connection, open_=True)

    def handle(self) -> None:
        try:
            super().handle()
        except (ConnectionResetError, BrokenPipeError):
            self.close_connection = True  # the client dropped a kept-alive connection

    def finish(self) -> None:
        self.owner._track(self.connection, open_=False)
        try:
            super().finish()
        except OSError:
            return  # the client went away first

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        return  # keep test output quiet

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        self._serve("POST")

    # -- dispatch -------------------------------------------------------------------------------

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        parts = urlsplit(self.path)
        headers = {name.lower(): value for name, value in self.headers.items()}
        script = self.owner._record(RecordedRequest(method, parts.path, parts.query, headers, body))
        self.style = _style(parts.path, headers)
        self.model = body.get("model", "") if isinstance(body, dict) else ""
        outcome = "served"
        try:
            if not self.owner._sleep(script.headers_delay):
                self.close_connection = True
                return
            if script.status is not None:
                self._send_error(script.status, script)
            elif method == "POST" and parts.path == "/v1/chat/completions":
                self._openai_chat(body, script)
            elif method == "POST" and parts.path == "/v1/messages":
                self._anthropic_messages(body, script)
            elif method == "GET" and parts.path == "/v1/models":
                self._list_models(script)
            elif method == "GET" and parts.path == "/api/tags":
                self._ollama_tags(script)
            else:
                self._send_error(404, script, message=f"no route for {method} {parts.path}")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client hung up; nothing left to do
            outcome = "abandoned"
        finally:
            self.owner._finished(outcome)

    # -- plain JSON answers ---------------------------------------------------------------------

    def _send_json(self, status: int, payload: object, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, script: Script, *, message: str | None = None) -> None:
        extra = {"Retry-After": script.retry_after} if script.retry_after is not None else {}
        masked = _masked_key(self.headers.get("Authorization") or self.headers.get("x-api-key"))
        if self.style == "anthropic":
            error_type, template = _ANTHROPIC_ERRORS.get(status, ("api_error", "Error"))
            text = message or script.error_message or template.format(model=self.model)
            payload: object = {"type": "error", "error": {"type": error_type, "message": text}}
        elif self.style == "ollama":
            payload = {"error": message or script.error_message or f"HTTP {status}"}
        else:
            error_type, code, template = _OPENAI_ERRORS.get(status, ("server_error", None, "Error"))
            text = (
                message or script.error_message or template.format(model=self.model, masked=masked)
            )
            payload = {"error": {"message": text, "type": error_type, "param": None, "code": code}}
        self._send_json(status, payload, extra)

    def _list_models(self, script: Script) -> None:
        if self.style == "anthropic":
            data = [
                {
                    "id": model,
                    "type": "model",
                    "display_name": model.replace("-", " ").title(),
                    "created_at": "2025-02-19T00:00:00Z",
                }
                for model in script.models
            ]
            payload: dict[str, object] = {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
            }
        else:
            payload = {
                "object": "list",
                "data": [
                    {"id": model, "object": "model", "created": 1_700_000_000, "owned_by": "fake"}
                    for model in script.models
                ],
            }
        self._send_json(200, payload)

    def _ollama_tags(self, script: Script) -> None:
        models = [
            {
                "name": model,
                "model": model,
                "modified_at": "2025-01-01T12:00:00.000000000Z",
                "size": 2_019_393_189,
                "digest": f"{index:064x}",
                "details": {
                    "parent_model": "",
                    "format": "gguf",
                    "family": "llama",
                    "families": ["llama"],
                    "parameter_size": "3.2B",
                    "quantization_level": "Q4_K_M",
                },
            }
            for index, model in enumerate(script.models)
        ]
        self._send_json(200, {"models": models})

    # -- streams --------------------------------------------------------------------------------

    def _start_stream(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _write(self, text: str) -> None:
        data = text.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def _end_stream(self) -> None:
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _cut(self) -> None:
        """Drop the connection with the chunked body unfinished."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            return

    def _pace(self, script: Script, started: float, sent: int) -> bool:
        """Wait until chunk ``sent`` is due: the rate holds on average, however late a wake-up."""
        if not script.tokens_per_second:
            return self.owner._sleep(0)
        due = started + (sent + 1) / script.tokens_per_second
        return self.owner._sleep(due - time.monotonic())

    def _fault(self, script: Script) -> _Fault | None:
        faults = [
            _Fault(kind, after)
            for kind, after in (
                ("cut", script.cut_after),
                ("hold", script.hold_after),
                ("end", script.end_early_after),
                ("malformed", script.malformed_after),
                ("error", script.error_event_after),
            )
            if after is not None
        ]
        return min(faults, key=lambda fault: fault.after) if faults else None

    def _apply_fault(self, fault: _Fault, error_event: str, malformed: str) -> None:
        if fault.kind == "hold":
            self.owner._sleep(MAX_DELAY)
            self._cut()
            return
        if fault.kind == "cut":
            self._cut()
            return
        if fault.kind == "malformed":
            self._write(malformed)
        elif fault.kind == "error":
            self._write(error_event)
        self._end_stream()

    def _openai_chat(self, body: Any, script: Script) -> None:
        if not isinstance(body, dict) or not body.get("stream"):
            self._send_error(400, script, message="the fake server only answers with stream: true")
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = script.text_chunks()
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> str:
            payload: dict[str, Any] = {
                "id": "chatcmpl-fake0001",
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model,
                "system_fingerprint": "fp_fake",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }
            if include_usage:
                payload["usage"] = None
            return f"data: {json.dumps(payload)}\n\n"

        error_type = script.error_event_type or "server_error"
        error_event = (
            "data: "
            + json.dumps(
                {
                    "error": {
                        "message": script.error_message
                        or "The server had an error while processing your request.",
                        "type": error_type,
                        "param": None,
                        "code": None,
                    }
                }
            )
            + "\n\n"
        )
        malformed = 'data: {"id": "chatcmpl-fake0001", "choices": [{"delta": {"content": \n\n'
        fault = self._fault(script)

        self._start_stream()
        self._write(chunk({"role": "assistant", "content": "", "refusal": None}))
        started = time.monotonic()
        for sent, text in enumerate(chunks):
            if fault is not None and fault.after == sent:
                self._apply_fault(fault, error_event, malformed)
                return
            if not self._pace(script, started, sent):
                self._cut()
                return
            self._write(chunk({"content": text}))
        if fault is not None:  # scripted at or past the last chunk
            self._apply_fault(fault, error_event, malformed)
            return
        self._write(chunk({}, finish_reason=script.finish_reason))
        if include_usage:
            completion = (
                script.completion_tokens if script.completion_tokens is not None else len(chunks)
            )
            usage = {
                "id": "chatcmpl-fake0001",
                "object": "chat.completion.chunk",
                "created": created,
                "model": self.model,
                "system_fingerprint": "fp_fake",
                "choices": [],
                "usage": {
                    "prompt_tokens": script.prompt_tokens,
                    "completion_tokens": completion,
                    "total_tokens": script.prompt_tokens + completion,
                },
            }
            self._write(f"data: {json.dumps(usage)}\n\n")
        self._write("data: [DONE]\n\n")
        self._end_stream()

    def _anthropic_messages(self, body: Any, script: Script) -> None:
        if not isinstance(body, dict) or not body.get("stream"):
            self._send_error(400, script, message="the fake server only answers with stream: true")
            return
        chunks = script.text_chunks()

        def event(name: str, payload: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps(payload)}\n\n"

        error_type = script.error_event_type or "overloaded_error"
        error_event = event(
            "error",
            {
                "type": "error",
                "error": {"type": error_type, "message": script.error_message or "Overloaded"},
            },
        )
        malformed = (
            'event: content_block_delta\ndata: {"type": "content_block_delta", "delta": \n\n'
        )
        fault = self._fault(script)

        self._start_stream()
        self._write(
            event(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_fake0001",
                        "type": "message",
                        "role": "assistant",
                        "model": self.model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": script.prompt_tokens, "output_tokens": 1},
                    },
                },
            )
        )
        self._write(
            event(
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            )
        )
        self._write(event("ping", {"type": "ping"}))
        started = time.monotonic()
        for sent, text in enumerate(chunks):
            if fault is not None and fault.after == sent:
                self._apply_fault(fault, error_event, malformed)
                return
            if not self._pace(script, started, sent):
                self._cut()
                return
            self._write(
                event(
                    "content_block_delta",
                    {
                        "type": "content_block_delta",
                        "index": 0,
                        "delta": {"type": "text_delta", "text": text},
                    },
                )
            )
        if fault is not None:  # scripted at or past the last chunk
            self._apply_fault(fault, error_event, malformed)
            return
        completion = (
            script.completion_tokens if script.completion_tokens is not None else len(chunks)
        )
        self._write(event("content_block_stop", {"type": "content_block_stop", "index": 0}))
        self._write(
            event(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": script.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": completion},
                },
            )
        )
        self._write(event("message_stop", {"type": "message_stop"}))
        self._end_stream()


def _style(path: str, headers: dict[str, str]) -> str:
    if path == "/v1/messages" or "anthropic-version" in headers:
        return "anthropic"
    if path.startswith("/api/"):
        return "ollama"
    return "openai"


def _masked_key(header: str | None) -> str:
    """The key as OpenAI echoes it in a 401: first and last few characters only."""
    key = (header or "").removeprefix("Bearer ").strip()
    return f"{key[:3]}{'*' * 8}{key[-4:]}" if len(key) > 8 else "***"


@pytest.fixture
def fake_provider() -> Iterator[FakeProviderServer]:
    """A running ``FakeProviderServer``, stopped when the test ends."""
    with FakeProviderServer() as server:
        yield server

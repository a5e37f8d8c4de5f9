"""A fake OpenAI-compatible chat endpoint on 127.0.0.1 that records every request and what it billed.

A stdlib HTTP server in a thread: the real openai client (and LangChain's
ChatOpenAI) talk to it over a real socket. Each reply uses ``min(cap, natural)``
completion tokens, where the natural length is the number after "need" in the
last user message ("need 40"; 12 when there is none), so a test knows exactly
what a capped answer costs. An answer cut at its cap ends with finish_reason
"length" (a JSON answer is then cut mid-object, as a real one is).

What it answers:

* plain text ``used <tokens>``;
* a call of one of the request's ``tools`` (the one ``tool_choice`` names, else
  the first) when the last message is not a tool result, its arguments made up
  from the tool's JSON schema (strings: the first phrase the prompt quotes, 'like this');
* JSON for ``response_format``: an instance of the ``json_schema`` given, or for
  ``json_object`` an object with the keys quoted in the prompt ('setup');
* with ``"stream": true``, server-sent events, and a last chunk with the usage
  only when ``stream_options.include_usage`` asks for it (as OpenAI does).

Failures on purpose: a prompt containing "FAIL500" gets HTTP 500, "FAIL" gets
HTTP 400; with ``output_limit`` set, a cap above it gets HTTP 400 (a real
provider refuses a cap past the model's output limit). ``ignore_caps`` overruns
every cap, as llama.cpp does with ``max_completion_tokens``; ``delay`` holds
each reply back (to see concurrency).

``billed`` lists ``(request body, completion tokens)`` of every answered
request: what a provider would charge, whether or not the client saw the usage.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

PROMPT_TOKENS = 7
DEFAULT_NEED = 12


def prompt_of(body: dict) -> str:
    """The text of the last user message of a request (content blocks joined)."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(block.get("text", "") for block in content if isinstance(block, dict))
    return ""


def instance_of(schema: dict, defs: dict | None = None, text: str = "cat") -> Any:
    """A small value valid for a JSON schema (objects, arrays, enums, the scalar types, refs, unions);
    strings are ``text``."""
    defs = {**(defs or {}), **schema.get("$defs", {}), **schema.get("definitions", {})}
    if "$ref" in schema:
        return instance_of(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, text)
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for union in ("anyOf", "oneOf", "allOf"):
        if union in schema:
            options = [s for s in schema[union] if s.get("type") != "null"] or schema[union]
            return instance_of(options[0], defs, text)
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {name: instance_of(sub, defs, text) for name, sub in properties.items()}
    if kind == "array":
        return [instance_of(schema.get("items", {"type": "string"}), defs, text)]
    return {"string": text, "integer": 3, "number": 3.0, "boolean": True, "null": None}[kind]


class RecordingEndpoint:
    """The server, started on a free port when built; :meth:`close` stops it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.billed: list[tuple[dict, int]] = []
        self.statuses: list[int] = []
        self.delay = 0.0
        self.ignore_caps = False
        self.output_limit: int | None = None
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        """The base URL to give a client (``http://127.0.0.1:<port>/v1``)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the tests read -----------------------------------------------------------

    @property
    def billed_tokens(self) -> int:
        """Completion tokens of every answered request: what the provider charges."""
        with self.lock:
            return sum(tokens for _, tokens in self.billed)

    def bodies_for(self, text: str) -> list[dict]:
        """Every recorded request whose last user message contains ``text``."""
        with self.lock:
            return [b for b in self.bodies if text in prompt_of(b)]

    def body_for(self, text: str) -> dict:
        """The one recorded request whose last user message is ``text``."""
        (found,) = [b for b in self.bodies if prompt_of(b) == text]
        return found

    @staticmethod
    def cap_of(body: dict) -> int | None:
        """The cap a request carried (``max_completion_tokens``, else ``max_tokens``)."""
        return body.get("max_completion_tokens", body.get("max_tokens"))

    # --- the answer --------------------------------------------------------------------

    def reply(self, body: dict) -> tuple[int, dict | None, int]:
        """``(status, payload, completion tokens)`` for one request (payload None: stream it)."""
        prompt = prompt_of(body)
        cap = self.cap_of(body)
        if "FAIL500" in prompt:
            return 500, {"error": {"message": "server failure on purpose", "type": "server_error"}}, 0
        if "FAIL" in prompt:
            return 400, {"error": {"message": "refused on purpose", "type": "invalid_request_error"}}, 0
        if self.output_limit is not None and cap is not None and cap > self.output_limit:
            message = f"max_tokens is too large: {cap}. This model supports at most {self.output_limit} completion tokens"
            return 400, {"error": {"message": message, "type": "invalid_request_error"}}, 0
        found = re.search(r"need (\d+)", prompt)
        natural = int(found.group(1)) if found else DEFAULT_NEED
        used = natural if cap is None or self.ignore_caps else min(cap, natural)
        cut = used < natural
        message = self._message(body, prompt, used, cut)
        finish = "length" if cut else ("tool_calls" if "tool_calls" in message else "stop")
        usage = {
            "prompt_tokens": PROMPT_TOKENS, "completion_tokens": used, "total_tokens": PROMPT_TOKENS + used,
            "completion_tokens_details": {"reasoning_tokens": max(used - 2, 0)},
        }
        return 200, {
            "id": "cmpl", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage,
        }, used

    def _message(self, body: dict, prompt: str, used: int, cut: bool) -> dict:
        found = re.search(r"'([^']+)'", prompt)
        quoted = found.group(1) if found else "cat"  # a string the prompt quotes becomes the answer's strings
        tools = body.get("tools") or []
        last_role = (body.get("messages") or [{}])[-1].get("role")
        if tools and body.get("tool_choice") != "none" and last_role != "tool":
            choice = body.get("tool_choice")
            name = choice["function"]["name"] if isinstance(choice, dict) else tools[0]["function"]["name"]
            (tool,) = [t for t in tools if t["function"]["name"] == name]
            arguments = json.dumps(instance_of(tool["function"].get("parameters") or {"type": "object"}, text=quoted),
                                   ensure_ascii=False)
            call = {"id": f"call_{len(self.bodies)}", "type": "function",
                    "function": {"name": name, "arguments": arguments[: len(arguments) // 2] if cut else arguments}}
            return {"role": "assistant", "content": None, "tool_calls": [call]}
        form = body.get("response_format") or {}
        if form.get("type") == "json_schema":
            text = json.dumps(instance_of(form["json_schema"]["schema"], text=quoted), ensure_ascii=False)
        elif form.get("type") == "json_object":
            text = json.dumps({key: "cat" for key in dict.fromkeys(re.findall(r"'(\w+)'", prompt))})
        else:
            return {"role": "assistant", "content": f"used {used}"}
        return {"role": "assistant", "content": text[: len(text) // 2] if cut else text}

    @staticmethod
    def events(payload: dict, include_usage: bool) -> Iterator[dict]:
        """The chunks of a streamed answer: role, content or tool call pieces, finish, usage."""
        choice = payload["choices"][0]
        message = choice["message"]
        base = {"id": payload["id"], "object": "chat.completion.chunk", "created": 0, "model": payload["model"]}

        def chunk(delta: dict, finish: str | None = None) -> dict:
            return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

        yield chunk({"role": "assistant", "content": ""})
        if message.get("tool_calls"):
            for index, call in enumerate(message["tool_calls"]):
                yield chunk({"tool_calls": [{"index": index, "id": call["id"], "type": "function",
                                             "function": {"name": call["function"]["name"], "arguments": ""}}]})
                arguments = call["function"]["arguments"]
                for start in range(0, len(arguments), 8):
                    yield chunk({"tool_calls": [{"index": index, "function": {"arguments": arguments[start:start + 8]}}]})
        else:
            text = message.get("content") or ""
            for start in range(0, len(text), 4):
                yield chunk({"content": text[start:start + 4]})
        yield chunk({}, choice["finish_reason"])
        if include_usage:
            yield {**base, "choices": [], "usage": payload["usage"]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with endpoint.lock:
                    endpoint.bodies.append(body)
                    endpoint.in_flight += 1
                    endpoint.most_in_flight = max(endpoint.most_in_flight, endpoint.in_flight)
                try:
                    time.sleep(endpoint.delay)
                    status, payload, used = endpoint.reply(body)
                finally:
                    with endpoint.lock:
                        endpoint.in_flight -= 1
                with endpoint.lock:
                    endpoint.statuses.append(status)
                    if status == 200:
                        endpoint.billed.append((body, used))
                if status == 200 and body.get("stream"):
                    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                    data = "".join(
                        f"data: {json.dumps(event)}\n\n" for event in endpoint.events(payload, include_usage)
                    ) + "data: [DONE]\n\n"
                    self._send(status, "text/event-stream", data.encode())
                else:
                    self._send(status, "application/json", json.dumps(payload).encode())

            def _send(self, status: int, kind: str, data: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def endpoint() -> Iterator[RecordingEndpoint]:
    """A running :class:`RecordingEndpoint`, stopped after the test."""
    server = RecordingEndpoint()
    yield server
    server.close()

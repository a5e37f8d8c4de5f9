"""A fake OpenAI-compatible chat endpoint on 127.0.0.1 that records every request it gets.

A stdlib HTTP server in a thread: the real openai client (and LangChain's
ChatOpenAI) talk to it over a real socket. Each reply uses ``min(cap, natural)``
completion tokens, where the natural length is the number after "need" in the
last message ("need 40"), so a test knows exactly what a capped answer costs;
the answer text is ``used <tokens>``. A prompt containing "FAIL" gets an HTTP
400; with ``ignore_caps`` the server overruns every cap, as llama.cpp does with
``max_completion_tokens``; ``delay`` holds each reply back (to see concurrency).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PROMPT_TOKENS = 7


class RecordingEndpoint:
    """The server, started on a free port when built; :meth:`close` stops it."""

    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.delay = 0.0
        self.ignore_caps = False
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

    def body_for(self, text: str) -> dict:
        """The one recorded request whose last message is ``text``."""
        (found,) = [b for b in self.bodies if b["messages"][-1]["content"] == text]
        return found

    def reply(self, body: dict) -> tuple[int, dict]:
        prompt = body["messages"][-1]["content"]
        if "FAIL" in prompt:
            return 400, {"error": {"message": "refused on purpose", "type": "invalid_request_error"}}
        natural = int(re.search(r"need (\d+)", prompt).group(1))
        cap = body.get("max_completion_tokens", body.get("max_tokens"))
        used = natural if cap is None or self.ignore_caps else min(cap, natural)
        finish = "length" if used < natural else "stop"
        return 200, {
            "id": "cmpl", "object": "chat.completion", "created": 0, "model": body["model"],
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f"used {used}"}, "finish_reason": finish}],
            "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": used, "total_tokens": PROMPT_TOKENS + used,
                      "completion_tokens_details": {"reasoning_tokens": max(used - 2, 0)}},
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with endpoint.lock:
                    endpoint.bodies.append(body)
                    endpoint.in_flight += 1
                    endpoint.most_in_flight = max(endpoint.most_in_flight, endpoint.in_flight)
                try:
                    time.sleep(endpoint.delay)
                    status, payload = endpoint.reply(body)
                finally:
                    with endpoint.lock:
                        endpoint.in_flight -= 1
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
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

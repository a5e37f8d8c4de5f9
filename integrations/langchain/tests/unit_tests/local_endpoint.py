"""A chat-completions endpoint on 127.0.0.1 (stdlib http.server in a thread) that records request bodies.

Each reply uses ``min(cap, need)`` completion tokens, ``need`` being the number
after "need" in the prompt, so tests know what each capped call costs.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalEndpoint:
    def __init__(self) -> None:
        self.bodies: list[dict] = []
        self.lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                with endpoint.lock:
                    endpoint.bodies.append(body)
                need = int(re.search(r"need (\d+)", body["messages"][-1]["content"]).group(1))
                cap = body.get("max_completion_tokens", body.get("max_tokens"))
                used = need if cap is None else min(cap, need)
                data = json.dumps({
                    "id": "c", "object": "chat.completion", "created": 0, "model": body["model"],
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": f"used {used}"},
                                 "finish_reason": "stop" if used == need else "length"}],
                    "usage": {"prompt_tokens": 5, "completion_tokens": used, "total_tokens": 5 + used},
                }).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def body_for(self, text: str) -> dict:
        (found,) = [b for b in self.bodies if b["messages"][-1]["content"] == text]
        return found

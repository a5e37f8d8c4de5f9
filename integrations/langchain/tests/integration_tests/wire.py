"""Helpers for the tests against the recording endpoint: a real ChatOpenAI pointed at it, and the books."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_openai import ChatOpenAI

from support.openai_endpoint import RecordingEndpoint, prompt_of


def chat(endpoint: RecordingEndpoint, **options: Any) -> ChatOpenAI:
    """``ChatOpenAI`` talking to ``endpoint`` (model gpt-4o-mini: its profile caps output at 16,384 tokens)."""
    return ChatOpenAI(**{"model": "gpt-4o-mini", "base_url": endpoint.url, "api_key": "sk-test", "max_retries": 0,
                         **options})


def caps(endpoint: RecordingEndpoint, text: str) -> list[int | None]:
    """The cap of every request whose last user message contains ``text``, in the order they arrived."""
    return [endpoint.cap_of(body) for body in endpoint.bodies_for(text)]


def billed(endpoint: RecordingEndpoint, text: str) -> int:
    """Completion tokens the server billed for the requests whose last user message contains ``text``."""
    return sum(tokens for body, tokens in endpoint.billed if text in prompt_of(body))


def prompts(endpoint: RecordingEndpoint) -> list[str]:
    return [prompt_of(body) for body in endpoint.bodies]


def assert_books(ledger: Any, endpoint: RecordingEndpoint) -> None:
    """The ledger charged exactly what the server billed, and holds nothing back."""
    books = ledger.snapshot()
    assert books.spent == endpoint.billed_tokens, (books, endpoint.billed_tokens)
    assert books.reserved == 0 and books.balanced and books.spent <= books.budget


class Runs(BaseCallbackHandler):
    """Every chain and chat model run: name, parent, tags, metadata (a chat run's cap: ``ls_max_tokens``), outputs."""

    def __init__(self) -> None:
        self.started: dict[UUID, dict] = {}
        self.ended: dict[UUID, object] = {}

    def on_chain_start(self, serialized, inputs, *, run_id, parent_run_id=None, tags=None, metadata=None, name=None,
                       **kw):
        self.started[run_id] = {"name": name, "parent": parent_run_id, "tags": tags or [], "metadata": metadata or {}}

    def on_chat_model_start(self, serialized, messages, *, run_id, parent_run_id=None, tags=None, metadata=None, **kw):
        self.started[run_id] = {"name": "chat", "parent": parent_run_id, "tags": tags or [],
                                "metadata": metadata or {}, "cap": (metadata or {}).get("ls_max_tokens")}

    def on_chain_end(self, outputs, *, run_id, **kw):
        self.ended[run_id] = outputs

    def root_of(self, run_id: UUID) -> UUID:
        while self.started[run_id]["parent"] is not None:
            run_id = self.started[run_id]["parent"]
        return run_id

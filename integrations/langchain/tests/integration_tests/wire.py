"""Helpers for the tests against the recording endpoint: a real ChatOpenAI pointed at it, and the books."""

from __future__ import annotations

from typing import Any

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

"""LangChain's standard chat model suites (``langchain-tests``) on the budgeted ChatOpenAI.

The wrapped model is a chat model like any other: the suites LangChain's partner
packages run, unit and integration, run on it here. The integration suite talks
to the recording OpenAI-compatible endpoint on 127.0.0.1 (tools, structured
output, JSON mode, streaming with usage); the inputs no local endpoint can fake
(images, audio, PDF) are switched off by the suites' own flags.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from langchain_clear_fast import BudgetedChatModel
from langchain_openai import ChatOpenAI
from langchain_tests.integration_tests import ChatModelIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests

from support.openai_endpoint import RecordingEndpoint

_SERVER: list[RecordingEndpoint] = []


@pytest.fixture(autouse=True)
def recording_endpoint() -> Iterator[RecordingEndpoint]:
    """An endpoint per test, read by ``chat_model_params`` (the suites build their model from properties).

    A new port per test also means a new ``base_url``: ChatOpenAI caches its default async
    HTTP client per ``base_url``, and a client cannot outlive the event loop of the test
    that first used it.
    """
    server = RecordingEndpoint()
    _SERVER.append(server)
    yield server
    _SERVER.clear()
    server.close()


class BudgetedChatOpenAI(BudgetedChatModel):
    """``budgeted(ChatOpenAI(**params))``, built from ChatOpenAI's parameters as the suites build a model."""

    def __init__(self, **params: Any) -> None:
        super().__init__(model=ChatOpenAI(**params))

    @classmethod
    def is_lc_serializable(cls) -> bool:
        return False  # this test-only subclass has no import path; BudgetedChatModel's round trip is tested elsewhere


class SuiteSettings:
    @property
    def chat_model_class(self) -> type[BudgetedChatOpenAI]:
        return BudgetedChatOpenAI

    @property
    def chat_model_params(self) -> dict[str, Any]:
        url = _SERVER[0].url if _SERVER else "http://127.0.0.1:9/v1"
        return {"model": "gpt-4o-mini", "base_url": url, "api_key": "sk-test"}

    @property
    def supports_json_mode(self) -> bool:
        return True

    @property
    def has_tool_choice(self) -> bool:
        return True

    @property
    def model_override_value(self) -> str:
        return "gpt-4o"


class TestBudgetedChatOpenAIUnit(SuiteSettings, ChatModelUnitTests):
    """The standard unit suite."""


class TestBudgetedChatOpenAIIntegration(SuiteSettings, ChatModelIntegrationTests):
    """The standard integration suite, against the recording endpoint."""

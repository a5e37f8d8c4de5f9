"""Fixtures of the openai tests: no network, and a recording OpenAI-compatible endpoint on 127.0.0.1."""

from support.network import network_off  # noqa: F401  (autouse: applies to every test here)
from support.openai_endpoint import endpoint  # noqa: F401

"""Helpers for testing code that uses clear_fast against a real model (not imported by ``clear_fast``)."""

from .local_model import INSTALL, LocalModelUnavailable, count_tokens, free_port, model_path, serve_smollm2

__all__ = ["INSTALL", "LocalModelUnavailable", "count_tokens", "free_port", "model_path", "serve_smollm2"]

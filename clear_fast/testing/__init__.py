"""Helpers for testing code that uses clear_fast against a real model (not imported by ``clear_fast``)."""

from .local_model import INSTALL, LocalModelUnavailable, count_tokens, free_port, model_path, serve_smollm2
from .network import refuse_remote_connections

__all__ = [
    "INSTALL",
    "LocalModelUnavailable",
    "count_tokens",
    "free_port",
    "model_path",
    "refuse_remote_connections",
    "serve_smollm2",
]

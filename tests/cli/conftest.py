"""Runs the real ``clear-fast`` command in a subprocess, against the in-tree package."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str,
    stdin: str | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    path_first: Path | None = None,
) -> subprocess.CompletedProcess:
    """``python -m clear_fast.cli ARGS`` with this checkout first on the path; text in, text out.

    ``path_first`` goes before everything else on the path (to shadow a module).
    """
    env = dict(os.environ)
    front = [str(path_first)] if path_first else []
    env["PYTHONPATH"] = os.pathsep.join([*front, str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "clear_fast.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


@pytest.fixture
def cli():
    """The :func:`run_cli` function, as a fixture."""
    return run_cli

"""Fixtures of the command-line tests (the helpers live in cli_helpers.py)."""

from __future__ import annotations

import pytest

from cli_helpers import run_cli, write_rollout_log


@pytest.fixture
def cli():
    """The :func:`cli_helpers.run_cli` function, as a fixture."""
    return run_cli


@pytest.fixture(scope="session")
def fitted_profile(tmp_path_factory):
    """A profile written by `clear-fast fit` on a simulated log, with the FitResult it holds."""
    from clear_fast.fit import load_profile

    folder = tmp_path_factory.mktemp("profile")
    write_rollout_log(folder / "logs.jsonl")
    done = run_cli("fit", str(folder / "logs.jsonl"), "--out", str(folder / "model.json"))
    assert done.returncode == 0, done.stderr
    return folder / "model.json", load_profile(folder / "model.json")

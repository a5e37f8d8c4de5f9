"""Fixtures of the command-line tests (the helpers live in cli_helpers.py)."""

from __future__ import annotations

import functools

import pytest

from cli_helpers import hiding, run_cli, write_rollout_log


@pytest.fixture
def cli():
    """The :func:`cli_helpers.run_cli` function, as a fixture."""
    return run_cli


@pytest.fixture(params=["pyarrow", "no pyarrow"])
def cli_each_reader(request, tmp_path_factory):
    """``run_cli``, once with pyarrow (columnar reading and writing) and once as if it were not installed."""
    if request.param == "pyarrow":
        return run_cli
    shadow = hiding(tmp_path_factory.mktemp("no-pyarrow"), "pyarrow")

    def without_pyarrow(*args, path_first=None, **options):
        more = path_first if isinstance(path_first, list) else [path_first] if path_first else []
        return run_cli(*args, path_first=[shadow, *more], **options)

    return functools.update_wrapper(without_pyarrow, run_cli)


@pytest.fixture(scope="session")
def fitted_profile(tmp_path_factory):
    """A profile written by `clear-fast fit` on a simulated log, with the FitResult it holds."""
    from clear_fast.fit import load_profile

    folder = tmp_path_factory.mktemp("profile")
    write_rollout_log(folder / "logs.jsonl")
    done = run_cli("fit", str(folder / "logs.jsonl"), "--out", str(folder / "model.json"))
    assert done.returncode == 0, done.stderr
    return folder / "model.json", load_profile(folder / "model.json")

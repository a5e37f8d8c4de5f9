"""The installed `clear-fast` script and `python -m clear_fast.cli` reach the same `main`."""

from __future__ import annotations

import importlib
import tomllib

import clear_fast
from clear_fast.cli import main
from cli_helpers import REPO


def test_pyproject_script_points_at_main():
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    module, _, name = scripts["clear-fast"].partition(":")
    assert getattr(importlib.import_module(module), name) is main


def test_main_returns_the_exit_status_in_process(tmp_path, capsys):
    assert main(["allocate", str(tmp_path / "missing.csv"), "--budget", "10"]) == 2
    assert "missing.csv does not exist" in capsys.readouterr().err
    (tmp_path / "q.csv").write_text("tau,alpha,beta\n100,0.01,0.005\n")
    assert main(["allocate", str(tmp_path / "q.csv"), "--budget", "500"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "id,tokens,funded,breakeven_price,reason" and out[1].startswith('"1",')


def test_version_and_help(cli):
    done = cli("--version")
    assert done.returncode == 0 and done.stdout.strip().startswith(f"clear-fast {clear_fast.__version__}")
    for command in ("demo", "allocate", "fit", "bench"):
        shown = cli(command, "--help")
        assert shown.returncode == 0 and f"usage: clear-fast {command}" in shown.stdout

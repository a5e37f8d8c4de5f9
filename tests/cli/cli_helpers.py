"""Helpers for the command-line tests: run the real ``clear-fast`` command, write a rollout log.

A module of its own (not conftest.py) so test modules can import it by a name
no other test folder uses.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_cli(
    *args: str,
    stdin: str | bytes | None = None,
    cwd: Path | None = None,
    timeout: float = 300,
    path_first: Path | list[Path] | None = None,
) -> subprocess.CompletedProcess:
    """``python -m clear_fast.cli ARGS`` with this checkout first on the path; text in, text out (bytes in, bytes out).

    ``path_first`` goes before everything else on the path (to shadow a module).
    """
    env = dict(os.environ)
    front = [str(path) for path in (path_first if isinstance(path_first, list) else [path_first]) if path]
    env["PYTHONPATH"] = os.pathsep.join([*front, str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, "-m", "clear_fast.cli", *args],
        input=stdin,
        capture_output=True,
        text=not isinstance(stdin, bytes),
        env=env,
        cwd=cwd,
        timeout=timeout,
    )


def hiding(folder: Path, *modules: str) -> Path:
    """A folder that, put first on the path, makes ``import module`` fail for each of ``modules``."""
    for module in modules:
        (folder / module).mkdir(parents=True, exist_ok=True)
        (folder / module / "__init__.py").write_text(
            f"raise ImportError('{module} is hidden by this test', name='{module}')\n"
        )
    return folder


def write_rollout_log(path: Path, n: int = 40, caps=(200, 400, 800, 1600), seed: int = 0) -> None:
    """A log of runs of the simulated reasoning model (known curves) as JSON Lines: one row per run."""
    import json

    import numpy as np

    import clear_fast as cf
    from clear_fast.workloads import SimulatedReasoner

    rng = np.random.default_rng(seed)
    curves = cf.SurgeCurves.from_peak(rng.uniform(100, 600, n), 0.8, 150.0, form="cumulative")
    with path.open("w") as stream:
        for k, cap in enumerate(caps):
            model = SimulatedReasoner(curves, seed=seed * 100 + k)  # an independent draw per round of runs
            for i in range(n):
                answer = model.answer(i, cap)
                record = {
                    "query_id": f"q{i}",
                    "cap": cap,
                    "tokens_used": answer.tokens_used,
                    "finish_reason": answer.finish_reason,
                    "correct": answer.correct,
                }
                stream.write(json.dumps(record) + "\n")

"""A missing compiled kernel is a loud import error, unless the pure-Python twin is asked for; the chosen one runs everywhere."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import clear_fast

BLOCK_KERNEL = "import sys; sys.modules['clear_fast._solver'] = None; "  # makes `import clear_fast._solver` fail


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)


def test_import_fails_with_a_clear_message_when_the_kernel_is_missing():
    result = run(BLOCK_KERNEL + "import clear_fast", CLEAR_FAST_PUREPYTHON="")
    assert result.returncode != 0
    assert "clear_fast's compiled kernel (clear_fast._solver) is not built or cannot be loaded" in result.stderr
    # from a source checkout the fix is to compile it in place; an installed package is reinstalled
    from_checkout = (Path(clear_fast.__file__).resolve().parents[1] / "setup.py").is_file()
    fix = "pip install -e ." if from_checkout else "Install the package with `pip install .`"
    assert "CLEAR_FAST_PUREPYTHON=1" in result.stderr and fix in result.stderr, result.stderr


def test_the_twin_runs_everything_when_asked_for():
    code = BLOCK_KERNEL + (
        "import clear_fast as cf; "
        "a = cf.allocate(cf.SurgeCurves([10, 20, 400], 0.02, 0.02), 120); "
        "print(cf.IMPLEMENTATION, a.spent <= 120, a.tokens.tolist())"
    )
    result = run(code, CLEAR_FAST_PUREPYTHON="1")
    assert result.returncode == 0, result.stderr
    implementation, feasible, tokens = result.stdout.split(maxsplit=2)
    assert implementation == "python" and feasible == "True"
    assert tokens.strip() == "[55, 65, 0]"  # the same 45 tokens above each threshold


# Runs the library's kernel callers (allocation on both paths, pricing, rounding, effort levels) with a spy
# on every entry point of the chosen kernel package, and reports who called what and which kernel modules
# were ever imported.
WHAT_RAN = """
import inspect, json, sys
import numpy as np
import clear_fast as cf
from clear_fast import _kernel

package = _kernel.kernel
calls = {}

def spy(name, real):
    def called(*args):
        caller = inspect.currentframe().f_back.f_globals["__name__"]
        calls.setdefault(name, set()).add(caller)
        return real(*args)
    return called

for name in package.__all__:
    if callable(getattr(package, name)) and not isinstance(getattr(package, name), type):  # not the enums
        setattr(package, name, spy(name, getattr(package, name)))

rng = np.random.default_rng(7)
tau = rng.uniform(0, 300, 40)
varied = cf.SurgeCurves.from_peak(tau, rng.uniform(0.2, 1, 40), rng.uniform(20, 80, 40), min_tokens=rng.uniform(0, 99, 40))
cf.allocate(varied, 3_000)
cf.allocate(cf.SurgeCurves(tau + 0.5, 0.02, 0.02), 3_000)
cf.best_response(varied, 0.001)
cf.allocate_levels([[10, 30], [20, 60]], [[1, 2], [1, 4]], 50)
cf.allocate(cf.SurgeCurves([20.0, 40.0, 400.0, 800.0], 0.01, 0.02), 300)  # a scarce batch: the search runs
cf.allocate_levels([[150, 600], [200, 700]], [[0.05, 0.9], [0.08, 0.95]], 500)  # the hull's steps do not fit
from clear_fast._rounding import round_grants
round_grants(varied, np.full(40, 70.4), 2_000)
print(json.dumps({
    "implementation": cf.IMPLEMENTATION,
    "package": package.__name__,
    "calls": {name: sorted(callers) for name, callers in calls.items()},
    "kernel_modules": sorted(m for m in sys.modules if m.startswith(("clear_fast._solver", "clear_fast._reference"))),
}))
"""

KERNEL_MODULES = ["lambert", "curve", "market_rows", "market", "shared_params", "effort_levels", "exact_search"]


@pytest.mark.parametrize(
    ("pure_python", "chosen", "other"),
    [("1", "clear_fast._reference", "clear_fast._solver"), ("", "clear_fast._solver", "clear_fast._reference")],
)
def test_the_chosen_kernel_is_what_every_caller_runs(pure_python, chosen, other):
    result = run(WHAT_RAN, CLEAR_FAST_PUREPYTHON=pure_python)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["package"] == chosen
    # the other implementation is never even imported, so none of its code can have run
    assert report["kernel_modules"] == sorted([chosen] + [f"{chosen}.{module}" for module in KERNEL_MODULES])
    assert not any(module.startswith(other) for module in report["kernel_modules"])
    calls = report["calls"]
    assert "clear_fast.allocate" in calls["clear_price"] and "clear_fast.allocate" in calls["shared_solve"]
    assert "clear_fast.pricing" in calls["breakeven"] and "clear_fast.pricing" in calls["demand"]
    assert "clear_fast.levels" in calls["level_hulls"] and "clear_fast.levels" in calls["level_greedy"]
    assert "clear_fast._rounding" in calls["floor_grants"] and "clear_fast._rounding" in calls["unit_gains"]
    assert calls["token_search"] == ["clear_fast._exact"] and calls["level_search"] == ["clear_fast._exact_levels"]

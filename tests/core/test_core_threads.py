"""Allocations running at once in many threads give exactly what they give one at a time.

The kernel runs without the GIL on arrays its caller owns and keeps no state of
its own, so threads really overlap in it (on free-threaded Python, everywhere);
the build declares it free-threading compatible, and this is what that rests on.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import clear_fast as cf

THREADS = 8


def _problems(count: int) -> list[tuple[cf.SurgeCurves, int, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(11)
    problems = []
    for k in range(count):
        n = int(rng.integers(2_000, 20_000))
        tau = rng.uniform(50, 2000, n)
        shared = k % 2 == 0  # half take the shared-parameter scan, half the general market clearing
        alpha = 0.01 if shared else rng.uniform(0.005, 0.02, n)
        beta = 0.005 if shared else rng.uniform(0.002, 0.01, n)
        costs = np.sort(rng.integers(20, 1500, size=(n // 10, 3)), axis=1).astype(float)
        utilities = np.sort(rng.uniform(0, 1, size=(n // 10, 3)), axis=1)
        problems.append((cf.SurgeCurves(tau, alpha, beta), int(n * rng.uniform(50, 600)), costs, utilities))
    return problems


def _solve(problem) -> tuple:
    curves, budget, costs, utilities = problem
    alloc = cf.allocate(curves, budget)
    levels = cf.allocate_levels(costs, utilities, budget // 20)
    return alloc.tokens, alloc.shadow_price, alloc.upper_bound, levels.level, levels.tokens


def test_threads_get_the_serial_answers():
    problems = _problems(4 * THREADS)
    serial = [_solve(problem) for problem in problems]
    for _ in range(3):
        with ThreadPoolExecutor(THREADS) as pool:
            threaded = list(pool.map(_solve, problems))
        for one, other in zip(serial, threaded):
            np.testing.assert_array_equal(one[0], other[0])
            assert one[1:3] == other[1:3]
            np.testing.assert_array_equal(one[3], other[3])
            np.testing.assert_array_equal(one[4], other[4])


def test_importing_the_kernel_keeps_a_free_threaded_interpreter_free_threaded():
    if not sysconfig.get_config_var("Py_GIL_DISABLED"):
        pytest.skip("this interpreter has a GIL: there is nothing to keep off (the free-threaded wheels run this)")
    code = (
        "import sys, clear_fast as cf, numpy as np; "
        "from clear_fast._kernel_modules import ENTRY_POINTS; from clear_fast import _solver; "
        "[getattr(_solver, name) for name in ENTRY_POINTS]; "
        "cf.allocate(cf.SurgeCurves([100, 200], 0.01, 0.005), 300); print(sys._is_gil_enabled())"
    )
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"

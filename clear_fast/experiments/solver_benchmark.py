"""The solver benchmark: ``clear_fast.allocate`` beside the paper's price bisection and a sort, as ratios.

For each case (curve form x shared or per-query parameters) and size n, in
one process on one machine:

* ``clear_fast.allocate(curves, 300 * n)`` (a scarce budget: many queries abandoned);
* the NumPy/SciPy implementation a careful user would write from the paper
  without this library, written tightly: 60 halvings of the price, each
  query's best response from one vectorised ``scipy.special.lambertw`` call per
  halving, the continuous demand compared with the budget and the grants
  floored once at the end
  (:func:`clear_fast.experiments.bisection_baseline.tight_bisection_allocate`);
* ``numpy.argsort`` of the n thresholds (float64): the sorting floor of any exact
  O(n log n) method, timed interleaved with allocate.

Times are medians of ``repeats`` runs, in CPU seconds of the calling thread
(on a shared machine wall time also counts waiting for a core); what carries
over to another machine are the ratios. Optionally (Linux), the peak extra memory of one allocate call,
measured in a fresh child process from the kernel's own accounting (VmHWM after
resetting it), so allocations outside Python's tracing count too.

``clear-fast bench`` and ``benchmarks/bench_solver.py`` (larger sizes, memory
on) both run :func:`run_benchmark`.
"""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .bisection_baseline import tight_bisection_allocate

DEFAULT_SIZES = (1_000, 10_000, 100_000)
#: the sizes of the speed targets (benchmarks/bench_solver.py)
TARGET_SIZES = (10_000, 200_000, 1_000_000)
BUDGET_PER_QUERY = 300
CASES = (("surge", "shared"), ("surge", "per-query"), ("cumulative", "shared"), ("cumulative", "per-query"))


@dataclass(frozen=True)
class BenchRow:
    """One case of the benchmark (field names as in benchmarks/results/bench_solver.json).

    Attributes
    ----------
    form : str
        ``"surge"`` or ``"cumulative"``.
    parameters : str
        ``"shared"`` (one alpha, beta for all: the paper's case) or ``"per-query"``.
    n : int
        Number of queries.
    allocate_s, bisection_s, argsort_s : float
        Median wall times in seconds (the bisection is the tight one).
    allocate_over_argsort : float
        How many sorts of n floats one allocate costs.
    bisection_over_allocate : float
        How many times faster allocate is than the bisection.
    peak_extra_bytes_per_query : float
        Peak memory one allocate call adds, per query; NaN when not measured.
    utility_over_bisection : float
        allocate's utility over the bisection's (>= 1 means at least as good).
    certified_gap_percent : float
        allocate's certified gap to the optimum, in percent of its upper bound.
    """

    form: str
    parameters: str
    n: int
    allocate_s: float
    bisection_s: float
    argsort_s: float
    allocate_over_argsort: float
    bisection_over_allocate: float
    peak_extra_bytes_per_query: float
    utility_over_bisection: float
    certified_gap_percent: float

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON (NaN memory becomes None)."""
        out = asdict(self)
        if math.isnan(out["peak_extra_bytes_per_query"]):
            out["peak_extra_bytes_per_query"] = None
        return out


def make_curves(form: str, parameters: str, n: int, seed: int = 0) -> Any:
    """Thresholds spread like a mixed stream (lognormal around 400 tokens).

    Shared: one width (200 tokens) and peak (0.8) for all, the paper's case. Per
    query: widths 100-300 tokens, peaks 0.3-0.9 and value weights 0.5-2, so
    every query has its own alpha, beta and weight.
    """
    import clear_fast as cf

    rng = np.random.default_rng(seed)
    tau = rng.lognormal(np.log(400.0), 0.8, n)
    if parameters == "shared":
        return cf.SurgeCurves.from_peak(tau, 0.8, 200.0, form=form)
    return cf.SurgeCurves.from_peak(
        tau, rng.uniform(0.3, 0.9, n), rng.uniform(100.0, 300.0, n), weight=rng.uniform(0.5, 2.0, n), form=form
    )


def cpu_seconds() -> float:
    """This thread's CPU time: on a shared machine wall time also counts the waits for a free core.

    Everything timed here (allocate, the bisection, argsort) runs in the calling thread.
    """
    return time.thread_time()


def median_seconds(call: Callable[[], Any], repeats: int) -> float:
    """Median CPU time of ``repeats`` calls (see :func:`cpu_seconds`)."""
    times = []
    for _ in range(repeats):
        started = cpu_seconds()
        call()
        times.append(cpu_seconds() - started)
    return statistics.median(times)


_MEMORY_CHILD = """
import numpy as np
import clear_fast as cf
from clear_fast.experiments.solver_benchmark import make_curves
curves = make_curves({form!r}, {parameters!r}, {n})
cf.allocate(curves.subset(np.arange(min({n}, 100))), 30000)
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
before = status('VmRSS')
open('/proc/self/clear_refs', 'w').write('5')  # reset the high-water mark to the current size
cf.allocate(curves, {budget})
print(status('VmHWM') - before)
"""


def memory_is_measurable() -> bool:
    """Peak memory is read from Linux's /proc; elsewhere it is not measured."""
    return Path("/proc/self/clear_refs").exists()


def peak_extra_bytes(form: str, parameters: str, n: int) -> float:
    """Peak memory one allocate call adds above its inputs, in a fresh process (Linux)."""
    code = _MEMORY_CHILD.format(form=form, parameters=parameters, n=n, budget=BUDGET_PER_QUERY * n)
    package_root = str(Path(__file__).resolve().parents[2])  # the child imports this same clear_fast
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True,
        env=_child_environment(package_root),
    ).stdout
    return float(output.strip().splitlines()[-1])


def _child_environment(package_root: str) -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    return env


def run_benchmark(
    sizes: Sequence[int] = DEFAULT_SIZES,
    repeats: int = 5,
    baseline_repeats: int = 1,
    *,
    memory: bool = False,
    progress: Callable[[BenchRow], None] | None = None,
) -> list[BenchRow]:
    """Time allocate, the bisection and argsort on every case; see :class:`BenchRow`.

    Parameters
    ----------
    sizes : sequence of int
        Numbers of queries.
    repeats, baseline_repeats : int
        Runs per median for allocate and argsort, and for the (slow) bisection.
    memory : bool
        Also measure allocate's peak extra memory in a child process (Linux only).
    progress : callable, optional
        Called with each row as soon as it is measured.
    """
    import clear_fast as cf

    rows = []
    for n in sizes:
        for form, parameters in CASES:
            curves = make_curves(form, parameters, n)
            budget = BUDGET_PER_QUERY * n
            cf.allocate(curves.subset(np.arange(min(n, 100))), 30000)  # warm-up
            ours = cf.allocate(curves, budget)
            values = curves.tau.copy()  # n float64 values: the thresholds the queries are sorted by
            ours_times, sort_times = [], []
            for _ in range(repeats):  # interleaved, so a drift of the machine's speed hits both
                ours_times.append(median_seconds(lambda: cf.allocate(curves, budget), 1))
                sort_times.append(median_seconds(lambda: np.argsort(values), 1))
            ours_seconds, sort_seconds = statistics.median(ours_times), statistics.median(sort_times)
            grants, _ = tight_bisection_allocate(form, curves.tau, curves.scale, curves.beta, budget)
            baseline_seconds = median_seconds(
                lambda: tight_bisection_allocate(form, curves.tau, curves.scale, curves.beta, budget), baseline_repeats
            )
            baseline_utility = float(cf.utility(curves, grants).sum())
            row = BenchRow(
                form=form,
                parameters=parameters,
                n=n,
                allocate_s=ours_seconds,
                bisection_s=baseline_seconds,
                argsort_s=sort_seconds,
                allocate_over_argsort=ours_seconds / sort_seconds,
                bisection_over_allocate=baseline_seconds / ours_seconds,
                peak_extra_bytes_per_query=peak_extra_bytes(form, parameters, n) / n if memory else math.nan,
                utility_over_bisection=ours.utility / baseline_utility if baseline_utility > 0 else math.inf,
                certified_gap_percent=100.0 * ours.gap / ours.upper_bound if ours.upper_bound else 0.0,
            )
            rows.append(row)
            if progress:
                progress(row)
    return rows

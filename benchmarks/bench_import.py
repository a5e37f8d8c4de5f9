"""What ``import clear_fast`` costs of its own, beside numpy's import, in one run.

Each round starts fresh processes with ``python -X importtime``: one that imports
numpy alone (the floor: clear_fast cannot load without it) and one that imports
clear_fast. The figure for clear_fast is the self time of its own modules
(``clear_fast`` and ``clear_fast.*``); numpy's is the cumulative time of its
top-level import. The rounds alternate, so both see the same load, and the least
of the rounds is reported beside the median (other work on the machine can only
add to a run's time). Target: clear_fast's own share under 40 ms.

    python benchmarks/bench_import.py [--rounds 15]

Prints a table and writes benchmarks/results/import_time.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
TARGET_MS = 40.0
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_report(module: str) -> str:
    """The ``-X importtime`` report of a fresh interpreter importing ``module``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True, text=True, check=True
    )
    return done.stderr


def own_ms(report: str, package: str) -> float:
    """Self time, in ms, of ``package`` and its submodules in one report."""
    return sum(
        int(m.group(1)) for m in LINE.finditer(report) if m.group(4) == package or m.group(4).startswith(package + ".")
    ) / 1000


def cumulative_ms(report: str, module: str) -> float:
    """Cumulative time, in ms, of the top-level import of ``module`` in one report."""
    times = [int(m.group(2)) for m in LINE.finditer(report) if m.group(4) == module and len(m.group(3)) == 1]
    return max(times) / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    numpy_ms, own = [], []
    for _ in range(rounds):
        numpy_ms.append(cumulative_ms(import_report("numpy"), "numpy"))
        own.append(own_ms(import_report("clear_fast"), "clear_fast"))
    result = {
        "rounds": rounds,
        "clear_fast_own_ms": {"min": min(own), "median": statistics.median(own)},
        "numpy_ms": {"min": min(numpy_ms), "median": statistics.median(numpy_ms)},
        "own_over_numpy": {"min": min(own) / min(numpy_ms), "median": statistics.median(own) / statistics.median(numpy_ms)},
        "target_ms": TARGET_MS,
        "met": min(own) < TARGET_MS,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "load": os.getloadavg()[0]},
    }
    print(f"{'import':<28}{'least':>10}{'median':>10}")
    print(f"{'numpy (cumulative)':<28}{min(numpy_ms):>8.1f}ms{statistics.median(numpy_ms):>8.1f}ms")
    print(f"{'clear_fast (own modules)':<28}{min(own):>8.1f}ms{statistics.median(own):>8.1f}ms")
    print(
        f"clear_fast's own share is {result['own_over_numpy']['min']:.2f}x numpy's import (least of {rounds}); "
        f"target under {TARGET_MS:.0f} ms: {'met' if result['met'] else 'missed'} (load average {result['machine']['load']:.1f})"
    )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "import_time.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()

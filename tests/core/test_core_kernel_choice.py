"""A missing compiled kernel is a loud import error, unless the pure-Python twin is asked for."""

import os
import subprocess
import sys

BLOCK_KERNEL = "import sys; sys.modules['clear_fast._solver'] = None; "  # makes `import clear_fast._solver` fail


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, **env}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment)


def test_import_fails_with_a_clear_message_when_the_kernel_is_missing():
    result = run(BLOCK_KERNEL + "import clear_fast", CLEAR_FAST_PUREPYTHON="")
    assert result.returncode != 0
    assert "clear_fast's compiled kernel (clear_fast._solver) is not built or cannot be loaded" in result.stderr
    assert "CLEAR_FAST_PUREPYTHON=1" in result.stderr and "pip install ." in result.stderr


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

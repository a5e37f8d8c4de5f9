"""Python started inside a source checkout imports its uncompiled ``clear_fast``: the error says what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import clear_fast

PACKAGE = Path(clear_fast.__file__).resolve().parent


def test_the_error_names_the_checkout_and_the_two_fixes(tmp_path):
    # A checkout where the kernel was never compiled: the sources without any built extension.
    shutil.copytree(PACKAGE, tmp_path / "clear_fast", ignore=shutil.ignore_patterns("*.so", "*.pyd", "__pycache__"))
    (tmp_path / "setup.py").write_text("# the checkout's build script\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CLEAR_FAST_PUREPYTHON", "PYTHONPATH")}
    # As with a regular install: an editable install's finder would still map clear_fast._solver to the build.
    code = (
        "import sys; sys.meta_path[:] = [f for f in sys.meta_path if not getattr(f, '__module__', '').startswith('__editable__')]; "
        "import clear_fast"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    message = run.stderr.strip().splitlines()[-1]
    assert f"source checkout {tmp_path}" in message
    assert "Run Python from another directory" in message and "`pip install -e .`" in message
    assert "CLEAR_FAST_PUREPYTHON=1" in message

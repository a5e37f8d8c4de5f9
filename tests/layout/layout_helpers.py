"""Running Python in a fresh process on this checkout, optionally with LangChain made unimportable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Installed first on sys.meta_path: any `langchain...` import fails as if the package were not installed.
BLOCK_LANGCHAIN = '''
import sys

class _NoLangChain:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0].startswith("langchain"):
            raise ImportError(f"{name} is blocked: this process runs as if LangChain were not installed")
        return None

sys.meta_path.insert(0, _NoLangChain())
'''


def run_python(
    code: str, *, timeout: float = 300, cwd: Path | None = None, python_options: tuple[str, ...] | list[str] = ()
) -> subprocess.CompletedProcess:
    """``python [python_options] -c code`` with this checkout first on the path; text out."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run(
        [sys.executable, *python_options, "-c", code], capture_output=True, text=True, env=env, timeout=timeout, cwd=cwd
    )

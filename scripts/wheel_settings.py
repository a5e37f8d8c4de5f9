"""Prints one setting of the wheel builds from pyproject.toml, for scripts/build-wheels.sh.

    python scripts/wheel_settings.py test-command | test-requires | test-extras | test-sources | numpy-floor

List settings print one item per line; test-extras prints them comma-separated.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def main(name: str) -> str:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
    if name == "numpy-floor":
        (numpy,) = [dep for dep in project["project"]["dependencies"] if re.match(r"numpy\b", dep)]
        return re.fullmatch(r"numpy\s*>=\s*([\w.]+)", numpy).group(1)  # type: ignore[union-attr]
    value = project["tool"]["cibuildwheel"][name]
    if name == "test-extras":
        return ",".join(value)
    return "\n".join(value) if isinstance(value, list) else value


if __name__ == "__main__":
    print(main(sys.argv[1]))

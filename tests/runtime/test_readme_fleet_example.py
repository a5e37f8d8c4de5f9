"""The README's fleet example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def fleet_example() -> str:
    text = README.read_text()
    section = text.split("<!-- section:fleet (runtime) -->", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_the_fleet_example_prints_its_documented_output():
    code = fleet_example()
    # Each print is followed by "# <output>: <remark>"; the agents run concurrently, so the
    # example prints only what does not depend on their order.
    documented = [
        line.split("#", 1)[1].split(":", 1)[0].strip() for line in code.splitlines() if line.lstrip().startswith("print(")
    ]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, str(README), "exec"), {"__name__": "readme_fleet_example"})
    assert printed.getvalue().splitlines() == documented

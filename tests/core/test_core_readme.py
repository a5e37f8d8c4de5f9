"""The README's front-door example runs and prints what the README says it prints."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_block_after(heading: str) -> str:
    text = README.read_text()
    section = text[text.index(heading):]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def test_allocation_example_prints_what_the_readme_shows():
    code = python_block_after("## Allocating a budget in Python")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    lines = out.getvalue().splitlines()
    assert lines[0] == "[ 910 1090    0    0    0]"
    assert lines[1].startswith("0.000513")
    achieved, bound = (float(v) for v in lines[2].split()[:2])
    assert round(achieved, 4) == 1.4475 and round(bound, 4) == 1.4490
    assert lines[3] == "True"
    assert lines[4].startswith("query 2: abandoned by the whole-token search: the best of every allocation")
    # the comments in the README quote these outputs
    assert "[ 910 1090    0    0    0]" in code and "0.000514" in code and "1.4475" in code and "1.4490" in code

"""The README's estimation example runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
NUMBER = re.compile(r"-?\d+\.\d+")


def _section_blocks():
    text = README.read_text(encoding="utf-8")
    start = text.index("<!-- section:curves (estimation) -->")
    section = text[start : text.index("\n## ", start)]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)
    code = next(body for lang, body in blocks if lang == "python")
    printed = next(body for lang, body in blocks if lang == "")
    return code, printed


def test_readme_example_runs_and_matches_its_printed_output(tmp_path, monkeypatch):
    code, printed = _section_blocks()
    monkeypatch.chdir(tmp_path)  # the example writes model.json
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme_example"})
    got, expected = out.getvalue().splitlines(), printed.strip().splitlines()
    assert len(got) == len(expected)
    for line, want in zip(got, expected):
        assert NUMBER.sub("#", line) == NUMBER.sub("#", want)
        for a, b in zip(NUMBER.findall(line), NUMBER.findall(want)):
            assert abs(float(a) - float(b)) <= 0.0015, (line, want)
    assert (tmp_path / "model.json").exists()

"""The README's LangChain and openai examples run as printed, against a recording endpoint on 127.0.0.1."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from clear_fast import SurgeCurves, allocate
from support.openai_endpoint import RecordingEndpoint

README = Path(__file__).resolve().parents[4] / "README.md"


def examples() -> list[str]:
    section = README.read_text().split("<!-- section:integrations (integration) -->", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.fixture
def endpoint(monkeypatch, tmp_path):
    server = RecordingEndpoint()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.chdir(tmp_path)
    yield server
    server.close()


def test_both_examples_run(endpoint, tmp_path):
    chain_example, client_example = examples()
    needs = [300, 500, 900, 4000, 12000, 700]
    namespace = {
        "problems": [f"task {i} need {n}" for i, n in enumerate(needs)],
        "prompts": [f"prompt {i} need {n}" for i, n in enumerate(needs)],
        "tau": np.array(needs, float),
    }
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(chain_example, str(README), "exec"), namespace)
        exec(compile(client_example, str(README), "exec"), namespace)

    runner = namespace["runner"]
    chain_bodies = [b for b in endpoint.bodies if b["messages"][-1]["content"].startswith("Solve:")]
    rows = runner.last_report.inputs
    assert len(chain_bodies) == sum(not row.abandoned for row in rows) > 0
    assert all(b["model"] == "gpt-5-mini" and b["max_completion_tokens"] > 0 for b in chain_bodies)
    assert runner.last_report.spent <= 20_000 and "spent" in printed.getvalue()

    curves = SurgeCurves.from_peak(np.array(needs, float), 0.9, 300.0, form="cumulative")
    grants = allocate(curves, 20_000).tokens
    client_bodies = {
        b["messages"][-1]["content"]: b for b in endpoint.bodies if b["messages"][-1]["content"].startswith("prompt")
    }
    assert {text: b["max_completion_tokens"] for text, b in client_bodies.items()} == {
        f"prompt {i} need {n}": int(g) for i, (n, g) in enumerate(zip(needs, grants)) if g
    }
    lines = [json.loads(line) for line in (tmp_path / "batch.jsonl").read_text().splitlines()]
    assert [line["body"]["max_completion_tokens"] for line in lines] == [int(g) for g in grants if g]

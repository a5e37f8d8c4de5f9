"""The README's LangChain and openai examples run as printed, against a recording endpoint on 127.0.0.1,
and its install line installs everything they import."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import re
import sys
from pathlib import Path

import numpy as np
import openai
import pytest
from clear_fast import SurgeCurves, allocate
from packaging.requirements import Requirement
from support.openai_endpoint import RecordingEndpoint, prompt_of

README = Path(__file__).resolve().parents[4] / "README.md"
LOCAL_PATHS = {".": "clear-fast", "./integrations/langchain": "langchain-clear-fast"}


def section() -> str:
    return README.read_text().split("<!-- section:integrations (integration) -->", 1)[1].split("\n## ", 1)[0]


def examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", section(), re.S)


@pytest.fixture
def endpoint(monkeypatch, tmp_path):
    server = RecordingEndpoint()
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.chdir(tmp_path)
    yield server
    server.close()


NEEDS = [300, 500, 900, 4000, 12000, 700]


def test_the_examples_run(endpoint, tmp_path):
    chain_example, shared_example, client_example = examples()
    namespace = {
        "problems": [f"task {i} need {n}" for i, n in enumerate(NEEDS)],
        "prompts": [f"prompt {i} need {n}" for i, n in enumerate(NEEDS)],
        "tau": np.array(NEEDS, float),
    }
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(chain_example, str(README), "exec"), namespace)
        solve_billed = endpoint.billed_tokens
        endpoint.delay = 0.2  # each input's two branches both hold their reservation before either answers
        exec(compile(shared_example, str(README), "exec"), namespace)
        endpoint.delay = 0.0
        shared_billed = endpoint.billed_tokens - solve_billed
        exec(compile(client_example, str(README), "exec"), namespace)

    # 1. One chain under 20,000 tokens.
    runner = namespace["runner"]
    chain_bodies = [b for b in endpoint.bodies if prompt_of(b).startswith("Solve:")]
    rows = runner.last_report.inputs
    assert len(chain_bodies) == sum(not row.abandoned for row in rows) > 0
    assert sorted(b["max_completion_tokens"] for b in chain_bodies) == sorted(r.cap for r in rows if not r.abandoned)
    assert all(b["model"] == "gpt-5-mini" for b in chain_bodies)
    assert runner.last_report.spent == solve_billed <= 20_000 and "spent" in printed.getvalue()

    # 2. A parallel chain and a structured-output chain on one 50,000-token ledger.
    budget = namespace["budget"]
    assert budget.snapshot().spent == shared_billed <= 50_000 and budget.snapshot().reserved == 0
    assert f"{shared_billed} of 50,000 tokens spent" in printed.getvalue()
    for i, problem in enumerate(namespace["problems"]):
        summary = [b["max_completion_tokens"] for b in endpoint.bodies if prompt_of(b) == f"Summarise: {problem}"]
        critique = [b["max_completion_tokens"] for b in endpoint.bodies if prompt_of(b) == f"Find the flaw: {problem}"]
        judged = [b for b in endpoint.bodies if prompt_of(b) == f"Judge: {problem}"]
        review = namespace["reviews"][i]
        if isinstance(review, dict):  # funded: the two branches split its grant
            assert set(review) == {"summary", "critique"} and len(summary) == len(critique) == 1
            assert abs(summary[0] - critique[0]) <= 1
        else:
            assert summary == critique == []
        verdict = namespace["verdicts"][i]
        if judged:
            assert judged[0]["response_format"]["type"] == "json_schema"
            assert isinstance(verdict, (namespace["Verdict"], openai.LengthFinishReasonError))
        else:
            assert not verdict  # Abandoned
    assert any(isinstance(v, openai.LengthFinishReasonError) for v in namespace["verdicts"])

    # 3. The openai client directly.
    curves = SurgeCurves.from_peak(np.array(NEEDS, float), 0.9, 300.0, form="cumulative")
    grants = allocate(curves, 20_000).tokens
    client_bodies = {prompt_of(b): b for b in endpoint.bodies if prompt_of(b).startswith("prompt")}
    assert {text: b["max_completion_tokens"] for text, b in client_bodies.items()} == {
        f"prompt {i} need {n}": int(g) for i, (n, g) in enumerate(zip(NEEDS, grants)) if g
    }
    lines = [json.loads(line) for line in (tmp_path / "batch.jsonl").read_text().splitlines()]
    assert [line["body"]["max_completion_tokens"] for line in lines] == [int(g) for g in grants if g]


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_by(names: set[str]) -> set[str]:
    """The distributions ``pip install <names>`` brings in: the names and their requirements, transitively."""
    found, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in found:
            continue
        found.add(name)
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(normalised(requirement.name))
    return found


def import_names_to_distributions() -> dict[str, list[str]]:
    """Top-level import names and the distributions that provide them.

    ``importlib.metadata.packages_distributions`` on Python 3.10 reads only
    ``top_level.txt``, which wheels built by hatchling (langchain's) lack; 3.11
    also infers the names from each distribution's files, as done here.
    """
    found: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        declared = (dist.read_text("top_level.txt") or "").split()
        inferred = {f.parts[0] if len(f.parts) > 1 else f.with_suffix("").name for f in dist.files or () if f.suffix == ".py"}
        for name in declared or inferred:
            found.setdefault(name, []).append(dist.metadata["Name"])
    return found


def test_the_install_line_installs_what_the_examples_import():
    (line,) = [line for line in section().splitlines() if line.startswith("pip install ")]
    named = {LOCAL_PATHS.get(word, normalised(word)) for word in line.split()[2:]}
    installed = installed_by(named)
    providers = import_names_to_distributions()
    imported = {
        module.split(".")[0]
        for example in examples()
        for module in re.findall(r"^(?:from|import) ([\w.]+)", example, re.M)
        + [m for found in re.findall(r"^import (.+)$", example, re.M) for m in re.findall(r"\b(\w+)\b", found)]
    }
    third_party = sorted(m for m in imported if m not in sys.stdlib_module_names and m in providers)
    assert {"langchain_openai", "langchain_core", "clear_fast", "langchain_clear_fast", "pydantic"} <= set(third_party)
    missing = [m for m in third_party if not {normalised(d) for d in providers[m]} & installed]
    assert missing == [], f"the README's `{line}` does not install {missing}"

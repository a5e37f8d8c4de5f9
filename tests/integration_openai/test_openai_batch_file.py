"""write_batch_jsonl: one Batch API line per funded request, with its cap."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from clear_fast import write_batch_jsonl


def test_lines_carry_caps_and_skip_abandoned(tmp_path):
    path = tmp_path / "batch.jsonl"
    requests = ["first", [{"role": "system", "content": "be brief"}, {"role": "user", "content": "second"}],
                {"messages": [{"role": "user", "content": "third"}], "temperature": 0}]
    ids = write_batch_jsonl(str(path), requests, np.array([64, 0, 300]), model="gpt-x", efforts=["low", None, "high"])
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert ids == ["request-0", "request-2"] == [line["custom_id"] for line in lines]
    assert all(line["method"] == "POST" and line["url"] == "/v1/chat/completions" for line in lines)
    assert lines[0]["body"] == {"model": "gpt-x", "messages": [{"role": "user", "content": "first"}],
                                "max_completion_tokens": 64, "reasoning_effort": "low"}
    assert lines[1]["body"] == {"model": "gpt-x", "messages": [{"role": "user", "content": "third"}],
                                "temperature": 0, "max_completion_tokens": 300, "reasoning_effort": "high"}


def test_writes_to_an_open_file_with_max_tokens():
    out = io.StringIO()
    write_batch_jsonl(out, ["a", "b"], [5, 6], model="m", cap_param="max_tokens", id_prefix="q")
    bodies = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [b["custom_id"] for b in bodies] == ["q0", "q1"]
    assert [b["body"]["max_tokens"] for b in bodies] == [5, 6]


def test_length_mismatch():
    with pytest.raises(ValueError, match="3 caps for 2 requests"):
        write_batch_jsonl(io.StringIO(), ["a", "b"], [1, 2, 3], model="m")

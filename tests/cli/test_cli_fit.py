"""``clear-fast fit``: the profile it writes is the library's fit of the same log."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from clear_fast.fit import fit_rollouts, load_profile
from cli_helpers import write_rollout_log


@pytest.fixture
def cli(cli_each_reader):
    """Every test here runs twice: reading and writing with pyarrow, and as if it were not installed."""
    return cli_each_reader


def test_profile_equals_the_library_fit_of_the_same_log(cli, tmp_path):
    write_rollout_log(tmp_path / "logs.jsonl", n=30, seed=2)
    done = cli("fit", str(tmp_path / "logs.jsonl"), "--out", str(tmp_path / "model.json"))
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "logs.jsonl").read_text().splitlines()]
    expected = fit_rollouts(records)
    got = load_profile(tmp_path / "model.json")
    assert got.query_ids == expected.query_ids
    assert got.beta == pytest.approx(expected.beta, rel=1e-12)
    assert got.success_probability == pytest.approx(expected.success_probability, rel=1e-12)
    np.testing.assert_allclose(got.tau, expected.tau, rtol=1e-12)
    assert f"fitted 30 queries from {len(records)} runs" in done.stderr
    assert f"beta {expected.beta:.5g}" in done.stderr


def test_csv_log_with_cut_flags_to_stdout(cli, tmp_path):
    write_rollout_log(tmp_path / "logs.jsonl", n=25, seed=4)
    records = [json.loads(line) for line in (tmp_path / "logs.jsonl").read_text().splitlines()]
    with (tmp_path / "logs.csv").open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["id", "max_tokens", "output_tokens", "cut", "correct"])
        for r in records:
            writer.writerow([r["query_id"], r["cap"], r["tokens_used"], r["finish_reason"] == "length", r["correct"]])
    done = cli("fit", str(tmp_path / "logs.csv"), "--out", "-")
    assert done.returncode == 0, done.stderr
    profile = json.loads(done.stdout)
    expected = fit_rollouts(records)
    assert profile["beta"] == pytest.approx(expected.beta, rel=1e-12)
    assert profile["queries"]["ids"] == list(expected.query_ids)


def test_fit_recovers_the_simulated_model_roughly(fitted_profile):
    _, fitted = fitted_profile
    # The log was drawn with width 150 tokens and success probability 0.8 (conftest.write_rollout_log).
    assert 1 / fitted.beta == pytest.approx(150, rel=0.35)
    assert fitted.success_probability == pytest.approx(0.8, abs=0.15)


FIT_ERRORS = [
    ("no id column", "cap,tokens_used,cut,correct\n100,50,false,true\n", ["query id column", "query_id"]),
    ("no correct column", "query_id,cap,tokens_used,cut\na,100,50,false\n", ["`correct`"]),
    ("no cut column", "query_id,cap,tokens_used,correct\na,100,50,true\n", ["`cut`", "finish_reason"]),
    ("bad flag", "query_id,cap,tokens_used,cut,correct\na,100,50,false,maybe\n", ["line 2", "`correct`", "'maybe'"]),
    ("over the cap", "query_id,cap,tokens_used,cut,correct\na,100,150,false,true\n", ["line 2", "over its cap"]),
    ("nothing correct", "query_id,cap,tokens_used,cut,correct\na,100,100,true,false\n", ["no run", "larger caps"]),
    ("header only", "query_id,cap,tokens_used,cut,correct\n", ["no queries"]),
]


@pytest.mark.parametrize("name,content,words", FIT_ERRORS, ids=[e[0] for e in FIT_ERRORS])
def test_bad_logs_give_one_line_and_status_2(cli, tmp_path, name, content, words):
    (tmp_path / "logs.csv").write_text(content)
    done = cli("fit", str(tmp_path / "logs.csv"), "--out", str(tmp_path / "model.json"))
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert not (tmp_path / "model.json").exists()


def test_per_query_success_and_runs_both_cut_and_correct(cli, tmp_path):
    write_rollout_log(tmp_path / "logs.jsonl", n=30, seed=5)
    records = [json.loads(line) for line in (tmp_path / "logs.jsonl").read_text().splitlines()]
    # a rambling model: some correct answers run on to the cap
    for k, record in enumerate(records):
        if record["correct"] and k % 3 == 0:
            record.update(tokens_used=record["cap"], finish_reason="length")
    assert any(r["correct"] and r["finish_reason"] == "length" for r in records)
    (tmp_path / "logs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    done = cli("fit", str(tmp_path / "logs.jsonl"), "--out", str(tmp_path / "model.json"), "--success", "per_query")
    assert done.returncode == 0, done.stderr
    expected = fit_rollouts(records, success="per_query")
    got = load_profile(tmp_path / "model.json")
    assert got.success_model == "per_query" and "per_query success" in done.stderr
    np.testing.assert_allclose(got.query_success_probability, expected.query_success_probability, rtol=1e-12)
    assert got.beta == pytest.approx(expected.beta, rel=1e-12)


def test_a_greedy_log_is_fitted_as_one_answer_per_query_and_says_so(cli, tmp_path):
    rng = np.random.default_rng(3)
    natural = np.ceil(rng.uniform(10, 60, 40))
    knows = rng.random(40) < 0.6
    rows = ["query_id,cap,tokens_used,cut,correct"]
    for i in range(40):
        for cap in (20, 40, 160):  # the same answer at every cap, as greedy decoding gives
            rows.append(f"q{i},{cap},{min(natural[i], cap):g},{natural[i] > cap},{knows[i] and natural[i] <= cap}")
    (tmp_path / "greedy.csv").write_text("\n".join(rows) + "\n")
    done = cli("fit", str(tmp_path / "greedy.csv"), "--out", str(tmp_path / "model.json"))
    assert done.returncode == 0, done.stderr
    assert "(deterministic decoding, shared success)" in done.stderr
    assert "warning: decoding looks deterministic" in done.stderr and "Traceback" not in done.stderr
    profile = load_profile(tmp_path / "model.json")
    assert profile.decoding == "deterministic" and profile.width == 1.0  # a step at each answer's length
    told = cli("fit", str(tmp_path / "greedy.csv"), "--out", "-", "--decoding", "deterministic")
    assert told.returncode == 0 and "warning" not in told.stderr
    assert json.loads(told.stdout)["beta"] == pytest.approx(profile.beta, rel=1e-12)

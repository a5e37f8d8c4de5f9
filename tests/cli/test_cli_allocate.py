"""``clear-fast allocate``: real command, real files, results checked against the library called directly.

Parquet, which needs pyarrow, is tested in test_cli_parquet.py.
"""

from __future__ import annotations

import csv
import io
import json

import numpy as np
import pytest

import clear_fast as cf

BUDGET = 9_000


@pytest.fixture
def cli(cli_each_reader):
    """Every test here runs twice: reading and writing with pyarrow, and as if it were not installed."""
    return cli_each_reader


def _queries(n: int = 40, seed: int = 3) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [
        {
            "id": f"q{i:03d}",
            "tau": round(float(rng.uniform(40, 900)), 1),
            "alpha": float(rng.uniform(0.008, 0.012)),
            "beta": float(rng.uniform(0.004, 0.006)),
            "weight": float(rng.choice([1.0, 2.0])),
        }
        for i in range(n)
    ]


def _write_csv(path, rows, columns):
    with path.open("w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})


def _read_csv(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def _reference(rows, budget=BUDGET, form="surge"):
    curves = cf.SurgeCurves(
        [r["tau"] for r in rows], [r["alpha"] for r in rows], [r["beta"] for r in rows],
        weight=[r.get("weight", 1.0) for r in rows], form=form,
    )
    return cf.allocate(curves, budget)


def _summary_numbers(stderr: str) -> dict[str, float]:
    line = stderr.strip().splitlines()[-1]
    out = {}
    for part in line.split("; "):
        for key in ("shadow price", "utility", "upper bound", "gap"):
            if part.startswith(key + " "):
                out[key] = float(part[len(key) + 1:].split()[0])
    return out


def test_csv_round_trip_matches_the_library_and_respects_the_budget(cli, tmp_path):
    rows = _queries()
    _write_csv(tmp_path / "q.csv", rows, ["id", "tau", "alpha", "beta", "weight"])
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", str(BUDGET), "--out", str(tmp_path / "caps.csv"))
    assert done.returncode == 0, done.stderr
    got = _read_csv((tmp_path / "caps.csv").read_text())
    expected = _reference(rows)
    assert [g["id"] for g in got] == [r["id"] for r in rows]
    tokens = np.array([int(g["tokens"]) for g in got])
    np.testing.assert_array_equal(tokens, expected.tokens)
    assert tokens.sum() <= BUDGET
    assert 0 < np.count_nonzero(tokens == 0) < len(rows)  # a scarce budget: some abandoned, some funded
    assert [g["funded"] == "true" for g in got] == list(expected.funded)
    assert [f"query {i}: " + g["reason"] for i, g in enumerate(got)] == [expected.why(i) for i in range(len(rows))]
    np.testing.assert_allclose([float(g["breakeven_price"]) for g in got], expected.breakeven, rtol=1e-12)
    numbers = _summary_numbers(done.stderr)
    assert numbers["shadow price"] == pytest.approx(expected.shadow_price, rel=1e-5)
    assert numbers["utility"] == pytest.approx(expected.utility, rel=1e-5)
    assert numbers["upper bound"] == pytest.approx(expected.upper_bound, rel=1e-5)
    assert numbers["gap"] == pytest.approx(expected.gap, rel=1e-3, abs=1e-9)


def test_jsonl_in_and_out_through_stdin_and_stdout(cli):
    rows = _queries(25, seed=5)
    text = "".join(json.dumps(r) + "\n" for r in rows)
    done = cli("allocate", "-", "--budget", "5000", "--format", "jsonl", stdin=text)
    assert done.returncode == 0, done.stderr
    got = [json.loads(line) for line in done.stdout.splitlines()]
    expected = _reference(rows, budget=5000)
    assert [g["id"] for g in got] == [r["id"] for r in rows]
    assert [g["tokens"] for g in got] == expected.tokens.tolist()
    assert [g["funded"] for g in got] == expected.funded.tolist()
    assert sum(g["tokens"] for g in got) <= 5000


def test_jsonl_file_by_extension_and_cumulative_form(cli, tmp_path):
    rows = _queries(30, seed=8)
    for r in rows:  # cumulative curves are probabilities: asymptote alpha/beta^2 <= 1
        r["alpha"] = 0.8 * r["beta"] ** 2
    (tmp_path / "q.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    done = cli("allocate", str(tmp_path / "q.jsonl"), "--budget", "7000", "--form", "cumulative",
               "--out", str(tmp_path / "caps.jsonl"))
    assert done.returncode == 0, done.stderr
    got = [json.loads(line) for line in (tmp_path / "caps.jsonl").read_text().splitlines()]
    expected = _reference(rows, budget=7000, form="cumulative")
    assert [g["tokens"] for g in got] == expected.tokens.tolist()
    assert sum(g["tokens"] for g in got) <= 7000


def test_thresholds_only_with_model_wide_options(cli, tmp_path):
    rows = _queries(20, seed=9)
    for r in rows:
        r["alpha"], r["beta"], r["weight"] = 0.01, 0.005, 1.0
    _write_csv(tmp_path / "tau.csv", rows, ["id", "tau"])
    done = cli("allocate", str(tmp_path / "tau.csv"), "--budget", "4000", "--alpha", "0.01", "--beta", "0.005")
    assert done.returncode == 0, done.stderr
    assert [int(g["tokens"]) for g in _read_csv(done.stdout)] == _reference(rows, budget=4000).tokens.tolist()


def test_profile_gives_the_model_curve_and_fitted_thresholds(cli, tmp_path, fitted_profile):
    path, fitted = fitted_profile
    # Two fitted queries by id alone, one new query with its own threshold.
    (tmp_path / "q.csv").write_text("id,tau\nq3,\nq7,\nnew,250\n")
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", "1200", "--profile", str(path))
    assert done.returncode == 0, done.stderr
    tau = [fitted.tau[fitted.query_ids.index("q3")], fitted.tau[fitted.query_ids.index("q7")], 250.0]
    expected = cf.allocate(cf.SurgeCurves(tau, fitted.alpha, fitted.beta, form="cumulative"), 1200)
    assert [int(g["tokens"]) for g in _read_csv(done.stdout)] == expected.tokens.tolist()


def test_caps_and_minimums_from_columns(cli, tmp_path):
    rows = _queries(15, seed=11)
    for k, r in enumerate(rows):
        r["max_tokens"] = 250.0 + r["tau"] if k % 3 == 0 else ""
        r["min_tokens"] = 100.0 if k % 4 == 0 else ""
    _write_csv(tmp_path / "q.csv", rows, ["id", "tau", "alpha", "beta", "min_tokens", "max_tokens"])
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", "20000")
    assert done.returncode == 0, done.stderr
    curves = cf.SurgeCurves(
        [r["tau"] for r in rows], [r["alpha"] for r in rows], [r["beta"] for r in rows],
        min_tokens=[r["min_tokens"] or 0.0 for r in rows],
        max_tokens=[r["max_tokens"] or np.inf for r in rows],
    )
    expected = cf.allocate(curves, 20000)
    tokens = np.array([int(g["tokens"]) for g in _read_csv(done.stdout)])
    np.testing.assert_array_equal(tokens, expected.tokens)
    capped = np.array([r["max_tokens"] != "" for r in rows])
    assert np.all(tokens[capped] <= np.array([r["max_tokens"] for r in rows if r["max_tokens"] != ""]))


def test_discrete_levels_match_allocate_levels(cli, tmp_path):
    rng = np.random.default_rng(4)
    n = 30
    costs = np.sort(rng.integers(50, 2000, size=(n, 3)), axis=1).astype(float)
    utilities = np.sort(rng.uniform(0, 1, size=(n, 3)), axis=1)
    names = ["low", "medium", "high"]
    lines = [",".join(["id"] + [f"cost_{l},utility_{l}" for l in names])]
    for i in range(n):
        cells = [f"r{i}"] + [f"{costs[i, k]:g},{float(utilities[i, k])!r}" for k in range(3)]
        lines.append(",".join(cells))
    (tmp_path / "levels.csv").write_text("\n".join(lines) + "\n")
    done = cli("allocate", str(tmp_path / "levels.csv"), "--budget", "15000", "--levels")
    assert done.returncode == 0, done.stderr
    got = _read_csv(done.stdout)
    expected = cf.allocate_levels(costs, utilities, 15000)
    assert [g["level"] for g in got] == [names[k] if k >= 0 else "" for k in expected.level]
    assert [int(g["tokens"]) for g in got] == expected.tokens.tolist()
    assert sum(int(g["tokens"]) for g in got) <= 15000
    assert all(g["reason"].startswith("funded" if g["level"] else "abandoned") for g in got)
    numbers = _summary_numbers(done.stderr)
    assert numbers["utility"] == pytest.approx(expected.utility, rel=1e-5)
    assert numbers["upper bound"] == pytest.approx(expected.upper_bound, rel=1e-5)


@pytest.mark.parametrize("provider", ["openai", "anthropic", "google", "vllm"])
def test_provider_request_fields_per_query(cli, tmp_path, provider):
    from clear_fast.calls import grants_to_requests

    rows = _queries(12, seed=21)
    _write_csv(tmp_path / "q.csv", rows, ["id", "tau", "alpha", "beta", "weight"])
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", "2500", "--provider", provider, "--format", "jsonl")
    assert done.returncode == 0, done.stderr
    got = [json.loads(line) for line in done.stdout.splitlines()]
    expected_tokens = _reference(rows, budget=2500).tokens
    assert [g["request"] for g in got] == grants_to_requests(provider, expected_tokens)
    assert all((g["request"] is None) == (g["tokens"] == 0) for g in got)


def test_levels_with_openai_send_the_level_as_reasoning_effort(cli, tmp_path):
    (tmp_path / "l.csv").write_text("id,cost_low,utility_low,cost_high,utility_high\na,200,0.3,1500,0.7\nb,300,0.2,2000,0.5\n")
    done = cli("allocate", str(tmp_path / "l.csv"), "--budget", "1800", "--levels", "--provider", "openai")
    assert done.returncode == 0, done.stderr
    got = _read_csv(done.stdout)
    for row in got:
        request = json.loads(row["request"])
        assert request == {"max_completion_tokens": int(row["tokens"]), "reasoning_effort": row["level"]}


def test_unknown_query_without_tau_is_named(cli, tmp_path, fitted_profile):
    path, _ = fitted_profile
    (tmp_path / "q.csv").write_text("id,tau\nq3,\nstranger,\n")
    done = cli("allocate", str(tmp_path / "q.csv"), "--budget", "1000", "--profile", str(path))
    assert done.returncode == 2
    assert "no `tau` for query 'stranger'" in done.stderr and "line 3" in done.stderr

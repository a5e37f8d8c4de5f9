"""``clear-fast demo`` at a small size: files, table, pictures and numbers that agree with each other."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from matplotlib import image as mpimg

from clear_fast.evaluation import evaluate
from clear_fast.experiments.demo_experiment import demo_policies
from clear_fast.workloads import make_stream

STREAMS = ["Balanced", "MostlyEasy", "MostlyHard", "UShaped"]
POLICIES = ["CLEAR", "Uniform", "Proportional", "SelfEstimate", "Oracle", "RiskAwareCLEAR", "RiskAware+waves"]
SIZE, SEED, BUDGETS = 60, 7, [100, 400, 1200]
FIGURES = ["pareto.png", "accuracy.png", "abandonment.png", "shadow_price.png"]
# The fixed colour the report gives each policy (clear_fast.experiments.report.panels.POLICY_COLOURS)
COLOURS = {"CLEAR": "#d62728", "Uniform": "#1f77b4", "Proportional": "#2ca02c", "SelfEstimate": "#9467bd", "Oracle": "#ff7f0e"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from cli_helpers import run_cli

    out = tmp_path_factory.mktemp("demo") / "report"
    done = run_cli("demo", "--size", str(SIZE), "--seed", str(SEED), "--budgets", ",".join(map(str, BUDGETS)), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return done, out, json.loads((out / "results.json").read_text())


def test_writes_every_report_file(demo):
    _, out, _ = demo
    for name in [*FIGURES, "results.csv", "results.json"]:
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name


def test_json_has_one_row_per_stream_policy_and_budget(demo):
    _, _, report = demo
    keys = {(r["stream"], r["policy"], r["budget_per_query"]) for r in report["rows"]}
    assert keys == {(s, p, b) for s in STREAMS for p in POLICIES for b in BUDGETS}
    assert len(report["rows"]) == len(keys)
    assert report["experiment"]["size"] == SIZE and report["experiment"]["seed"] == SEED
    for row in report["rows"]:
        assert row["tokens_used"] <= row["tokens_granted"] <= row["budget_per_query"] * SIZE
        assert 0 <= row["accuracy"] <= 1 and 0 <= row["abandonment"] <= 1


def test_json_numbers_are_the_evaluation_of_the_built_in_streams(demo):
    _, _, report = demo
    for stream_name in ("Balanced", "UShaped"):
        stream = make_stream(stream_name, SIZE, seed=SEED)
        expected = evaluate(stream, demo_policies(), BUDGETS, reasoner_seed=SEED)
        got = {(r["policy"], r["budget_per_query"]): r for r in report["rows"] if r["stream"] == stream_name}
        for row in expected.rows:
            mine = got[(row.policy, row.budget_per_query)]
            assert mine["accuracy"] == pytest.approx(row.accuracy, abs=1e-12)
            assert mine["tokens_used"] == row.tokens_used
            assert mine["abandonment"] == pytest.approx(row.abandonment_rate, abs=1e-12)
            if math.isnan(row.shadow_price):
                assert mine["shadow_price"] is None
            else:
                assert mine["shadow_price"] == pytest.approx(row.shadow_price, rel=1e-9)


def test_json_reference_is_the_papers_published_numbers(demo):
    from clear_fast.workloads import paper_data

    _, _, report = demo
    published = paper_data()["clear_vs_uniform"]
    assert set(report["reference"]) == set(STREAMS)
    for stream in STREAMS:
        assert report["reference"][stream] == {
            "budget_per_query": published["budget_per_query"],
            "CLEAR": published[stream]["clear"],
            "Uniform": published[stream]["uniform"],
        }


def test_csv_matches_json(demo):
    _, out, report = demo
    with (out / "results.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == report["columns"]
    assert len(rows) == len(report["rows"])
    for from_csv, from_json in zip(rows, report["rows"]):
        for key, value in from_json.items():
            if value is None:
                assert from_csv[key] == ""
            elif isinstance(value, str):
                assert from_csv[key] == value
            else:
                assert float(from_csv[key]) == pytest.approx(value, rel=1e-12)


def test_terminal_table_shows_the_json_numbers(demo):
    done, _, report = demo
    text = done.stdout
    for stream in STREAMS:
        assert f"{stream} ({SIZE} queries): accuracy %" in text
    lines = text.splitlines()
    header = next(line for line in lines if line.split()[:1] == ["budget"])
    assert header.split()[1:8] == POLICIES
    # The first stream's table: each budget row lists the seven accuracies in percent.
    table_rows = [line.split() for line in lines if line.split()[:1] in ([str(b)] for b in BUDGETS)][: len(BUDGETS)]
    by_key = {(r["stream"], r["policy"], r["budget_per_query"]): r for r in report["rows"]}
    for cells in table_rows:
        budget = int(cells[0])
        for policy, cell in zip(POLICIES, cells[1:8]):
            assert cell == f"{100 * by_key[('Balanced', policy, budget)]['accuracy']:.1f}"
        assert cells[8] == f"{100 * by_key[('Balanced', 'CLEAR', budget)]['abandonment']:.1f}"


def test_largest_gain_over_uniform_is_stated_per_stream(demo):
    done, _, report = demo
    for stream in STREAMS:
        gains = {
            r["budget_per_query"]: r["accuracy"]
            for r in report["rows"] if r["stream"] == stream and r["policy"] == "CLEAR"
        }
        uniform = {r["budget_per_query"]: r["accuracy"] for r in report["rows"] if r["stream"] == stream and r["policy"] == "Uniform"}
        best = max(BUDGETS, key=lambda b: (gains[b] - uniform[b], -b))
        expected = (
            f"{stream}: CLEAR {100 * gains[best]:.1f}% against Uniform {100 * uniform[best]:.1f}% "
            f"at {best} tokens per query ({100 * (gains[best] - uniform[best]):+.1f} points)"
        )
        assert expected in done.stdout


def test_chain_check_sent_exactly_the_funded_queries_and_agreed(demo):
    done, _, report = demo
    chain = report["experiment"]["chain"]
    assert chain["mismatches"] == 0
    assert chain["queries_per_budget"] == SIZE  # by default every query is offered to the chain
    clear_rows = [r for r in report["rows"] if r["policy"] == "CLEAR"]
    funded = sum(round((1 - r["abandonment"]) * SIZE) for r in clear_rows)
    assert chain["calls"] == funded  # abandoned queries never reach the model
    for row in clear_rows:
        assert chain["accuracy"][row["stream"]][str(row["budget_per_query"])] == pytest.approx(row["accuracy"], abs=1e-12)
    assert f"{chain['calls']} calls, 0 answers" in done.stdout


def test_clear_beats_uniform_when_tokens_are_scarce(demo):
    _, _, report = demo
    by_key = {(r["stream"], r["policy"], r["budget_per_query"]): r for r in report["rows"]}
    for stream in STREAMS:
        assert by_key[(stream, "CLEAR", 100)]["accuracy"] > by_key[(stream, "Uniform", 100)]["accuracy"]


def _rgb(hex_colour: str) -> np.ndarray:
    return np.array([int(hex_colour[k:k + 2], 16) / 255 for k in (1, 3, 5)])


@pytest.mark.parametrize("name", FIGURES)
def test_png_is_a_real_image_with_one_drawn_panel_per_stream(demo, name):
    _, out, report = demo
    pixels = mpimg.imread(out / name)
    # Two columns of 5.2 x 3.8-inch panels at 100 dpi, plus 0.6 inch for the title.
    assert pixels.shape[:2] == (round(100 * (2 * 3.8 + 0.6)), round(100 * 2 * 5.2))
    assert pixels.shape[:2] == (report["figures"][name]["height"], report["figures"][name]["width"])
    panels = report["figures"][name]["panels"]
    assert [p["stream"] for p in panels] == STREAMS
    rgb = pixels[..., :3]
    boxes = []
    for panel in panels:
        left, top, right, bottom = panel["box"]
        assert 0 <= left < right <= pixels.shape[1] and 0 <= top < bottom <= pixels.shape[0]
        region = rgb[top:bottom, left:right]
        assert region.std() > 0.05, panel  # not blank
        boxes.append((left, top, right, bottom))
        if name != "shadow_price.png":  # every policy's colour is drawn in every panel
            for policy, colour in COLOURS.items():
                close = np.all(np.abs(region - _rgb(colour)) < 0.02, axis=-1)
                assert close.sum() > 20, (panel["stream"], policy)
    # Panels do not overlap: they form a 2 x 2 grid.
    assert len({b[0] for b in boxes}) == 2 and len({b[1] for b in boxes}) == 2


def test_odd_number_of_streams_leaves_the_spare_cell_blank(cli, tmp_path):
    done = cli("demo", "--size", "30", "--budgets", "200,800", "--streams", "balanced,MostlyHard,UShaped",
               "--chain-queries", "10", "--out", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "r" / "results.json").read_text())
    chain = report["experiment"]["chain"]
    assert chain["queries_per_budget"] == 10 and 0 < chain["calls"] <= 10 * 2 * 3 and chain["mismatches"] == 0
    figure = report["figures"]["pareto.png"]
    assert [p["stream"] for p in figure["panels"]] == ["Balanced", "MostlyHard", "UShaped"]
    pixels = mpimg.imread(tmp_path / "r" / "pareto.png")[..., :3]
    # The spare cell: the third panel's rows, the second panel's columns.
    second, third = figure["panels"][1]["box"], figure["panels"][2]["box"]
    spare = pixels[third[1]:third[3], second[0]:second[2]]
    assert spare.std() == 0.0
    assert pixels[third[1]:third[3], third[0]:third[2]].std() > 0.05

"""evaluate(): budgets are never exceeded, rows are complete, bad input is refused by name."""

import json
import math

import numpy as np
import pytest

from clear_fast.evaluation import (
    PAPER_BUDGETS_PER_QUERY,
    Decision,
    EvaluationResult,
    UniformPolicy,
    evaluate,
    paper_policies,
)
from clear_fast.workloads import STREAM_SHAPES, NoisyThresholdOracle, make_stream

ODD_BUDGETS = [0, 1, 37, 299, 1500]


@pytest.mark.parametrize("shape", STREAM_SHAPES)
def test_no_policy_ever_exceeds_the_budget(shape):
    stream = make_stream(shape, 123, seed=2)
    result = evaluate(stream, budgets_per_query=ODD_BUDGETS)
    assert len(result) == len(ODD_BUDGETS) * 5
    for row in result.rows:
        assert row.budget == row.budget_per_query * 123
        assert 0 <= row.tokens_used <= row.tokens_granted <= row.budget, row
        assert 0.0 <= row.accuracy <= 1.0 and 0.0 <= row.abandonment_rate <= 1.0
        if row.budget == 0:
            assert row.accuracy == 0.0 and row.abandonment_rate == 1.0


def test_rows_carry_every_field_and_serialise_to_json():
    stream = make_stream("Balanced", 60, seed=0)
    result = evaluate(stream, budgets_per_query=[300])
    rows = result.to_rows()
    assert [r["policy"] for r in rows] == ["CLEAR", "Uniform", "Proportional", "SelfEstimate", "Oracle"]
    assert set(rows[0]) == {
        "stream", "policy", "budget_per_query", "budget", "accuracy", "expected_accuracy",
        "tokens_granted", "tokens_used", "abandonment_rate", "shadow_price", "predictor",
    }
    by_policy = {r["policy"]: r for r in rows}
    assert by_policy["CLEAR"]["shadow_price"] > 0 and by_policy["Oracle"]["shadow_price"] > 0
    assert by_policy["Uniform"]["shadow_price"] is None
    assert "NoisyThresholdOracle(sigma=0.2" in by_policy["CLEAR"]["predictor"]
    json.dumps(rows)


def test_table_and_series_show_the_rows():
    stream = make_stream("MostlyEasy", 80, seed=0)
    result = evaluate(stream, budgets_per_query=[500, 100])
    table = result.table()
    lines = table.splitlines()
    assert lines[0] == "| stream | tokens/query | CLEAR | Uniform | Proportional | SelfEstimate | Oracle |"
    assert lines[2].startswith("| MostlyEasy | 100 |") and lines[3].startswith("| MostlyEasy | 500 |")
    uniform = result.series("MostlyEasy", "Uniform")
    assert f"{100 * uniform[0]:.1f}" in lines[2].split("|")[4]
    prices = result.table("shadow_price")
    assert "| - |" in prices  # policies without a price show a dash
    with pytest.raises(ValueError, match="`metric`"):
        result.series("MostlyEasy", "Uniform", "speed")
    with pytest.raises(ValueError, match="no rows"):
        result.series("Balanced", "Uniform")


def test_results_combine_across_streams():
    parts = [evaluate(make_stream(s, 30, seed=0), [UniformPolicy()], [200]) for s in ("Balanced", "UShaped")]
    combined = EvaluationResult.combine(parts)
    assert [r.stream for r in combined.rows] == ["Balanced", "UShaped"]


def test_default_budgets_are_the_papers():
    assert PAPER_BUDGETS_PER_QUERY == (100, 200, 300, 400, 500, 600, 700, 800, 900, 1000, 1200, 1500)


def test_the_same_seeds_give_the_same_result():
    stream = make_stream("Balanced", 100, seed=0)
    first = evaluate(stream, budgets_per_query=[250], reasoner_seed=3).to_rows()
    again = evaluate(stream, budgets_per_query=[250], reasoner_seed=3).to_rows()
    assert first == again


class _Greedy:
    name = "Greedy"

    def decide(self, stream, predicted, budget):
        return Decision(np.full(len(stream), budget // len(stream) + 1, dtype=np.int64))


class _Fractional:
    name = "Fractional"

    def decide(self, stream, predicted, budget):
        return Decision(np.full(len(stream), 0.5))


def test_a_policy_that_overspends_is_caught():
    with pytest.raises(AssertionError, match="policy 'Greedy' granted 110 tokens, over the budget of 100"):
        evaluate(make_stream("Balanced", 10, seed=0), [_Greedy()], [10])


def test_a_policy_with_fractional_caps_is_caught():
    with pytest.raises(TypeError, match="policy 'Fractional' must return 10 integer caps"):
        evaluate(make_stream("Balanced", 10, seed=0), [_Fractional()], [10])


def test_empty_stream_gives_nan_rates_not_errors():
    result = evaluate(make_stream("Balanced", 0, seed=0), [UniformPolicy()], [100])
    assert math.isnan(result.rows[0].accuracy) and result.rows[0].tokens_granted == 0


def test_predictor_is_used_for_the_predicted_curves():
    stream = make_stream("Balanced", 200, seed=0)
    exact = evaluate(stream, paper_policies()[:1], [300], predictor=NoisyThresholdOracle(stream, 0.0))
    noisy = evaluate(stream, paper_policies()[:1], [300], predictor=NoisyThresholdOracle(stream, 2.0))
    assert exact.rows[0].expected_accuracy > noisy.rows[0].expected_accuracy


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"budgets_per_query": [-5]}, ValueError, "`budgets_per_query` must be a finite number >= 0"),
        ({"budgets_per_query": [2.5]}, ValueError, "`budgets_per_query` must be a whole number"),
        ({"budgets_per_query": ["300"]}, TypeError, "`budgets_per_query` must be a whole number"),
        ({"policies": [object()]}, TypeError, "`policies` must hold objects with `name` and `decide`"),
        ({"reasoner_seed": -1}, ValueError, "`reasoner_seed` must be an integer >= 0, got -1"),
        ({"reasoner_seed": 1.5}, ValueError, "`reasoner_seed` must be an integer >= 0, got 1.5"),
    ],
)
def test_bad_arguments_are_refused(kwargs, error, message):
    with pytest.raises(error, match=message):
        evaluate(make_stream("Balanced", 10, seed=0), **kwargs)


def test_a_predictor_with_the_wrong_number_of_thresholds_is_refused():
    class Short:
        def predict(self, texts):
            return np.ones(len(texts) - 1), np.zeros(len(texts) - 1)

    with pytest.raises(ValueError, match="`tau_hat` has length 9, expected 10"):
        evaluate(make_stream("Balanced", 10, seed=0), predictor=Short())


def test_a_stream_is_required():
    with pytest.raises(TypeError, match="`stream` must be a Stream"):
        evaluate(make_stream("Balanced", 10, seed=0).curves)

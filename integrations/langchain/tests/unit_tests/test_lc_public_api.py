"""The public names of langchain_clear_fast are pinned."""

import clear_fast
import langchain_clear_fast

EXPECTED = {
    "CAP_KEY", "EFFORT_KEY", "Abandoned", "BatchReport", "BatchRun", "BudgetExhausted", "BudgetedBatchError",
    "BudgetedChatModel", "BudgetedRunnable", "CallRecord", "InputAbandoned", "InputReport",
    "InputUsage", "NestedRunnerError", "Predictor", "TokenBudget", "UncappedCall", "UsageTracker", "Waves", "budgeted", "curves_from_prediction",
}


def test_all_is_pinned():
    assert set(langchain_clear_fast.__all__) == EXPECTED
    assert all(hasattr(langchain_clear_fast, name) for name in EXPECTED)


def test_predictor_protocol_accepts_any_object_with_predict():
    class Mine:
        def predict(self, texts):
            return [1.0] * len(texts), [2.0] * len(texts)

    assert isinstance(Mine(), langchain_clear_fast.Predictor)
    assert isinstance(clear_fast.ConstantPrior(), langchain_clear_fast.Predictor)

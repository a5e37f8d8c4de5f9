"""The public names of clear_fast.workloads and clear_fast.evaluation are pinned."""

import os
import subprocess
import sys
from pathlib import Path

import clear_fast
import clear_fast.evaluation as evaluation
import clear_fast.workloads as workloads

WORKLOADS = {
    "CALIBRATION", "ListRepeatTask", "ModelCalibration", "NoisyThresholdOracle", "POOL_NAMES", "STREAM_MIXES", "STREAM_SHAPES",
    "SimulatedAnswer", "SimulatedReasoner", "Stream", "ThresholdPool", "derive_calibration", "make_list_repeat_task", "make_stream",
    "paper_data", "paper_streams", "pool_counts", "query_from_tag", "repeats_in_order", "threshold_pools",
    "uniform_expected_accuracy",
}
EVALUATION = {
    "DEFAULT_PREDICTOR_SIGMA", "PAPER_BUDGETS_PER_QUERY", "ClearPolicy", "Decision", "EvaluationResult",
    "EvaluationRow", "OraclePolicy", "Policy", "ProportionalPolicy", "RiskAwareClearPolicy", "SelfEstimatePolicy", "UniformPolicy",
    "WavesPolicy", "apportion", "evaluate", "paper_policies", "predicted_curves",
}


def test_all_is_pinned_and_every_name_resolves():
    assert set(workloads.__all__) == WORKLOADS
    assert set(evaluation.__all__) == EVALUATION
    for module in (workloads, evaluation):
        for name in module.__all__:
            assert getattr(module, name) is not None


def test_top_level_reexports_are_the_same_objects():
    assert clear_fast.make_stream is workloads.make_stream
    assert clear_fast.Stream is workloads.Stream
    assert clear_fast.SimulatedReasoner is workloads.SimulatedReasoner
    assert clear_fast.evaluate is evaluation.evaluate
    assert clear_fast.EvaluationResult is evaluation.EvaluationResult


def test_importing_workloads_and_evaluation_does_not_need_langchain():
    # A None entry in sys.modules makes any import of langchain_core fail.
    code = (
        "import sys; sys.modules['langchain_core'] = None; "
        "import clear_fast.workloads, clear_fast.evaluation; "
        "assert not [name for name, module in sys.modules.items() if name.startswith('langchain') and module]"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(clear_fast.__file__).parents[1])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr

"""Workloads for evaluation: traffic streams built from measured curves and a simulated model.

* :mod:`.pools` - easy, medium and hard threshold distributions from the paper's recall curves.
* :mod:`.mixes` - the paper's four stream shapes as pool mixes.
* :mod:`.calibration` - the simulated model's width and per-pool success probabilities.
* :mod:`.streams` - :class:`Stream` and :func:`make_stream`.
* :mod:`.query_tag` - :func:`query_from_tag`, the query index a stream's text carries.
* :mod:`.simulated_model` - :class:`SimulatedReasoner`, a model that stops at its cap.
* :mod:`.predictors` - :class:`NoisyThresholdOracle`, threshold predictions with chosen error.
* :mod:`.list_repeat` - :func:`make_list_repeat_task`, prompts for a real small model, graded by rule.

The LangChain chat model over the simulated reasoner lives in the LangChain
integration (``langchain_clear_fast.simulated_chat_model``): nothing in
clear_fast imports LangChain.
"""

from .calibration import CALIBRATION, ModelCalibration, derive_calibration, uniform_expected_accuracy
from .list_repeat import ListRepeatTask, make_list_repeat_task, repeats_in_order
from .mixes import POOL_NAMES, STREAM_MIXES, STREAM_SHAPES
from .pools import ThresholdPool, paper_data, threshold_pools
from .predictors import NoisyThresholdOracle
from .query_tag import query_from_tag
from .simulated_model import SimulatedAnswer, SimulatedReasoner
from .streams import Stream, make_stream, paper_streams, pool_counts

__all__ = [
    "CALIBRATION",
    "ListRepeatTask",
    "ModelCalibration",
    "NoisyThresholdOracle",
    "POOL_NAMES",
    "STREAM_MIXES",
    "STREAM_SHAPES",
    "SimulatedAnswer",
    "SimulatedReasoner",
    "Stream",
    "ThresholdPool",
    "derive_calibration",
    "make_list_repeat_task",
    "make_stream",
    "paper_data",
    "paper_streams",
    "pool_counts",
    "query_from_tag",
    "repeats_in_order",
    "threshold_pools",
    "uniform_expected_accuracy",
]

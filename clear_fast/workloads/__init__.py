"""Workloads for evaluation: traffic streams built from measured curves and a simulated model.

* :mod:`.pools` - easy, medium and hard threshold distributions from the paper's recall curves.
* :mod:`.mixes` - the paper's four stream shapes as pool mixes.
* :mod:`.calibration` - the simulated model's width and per-pool success probabilities.
* :mod:`.streams` - :class:`Stream` and :func:`make_stream`.
* :mod:`.simulated_model` - :class:`SimulatedReasoner`, a model that stops at its cap.
* :mod:`.predictors` - :class:`NoisyThresholdOracle`, threshold predictions with chosen error.

The LangChain chat model over the simulated reasoner lives in :mod:`.chat_model`
and needs ``langchain-core``; it is not imported here.
"""

from .calibration import CALIBRATION, ModelCalibration, derive_calibration, uniform_expected_accuracy
from .mixes import POOL_NAMES, STREAM_MIXES, STREAM_SHAPES
from .pools import ThresholdPool, paper_data, threshold_pools
from .predictors import NoisyThresholdOracle
from .simulated_model import SimulatedAnswer, SimulatedReasoner
from .streams import Stream, make_stream, paper_streams, pool_counts

__all__ = [
    "CALIBRATION",
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
    "make_stream",
    "paper_data",
    "paper_streams",
    "pool_counts",
    "threshold_pools",
    "uniform_expected_accuracy",
]

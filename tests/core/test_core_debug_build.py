"""The debug build (CLEAR_FAST_DEBUG=1, which scripts/test-all.sh runs the core tests on) checks bounds."""

import os

import numpy as np
import pytest

from clear_fast import _solver


@pytest.mark.skipif(
    os.environ.get("CLEAR_FAST_DEBUG") != "1",
    reason="only the debug build checks bounds: in the optimised one this write would corrupt memory",
)
def test_the_debug_build_refuses_to_write_past_a_buffer():
    ones = np.ones(3)
    with pytest.raises(IndexError, match="Out of bounds"):
        _solver.utility(0, ones, ones, ones, ones, np.empty(2))

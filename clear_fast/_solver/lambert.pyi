"""Type stub of clear_fast/_solver/lambert.pyx (the twin: clear_fast/_reference/lambert.py)."""

import numpy as np
from numpy.typing import NDArray

def lambert_w(z: NDArray[np.float64], branch: int, out: NDArray[np.float64]) -> None: ...

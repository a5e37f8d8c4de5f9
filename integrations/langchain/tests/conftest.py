"""Puts the repository's ``tests`` folder on ``sys.path``: these tests share its ``support`` fixtures.

The fake OpenAI endpoint, the network guard and the local model launcher live
once, in ``tests/support`` at the repository root, for the core's tests and these.
"""

import sys
from pathlib import Path

CORE_TESTS = str(Path(__file__).resolve().parents[3] / "tests")
HERE = str(Path(__file__).resolve().parent)  # references.py: allocations computed the documented way
for folder in (CORE_TESTS, HERE):
    if folder not in sys.path:
        sys.path.insert(0, folder)

"""What every answer that grants whole tokens per query says the same way."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


class GrantViews:
    """``spent``, ``funded`` and ``abandoned`` of a frozen dataclass with a ``tokens`` field.

    The dataclass declares ``spent: int = field(init=False)``; this sets it once built.
    """

    tokens: NDArray[np.int64]
    spent: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "spent", int(self.tokens.sum()))

    @property
    def funded(self) -> NDArray[np.bool_]:
        """Queries given tokens."""
        return self.tokens > 0

    @property
    def abandoned(self) -> NDArray[np.bool_]:
        """Queries given nothing."""
        return self.tokens == 0

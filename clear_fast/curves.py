"""Per-query compute-utility curves: the model the allocator optimises.

A query's utility is zero below its emergence threshold ``tau`` and follows a
surge above it (x = b - tau tokens past the threshold):

* ``form="surge"`` (the paper's shifted surge): ``U(b) = w * alpha * x * exp(-beta x)``,
  peaking at ``x = 1/beta`` with value ``w * alpha / (beta e)``.
* ``form="cumulative"`` (its integral, accuracy at a cap):
  ``U(b) = w * alpha / beta**2 * (1 - (1 + beta x) exp(-beta x))``, rising to
  ``w * alpha / beta**2``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import _kernel
from ._checks import as_float_array, first_bad_index, require_choice

FORMS = ("surge", "cumulative")
_FIELDS = ("tau", "alpha", "beta", "weight", "min_tokens", "max_tokens")
_FORM_CODES = {"surge": 0, "cumulative": 1}


def _length_of(**arrays: Any) -> int:
    """The number of queries: the common length of the array arguments (1 if all are scalars)."""
    lengths = {}
    for name, value in arrays.items():
        if value is None:
            continue
        shape = np.shape(value)
        if len(shape) == 1:
            lengths[name] = shape[0]
        elif len(shape) > 1:
            raise ValueError(f"`{name}` must be a scalar or a 1-D array, got shape {shape}")
    distinct = set(lengths.values())
    if len(distinct) > 1:
        described = ", ".join(f"`{k}` has {v}" for k, v in lengths.items())
        raise ValueError(f"array arguments must have one length (one value per query): {described}")
    return distinct.pop() if distinct else 1


@dataclass(frozen=True, eq=False)
class SurgeCurves:
    """Utility curves of ``n`` queries, one set of parameters per query.

    Parameters
    ----------
    tau : float or array_like, shape (n,)
        Emergence threshold in tokens (>= 0): below it the query is never solved.
    alpha : float or array_like, shape (n,)
        Slope at onset (> 0), the surge's scale.
    beta : float or array_like, shape (n,)
        Decay rate per token (> 0); ``1/beta`` is the surge's width.
    weight : float or array_like, shape (n,), optional
        Value of the query relative to the others (>= 0, default 1).
    min_tokens : float or array_like, shape (n,), optional
        Smallest useful grant (>= 0, default 0). A funded query gets at least
        ``max(tau, min_tokens)`` tokens.
    max_tokens : float or array_like, shape (n,), optional
        Hard cap (> 0, ``inf`` for none; default none), e.g. a context window.
    form : {"surge", "cumulative"}
        Which utility: the paper's surge, or its integral (accuracy at a cap).

    Raises
    ------
    ValueError
        On NaN or infinite values (``max_tokens`` may be ``inf``), negative ``tau``,
        non-positive ``alpha`` or ``beta``, negative ``weight`` or ``min_tokens``,
        ``min_tokens > max_tokens``, arrays of different lengths, or an unknown form.
        The message names the argument and the first bad index.

    Notes
    -----
    Scalars broadcast to the length of the array arguments. The stored arrays
    are private read-only copies: changing the arrays you passed in does not
    change the curves.
    """

    tau: NDArray[np.float64]
    alpha: NDArray[np.float64]
    beta: NDArray[np.float64]
    weight: NDArray[np.float64]
    min_tokens: NDArray[np.float64]
    max_tokens: NDArray[np.float64]
    form: str = "surge"

    def __init__(
        self,
        tau: ArrayLike,
        alpha: ArrayLike,
        beta: ArrayLike,
        *,
        weight: ArrayLike | None = None,
        min_tokens: ArrayLike | None = None,
        max_tokens: ArrayLike | None = None,
        form: str = "surge",
    ) -> None:
        require_choice("form", form, FORMS)
        n = _length_of(
            tau=tau, alpha=alpha, beta=beta, weight=weight, min_tokens=min_tokens, max_tokens=max_tokens
        )
        fields = {
            "tau": as_float_array("tau", tau, n, minimum=0.0),
            "alpha": as_float_array("alpha", alpha, n, strictly_positive=True),
            "beta": as_float_array("beta", beta, n, strictly_positive=True),
            "weight": as_float_array("weight", 1.0 if weight is None else weight, n, minimum=0.0),
            "min_tokens": as_float_array("min_tokens", 0.0 if min_tokens is None else min_tokens, n, minimum=0.0),
            "max_tokens": as_float_array(
                "max_tokens", math.inf if max_tokens is None else max_tokens, n, strictly_positive=True, allow_inf=True
            ),
        }
        crossed = fields["min_tokens"] > fields["max_tokens"]
        if crossed.any():
            i = first_bad_index(crossed)
            raise ValueError(
                f"`min_tokens` must be <= `max_tokens`, got {fields['min_tokens'][i]:g} > "
                f"{fields['max_tokens'][i]:g} at index {i}"
            )
        # weight enters the maths only through weight * alpha: compute it once, not per call
        fields["_scale"] = fields["weight"] * fields["alpha"]
        for name, array in fields.items():
            array.flags.writeable = False
            object.__setattr__(self, name, array)
        object.__setattr__(self, "form", form)

    # -- constructors -------------------------------------------------------------------------

    @classmethod
    def from_peak(
        cls,
        tau: ArrayLike,
        peak: ArrayLike,
        width: ArrayLike,
        *,
        weight: ArrayLike | None = None,
        min_tokens: ArrayLike | None = None,
        max_tokens: ArrayLike | None = None,
        form: str = "surge",
    ) -> SurgeCurves:
        """Curves described by their height and width instead of ``alpha`` and ``beta``.

        Parameters
        ----------
        tau : float or array_like, shape (n,)
            Emergence threshold in tokens.
        peak : float or array_like, shape (n,)
            For ``"surge"``, the highest utility (reached at ``tau + width``); for
            ``"cumulative"``, the asymptotic success probability. Before ``weight``.
        width : float or array_like, shape (n,)
            ``1/beta`` in tokens: where the surge peaks past ``tau``.
        weight, min_tokens, max_tokens, form
            As in :class:`SurgeCurves`.
        """
        n = _length_of(tau=tau, peak=peak, width=width)
        peak_values = as_float_array("peak", peak, n, strictly_positive=True)
        beta = 1.0 / as_float_array("width", width, n, strictly_positive=True)
        if form == "surge":
            alpha = peak_values * beta * math.e
        else:
            alpha = peak_values * beta * beta
        return cls(
            tau, alpha, beta, weight=weight, min_tokens=min_tokens, max_tokens=max_tokens, form=form
        )

    # -- views ----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return int(self.tau.shape[0])

    @property
    def n(self) -> int:
        """Number of queries."""
        return len(self)

    @property
    def form_code(self) -> int:
        """The form as the kernel's integer code (0 surge, 1 cumulative)."""
        return _FORM_CODES[self.form]

    @property
    def scale(self) -> NDArray[np.float64]:
        """``weight * alpha``: the weighted slope at onset, the only way weight enters the maths."""
        return self._scale  # type: ignore[attr-defined, no-any-return]

    @property
    def lower(self) -> NDArray[np.float64]:
        """Fewest tokens a funded query can get: ``max(tau, min_tokens)``."""
        return np.maximum(self.tau, self.min_tokens)

    @property
    def peak_value(self) -> NDArray[np.float64]:
        """The curves' highest weighted utility ignoring bounds: ``w alpha / (beta e)`` (surge), ``w alpha / beta**2`` (cumulative)."""
        if self.form == "surge":
            return self.scale / (self.beta * math.e)
        return self.scale / (self.beta * self.beta)

    @property
    def peak_tokens(self) -> NDArray[np.float64]:
        """Unconstrained best grant at price 0, within the caps (``inf`` for an uncapped cumulative curve)."""
        if self.form == "surge":
            best = self.tau + 1.0 / self.beta
        else:
            best = np.full(len(self), math.inf)
        return np.minimum(np.maximum(best, self.lower), self.max_tokens)

    @property
    def peak_utility(self) -> NDArray[np.float64]:
        """Highest weighted utility each query can reach (0 where its cap is below its threshold)."""
        best = self.peak_tokens
        finite = np.isfinite(best)
        out = np.where(finite, 0.0, self.scale / (self.beta * self.beta))
        if finite.any():
            reached = self.subset(np.flatnonzero(finite))
            at_peak = np.empty(len(reached))
            _kernel.kernel.utility(
                reached.form_code, reached.tau, reached.scale, reached.beta, np.ascontiguousarray(best[finite]), at_peak
            )
            out[finite] = at_peak
        out[self.lower > self.max_tokens] = 0.0
        return out

    @property
    def is_shared(self) -> bool:
        """True when every query shares alpha, beta and weight and no caps or minimums are set."""
        if len(self) == 0:
            return True
        return bool(
            np.all(self.scale == self.scale[0])
            and np.all(self.beta == self.beta[0])
            and not np.any(self.min_tokens > 0)
            and not np.any(np.isfinite(self.max_tokens))
        )

    def subset(self, indices: ArrayLike) -> SurgeCurves:
        """The curves of the queries at ``indices`` (integer positions or a boolean mask)."""
        pick = np.asarray(indices)
        if pick.dtype != bool and not np.issubdtype(pick.dtype, np.integer):
            raise TypeError(f"`indices` must be integer positions or a boolean mask, got dtype {pick.dtype}")
        fields = {name: np.ascontiguousarray(getattr(self, name)[pick]) for name in _FIELDS}
        return SurgeCurves._trusted(form=self.form, **fields)

    @classmethod
    def _trusted(cls, *, form: str, **fields: NDArray[np.float64]) -> SurgeCurves:
        """Curves from arrays already validated (slices of valid curves): no checks, no copies."""
        curves = object.__new__(cls)
        fields["_scale"] = fields["weight"] * fields["alpha"]
        for name, array in fields.items():
            array.flags.writeable = False
            object.__setattr__(curves, name, array)
        object.__setattr__(curves, "form", form)
        return curves

    def __repr__(self) -> str:
        return f"SurgeCurves(n={len(self)}, form={self.form!r})"

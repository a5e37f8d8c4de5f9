"""A small, deterministic Nelder-Mead minimiser (numpy only, no scipy at run time)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray


def nelder_mead(
    objective: Callable[[NDArray[np.float64]], float],
    start: NDArray[np.float64],
    steps: NDArray[np.float64],
    *,
    max_evaluations: int = 600,
    f_tolerance: float = 1e-7,
    x_tolerance: float = 1e-5,
) -> tuple[NDArray[np.float64], float, int]:
    """Minimise ``objective`` from ``start`` (standard reflection / expansion / contraction / shrink).

    Parameters
    ----------
    objective : callable
        Maps a parameter vector to a float; ``inf`` marks an infeasible point.
    start : ndarray, shape (d,)
        Initial point.
    steps : ndarray, shape (d,)
        Initial simplex edge along each axis (the scale of each parameter).
    max_evaluations : int
        Budget of objective evaluations.
    f_tolerance, x_tolerance : float
        Stop when the simplex's values differ by less than ``f_tolerance`` and its
        vertices by less than ``x_tolerance`` in every coordinate.

    Returns
    -------
    best : ndarray, shape (d,)
    value : float
    evaluations : int
    """
    d = start.shape[0]
    simplex = np.vstack([start, start + np.diag(steps)])
    values = np.array([objective(v) for v in simplex])
    evaluations = d + 1
    while evaluations < max_evaluations:
        order = np.argsort(values, kind="stable")
        simplex, values = simplex[order], values[order]
        spread_f = values[-1] - values[0]
        spread_x = np.max(np.abs(simplex[1:] - simplex[0]))
        if spread_f <= f_tolerance and spread_x <= x_tolerance:
            break
        centroid = simplex[:-1].mean(axis=0)
        worst = simplex[-1]
        reflected = centroid + (centroid - worst)
        f_reflected = objective(reflected)
        evaluations += 1
        if f_reflected < values[0]:
            expanded = centroid + 2.0 * (centroid - worst)
            f_expanded = objective(expanded)
            evaluations += 1
            if f_expanded < f_reflected:
                simplex[-1], values[-1] = expanded, f_expanded
            else:
                simplex[-1], values[-1] = reflected, f_reflected
            continue
        if f_reflected < values[-2]:
            simplex[-1], values[-1] = reflected, f_reflected
            continue
        # contract towards the better of the worst point and its reflection
        if f_reflected < values[-1]:
            contracted = centroid + 0.5 * (reflected - centroid)
        else:
            contracted = centroid + 0.5 * (worst - centroid)
        f_contracted = objective(contracted)
        evaluations += 1
        if f_contracted < min(f_reflected, values[-1]):
            simplex[-1], values[-1] = contracted, f_contracted
            continue
        simplex[1:] = simplex[0] + 0.5 * (simplex[1:] - simplex[0])
        values[1:] = [objective(v) for v in simplex[1:]]
        evaluations += d
    best = int(np.argmin(values))
    return simplex[best].copy(), float(values[best]), evaluations

"""Loading a model profile (the JSON written by ``clear-fast fit``) for ``allocate``.

A profile holds the model's shared curve parameters and the thresholds of the
queries it was fitted on, so an input table needs only ids (of fitted queries)
or a threshold ``tau`` per query.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ._errors import CommandError


@dataclass(frozen=True)
class ModelProfile:
    """What ``allocate`` takes from a profile.

    Attributes
    ----------
    alpha, beta : float
        The model's shared curve parameters.
    form : str
        The curve form the profile was fitted for.
    tau_by_id : dict
        Fitted threshold (posterior median) of each fitted query, keyed by its id as text.
    """

    alpha: float
    beta: float
    form: str
    tau_by_id: dict[str, float]


def read_model_profile(path: str) -> ModelProfile:
    """Read ``path`` with :func:`clear_fast.fit.load_profile`, keeping what ``allocate`` takes.

    Raises
    ------
    CommandError
        When the file is missing or is not a clear_fast model profile.
    """
    from clear_fast.fit import FitResult

    file = Path(path)
    if not file.is_file():
        raise CommandError(f"profile {path} does not exist; write one with `clear-fast fit LOGS --out {path}`")
    try:
        fitted = FitResult.load(file)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CommandError(f"profile {path} is not valid JSON ({error}); write it again with `clear-fast fit`") from None
    except ValueError as error:
        raise CommandError(f"profile {path}: {error}; write it with `clear-fast fit LOGS --out {path}`") from None
    tau_by_id = {str(query): float(tau) for query, tau in zip(fitted.query_ids, fitted.tau)}
    return ModelProfile(alpha=fitted.alpha, beta=fitted.beta, form=fitted.form, tau_by_id=tau_by_id)

"""Loading a model profile (the JSON written by ``clear-fast fit``) for ``allocate``.

A profile holds the model-wide curve parameters, so that an input table only
needs a threshold ``tau`` per query.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from ._errors import CommandError


def load_profile(path: str) -> dict[str, Any]:
    """The profile's ``alpha``, ``beta`` and ``form`` as a plain dict.

    Raises
    ------
    CommandError
        When the file is missing, is not JSON, or lacks a usable ``alpha`` or ``beta``.
    """
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"profile {path} does not exist; write one with `clear-fast fit LOGS --out {path}`")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise CommandError(f"profile {path} is not valid JSON ({error}); write it again with `clear-fast fit`") from None
    if not isinstance(data, dict):
        raise CommandError(f"profile {path} must be a JSON object with `alpha` and `beta`")
    profile: dict[str, Any] = {}
    for key in ("alpha", "beta"):
        value = data.get(key)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
            raise CommandError(f"profile {path}: `{key}` must be a number > 0, got {value!r}; write it again with `clear-fast fit`")
        profile[key] = float(value)
    form = data.get("form", "surge")
    if form not in ("surge", "cumulative"):
        raise CommandError(f"profile {path}: `form` must be \"surge\" or \"cumulative\", got {form!r}")
    profile["form"] = form
    return profile

"""Result objects agree: a name shared by two public result types means one kind and one type.

A result type is a public dataclass (named in ``__all__`` of clear_fast or of one of its
subpackages) that the library hands back, as opposed to the inputs a user builds
(listed in ``INPUT_TYPES``: an input for one query and an input for many differ in shape
by design). For each attribute the test reads its kind (dataclass field, property,
method) and its annotated type. A per-query array of a type counts as that type
(``Allocation.tokens``, an int64 array, and ``Reservation.tokens``, an int, agree).
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

import clear_fast

INPUT_TYPES = {
    "clear_fast.curves.SurgeCurves",
    "clear_fast.estimators.protocol.Observation",
    "clear_fast.fit.rollouts.Rollouts",
    "clear_fast.runtime.window.BudgetWindow",
    "clear_fast.workloads.calibration.ModelCalibration",
    "clear_fast.workloads.pools.ThresholdPool",
    "clear_fast.workloads.streams.Stream",
}

# numpy dtypes by the Python type an element reads as
_ELEMENT = {
    "bool_": "bool",
    "int64": "int",
    "intp": "int",
    "int32": "int",
    "float64": "float",
    "str_": "str",
}


# distributions whose absence only hides an engine's entry point (extras `ray`, `dask`)
OPTIONAL_ENGINES = {"ray", "dask", "distributed"}


def _qualified(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


def public_dataclasses() -> dict[str, type]:
    """Every dataclass named in ``__all__`` of clear_fast or of one of its public subpackages."""
    namespaces = [clear_fast]
    for info in pkgutil.iter_modules(clear_fast.__path__):
        if info.ispkg and not info.name.startswith("_"):
            namespaces.append(importlib.import_module(f"clear_fast.{info.name}"))
    found = {}
    for namespace in namespaces:
        for name in getattr(namespace, "__all__", ()):
            try:
                value = getattr(namespace, name)
            except ModuleNotFoundError as missing:
                # an optional engine's entry point (allocate_ray without ray installed): a function, not a result
                assert missing.name in OPTIONAL_ENGINES, missing
                continue
            if inspect.isclass(value) and dataclasses.is_dataclass(value):
                found[_qualified(value)] = value
    return found


def result_types() -> dict[str, type]:
    return {name: kind for name, kind in public_dataclasses().items() if name not in INPUT_TYPES}


def canonical_type(annotation: Any) -> str:
    """An annotation as comparable text: per-query arrays read as their element, unions sorted."""
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", repr(annotation))
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"NDArray\[np\.(\w+)\]", lambda m: _ELEMENT.get(m.group(1), m.group(0)), text)
    return "|".join(sorted(text.split("|")))


def members(kind: type) -> dict[str, tuple[str, str]]:
    """Public attribute name -> (kind, canonical type) of a dataclass."""
    out = {}
    for item in dataclasses.fields(kind):
        if not item.name.startswith("_"):
            out[item.name] = ("field", canonical_type(item.type))
    for name, value in inspect.getmembers(kind):
        if name.startswith("_") or name in out:
            continue
        if isinstance(value, property):
            out[name] = ("property", canonical_type(value.fget.__annotations__.get("return", "?")))
        elif inspect.isfunction(value):
            out[name] = ("method", "callable")
    return out


def disagreements(kinds: dict[str, type]) -> list[str]:
    """One line per shared name whose kind or type differs, listing every type that has it."""
    by_name: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for type_name, kind in kinds.items():
        for attribute, described in members(kind).items():
            by_name[attribute][type_name.removeprefix("clear_fast.")] = described
    lines = []
    for attribute, holders in sorted(by_name.items()):
        if len(set(holders.values())) > 1:
            shown = ", ".join(f"{owner}: {k} {t}" for owner, (k, t) in sorted(holders.items()))
            lines.append(f"`{attribute}` differs: {shown}")
    return lines


def test_result_types_agree_on_every_shared_name() -> None:
    problems = disagreements(result_types())
    assert not problems, "result types disagree:\n" + "\n".join(problems)


def test_the_result_types_are_found() -> None:
    found = set(result_types())
    for expected in (
        "clear_fast.allocate.Allocation",
        "clear_fast.levels.LevelAllocation",
        "clear_fast.uncertainty.UncertainAllocation",
        "clear_fast.fit.result.FitResult",
        "clear_fast.evaluation.results.EvaluationResult",
        "clear_fast.evaluation.results.EvaluationRow",
    ):
        assert expected in found
    assert not found & INPUT_TYPES
    assert INPUT_TYPES <= set(public_dataclasses()), "an input type listed here is no longer public: drop it"


# -- the checker itself, on small classes whose answer is known -----------------------------------


@dataclasses.dataclass(frozen=True)
class _Batch:
    tokens: NDArray[np.int64]
    budget: int
    price: float

    @property
    def funded(self) -> NDArray[np.bool_]:
        return self.tokens > 0


@dataclasses.dataclass(frozen=True)
class _One:
    tokens: int
    funded: bool
    price: float | None


@dataclasses.dataclass(frozen=True)
class _Other:
    budget: float

    def price(self) -> float:
        return 0.0


def test_the_checker_reads_kinds_and_per_query_types() -> None:
    assert members(_Batch) == {
        "tokens": ("field", "int"),
        "budget": ("field", "int"),
        "price": ("field", "float"),
        "funded": ("property", "bool"),
    }
    assert members(_Other)["price"] == ("method", "callable")
    assert canonical_type("int | None") == canonical_type("None|int") == "None|int"


@pytest.mark.parametrize(
    ("kinds", "expected"),
    [
        ([_Batch, _One], ["`funded` differs", "`price` differs"]),
        ([_Batch, _Other], ["`budget` differs", "`price` differs"]),
        ([_Batch], []),
    ],
)
def test_the_checker_reports_each_disagreeing_name(kinds: list[type], expected: list[str]) -> None:
    problems = disagreements({_qualified(kind): kind for kind in kinds})
    assert [line.split(":")[0] for line in problems] == expected

"""What a budgeted run hands back: abandoned markers and the per-batch report."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Abandoned:
    """Stands in for the output of an input the budget did not fund.

    The input never reached the model. It is falsy, so ``[o for o in outputs if o]``
    keeps the real outputs.

    Attributes:
        index: Position of the input in the batch.
        reason: Why it was abandoned, in words (from ``Allocation.why``).
        breakeven_price: Price per token above which the input is not worth funding.
        shadow_price: The price the budget settled at.
    """

    index: int
    reason: str
    breakeven_price: float = float("nan")
    shadow_price: float = float("nan")

    def __bool__(self) -> bool:
        return False


@dataclass(frozen=True)
class InputReport:
    """One input's line in a :class:`BatchReport`.

    Attributes:
        index: Position in the batch.
        cap: Tokens granted (0 = abandoned).
        output_tokens: Output tokens its model calls reported (reasoning included).
        reasoning_tokens: Of which hidden reasoning, where the provider reports it.
        input_tokens: Prompt tokens of its model calls.
        calls: Model calls it made.
        cut_off: True if a call stopped at its length cap.
        abandoned: True if the budget did not fund it.
        error: The exception's text if the chain failed on it.
        flags: Problems the usage tracker saw (uncapped or overrunning calls).
        reason: Why it got what it got (for an abandoned input: why it was abandoned).
        fallback: True if the ``on_abandon`` fallback ran in its place.
        caps: In a batch run in waves, its cap in each pass, the first pass first
            (0: not run in that pass); empty otherwise. ``cap`` is the largest.
        correct: The grader's verdict (``Waves(is_correct=...)``) on its last
            answer, or None when there is no grader.
    """

    index: int
    cap: int
    output_tokens: int
    reasoning_tokens: int
    input_tokens: int
    calls: int
    cut_off: bool
    abandoned: bool
    error: str | None = None
    flags: tuple[str, ...] = ()
    reason: str = ""
    fallback: bool = False
    caps: tuple[int, ...] = ()
    correct: bool | None = None

    @property
    def reruns(self) -> int:
        """Passes after its first run that ran it again at a larger cap (waves)."""
        return max(sum(cap > 0 for cap in self.caps) - 1, 0)


#: Why inputs are abandoned, as :attr:`BatchReport.abandoned_because` counts them.
ABANDON_KINDS = {
    "tied": "tied with funded inputs of the same predicted curve (picked by the seeded shuffle)",
    "ledger": "the ledger could no longer cover the grant",
    "price": "not worth its tokens at the shadow price",
}


def abandon_kind(reason: str) -> str:
    """The :data:`ABANDON_KINDS` key of an abandoned input's reason."""
    if "tied with funded inputs" in reason:
        return "tied"
    if "ledger" in reason:
        return "ledger"
    return "price"


@dataclass(frozen=True)
class BatchReport:
    """How one batch spent its budget.

    Attributes:
        budget: Tokens available to the batch when it started.
        granted: Sum of the caps handed out.
        spent: Output tokens really used (settled on the ledger).
        shadow_price: The allocation's price per token.
        predicted_utility: Expected utility (e.g. solved inputs) under the predicted curves.
        upper_bound: The allocation's optimality certificate for that utility.
        inputs: One :class:`InputReport` per input, in input order.
        passes: In a batch run in waves, the report of each pass (the first pass,
            then each wave, whose ``budget`` is the leftover it could spend); the
            totals above are over all passes. Empty otherwise.
    """

    budget: int
    granted: int
    spent: int
    shadow_price: float
    predicted_utility: float
    upper_bound: float
    inputs: tuple[InputReport, ...] = field(default_factory=tuple)
    passes: tuple[BatchReport, ...] = field(default_factory=tuple)

    @property
    def waves(self) -> int:
        """Waves that ran after the first pass."""
        return max(len(self.passes) - 1, 0)

    @property
    def rerun(self) -> int:
        """Inputs a wave ran again at a larger cap."""
        return sum(row.reruns > 0 for row in self.inputs)

    @property
    def funded(self) -> int:
        """Inputs that reached the model."""
        return sum(not row.abandoned for row in self.inputs)

    @property
    def abandoned(self) -> int:
        """Inputs that did not."""
        return sum(row.abandoned for row in self.inputs)

    @property
    def abandoned_because(self) -> dict[str, int]:
        """How many inputs were abandoned for each reason (the :data:`ABANDON_KINDS` texts)."""
        counts: dict[str, int] = {}
        for row in self.inputs:
            if row.abandoned:
                text = ABANDON_KINDS[abandon_kind(row.reason)]
                counts[text] = counts.get(text, 0) + 1
        return counts

    @property
    def cut_off(self) -> int:
        """Funded inputs stopped by their cap."""
        return sum(row.cut_off for row in self.inputs)

    @property
    def errors(self) -> int:
        """Inputs whose chain raised."""
        return sum(row.error is not None for row in self.inputs)

    @property
    def within_budget(self) -> bool:
        """True when the tokens spent stayed within the budget."""
        return self.spent <= self.budget

    def table(self) -> str:
        """A plain-text table, one line per input, then the totals."""
        lines = ["input   cap  used  reasoning  calls  status"]
        for row in self.inputs:
            if row.abandoned:
                status = "abandoned, fallback ran" if row.fallback else "abandoned"
            elif row.error is not None:
                status = f"error: {row.error[:40]}"
            else:
                status = "cut off" if row.cut_off else "done"
            if any(row.caps[1:]):  # a wave ran it: its cap in each pass
                status += " (caps " + "/".join(str(cap) for cap in row.caps) + ")"
            if row.flags:
                status += " [" + "; ".join(row.flags) + "]"
            lines.append(
                f"{row.index:5d} {row.cap:5d} {row.output_tokens:5d} {row.reasoning_tokens:10d} {row.calls:6d}  {status}"
            )
        why = "; ".join(f"{count} {text}" for text, count in self.abandoned_because.items())
        lines.append(
            f"spent {self.spent} of {self.budget} tokens (granted {self.granted}); funded {self.funded}, "
            f"abandoned {self.abandoned}{f' ({why})' if why else ''}, cut off {self.cut_off}, errors {self.errors}; "
            f"shadow price {self.shadow_price:.4g}/token"
            + (f"; {self.waves} wave(s): reran {self.rerun} input(s) cut at their cap, funded "
               f"{sum(not row.caps[0] and any(row.caps[1:]) for row in self.inputs)} abandoned by the first pass"
               if self.passes else "")
        )
        return "\n".join(lines)


@dataclass(frozen=True)
class BatchRun:
    """Outputs of a budgeted batch, in input order, with its report."""

    outputs: list[Any]
    report: BatchReport


class BudgetedBatchError(RuntimeError):
    """Some inputs of a batch failed; the others' outputs are kept.

    Attributes:
        outputs: All outputs in input order, the exceptions in place of failed ones.
        report: The batch report (failed inputs carry their error text).
    """

    def __init__(self, outputs: list[Any], report: BatchReport) -> None:
        self.outputs = outputs
        self.report = report
        failed = [i for i, o in enumerate(outputs) if isinstance(o, BaseException)]
        first = outputs[failed[0]]
        super().__init__(
            f"{len(failed)} of {len(outputs)} inputs failed (first: input {failed[0]}: {type(first).__name__}: "
            f"{first}); the other outputs are in `.outputs`"
        )


class InputAbandoned(RuntimeError):
    """Raised for an abandoned input when ``on_abandon="raise"``; carries the :class:`Abandoned`."""

    def __init__(self, abandoned: Abandoned) -> None:
        self.abandoned = abandoned
        super().__init__(abandoned.reason)


class NestedRunnerError(RuntimeError):
    """Raised when the runner gets one input from inside another runnable and has no pacer.

    An enclosing runnable's ``batch`` (``RunnableParallel(...).batch`` and most
    others) hands its inputs to the runner one ``invoke`` at a time, so no joint
    allocation could be made: each would be priced alone. Put the runner
    outermost, or give it a ``clear_fast.Pacer`` to price single inputs.
    """

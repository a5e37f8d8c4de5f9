"""The demo's experiment: every policy on every stream at every budget, CLEAR also through a chain.

Beside the paper's five policies it runs two that go past the paper:
RiskAwareCLEAR (the allocation knows the predictor's error) and RiskAware+waves
(after its pass, what was not used goes to the queries it abandoned or cut short).

The numbers come from :func:`clear_fast.evaluation.evaluate`, one budget at a
time so the progress bar moves. CLEAR's caps are recorded as they are decided
and, when the LangChain integration (``langchain-clear-fast``) is installed,
replayed through a LangChain chain over the same simulated model
(``langchain_clear_fast.demo_chain``); the chain's realised answers must equal
the direct simulation's, query by query. Without the integration the chain
check is skipped and the summary says why.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np

from .report import ResultRow

POLICIES = ("CLEAR", "Uniform", "Proportional", "SelfEstimate", "Oracle", "RiskAwareCLEAR", "RiskAware+waves")
CHAINED_POLICY = "CLEAR"


class _RecordingPolicy:
    """Decides like the wrapped policy and keeps the caps of its last decision."""

    def __init__(self, policy: Any) -> None:
        self.policy = policy
        self.name = policy.name
        self.last_caps: np.ndarray | None = None

    def decide(self, stream: Any, predicted: Any, budget: int) -> Any:
        decision = self.policy.decide(stream, predicted, budget)
        self.last_caps = np.asarray(decision.caps, dtype=np.int64).copy()
        return decision


@dataclass
class ExperimentResult:
    """Rows for the report and what the chain check found.

    Attributes
    ----------
    rows : list of ResultRow
    chain_summary : dict
        ``calls`` (model calls through the chain), ``mismatches`` (answers that
        differ from the direct simulation, 0 when all is well), ``policy``, and
        ``queries_per_budget`` (the sample size), and per stream the chain's
        realised accuracy on the sample at each budget. When the chain check
        could not run: ``policy`` and ``skipped`` (the reason) only.
    """

    rows: list[ResultRow] = field(default_factory=list)
    chain_summary: dict[str, Any] = field(default_factory=dict)


def load_chain_check() -> tuple[ModuleType | None, str]:
    """The LangChain chain check (``langchain_clear_fast.demo_chain``), or None and why it is unavailable."""
    try:
        from langchain_clear_fast import demo_chain
    except ImportError as error:
        return None, (
            f"the LangChain integration cannot be imported ({error}); "
            "install it with `pip install ./integrations/langchain` to also run CLEAR's caps through a chain"
        )
    return demo_chain, ""


def demo_policies() -> list[Any]:
    """The paper's five policies, then RiskAwareCLEAR and RiskAware+waves (the predictor's error as spread)."""
    from clear_fast.evaluation import DEFAULT_PREDICTOR_SIGMA, RiskAwareClearPolicy, WavesPolicy, paper_policies

    policies: list[Any] = [
        *paper_policies(), RiskAwareClearPolicy(DEFAULT_PREDICTOR_SIGMA), WavesPolicy(DEFAULT_PREDICTOR_SIGMA)
    ]
    if tuple(p.name for p in policies) != POLICIES:
        raise RuntimeError(f"the demo's policies are {[p.name for p in policies]}, expected {list(POLICIES)}")
    return policies


def paper_reference(streams: Sequence[str]) -> dict[str, dict[str, list[float]]]:
    """The paper's CLEAR and Uniform accuracy (%) by budget per query, for the streams run."""
    from clear_fast.workloads import paper_data

    published = paper_data()["clear_vs_uniform"]
    return {
        stream: {
            "budget_per_query": list(published["budget_per_query"]),
            "CLEAR": list(published[stream]["clear"]),
            "Uniform": list(published[stream]["uniform"]),
        }
        for stream in streams
        if stream in published
    }


def run_experiment(
    streams: Sequence[str],
    budgets: Sequence[int],
    *,
    size: int,
    seed: int,
    chain_queries: int | None = None,
    show_progress: bool = True,
) -> ExperimentResult:
    """Run the paper's five policies, RiskAwareCLEAR and RiskAware+waves on ``streams`` at ``budgets`` tokens per query.

    Parameters
    ----------
    streams : sequence of str
        Stream shapes (``"Balanced"``, ``"MostlyEasy"``, ``"MostlyHard"``, ``"UShaped"``).
    budgets : sequence of int
        Budgets per query, whole tokens >= 1.
    size : int
        Queries per stream.
    seed : int
        Seed of the streams and of the simulated model's draws.
    chain_queries : int, optional
        How many of each stream's queries (its first ones; streams are in random
        order) go through the LangChain chain at each budget; all when None.
        The chain runs only when ``langchain-clear-fast`` is installed.
    show_progress : bool
        Draw a progress bar on stderr.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
    from rich.console import Console

    from clear_fast.evaluation import evaluate
    from clear_fast.workloads import SimulatedReasoner, make_stream

    chain_check, unavailable = load_chain_check()
    result = ExperimentResult()
    chain_accuracy: dict[str, dict[int, float]] = {}
    calls = differing = 0
    progress = Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=Console(file=sys.stderr), disable=not show_progress, transient=False,
    )
    with progress:
        task = progress.add_task("starting", total=len(streams) * len(budgets))
        for name in streams:
            stream = make_stream(name, size, seed=seed)
            policies = [_RecordingPolicy(p) if p.name == CHAINED_POLICY else p for p in demo_policies()]
            recorder = next(p for p in policies if isinstance(p, _RecordingPolicy))
            reasoner = SimulatedReasoner(stream.curves, seed=seed)
            chain = chain_check.build_chain(reasoner, stream.texts) if chain_check else None
            sample = np.arange(len(stream) if chain_queries is None else min(chain_queries, len(stream)))
            chain_accuracy[name] = {}
            for budget in budgets:
                progress.update(task, description=f"{name:<11} {budget:>5} tokens/query")
                recorder.last_caps = None  # never replay the caps of an earlier budget
                evaluated = evaluate(stream, policies, [budget], reasoner_seed=seed)
                result.rows.extend(_report_row(row, len(stream)) for row in evaluated.rows)
                caps = recorder.last_caps
                if caps is None:
                    raise RuntimeError(f"the evaluation did not ask {CHAINED_POLICY} for caps at {budget} tokens per query")
                if chain_check is not None:
                    run = chain_check.run_caps(chain, caps, sample)
                    calls += run.calls
                    differing += chain_check.mismatches(run, reasoner, caps)
                    chain_accuracy[name][budget] = float(run.correct.mean())
                progress.advance(task)
    if chain_check is None:
        result.chain_summary = {"policy": CHAINED_POLICY, "skipped": unavailable}
        return result
    result.chain_summary = {
        "policy": CHAINED_POLICY,
        "queries_per_budget": int(size if chain_queries is None else min(chain_queries, size)),
        "calls": calls,
        "mismatches": differing,
        "accuracy": chain_accuracy,
    }
    return result


def _report_row(row: Any, queries: int) -> ResultRow:
    return ResultRow(
        stream=row.stream,
        policy=row.policy,
        budget_per_query=int(row.budget_per_query),
        queries=queries,
        accuracy=float(row.accuracy),
        expected_accuracy=float(row.expected_accuracy),
        tokens_granted=int(row.tokens_granted),
        tokens_used=int(row.tokens_used),
        abandonment=float(row.abandonment_rate),
        shadow_price=float(row.shadow_price),
    )

"""CLEAR on a real model: learn from rollouts, allocate held-out prompts, send the caps, grade the replies.

The experiment of ``benchmarks/bench_real_model.py`` (and, smaller, of its test):

1. a list-repetition task (:mod:`clear_fast.workloads.list_repeat`) split into
   training and held-out prompts;
2. rollouts of the training prompts at a few caps, through the batch runner, with
   greedy decoding, fitted by :func:`clear_fast.fit.fit_rollouts` (it finds the
   decoding deterministic);
3. a :class:`~clear_fast.estimators.HistoryPredictor` of thresholds (solved prompts
   only) and a :class:`~clear_fast.estimators.SolvabilityPredictor` (every prompt)
   trained on the fit;
4. at each budget, the held-out prompts under each policy: the caps go through
   :func:`clear_fast.calls.run_openai_batch` (or :func:`~clear_fast.calls.run_openai_waves`)
   to the server, every request body is recorded on the wire and checked against
   its grant, and the replies are graded. The policy that runs in waves learns
   between passes: each pass's graded outcomes go to its predictors
   (:class:`~clear_fast.estimators.OutcomeLearner`) before the next wave is planned.

The oracle knows each held-out prompt's reply at a large cap (one reference run): a
prompt it can solve needs as many tokens as the shortest prefix of that reply that
passes the grader (counted by the server's tokenizer), and the oracle funds the
cheapest solvable prompts first, which is optimal when every prompt is worth the same.
The server is the caller's: any OpenAI-compatible endpoint that honours ``max_tokens``
and has llama-cpp-python's ``/extras/tokenize`` route.
"""

from __future__ import annotations

import copy
import json
import math
import time
import urllib.request
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

POLICIES = ("Uniform", "CLEAR", "RiskAware", "RiskAware+solvability", "RiskAware+solvability+waves", "Oracle")
MODEL = "smollm2"


@dataclass(frozen=True)
class PolicyRun:
    """One policy on the held-out prompts at one budget.

    Attributes
    ----------
    policy : str
    budget_per_query : int
    budget : int
    solved : int
        Held-out prompts answered correctly (over all passes).
    tokens_used : int
        Output tokens the server reported, over all passes.
    granted : int
        Sum of the caps of the first pass.
    requests : int
        Requests sent (abandoned prompts are never sent).
    passes : int
        1, or the number of passes of a policy that runs in waves.
    caps_on_wire : bool
        Every request body carried ``max_tokens`` equal to its grant.
    overruns : int
        Replies longer than their cap (the server ignored it).
    """

    policy: str
    budget_per_query: int
    budget: int
    solved: int
    tokens_used: int
    granted: int
    requests: int
    passes: int
    caps_on_wire: bool
    overruns: int


@dataclass
class RealModelResult:
    """Everything the experiment measured (``to_dict`` for JSON), with the training log and the held-out replies."""

    settings: dict[str, Any]
    fit: dict[str, Any]
    predictors: dict[str, Any]
    reference: dict[str, Any]
    runs: list[PolicyRun] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    training_log: list[dict[str, Any]] = field(default_factory=list)
    reference_replies: list[dict[str, Any]] = field(default_factory=list)

    def run(self, policy: str, budget_per_query: int) -> PolicyRun:
        """The run of ``policy`` at ``budget_per_query``."""
        return next(r for r in self.runs if r.policy == policy and r.budget_per_query == budget_per_query)

    def gap_closed(self, policy: str, budget_per_query: int) -> float:
        """Share of the gap between Uniform and the Oracle that ``policy`` closes (nan without a gap)."""
        uniform = self.run("Uniform", budget_per_query).solved
        oracle = self.run("Oracle", budget_per_query).solved
        if oracle == uniform:
            return math.nan
        return (self.run(policy, budget_per_query).solved - uniform) / (oracle - uniform)

    def table(self) -> str:
        """Markdown: solved (tokens used) per policy, a row per budget."""
        policies = list(dict.fromkeys(r.policy for r in self.runs))
        budgets = sorted({r.budget_per_query for r in self.runs})
        lines = ["| tokens/query | " + " | ".join(policies) + " |", "|---:|" + "---:|" * len(policies)]
        for b in budgets:
            cells = []
            for p in policies:
                found = [r for r in self.runs if r.policy == p and r.budget_per_query == b]
                cells.append(f"{found[0].solved} ({found[0].tokens_used})" if found else "-")
            lines.append(f"| {b} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return {
            "settings": self.settings, "fit": self.fit, "predictors": self.predictors, "reference": self.reference,
            "runs": [asdict(r) for r in self.runs], "seconds": self.seconds,
            "training_log": self.training_log, "reference_replies": self.reference_replies,
        }


class _WireLog:
    """Request bodies as they leave the client (an httpx event hook), to check the caps really sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []

    async def __call__(self, request: Any) -> None:
        if request.url.path.endswith("/chat/completions"):
            self.bodies.append(json.loads(request.content))

    def take(self) -> list[dict[str, Any]]:
        taken, self.bodies = self.bodies, []
        return taken


def _post(root: str, route: str, payload: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{root}{route}", data=json.dumps(payload).encode(), headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as reply:
        return json.load(reply)


def _token_count(root: str, text: str, special: int) -> int:
    """Tokens of ``text`` in the served model's tokenizer, without the tokens it adds to any input."""
    return len(_post(root, "/extras/tokenize", {"input": text})["tokens"]) - special


def _shortest_correct_prefix(words: Sequence[str], reply: str) -> str | None:
    """The reply up to the end of the last required word, where the grader first passes; None if it never does."""
    from ..workloads.list_repeat import repeats_in_order

    if not repeats_in_order(words, reply):
        return None
    low, high = 1, len(reply)
    while low < high:  # the grader is monotone in the prefix length
        middle = (low + high) // 2
        if repeats_in_order(words, reply[:middle]):
            high = middle
        else:
            low = middle + 1
    return reply[:low]


def _request(text: str) -> dict[str, Any]:
    # greedy decoding: the same prompt gives the same reply at every cap
    return {"messages": [{"role": "user", "content": text}], "temperature": 0.0}


async def _run_caps(client: Any, wire: _WireLog, texts: Sequence[str], caps: Any) -> tuple[Any, list[dict[str, Any]]]:
    from ..calls import run_openai_batch

    result = await run_openai_batch(
        client, [_request(t) for t in texts], caps=caps, model=MODEL, cap_param="max_tokens", max_concurrency=1
    )
    _require_answers(result)
    return result, wire.take()


def _require_answers(result: Any) -> None:
    """A failed request makes every number after it meaningless: stop, saying which and why."""
    failed = [o for o in result.outcomes if o.error is not None]
    if failed:
        raise RuntimeError(f"{len(failed)} request(s) to the model failed, the first: {failed[0].error}")


def _wire_matches(bodies: list[dict[str, Any]], texts: Sequence[str], outcomes: Sequence[Any]) -> bool:
    """Every funded request left with ``max_tokens`` equal to its grant, and nothing else was sent."""
    sent = sorted((b["messages"][0]["content"], b.get("max_tokens"), "max_completion_tokens" in b) for b in bodies)
    granted = sorted((texts[o.index], o.cap, False) for o in outcomes if not o.abandoned)
    return sent == granted


async def _experiment(base_url: str, settings: dict[str, Any], progress: Any) -> RealModelResult:
    import openai

    from ..allocate import allocate
    from ..calls import run_openai_waves
    from ..estimators import ConstantPrior, HistoryPredictor, OutcomeLearner, SolvabilityPredictor
    from ..fit import FitWarning, fit_rollouts
    from ..uncertainty import allocate_uncertain
    from ..workloads.list_repeat import make_list_repeat_task

    started = time.perf_counter()
    seconds: dict[str, float] = {}
    task = make_list_repeat_task(settings["train"] + settings["heldout"], seed=settings["seed"], largest=settings["largest"])
    train = task.subset(range(settings["train"]))
    test = task.subset(range(settings["train"], len(task)))
    wire = _WireLog()
    root = base_url.removesuffix("/v1")
    special = len(_post(root, "/extras/tokenize", {"input": ""})["tokens"])
    async with openai.DefaultAsyncHttpx2Client(event_hooks={"request": [wire]}, timeout=600) as http:
        client = openai.AsyncOpenAI(base_url=base_url, api_key="local", max_retries=0, http_client=http)

        # 1. rollouts of the training prompts at a few caps (a log as a user would have it)
        records = []
        for cap in settings["train_caps"]:
            progress(f"rollouts of {len(train)} training prompts at cap {cap}")
            result, bodies = await _run_caps(client, wire, train.texts, [cap] * len(train))
            if not _wire_matches(bodies, train.texts, result.outcomes):
                raise AssertionError(f"the rollouts at cap {cap} did not carry their caps on the wire")
            records += [
                {"query_id": train.ids[o.index], "cap": cap, "tokens_used": o.output_tokens,
                 "finish_reason": o.finish_reason, "correct": train.is_correct(o.index, o.content)}
                for o in result.outcomes
            ]
        seconds["rollouts"] = time.perf_counter() - started

        # 2. the fit; its warnings are kept, not printed
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FitWarning)
            fit = fit_rollouts(records, success="per_query")
        solved_train = int(fit.solved.sum())

        # 3. predictors from the fit: thresholds of solved prompts, chances of all
        thresholds = HistoryPredictor(prior=ConstantPrior.from_fit(fit))
        thresholds.update(fit.threshold_observations(train.texts))
        solvable = SolvabilityPredictor.from_fit(fit)
        solvable.update(fit.solvability_observations(train.texts))
        tau, spread = thresholds.predict(test.texts)
        chance = solvable.predict(test.texts)

        # 4. the held-out truth: one reference run at a large cap, and each solvable prompt's need
        progress(f"reference run of {len(test)} held-out prompts at cap {settings['reference_cap']}")
        reference, bodies = await _run_caps(client, wire, test.texts, [settings["reference_cap"]] * len(test))
        need = np.zeros(len(test), dtype=np.int64)
        for o in reference.outcomes:
            prefix = _shortest_correct_prefix(test.words[o.index], o.content or "")
            if prefix is not None:
                need[o.index] = max(_token_count(root, prefix, special), 1)
        solvable_truth = need > 0
        seconds["reference"] = time.perf_counter() - started - seconds["rollouts"]

        runs: list[PolicyRun] = []
        for per_query in settings["budgets"]:
            budget = per_query * len(test)
            guess = fit.curves_for(tau)
            with_ceilings = fit.curves_for(tau, chance)
            first_caps = {
                "Uniform": np.full(len(test), per_query, dtype=np.int64),
                "CLEAR": allocate(guess, budget).tokens,
                "RiskAware": allocate_uncertain(guess, spread, budget).tokens,
                "RiskAware+solvability": allocate_uncertain(with_ceilings, spread, budget).tokens,
                "Oracle": _oracle_caps(need, budget),
            }
            for policy in settings["policies"]:
                progress(f"{policy} at {per_query} tokens per query")
                if policy == "RiskAware+solvability+waves":
                    # each pass's graded outcomes teach copies of the predictors (every budget starts afresh)
                    learner = OutcomeLearner(fit, test.texts, copy.deepcopy(thresholds), copy.deepcopy(solvable))
                    waves = await run_openai_waves(
                        client, [_request(t) for t in test.texts], with_ceilings, budget, model=MODEL, spread=spread,
                        first=first_caps["RiskAware+solvability"], max_waves=settings["max_waves"],
                        is_correct=test.is_correct, learn=learner, cap_param="max_tokens", max_concurrency=1,
                    )
                    for one_pass in waves.passes:
                        _require_answers(one_pass)
                    bodies = wire.take()
                    sent = [o for p in waves.passes for o in p.outcomes]
                    on_wire = _wire_matches(bodies, test.texts, sent)
                    correct = waves.answered_correctly if waves.answered_correctly is not None else np.zeros(len(test), bool)
                    runs.append(PolicyRun(
                        policy, per_query, budget, int(correct.sum()), waves.spent, waves.passes[0].granted,
                        len(bodies), len(waves.passes), on_wire, len(waves.overruns_by_pass),
                    ))
                    continue
                result, bodies = await _run_caps(client, wire, test.texts, first_caps[policy])
                solved = sum(test.is_correct(o.index, o.content) for o in result.outcomes if not o.abandoned)
                runs.append(PolicyRun(
                    policy, per_query, budget, int(solved), result.spent, result.granted, len(bodies), 1,
                    _wire_matches(bodies, test.texts, result.outcomes), len(result.overruns),
                ))
        seconds["policies"] = time.perf_counter() - started - seconds["rollouts"] - seconds["reference"]

    sizes = test.sizes
    return RealModelResult(
        settings={**settings, "model": MODEL, "cap_param": "max_tokens", "temperature": 0.0},
        fit={
            "decoding": fit.decoding, "success_model": fit.success_model, "width": fit.width,
            "success_probability": fit.success_probability, "tau_median": math.exp(fit.tau_log_mean),
            "tau_log_std": fit.tau_log_std, "runs": fit.n_runs, "solved_training_prompts": solved_train,
            "notes": list(fit.notes),
        },
        predictors={
            "threshold_observations": thresholds.n_observations,
            "heldout_threshold_error": (
                float(np.mean(np.abs(np.log(tau[solvable_truth]) - np.log(need[solvable_truth]))))
                if solvable_truth.any() else math.nan
            ),
            "mean_chance_solvable": float(chance[solvable_truth].mean()) if solvable_truth.any() else math.nan,
            "mean_chance_unsolvable": float(chance[~solvable_truth].mean()) if (~solvable_truth).any() else math.nan,
        },
        reference={
            "cap": settings["reference_cap"], "solvable": int(solvable_truth.sum()), "prompts": len(test),
            "need": need.tolist(), "sizes": sizes.tolist(),
            "solvable_by_size": {int(k): [int(solvable_truth[sizes == k].sum()), int((sizes == k).sum())] for k in np.unique(sizes)},
        },
        runs=runs,
        seconds={k: round(v, 1) for k, v in seconds.items()},
        training_log=records,
        reference_replies=[
            {"prompt": test.texts[o.index], "reply": o.content, "tokens": o.output_tokens, "finish_reason": o.finish_reason}
            for o in reference.outcomes
        ],
    )


def _oracle_caps(need: np.ndarray, budget: int) -> np.ndarray:
    """The cheapest solvable prompts first, each at exactly what it needs, while the budget lasts."""
    caps = np.zeros(need.shape[0], dtype=np.int64)
    left = budget
    for i in np.argsort(np.where(need > 0, need, np.iinfo(np.int64).max), kind="stable"):
        if need[i] == 0 or need[i] > left:
            break
        caps[i] = need[i]
        left -= int(need[i])
    return caps


def run_real_model_experiment(
    base_url: str,
    *,
    train: int = 60,
    heldout: int = 60,
    budgets: Sequence[int] = (4, 10, 20),
    seed: int = 0,
    largest: int = 20,
    train_caps: Sequence[int] = (160, 10, 20),
    reference_cap: int = 160,
    max_waves: int = 3,
    policies: Sequence[str] = POLICIES,
    progress: Any = None,
) -> RealModelResult:
    """Run the experiment against the model served at ``base_url`` (an OpenAI-compatible ``.../v1``).

    Parameters
    ----------
    train, heldout : int
        Prompts to learn from and to allocate.
    budgets : sequence of int
        Tokens per held-out prompt.
    seed : int
        Seed of the task.
    largest : int
        Most words in a prompt (from 2).
    train_caps : sequence of int
        Caps of the training rollouts (one run of every training prompt at each).
    reference_cap : int
        Cap of the held-out reference run the oracle reads.
    max_waves : int
        Waves after the first pass, for the policy that runs in waves.
    policies : sequence of str
        Which of :data:`POLICIES` to run (Uniform and Oracle are needed for ``gap_closed``).
    progress : callable, optional
        Called with a line of text before each step.
    """
    import asyncio

    unknown = [p for p in policies if p not in POLICIES]
    if unknown:
        raise ValueError(f"unknown policy {unknown[0]!r}; choose from {POLICIES}")
    settings = {
        "train": int(train), "heldout": int(heldout), "budgets": [int(b) for b in budgets], "seed": int(seed),
        "largest": int(largest), "train_caps": [int(c) for c in train_caps], "reference_cap": int(reference_cap),
        "max_waves": int(max_waves), "policies": list(policies),
    }
    return asyncio.run(_experiment(base_url, settings, progress or (lambda line: None)))

"""Synthetic rollouts and query texts for the estimation tests (imported by tests and by conftest)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class SyntheticRollouts:
    tau: np.ndarray
    beta: float
    p: float
    query: np.ndarray
    cap: np.ndarray
    tokens: np.ndarray
    cut: np.ndarray
    correct: np.ndarray


def make_rollouts(
    *, n=200, runs=8, tau_median=400.0, tau_log_std=0.5, width=150.0, p=0.9, caps=(256, 384, 512, 768, 1024), seed=0,
    shape=2.0,
):
    """Independent runs: knows with prob p (scalar or one per query); a known answer runs tau + Gamma(shape, width) tokens;
    a wrong answer runs a length unrelated to tau (uniform); cut at the cap."""
    rng = np.random.default_rng(seed)
    tau = np.exp(rng.normal(np.log(tau_median), tau_log_std, n))
    query = np.repeat(np.arange(n), runs)
    cap = rng.choice(np.asarray(caps, dtype=float), size=n * runs)
    chance = np.broadcast_to(np.asarray(p, dtype=float), (n,))
    knows = rng.random(n * runs) < chance[query]
    length = np.where(knows, tau[query] + rng.gamma(shape, width, n * runs), rng.uniform(30, 4000, n * runs))
    cut = length > cap
    return SyntheticRollouts(
        tau=tau, beta=1.0 / width, p=p, query=query, cap=cap, tokens=np.minimum(length, cap), cut=cut,
        correct=knows & ~cut,
    )


TOPICS = {"arithmetic": -0.7, "algebra": 0.0, "geometry": 0.3, "combinatorics": 0.6, "number theory": 0.9}
CLAUSES = [
    "a train leaves at {a} and travels {b} miles",
    "the sum of {a} and {b} is doubled",
    "a box holds {a} red and {b} blue marbles",
    "the area of a {a} by {b} rectangle is halved",
    "{a} workers finish {b} tasks",
    "the remainder of {a} divided by {b} is taken",
]


def make_texts(n, *, seed=0, noise=0.15):
    """Maths-like questions whose log threshold depends on the topic and the number of steps."""
    rng = np.random.default_rng(seed)
    topics = list(TOPICS)
    texts, log_tau = [], []
    for _ in range(n):
        topic = topics[rng.integers(len(topics))]
        steps = int(rng.integers(1, 6))
        clauses = [
            CLAUSES[rng.integers(len(CLAUSES))].format(a=int(rng.integers(2, 99)), b=int(rng.integers(2, 99)))
            for _ in range(steps)
        ]
        texts.append(f"A {topic} problem: " + ", then ".join(clauses) + ". What is the result?")
        log_tau.append(5.3 + TOPICS[topic] + 0.3 * steps + noise * rng.standard_normal())
    return texts, np.exp(np.array(log_tau))


def make_deterministic_rollouts(*, n=300, tau_median=40.0, tau_log_std=0.5, width=4.0, p=0.6, caps=(20, 40, 160), seed=0):
    """Greedy decoding: each query has one answer (known or not, one natural length), seen at every cap.

    A wrong answer runs 3 to 6 times the natural length. Every query is run once at every cap.
    """
    rng = np.random.default_rng(seed)
    tau = np.exp(rng.normal(np.log(tau_median), tau_log_std, n))
    natural = np.ceil(tau + rng.gamma(2.0, width, n))
    knows = rng.random(n) < p
    length = np.where(knows, natural, np.ceil(natural * rng.uniform(3, 6, n)))
    query = np.repeat(np.arange(n), len(caps))
    cap = np.tile(np.asarray(caps, dtype=float), n)
    cut = length[query] > cap
    return SyntheticRollouts(
        tau=tau, beta=1.0 / width, p=p, query=query, cap=cap, tokens=np.minimum(length[query], cap), cut=cut,
        correct=knows[query] & ~cut,
    ), knows, natural

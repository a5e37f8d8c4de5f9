"""A task for a real small model: repeat a list of common words, graded by a rule.

Each prompt asks the model to repeat ``N`` common words in order; the reply is
correct when it contains the ``N`` words in that order (other words between them
are allowed, case is ignored). A correct reply takes about ``2 N`` tokens (a word
and a comma each), so the threshold grows with ``N``, and a small model fails more
often the longer the list: a stream of queries with real thresholds, real
hopeless queries and an exact grader, cheap enough to run on a laptop CPU.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .._checks import as_integer_at_least, as_nonnegative_integer

COMMON_WORDS: tuple[str, ...] = tuple(
    """apple river chair garden window pencil yellow orange basket candle mirror rabbit button jacket silver
    forest bottle castle dragon engine farmer guitar hammer island kitten ladder market needle ocean pepper
    rocket saddle tiger violin wagon zebra anchor bridge carpet desert feather glove honey iron jungle lemon
    magnet nest onion parrot queen spoon tunnel umbrella valley wheel yogurt cheese cloud drum eagle flower
    grape horse kettle lamp monkey paper ring sugar table tomato train water winter summer coffee doctor
    camera butter cookie circle dinner finger friend""".split()
)
PROMPT = "Repeat this list of words, in the same order: {words}"
_WORD = re.compile(r"[a-z]+")


@dataclass(frozen=True, eq=False)
class ListRepeatTask:
    """Prompts that ask for a list of words back, with what a correct reply must contain.

    Attributes
    ----------
    ids : tuple of str
        ``"list-<seed>-<index>"``.
    texts : tuple of str
        The prompts.
    words : tuple of tuple of str
        The words of each prompt, in order.
    seed : int
    """

    ids: tuple[str, ...]
    texts: tuple[str, ...]
    words: tuple[tuple[str, ...], ...]
    seed: int

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def sizes(self) -> np.ndarray:
        """``N``, the number of words, per prompt."""
        return np.array([len(w) for w in self.words], dtype=np.int64)

    def is_correct(self, index: int, reply: str | None) -> bool:
        """Whether ``reply`` repeats prompt ``index``'s words in order (see :func:`repeats_in_order`)."""
        return repeats_in_order(self.words[index], reply)

    def subset(self, indices: range | list[int]) -> ListRepeatTask:
        """The prompts at ``indices``, in that order."""
        pick = list(indices)
        return ListRepeatTask(
            tuple(self.ids[i] for i in pick), tuple(self.texts[i] for i in pick),
            tuple(self.words[i] for i in pick), self.seed,
        )


def repeats_in_order(words: Sequence[str], reply: str | None) -> bool:
    """True when the lower-cased words of ``reply`` contain ``words`` as a subsequence."""
    tokens = iter(_WORD.findall((reply or "").lower()))
    return all(word in tokens for word in words)


def make_list_repeat_task(n: int, *, seed: int = 0, smallest: int = 2, largest: int = 20) -> ListRepeatTask:
    """``n`` list-repetition prompts with ``smallest`` to ``largest`` words, each size equally often.

    Parameters
    ----------
    n : int
        Number of prompts (>= 0).
    seed : int
        Seed of the sizes' order and the words; the same arguments give the same task.
    smallest, largest : int
        Range of ``N`` (``1 <= smallest <= largest <= len(COMMON_WORDS)``).

    Returns
    -------
    ListRepeatTask
        Sizes cycle through ``smallest..largest`` and are then shuffled; each prompt's
        words are drawn without replacement from :data:`COMMON_WORDS`.
    """
    as_nonnegative_integer("n", n)
    as_nonnegative_integer("seed", seed)
    as_integer_at_least("smallest", smallest, 1)
    if not smallest <= largest <= len(COMMON_WORDS):
        raise ValueError(f"`largest` must be in [{smallest}, {len(COMMON_WORDS)}], got {largest!r}")
    rng = np.random.default_rng(seed)
    sizes = rng.permutation(smallest + np.arange(n) % (largest - smallest + 1))
    words = tuple(tuple(str(w) for w in rng.choice(COMMON_WORDS, size=int(k), replace=False)) for k in sizes)
    texts = tuple(PROMPT.format(words=", ".join(w)) for w in words)
    ids = tuple(f"list-{seed}-{i:04d}" for i in range(n))
    return ListRepeatTask(ids, texts, words, int(seed))

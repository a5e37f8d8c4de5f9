"""The list-repetition task: reproducible prompts, every size equally often, a grader that reads replies as a user would."""

import numpy as np
import pytest

from clear_fast.workloads import make_list_repeat_task, repeats_in_order
from clear_fast.workloads.list_repeat import COMMON_WORDS, PROMPT


def test_the_same_seed_gives_the_same_prompts_and_every_size_equally_often():
    task = make_list_repeat_task(57, seed=3)
    again = make_list_repeat_task(57, seed=3)
    assert task.texts == again.texts and task.ids[0] == "list-3-0000" and len(task) == 57
    assert make_list_repeat_task(57, seed=4).texts != task.texts
    counts = np.bincount(task.sizes, minlength=21)[2:]
    assert counts.tolist() == [3] * 19
    for text, words in zip(task.texts, task.words):
        assert text == PROMPT.format(words=", ".join(words))
        assert len(set(words)) == len(words) and set(words) <= set(COMMON_WORDS)
    small = task.subset([5, 1])
    assert small.texts == (task.texts[5], task.texts[1]) and small.words[1] == task.words[1]


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Apple, River, chair", True),
        ("The list is: apple, river, chair.", True),
        ("apple river and then a chair", True),
        ("apple, chair, river", False),
        ("apple, river", False),
        ("apples, river, chair", False),
        ("", False),
        (None, False),
    ],
)
def test_the_grader_wants_the_words_in_order(reply, expected):
    assert repeats_in_order(("apple", "river", "chair"), reply) is expected


def test_bad_task_arguments_are_refused():
    with pytest.raises(ValueError, match="`largest` must be in"):
        make_list_repeat_task(5, smallest=4, largest=3)
    with pytest.raises(ValueError, match="`n` must be"):
        make_list_repeat_task(-1)

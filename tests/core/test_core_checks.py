"""The argument checks of clear_fast._checks: what they accept, what they return, their exact messages."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import numpy as np
import pytest

from clear_fast._checks import (
    as_index,
    as_integer,
    as_integer_at_least,
    as_nonnegative_integer,
    as_nonnegative_number,
    as_number_at_least,
    as_positive_integer,
    as_positive_number,
    as_positive_tokens,
    require_choice,
    require_instance,
    require_number,
)
from clear_fast.curves import SurgeCurves


@pytest.mark.parametrize(
    ("check", "args", "value", "expected"),
    [
        (as_nonnegative_number, ("sigma",), 0, 0.0),
        (as_nonnegative_number, ("sigma",), np.float32(0.5), 0.5),
        (as_nonnegative_number, ("sigma",), Fraction(1, 4), 0.25),
        (as_positive_number, ("ridge",), np.int64(3), 3.0),
        (as_number_at_least, ("max_tokens", 1), math.inf, math.inf),
        (as_number_at_least, ("max_tokens", 1), 1, 1.0),
        (as_positive_tokens, ("tau",), np.float64(12.5), 12.5),
        (as_integer, ("seed",), np.int32(-4), -4),
        (as_nonnegative_integer, ("seed",), np.uint8(7), 7),
        (as_index, ("query", 3), 2, 2),
        (as_integer_at_least, ("nodes", 1), np.int64(1), 1),
        (as_positive_integer, ("max_evaluations",), 5, 5),
    ],
)
def test_accepted_values_come_back_as_plain_python_numbers(check, args, value, expected) -> None:
    got = check(args[0], value, *args[1:])
    assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(
    ("check", "args", "value", "error", "message"),
    [
        (as_nonnegative_number, ("sigma",), -0.1, ValueError, "`sigma` must be a finite number >= 0, got -0.1"),
        (as_nonnegative_number, ("spread",), math.nan, ValueError, "`spread` must be a finite number >= 0, got nan"),
        (as_nonnegative_number, ("price",), True, ValueError, "`price` must be a finite number >= 0, got True"),
        (as_nonnegative_number, ("price",), "0.5", ValueError, "`price` must be a finite number >= 0, got '0.5'"),
        (as_positive_number, ("ridge",), 0, ValueError, "`ridge` must be a finite number > 0, got 0"),
        (as_positive_number, ("spread",), math.inf, ValueError, "`spread` must be a finite number > 0, got inf"),
        (as_number_at_least, ("max_tokens", 1), 0.5, ValueError, "`max_tokens` must be a number >= 1, got 0.5"),
        (as_number_at_least, ("max_tokens", 1), math.nan, ValueError, "`max_tokens` must be a number >= 1, got nan"),
        (as_positive_tokens, ("tau",), "400", TypeError, "`tau` must be a number of tokens, got '400'"),
        (as_positive_tokens, ("tau",), -3, ValueError, "`tau` must be a finite number of tokens > 0, got -3"),
        (require_number, ("tau",), None, TypeError, "`tau` must be a number, got None"),
        (require_number, ("tau",), False, TypeError, "`tau` must be a number, got False"),
        (as_integer, ("seed",), 1.0, TypeError, "`seed` must be an integer, got 1.0"),
        (as_integer, ("seed",), True, TypeError, "`seed` must be an integer, got True"),
        (as_nonnegative_integer, ("seed",), -1, ValueError, "`seed` must be >= 0, got -1"),
        (as_nonnegative_integer, ("n",), "3", TypeError, "`n` must be an integer, got '3'"),
        (as_index, ("query", 1), 1, ValueError, "`query` must be in [0, 1), got 1"),
        (as_index, ("query", 4), -1, ValueError, "`query` must be in [0, 4), got -1"),
        (as_index, ("query", 4), 0.0, TypeError, "`query` must be an integer, got 0.0"),
        (as_integer_at_least, ("size", 0), -2, ValueError, "`size` must be an integer >= 0, got -2"),
        (as_integer_at_least, ("levels", 2), 2.0, ValueError, "`levels` must be an integer >= 2, got 2.0"),
        (as_integer_at_least, ("neighbours", 1), True, ValueError, "`neighbours` must be an integer >= 1, got True"),
        (as_positive_integer, ("max_evaluations",), 0, ValueError, "`max_evaluations` must be a positive integer, got 0"),
    ],
)
def test_refused_values_get_a_message_naming_the_argument_and_the_value(check, args, value, error, message) -> None:
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        check(args[0], value, *args[1:])


def test_the_message_shows_the_value_as_the_caller_gave_it() -> None:
    # a numpy scalar is shown as itself, not as the float it was converted to
    with pytest.raises(ValueError, match=re.escape(f"got {np.float64(-2.0)!r}")):
        as_positive_number("spread", np.float64(-2.0))


def test_require_instance_returns_the_object_itself() -> None:
    curves = SurgeCurves(100.0, 0.01, 0.01)
    assert require_instance("curves", curves, SurgeCurves) is curves
    with pytest.raises(TypeError, match=re.escape("`curves` must be a SurgeCurves, got list")):
        require_instance("curves", [curves], SurgeCurves)


def test_require_choice_lists_the_choices_as_given() -> None:
    assert require_choice("form", "surge", ("surge", "cumulative")) == "surge"
    with pytest.raises(ValueError, match=re.escape("`form` must be one of ('surge', 'cumulative'), got 'Surge'")):
        require_choice("form", "Surge", ("surge", "cumulative"))
    with pytest.raises(ValueError, match=re.escape("`name` must be one of ['A', 'B'], got ['A']")):
        require_choice("name", ["A"], ["A", "B"])

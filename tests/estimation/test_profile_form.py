"""A loaded model profile carries its curve form, so curves can be built from it directly."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

import clear_fast as cf


@pytest.fixture()
def profile_path(standard_fit, tmp_path):
    _data, result = standard_fit
    path = tmp_path / "model.json"
    result.save(path)
    return path


def test_surge_curves_built_from_a_loaded_profile(standard_fit, profile_path):
    _data, fitted = standard_fit
    profile = cf.load_profile(profile_path)
    assert profile.form == "cumulative" == json.loads(profile_path.read_text())["form"]
    curves = cf.SurgeCurves(profile.tau, profile.alpha, profile.beta, form=profile.form)
    assert curves.form == "cumulative"
    # the same curves the profile builds itself, and the fit they came from
    expected = fitted.curves()
    for name in ("tau", "beta"):
        np.testing.assert_array_equal(getattr(curves, name), getattr(expected, name))
    np.testing.assert_allclose(curves.alpha, expected.alpha, rtol=1e-12)
    budget = 300 * len(curves)
    assert cf.allocate(curves, budget).utility == pytest.approx(cf.allocate(expected, budget).utility, rel=1e-12)


def test_the_profile_form_is_the_default_of_its_curves(profile_path):
    data = json.loads(profile_path.read_text())
    data["form"] = "surge"
    profile_path.write_text(json.dumps(data))
    profile = cf.load_profile(profile_path)
    assert profile.form == "surge" and profile.curves().form == "surge"
    assert profile.curves(form="cumulative").form == "cumulative"
    assert json.loads(json.dumps(profile.to_dict()))["form"] == "surge"


def test_a_profile_without_a_form_reads_as_cumulative_and_an_unknown_form_is_refused(profile_path):
    data = json.loads(profile_path.read_text())
    del data["form"]
    assert cf.FitResult.from_dict(data).form == "cumulative"
    data["form"] = "linear"
    with pytest.raises(ValueError, match=re.escape("`form` must be one of ('surge', 'cumulative'), got 'linear'")):
        cf.FitResult.from_dict(data)

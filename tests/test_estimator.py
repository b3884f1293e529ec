"""Every background model keeps scikit-learn's estimator contract (bgcore.models.estimator)."""

import inspect
import json

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from bgcore.models import METHODS, BackgroundModel, MedianBackground, Param, RPCABackground, SVDBackground
from conftest import bgcore


@pytest.fixture(scope="module")
def frames():
    """Ten small noisy grey-ish frames: enough to fit every method in a moment."""
    rng = np.random.default_rng(0)
    return (100 + 10 * rng.standard_normal((10, 24, 32, 3))).astype(np.float32)


def test_the_repr_shows_the_parameters_set():
    assert repr(SVDBackground(rank=3, solver="exact")) == "SVDBackground(rank=3, solver='exact')"
    assert repr(RPCABackground(lam=0.01, max_iter=5)) == "RPCABackground(lam=0.01, max_iter=5)"
    assert repr(SVDBackground()) == "SVDBackground()" and repr(MedianBackground()) == "MedianBackground()"


@pytest.mark.parametrize("method", list(METHODS))
def test_parameters_are_the_constructor_arguments_under_the_same_names(method):
    cls = METHODS[method]
    arguments = [name for name in inspect.signature(cls).parameters]
    model = cls()
    assert list(model.get_params()) == arguments
    # What the app and the command line offer is a parameter of the model.
    assert {param.name for param in cls.params} <= set(arguments)
    assert clone(model).get_params() == model.get_params()


def test_set_params_round_trip_and_refit(frames):
    model = SVDBackground()
    assert model.set_params(rank=2, solver="exact") is model
    assert model.get_params() == {"rank": 2, "solver": "exact", "random_state": 0}
    assert SVDBackground(**model.get_params()).get_params() == model.get_params()
    assert clone(model).get_params() == model.get_params() and repr(clone(model)) == repr(model)
    model.fit(frames)
    assert model.set_params(rank=1).fit(frames).rank == 1
    with pytest.raises(ValueError, match="rnak: not a parameter of SVDBackground"):
        model.set_params(rank=3, rnak=2)
    assert model.rank == 1  # nothing set when one name is wrong


@pytest.mark.parametrize("method", list(METHODS))
def test_a_model_used_before_fit_says_so(method, frames):
    model = METHODS[method]()
    name = type(model).__name__
    for use in (model.difference, model.background):
        with pytest.raises(NotFittedError, match=f"This {name} is not fitted yet .*call fit"):
            use(frames[0])
    assert not hasattr(model, "background_")  # NotFittedError is an AttributeError
    model.fit(frames)
    assert model.difference(frames[0]).shape == frames.shape[1:3]
    with pytest.raises(AttributeError) as error:
        model.backgound_  # noqa: B018, a misspelling once fitted is not "not fitted"
    assert not isinstance(error.value, NotFittedError)


@pytest.mark.parametrize("method", list(METHODS))
def test_fit_accepts_what_the_parameter_table_declares_and_nothing_else(method, frames):
    """One table of constraints (``params``): the defaults and the ends of each range fit; just
    outside a range, a wrong kind or an unknown choice is a ValueError naming the parameter."""
    cls = METHODS[method]
    for param in cls.params:
        default = cls().get_params()[param.name]
        assert param.allows(default), f"{method}.{param.name}: its default {default!r} is not allowed"
        if param.low is None:
            bad = ["nope", 1.5] if param.kind == "value" else ["nope", -1]
        else:
            bad = [param.high * 2 + 1, param.low - 1, float("nan")] + ([param.low + 0.5] if param.whole else [])
        for value in bad:
            with pytest.raises(ValueError, match=f"^{param.name}=.*: use "):
                cls(**{param.name: value}).fit(frames)
        if param.low is not None and param.name not in ("rank",):  # rank is bounded by the frames too
            for value in (param.low, param.high):
                cls(**{param.name: value}).fit(frames[:4] if param.name == "max_iter" else frames)


def test_a_new_method_is_one_class_and_one_registry_entry(clip_path, tmp_path, monkeypatch):
    """A method written against BackgroundModel, once in METHODS, runs from the command line, with
    its parameter checked from its table, and is offered by the app (which reads METHODS)."""
    class DarkestBackground(BackgroundModel):
        name, label = "darkest", "Bright things passing"
        params = (Param("percentile", "Percentile", "Darker than most frames.", low=0, high=50),)

        def __init__(self, *, percentile: int = 10):
            self.percentile = percentile

        def _fit(self, frames, progress):
            self.background_ = np.percentile(frames, self.percentile, axis=0).astype(np.float32)

    monkeypatch.setitem(METHODS, "darkest", DarkestBackground)
    out = tmp_path / "out"
    assert bgcore(clip_path, "--out", out, "--method", "darkest", "--percentile", "20", "--end", "2",
                  check=True).returncode == 0
    assert json.loads((out / "report.json").read_text())["method"] == "darkest"
    result = bgcore(clip_path, "--out", out, "--method", "darkest", "--percentile", "90")
    assert result.returncode == 2 and "--percentile=90: use a whole number from 0 to 50" in result.stderr
    assert repr(DarkestBackground(percentile=5)) == "DarkestBackground(percentile=5)"

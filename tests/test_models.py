import tracemalloc

import numpy as np
import pytest

from bgcore.masks import to_working
from bgcore.metrics import evaluate
from bgcore.models import METHODS, MedianBackground, SVDBackground
from bgcore.synthetic import make_clip


def working(clip):
    return np.stack([to_working(frame, measure="rgb") for frame in clip.frames])


def f_measure(model, clip, frames):
    pairs = ((model.mask(f), m.astype(np.uint8) * 255) for f, m in zip(frames, clip.masks))
    return evaluate(pairs)["f_measure"]


@pytest.fixture(scope="module")
def frames(clip):
    return working(clip)


@pytest.fixture(scope="module")
def contract_clip():
    """A smaller clip (160x120, 100 frames), so that the slow methods stay quick."""
    return make_clip(width=160, height=120, frames=100, seed=1)


@pytest.fixture(scope="module")
def true_background(contract_clip):
    """The clip's true background as a photo: the clean picture the reference method assumes."""
    return contract_clip.backgrounds[0].round().astype(np.uint8)


COMPARATORS = {"mog2": 0.8, "knn": 0.8}
"""OpenCV's online models keep adapting, so objects that linger fade into their background:
their own figures, not the 0.9 of the methods that model a static scene."""


@pytest.mark.parametrize("method", list(METHODS))
def test_every_method_finds_the_background_and_the_objects(method, contract_clip, true_background):
    frames = working(contract_clip)
    params = {"reference_image": true_background} if method == "reference" else {}
    model = METHODS[method](**params).fit(frames)
    assert model.background_.shape == (120, 160, 3) and model.background_.dtype == np.float32
    error = np.abs(model.background_ - contract_clip.backgrounds.mean(axis=0)).mean()
    assert error < 5, f"{method}: background off by {error:.1f} grey levels on average"
    assert f_measure(model, contract_clip, frames) >= COMPARATORS.get(method, 0.9)
    assert METHODS[method].summary and all(p.help for p in METHODS[method].params)


def test_every_svd_solver_gives_the_exact_background(frames):
    sample = frames[::3]
    exact = SVDBackground(solver="exact").fit(sample)
    assert len(exact.singular_values_) == len(sample)
    fast = SVDBackground(solver="randomized").fit(sample)
    assert np.abs(fast.background_ - exact.background_).max() < 1.0
    assert np.allclose(fast.singular_values_[:3], exact.singular_values_[:3], rtol=1e-3)
    snapshots = SVDBackground(solver="auto", rank=3).fit(sample)
    assert np.abs(snapshots.background_ - SVDBackground(solver="exact", rank=3).fit(sample).background_).max() < 0.01
    assert np.allclose(snapshots.singular_values_, exact.singular_values_[:10], rtol=1e-4)
    assert np.abs(snapshots.components_[:3] - exact.components_[:3]).max() < 1e-3


@pytest.mark.parametrize("solver", ["auto", "randomized", "exact"])
def test_svd_fits_frames_as_decoded_as_it_fits_them_in_float(frames, solver):
    sample = np.rint(frames[::3]).astype(np.uint8)
    as_float = SVDBackground(solver=solver, rank=2).fit(sample.astype(np.float32))
    as_decoded = SVDBackground(solver=solver, rank=2).fit(sample)
    assert np.abs(as_decoded.background_ - as_float.background_).max() < 0.01
    assert np.allclose(as_decoded.singular_values_, as_float.singular_values_, rtol=1e-4)
    assert as_decoded.total_energy_ == pytest.approx(as_float.total_energy_, rel=1e-6)
    assert as_decoded.noise_ == as_float.noise_


def test_median_fits_frames_as_decoded_as_it_fits_them_in_float(frames):
    sample = np.rint(frames[::3]).astype(np.uint8)
    as_float = MedianBackground().fit(sample.astype(np.float32))
    as_decoded = MedianBackground().fit(sample)
    assert np.array_equal(as_decoded.background_, as_float.background_)
    assert as_decoded.background_.dtype == np.float32 and as_decoded.noise_ == as_float.noise_


def test_svd_fits_a_long_clip_as_decoded_without_a_float_copy():
    sample = make_clip(width=64, height=48, frames=1200, seed=2).frames  # the randomized SVD's length
    as_float = SVDBackground().fit(sample.astype(np.float32))
    tracemalloc.start()
    as_decoded = SVDBackground().fit(sample)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < sample.nbytes, f"{peak / 2**20:.1f} MB beside a {sample.nbytes / 2**20:.1f} MB sample"
    assert np.abs(as_decoded.background_ - as_float.background_).max() < 0.01


def test_svd_exposes_spectrum_components_and_weights(frames):
    model = SVDBackground(rank=2).fit(frames)
    assert model.singular_values_.shape == (10,)
    assert np.all(np.diff(model.singular_values_) <= 0)
    assert model.components_.shape == (10, 240, 320, 3)
    assert model.weights_.shape == (10, len(frames))
    # Rank 1 of a static scene: the first component is the background, up to scale.
    first = model.components_[0].ravel()
    cosine = first @ model.background_.ravel() / np.linalg.norm(first) / np.linalg.norm(model.background_)
    assert cosine > 0.999


@pytest.mark.parametrize("solver, tolerance", [("exact", 0.01), ("auto", 0.01), ("randomized", 0.5)])
def test_svd_background_of_a_sample_frame_is_its_column_of_the_low_rank_matrix(frames, solver, tolerance):
    model = SVDBackground(rank=3, solver=solver).fit(frames[::2])
    t = 17
    low_rank = np.einsum("k,kp,k->p", model.singular_values_[:3],
                         model.components_[:3].reshape(3, -1), model.weights_[:3, t])
    assert np.abs(model.background(frames[::2][t]).ravel() - low_rank).max() < tolerance


def test_two_backgrounds_in_one_video_need_rank_two():
    clip = make_clip(second_scene=True, frames=120, seed=4)
    frames = working(clip)
    one, two = SVDBackground(rank=1).fit(frames), SVDBackground(rank=2).fit(frames)
    for t in (10, 100):  # one frame in each scene
        true = clip.backgrounds[t]
        err_one = np.abs(one.background(frames[t]) - true)[~clip.masks[t]].mean()
        err_two = np.abs(two.background(frames[t]) - true)[~clip.masks[t]].mean()
        assert err_two < 6 < err_one, (t, err_one, err_two)
    # 0.85 and more under the former automatic threshold (8x svd's own residual); 8x the noise
    # around the pixels' modes is lower and svd's projection residual then shows (0.78): known,
    # see issue 10's note.
    assert f_measure(two, clip, frames) >= 0.75 > f_measure(one, clip, frames)


def test_svd_rank_two_follows_a_lighting_drift():
    clip = make_clip(drift=0.15, frames=120, seed=2)
    frames = working(clip)
    assert f_measure(SVDBackground(rank=2).fit(frames), clip, frames) > 0.9


def test_bad_parameters_are_named():
    frames = np.zeros((5, 4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="rank"):
        SVDBackground(rank=0).fit(frames)
    with pytest.raises(ValueError, match="solver"):
        SVDBackground(solver="magic").fit(frames)
    with pytest.raises(ValueError, match="at least 2"):
        MedianBackground().fit(frames[:1])
    with pytest.raises(ValueError, match="shape"):
        MedianBackground().fit(np.zeros((5, 4, 4), np.float32))

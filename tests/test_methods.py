"""Method-specific behaviour of rpca, kmeans, reference and the OpenCV comparators."""

import cv2
import numpy as np
import pytest

from bgcore.masks import GREY_WEIGHTS, threshold_mask, to_working
from bgcore.metrics import evaluate
from bgcore.models import (KMeansBackground, ModeBackground, MOG2Background, ReferenceBackground, RPCABackground,
                           rpca)
from bgcore.models.reference import SEED_THRESHOLDS
from bgcore.pipeline import fit_clip
from bgcore.video import read_image
from conftest import phone_photo, room


def test_rpca_recovers_a_planted_low_rank_plus_sparse_matrix():
    rng = np.random.default_rng(0)
    count, side = 60, 24
    # Rank 2: a plate and a slowly changing light.
    low_rank = (rng.uniform(50, 200, (side * side, 2)) @ rng.uniform(0.5, 1.0, (2, count))).T
    sparse = np.where(rng.random(low_rank.shape) < 0.05, rng.uniform(-100, 100, low_rank.shape), 0)
    frames = (low_rank + sparse).reshape(count, side, side, 1).astype(np.float32)
    model = RPCABackground(rank=2, tol=1e-6, max_iter=200).fit(frames)
    assert model.rank_ == 2 and model.residual_ < 1e-6
    for t in (0, 30, 59):
        recovered = model.background(frames[t]).ravel()
        assert np.abs(recovered - low_rank[t]).max() < 0.5
        planted = sparse[t] != 0
        assert np.abs(model.difference(frames[t]).ravel()[planted] - np.abs(sparse[t][planted])).max() < 0.5


def test_rpca_pursued_on_a_coarse_grid_keeps_every_pixel_of_the_background(monkeypatch):
    """A sample over PURSUIT_VALUES is pursued on every 2nd pixel of every 2nd row; the
    background still has the detail of single pixels, and no ghost of what moved."""
    rng = np.random.default_rng(2)
    count, height, width = 40, 48, 64
    plate = rng.uniform(40, 220, (height, width, 3)).astype(np.float32)  # texture a pixel wide
    frames = plate + rng.normal(0, 2, (count, height, width, 3)).astype(np.float32)
    truth = np.zeros((count, height, width), bool)
    for t in range(count):  # a 12x12 square crossing the picture
        left = 2 + t * (width - 16) // count
        truth[t, 18:30, left:left + 12] = True
    frames[truth] = 255
    shapes = []
    pursuit = RPCABackground._pursuit
    monkeypatch.setattr(rpca, "PURSUIT_VALUES", count * height * width * 3 // 4)
    monkeypatch.setattr(RPCABackground, "_pursuit",
                        lambda self, matrix, progress: shapes.append(matrix.shape) or pursuit(self, matrix, progress))
    model = RPCABackground().fit(frames)
    assert shapes == [((height // 2) * (width // 2) * 3, count)]
    for t in (0, 20, 39):
        error = np.abs(model.background(frames[t]) - plate)
        assert np.percentile(error, 99) < 3 and error.max() < 10
        assert np.array_equal(model.difference(frames[t]) > model.auto_threshold_, truth[t])


def test_the_modes_progress_reaches_1_once_its_threshold_is_set(monkeypatch):
    """The mode's lowering of its threshold takes a fifth of its fit: the page said 100 % meanwhile."""
    frames = np.random.default_rng(1).uniform(0, 255, (20, 24, 32, 3)).astype(np.float32)
    seen, lower = [], ModeBackground._auto_threshold
    monkeypatch.setattr(ModeBackground, "_auto_threshold",
                        lambda self, frames: seen.append("threshold") or lower(self, frames))
    ModeBackground().fit(frames, progress=seen.append)
    before, after = seen[:seen.index("threshold")], seen[seen.index("threshold") + 1:]
    assert before == sorted(before) and 0 < max(before) < 1 and after == [1.0]


def test_rpca_reports_progress_and_names_bad_parameters():
    frames = np.random.default_rng(1).uniform(0, 255, (8, 6, 6, 1)).astype(np.float32)
    seen = []
    RPCABackground(max_iter=3).fit(frames, progress=seen.append)
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen) and len(seen) >= 2
    for name, value in (("rank", 0), ("max_iter", 0), ("tol", 2), ("lam", -1)):
        with pytest.raises(ValueError, match=name):
            RPCABackground(**{name: value}).fit(frames)


def series(levels, count=90, noise=2.0, seed=0):
    """Frames (count, 1, 80, 3): pixels 0-19 cycle through ``levels`` (grey values), the others
    stay at ``levels[0]``, as most of a real scene does (the noise level is measured on them).
    Periodic: fit on every frame (max_frames=None), every n-th would alias."""
    rng = np.random.default_rng(seed)
    frames = np.full((count, 1, 80, 3), levels[0], np.float32)
    frames[:, :, :20] = np.array(levels, np.float32)[np.arange(count) % len(levels), None, None, None]
    return frames + rng.normal(0, noise, frames.shape).astype(np.float32)


def test_kmeans_auto_picks_one_cluster_for_a_still_pixel_two_for_two_levels_and_more_for_three():
    two = KMeansBackground(max_frames=None).fit(series([100, 100, 200]))
    assert (two.k_[:, :20] == 2).all() and (two.k_[:, 20:] == 1).all()
    assert np.abs(two.background_ - 100).max() < 3
    three = KMeansBackground(max_frames=None).fit(series([60, 60, 60, 130, 130, 210]))
    assert (three.k_[:, :20] == 3).all() and (three.k_[:, 20:] == 1).all()
    assert np.abs(three.background_ - 60).max() < 3
    # A still pixel's background is its median, not the median of one half of its noise.
    still = series([80], count=91)
    assert np.array_equal(KMeansBackground(max_frames=None).fit(still).background_, np.median(still, axis=0))
    error = {k: np.abs(KMeansBackground(k=k, max_frames=None).fit(still).background_ - 80).mean()
             for k in ("auto", 2)}
    assert error["auto"] < error[2] / 2, error


def test_kmeans_two_clusters_are_the_seeds_even_where_only_the_colour_differs():
    """k=2 (the best split of a pixel's luma, then Lloyd's iterations in colour) against the
    seed's scikit-learn fit a pixel: the same background, also where the second colour has the
    background's brightness (a luma split alone would cut the noise in halves)."""
    from sklearn.cluster import KMeans

    rng = np.random.default_rng(0)
    grey, red, white = np.array([[100, 100, 100], [160, 70, 100], [230, 230, 230]], np.float32)
    count, pixels = 90, 40
    frames = np.empty((count, 1, pixels, 3), np.float32)
    for i, share in enumerate(np.linspace(0.05, 0.45, pixels)):
        other = red if i % 2 else white  # red has grey's luma (100.3)
        frames[:, 0, i] = np.where(rng.random((count, 1)) < share, other, grey)
    frames += rng.normal(0, 2, frames.shape).astype(np.float32)
    model = KMeansBackground(k=2, max_frames=None).fit(frames)
    seed = []
    for values in frames[:, 0].transpose(1, 0, 2):
        labels = KMeans(n_clusters=2, n_init=1, random_state=0).fit(values).labels_
        seed.append(np.median(values[labels == np.bincount(labels).argmax()], axis=0))
    assert np.abs(model.background_[0] - seed).max() < 0.01
    assert np.abs(model.background_ - grey).max() < 2 and (model.k_ == 2).all()


def test_kmeans_fixed_k_is_deterministic_and_checked():
    frames = series([60, 130, 130, 210], seed=3)
    first = KMeansBackground(k=3, max_frames=None, random_state=7).fit(frames)
    again = KMeansBackground(k=3, max_frames=None, random_state=7).fit(frames)
    assert np.array_equal(first.background_, again.background_) and (first.k_ == 3).all()
    assert np.abs(first.background_[:, :20] - 130).max() < 3
    with pytest.raises(ValueError, match="k="):
        KMeansBackground(k=7).fit(frames)
    with pytest.raises(ValueError, match="max_frames"):
        KMeansBackground(max_frames=1).fit(frames)


@pytest.fixture(scope="module")
def small(clip):
    return np.stack([to_working(frame, measure="rgb") for frame in clip.frames[:60]])


def test_kmeans_on_a_third_of_the_frames_finds_the_same_background(small):
    every = KMeansBackground(max_frames=None).fit(small)
    third = KMeansBackground(max_frames=20).fit(small)
    assert np.abs(third.background_ - every.background_).mean() < 1


def test_reference_auto_takes_the_frame_closest_to_the_median_and_fills_in_what_moves(small):
    model = ReferenceBackground().fit(small)
    median = np.median(small, axis=0)
    distances = np.abs(small - median).mean(axis=(1, 2, 3))
    assert model.reference_ == distances.argmin()
    kept = np.abs(model.background_ - small[model.reference_]).max(axis=2) == 0
    assert kept.mean() > 0.9
    assert np.array_equal(model.background_[~kept], median[~kept])
    # Someone stands still in the most typical frame: not a ghost in every mask.
    frames = small.copy()
    frames[model.reference_] = median
    frames[model.reference_, 100:140, 150:170] = 255
    planted = ReferenceBackground().fit(frames)
    assert planted.reference_ == model.reference_ and planted.patched_ >= 40 * 20
    assert np.abs(planted.background_[100:140, 150:170] - median[100:140, 150:170]).max() < 10
    assert np.array_equal(ReferenceBackground(reference=model.reference_).fit(frames).background_,
                          frames[model.reference_])


def test_reference_image_is_resized_and_used(clip, small, tmp_path):
    path = tmp_path / "empty.png"
    big = cv2.resize(clip.backgrounds[0], (640, 480), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(path), cv2.cvtColor(np.clip(big, 0, 255).round().astype(np.uint8), cv2.COLOR_RGB2BGR))
    picture = read_image(path)
    model = ReferenceBackground(reference_image=picture).fit(small)
    assert model.background_.shape == (240, 320, 3)
    assert np.abs(model.background_ - clip.backgrounds[0]).mean() < 1.5
    grey = ReferenceBackground(reference_image=picture).fit((small @ GREY_WEIGHTS)[..., None])
    assert grey.background_.shape == (240, 320, 1)
    with pytest.raises(ValueError, match=r"reference_image=PosixPath.*: use a picture \(H, W, 3\)"):
        ReferenceBackground(reference_image=path).fit(small)  # models take arrays; fit_clip reads files
    with pytest.raises(ValueError, match="reference="):
        ReferenceBackground(reference=60).fit(small)


def test_a_photo_of_the_empty_scene_is_lined_up_with_the_clip():
    """A phone's photo shows more than the clip (a crop of it here), turned a little, in another
    light: it is warped onto the clip's view, and its colours brought to the clip's."""
    rng = np.random.default_rng(1)
    scene = room(rng)
    frames = np.repeat(scene[None].astype(np.float32), 30, axis=0)
    for t, frame in enumerate(frames):  # someone crossing
        cv2.circle(frame, (40 + 8 * t, 120), 25, (250.0, 40.0, 200.0), -1)
    frames += rng.normal(0, 2, frames.shape).astype(np.float32)
    view = (slice(20, 200), slice(12, 302))  # a 290x180 clip of the 320x240 scene
    model = ReferenceBackground(reference_image=phone_photo(scene)).fit(frames[:, view[0], view[1]])
    assert model.background_.shape == (180, 290, 3) and model.patched_ == 0  # the photo covers the view
    assert np.median(np.abs(model.background_ - scene[view])) < 3
    found = model.mask(frames[10, view[0], view[1]])
    person = np.zeros((240, 320), np.uint8)
    assert evaluate([(found, cv2.circle(person, (120, 120), 25, 255, -1)[view])])["f_measure"] > 0.85
    # Only resized, as before, it was many grey levels off.
    resized = cv2.resize(phone_photo(scene), (290, 180), interpolation=cv2.INTER_AREA)
    assert np.median(np.abs(resized - scene[view])) > 10
    # A photo of another place says so.
    elsewhere = rng.integers(0, 256, (300, 500, 3), np.uint8)
    with pytest.raises(ValueError, match="does not match the clip's view"):
        ReferenceBackground(reference_image=elsewhere).fit(frames)
    # One taken upright, of a wide clip, covers a part of its view: the advice is to turn the phone.
    upright = phone_photo(scene)[:, 200:560]
    with pytest.raises(ValueError, match=r"shows only \d+% of the clip's view: hold the phone on its side"):
        ReferenceBackground(reference_image=upright).fit(frames)


def test_reference_with_the_seed_thresholds_is_the_seed_mask(small):
    """The blog's steps on uint8 BGR images, against the model with the seed's preset."""
    model = ReferenceBackground(reference=0, channel_threshold=SEED_THRESHOLDS["channel_threshold"]).fit(small)
    reference, frame = (cv2.cvtColor(f.astype(np.uint8), cv2.COLOR_RGB2BGR) for f in (small[0], small[30]))
    diff = cv2.subtract(frame, reference) + cv2.subtract(reference, frame)
    diff[abs(diff) < 13.0] = 0
    gray = cv2.cvtColor(diff.astype(np.uint8), cv2.COLOR_BGR2GRAY)
    gray[np.abs(gray) < 10] = 0
    seed = gray > 0
    # The seed rounds its grey to whole levels; ours stays float: only ties at 9.5..10 differ.
    ours = threshold_mask(model.difference(small[30]), SEED_THRESHOLDS["threshold"] - 0.5)
    assert np.mean(ours == seed) > 0.999


def test_a_reference_frame_number_of_the_clip_is_added_to_the_sample(clip, clip_path):
    fitted = fit_clip(clip_path, method="reference", params={"reference": 7}, fps=1)
    # 1 fps keeps frames 0, 15, 30...; frame number 7 of that selection is decoded frame 105.
    assert fitted.indices[7] == 105
    frame = next(iter(__import__("bgcore").read_frames(clip_path, [105])))
    assert np.array_equal(fitted.model.background_, to_working(frame, measure="rgb"))
    with pytest.raises(ValueError, match="reference=10"):
        fit_clip(clip_path, method="reference", params={"reference": 10}, fps=1)


def test_opencv_frozen_model_answers_the_same_for_a_frame_whatever_came_before(small):
    model = MOG2Background(learning_rate=0).fit(small)
    first = model.difference(small[10])
    for frame in small[::-1]:
        model.difference(frame)
    assert np.array_equal(first, model.difference(small[10]))
    assert set(np.unique(first)) <= {0, 255} and model.noise_ == 0
    assert model.background_.shape == (240, 320, 3)

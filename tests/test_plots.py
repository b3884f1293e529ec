"""The data behind the app's charts, and the cost estimate, against what is known exactly."""

import subprocess
import sys

import numpy as np
import pytest

import bgcore
from bgcore import plots
from bgcore.composite import checkerboard
from bgcore.estimate import estimate
from bgcore.models import BackgroundModel
from bgcore.synthetic import make_clip


@pytest.fixture(scope="module")
def fitted(clip_path):
    return bgcore.fit_clip(clip_path, method="svd", params={"rank": 1})


def test_frame_views_of_a_frame_match_the_ground_truth(fitted, clip):
    frame = next(bgcore.read_frames(fitted.source, [70]))
    views = plots.frame_views(fitted, frame)
    assert list(views) == ["Original", "Background", "Mask", "Foreground"]
    assert all(view.shape[:2] == (240, 320) and view.dtype == np.uint8 for view in views.values())
    mask = views["Mask"] > 0
    assert np.mean(mask == clip.masks[70]) > 0.98
    assert np.abs(views["Background"][~clip.masks[70]] - clip.backgrounds[70][~clip.masks[70]]).mean() < 4
    assert np.array_equal(views["Foreground"][~mask], checkerboard((320, 240))[~mask])  # dark subjects show
    assert np.array_equal(views["Foreground"][mask], frame[mask])


def test_spectrum_energy_is_a_share_of_the_whole_matrix(fitted):
    spectrum = plots.spectrum(fitted.model, rank=1)
    energy = spectrum["energy"]
    assert np.all(np.diff(energy) >= 0) and 0.9 < energy[0] < energy[-1] < 1
    assert spectrum["energy_at_rank"] == pytest.approx(energy[0])
    assert np.all(np.diff(spectrum["singular_value"]) <= 0)
    assert plots.spectrum(bgcore.METHODS["median"]().fit(np.zeros((3, 4, 4, 1), np.float32) + 1), 1) is None


def test_svd_total_energy_is_the_sum_of_squares(clip):
    frames = clip.frames[:20].astype(np.float32)
    model = bgcore.METHODS["svd"]().fit(frames)
    assert model.total_energy_ == pytest.approx(float(np.square(frames.astype(np.float64)).sum()), rel=1e-4)


def test_two_scenes_show_as_a_step_in_the_second_v_row(tmp_path):
    path = make_clip(frames=60, second_scene=True).write(tmp_path / "two.mp4")
    fitted = bgcore.fit_clip(path, method="svd", params={"rank": 2})
    curves = plots.component_weights(fitted, count=2)
    assert curves["weights"].shape == (60, 2)
    assert curves["seconds"][-1] == pytest.approx(59 / 15)
    second = curves["weights"][:, 1]
    assert np.sign(second[:25]).min() == np.sign(second[:25]).max() != np.sign(second[35:]).max()
    assert len(plots.component_images(fitted.model, 3)) == 3


def test_difference_histogram_marks_the_share_above_the_threshold():
    values = np.concatenate([np.full(900, 2.0), np.full(100, 80.0)])
    histogram = plots.difference_histogram(values, 30.0, bins=10)
    assert histogram["count"].sum() == 1000 and histogram["foreground_share"] == pytest.approx(0.1)
    assert histogram["right"][-1] >= 80


class _Clustered(BackgroundModel):
    name = "clustered"

    def _fit(self, frames, progress):
        self.background_ = frames.mean(axis=0)
        self.k_ = 3
        self.cluster_sizes_ = np.array([50, 30, 20])
        self.reference_ = frames[0]
        self.centres_ = np.zeros((4, 5, 3, 3))
        self.ready_ = True


def test_model_details_show_what_a_model_learned_without_knowing_it():
    model = _Clustered().fit(np.random.default_rng(0).uniform(0, 255, (4, 5, 6, 3)).astype(np.float32))
    details = {detail.title: detail for detail in plots.model_details(model)}
    assert set(details) == {"K", "Cluster sizes", "Reference"}
    assert details["K"].value == 3 and details["Cluster sizes"].kind == "bars"
    assert details["Reference"].kind == "image" and details["Reference"].value.dtype == np.uint8


def test_estimate_follows_the_choices():
    info = bgcore.VideoInfo(640, 360, 30.0, 900)
    whole, trimmed = estimate(info), estimate(info, start=10, end=20, fps=10)
    assert (whole.frames, trimmed.frames) == (900, 100)
    # The working size is rounded to whole pixels, so the budget holds to within a percent.
    assert whole.memory <= 1.01 * bgcore.pipeline.SAMPLE_BUDGET and trimmed.seconds < whole.seconds
    # The frames a lower rate leaves out are decoded all the same: half the frames, more than half the time.
    half = estimate(info, fps=15)
    assert half.frames == 450 and whole.export_seconds / 2 < half.export_seconds < whole.export_seconds
    # So are those before a trim's start: the clip's last second costs more than its first.
    first, last = estimate(info, end=1), estimate(info, start=29)
    assert first.frames == last.frames == 30 and last.export_seconds > 2 * first.export_seconds
    # ...unless the trim is far in, read from a seek: the last 30 s of a 10-minute 1080p clip.
    hd = bgcore.VideoInfo(1920, 1080, 30.0, 18000)
    first, last = estimate(hd, end=30), estimate(hd, start=570)
    assert last.seconds < 1.2 * first.seconds
    small = estimate(info, scale=0.5)
    # Every 5th frame of 900 keeps the sample at 180 frames, under the 200 cap.
    assert (small.scale, small.sample_frames) == (0.5, 180)
    # The default method fits colour frames as decoded (uint8), k-means as float32.
    assert small.memory == 180 * 180 * 320 * 3
    assert estimate(info, scale=0.5, method="kmeans").memory == 180 * 180 * 320 * 3 * 4
    # Each method at its own measured rates: robust PCA is the slowest, the median the quickest.
    seconds = {method: estimate(info, method=method).seconds for method in bgcore.METHODS}
    assert max(seconds, key=seconds.get) == "rpca" and min(seconds, key=seconds.get) == "median"


def test_estimate_trims_by_the_frames_own_times():
    """A trim of a clip whose rate varies keeps the frames the fit keeps (their own times), where
    the average rate found 1 frame and the estimate refused a fit that works."""
    info = bgcore.VideoInfo(160, 120, 8.7, 120)  # 60 frames at 30 fps, then 60 at 5 fps
    times = np.concatenate([np.arange(60) / 30, 2 + np.arange(60) / 5])
    assert estimate(info, start=1.0, end=1.1, times=times).frames == 3
    with pytest.raises(bgcore.VideoError, match="only 1 frame"):
        estimate(info, start=1.0, end=1.1)
    assert estimate(info, times=times).seconds == estimate(info).seconds  # untrimmed: the same frames


def test_the_new_modules_do_not_import_streamlit():
    code = "import sys, bgcore.plots, bgcore.files, bgcore.estimate; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)

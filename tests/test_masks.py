from dataclasses import replace

import numpy as np
import pytest
from scipy import ndimage

from bgcore.masks import (Exposure, MaskOptions, clean_mask, covered, difference, grow, noise_level,
                          shadows, threshold_mask, to_working, working_size)

OFF = MaskOptions(opening=0, closing=0, fill_holes=False, trim_outline=False, min_area=0)


def test_to_working_grey_and_rgb():
    frame = np.zeros((4, 6, 3), np.uint8)
    frame[..., 1] = 100
    assert to_working(frame, measure="grey").shape == (4, 6, 1)
    assert to_working(frame, measure="grey")[0, 0, 0] == pytest.approx(58.7)
    assert to_working(frame, measure="rgb").dtype == np.float32
    assert to_working(frame, measure="rgb", scale=0.5).shape == (2, 3, 3)
    with pytest.raises(ValueError, match="measure"):
        to_working(frame, measure="hsv")


def test_a_whole_factor_leaves_out_the_last_columns_and_grows_back_in_place():
    assert working_size((1280, 720), 1 / 3) == (426, 240) and covered((1280, 720), (426, 240)) == (1278, 720)
    assert working_size((1280, 720), 0.37) == (474, 266) and covered((1280, 720), (474, 266)) == (1280, 720)
    assert covered((1280, 720), (1280, 720)) == (1280, 720)
    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[:, 601:1279] = 200  # an edge, and a last column of another colour, left out
    working = to_working(frame, measure="grey", scale=1 / 3)
    assert working.shape == (240, 426, 1) and working[0, -1, 0] > 150
    mask = grow((working[..., 0] > 100).astype(np.uint8) * 255, (1280, 720)) > 127
    assert mask.shape == (720, 1280) and mask[:, -2:].all()  # the last kept column, repeated
    assert abs(np.argmax(mask[0]) - 601) <= 1


def test_difference_grey_and_rgb_share_one_scale():
    base = np.zeros((1, 1, 3), np.float32)
    assert difference(base + 30, base)[0, 0] == pytest.approx(30)  # same change in every channel
    assert difference(base[..., :1] + 30, base[..., :1])[0, 0] == pytest.approx(30)
    assert difference(base + [30, 0, 0], base)[0, 0] == pytest.approx(30 / np.sqrt(3))


def test_noise_level_of_gaussian_differences():
    rng = np.random.default_rng(0)
    diffs = np.abs(rng.normal(0, 5, 100_000))
    diffs[:3000] = 200  # 3 % foreground hardly moves the estimate
    assert noise_level(diffs) == pytest.approx(5, rel=0.05)


def test_auto_threshold_is_the_models_unless_a_number_is_given():
    assert MaskOptions().resolve_threshold(32.5) == 32.5
    assert MaskOptions(threshold=40).resolve_threshold(4.0) == 40
    with pytest.raises(ValueError, match="threshold"):
        MaskOptions(threshold=300)
    with pytest.raises(ValueError, match="min_area"):
        MaskOptions(min_area=-1)


def test_cleanup_removes_specks_fills_holes_drops_small_blobs():
    diff = np.zeros((60, 80), np.float32)
    diff[10:40, 10:40] = 100
    diff[20:25, 20:25] = 0        # a hole inside the object
    diff[50, 70] = 100            # a single-pixel speck
    diff[45:50, 50:55] = 100      # a 25-pixel blob, under min_area=30
    raw = threshold_mask(diff, 10)
    assert np.array_equal(raw, diff > 10)
    mask = clean_mask(raw, diff, MaskOptions(opening=1, closing=0, min_area=30))
    assert mask.dtype == bool
    assert mask[22, 22] and mask[10:40, 12:38].all()
    assert not mask[50, 70] and not mask[45:50, 50:55].any()
    assert np.array_equal(clean_mask(raw, diff, OFF), raw)


def test_fill_holes_matches_scipy():
    rng = np.random.default_rng(3)
    for _ in range(20):
        mask = rng.random((40, 50)) < 0.5
        filled = clean_mask(mask, mask.astype(np.float32), replace(OFF, fill_holes=True))
        assert np.array_equal(filled, ndimage.binary_fill_holes(mask))


def test_outline_pixels_an_object_barely_covers_are_trimmed():
    diff = np.zeros((40, 40), np.float32)
    diff[10:30, 10:30] = 100   # an object...
    diff[9, 10:30] = 20        # ...a halo row it covers a fifth of...
    diff[30, 10:30] = 60       # ...and an edge row it covers more than half of
    mask = clean_mask(diff > 10, diff, replace(OFF, trim_outline=True))
    assert not mask[9].any() and mask[30, 12:28].all() and mask[10:30, 10:30].all()


def test_hysteresis_keeps_faint_parts_of_strong_regions_only():
    diff = np.zeros((40, 40), np.float32)
    diff[5:15, 5:15] = 12   # faint square...
    diff[8, 8] = 30         # ...with one strong pixel: kept whole
    diff[25:35, 25:35] = 12  # faint square alone: dropped
    mask = threshold_mask(diff, 20, weak=10)
    assert mask[5:15, 5:15].all() and not mask[25:35, 25:35].any()
    assert threshold_mask(diff, 20).sum() == 1
    per_pixel = np.full(diff.shape, 10.0)
    per_pixel[5:15, 10:15] = 20  # a right half that may not join: left out
    mask = threshold_mask(diff, 20, weak=per_pixel)
    assert mask[5:15, 5:10].all() and not mask[5:15, 10:15].any()


def test_shadows_darken_evenly_without_changing_hue():
    rng = np.random.default_rng(0)
    background = rng.uniform(80, 200, (30, 30, 3)).astype(np.float32)
    shadow = background * 0.6                       # the same surface, in shade
    dark_object = np.full_like(background, 40.0)    # a flat dark grey thing over it
    cast, shade = shadows(shadow, background)
    assert cast.mean() > 0.95 and shade.mean() > 0.95
    cast, shade = shadows(dark_object, background)
    assert cast.mean() < 0.05
    uneven = background * rng.uniform(0.35, 0.95, (30, 30, 1)).astype(np.float32)  # dappled shade
    cast, shade = shadows(uneven, background)
    assert cast.mean() < 0.3 and shade.mean() > 0.95
    assert not shadows(background * 1.2, background)[1].any()  # brighter is never shade


def test_closing_joins_parts_only_across_pixels_that_differ_a_little():
    """Two halves of a person 3 pixels apart: a closing of 4 joins them over clothes that differ
    from the wall by more than ``least``, not over the wall itself."""
    mask = np.zeros((40, 40), bool)
    mask[5:35, 5:18] = mask[5:35, 21:34] = True
    options = MaskOptions(opening=0, closing=4, fill_holes=False, trim_outline=False, min_area=0)
    for gap, least, joined in [(12.0, 10.0, True), (6.0, 10.0, False), (6.0, 0.0, True)]:
        diff = np.where(mask, 100.0, gap).astype(np.float32)
        diff[:, :3] = diff[:, 37:] = 0  # the wall beyond the person
        cleaned = clean_mask(mask, diff, options, least=least)
        assert cleaned[20, 18:21].all() == joined, (gap, least)
        assert not cleaned[:, :3].any() and np.array_equal(cleaned[mask], mask[mask])


def test_clean_up_and_shadows_around_the_mask_give_what_the_whole_frame_gives():
    """Both work on the part of the frame around the mask's pixels (the clean-up, once opened);
    blobs at the frame's edges and options of every reach included."""
    import cv2
    from bgcore.masks import _clean, _disk
    rng = np.random.default_rng(5)
    for trial in range(200):
        height, width = rng.integers(20, 100, 2)
        mask = rng.random((height, width)) < rng.choice([0.002, 0.02, 0.1])
        mask[:, :2] |= trial % 3 == 0 and rng.random((height, 2)) < 0.5
        mask = cv2.dilate(mask.astype(np.uint8), np.ones((3, 3), np.uint8), iterations=trial % 3).astype(bool)
        diff = (rng.random((height, width)) * 50 + mask * 30).astype(np.float32)
        options = MaskOptions(opening=trial % 4, closing=trial % 6, fill_holes=trial % 2 == 0,
                              trim_outline=trial % 5 < 3, min_area=trial % 40)
        opened = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, _disk(options.opening)) if options.opening else mask
        least = trial % 3 * 20.0
        assert np.array_equal(clean_mask(mask, diff, options, least=least),
                              _clean(opened.astype(np.uint8), diff, options, least))
        background = rng.uniform(60, 200, (height, width, 3)).astype(np.float32)
        frame = background * rng.uniform(0.55, 0.85, (height, width, 1)).astype(np.float32)  # texture near the limit
        assert all(np.array_equal(near, whole & mask) for near, whole in
                   zip(shadows(frame, background, mask), shadows(frame, background)))
    # A ratio on a limit: a luma made by BLAS for the part rounded a row's last pixels otherwise.
    background = rng.uniform(60, 200, (4, 40, 3)).astype(np.float32)
    frame = (background + 1) * np.float32(0.95) - 1
    among = np.zeros((4, 40), bool)
    among[:, 3:36] = True
    assert np.array_equal(shadows(frame, background, among)[0], shadows(frame, background)[0] & among)


def test_exposure_is_the_ratio_the_background_shares_however_much_foreground():
    rng = np.random.default_rng(0)
    background = rng.uniform(40, 200, (120, 160, 3)).astype(np.float32)
    exposure = Exposure.of(background)
    frame = background * np.float32([1.12, 1.10, 1.06]) + rng.normal(0, 2, background.shape).astype(np.float32)
    frame[:, :96] = rng.uniform(0, 255, (120, 96, 3))  # foreground over 60 % of the frame
    assert np.allclose(exposure.gains(frame), [1.12, 1.10, 1.06], atol=0.005)
    # White balance: blue warmed, red and green as they were.
    warmer = background * np.float32([1, 1, 1.1]) + rng.normal(0, 2, background.shape).astype(np.float32)
    assert np.allclose(exposure.gains(warmer), [1, 1, 1.1], atol=0.005)
    # The same exposure with noise: nothing to correct.
    assert exposure.gains(background + rng.normal(0, 3, background.shape).astype(np.float32)) is None


def test_a_large_object_of_one_colour_before_a_plain_wall_is_no_change_of_exposure():
    rng = np.random.default_rng(1)
    wall, frame = (np.full((120, 160, 3), 120, np.float32) + rng.normal(0, 2, (120, 160, 3)).astype(np.float32)
                   for _ in range(2))
    frame[:, :96] += 30  # a shirt over 60 % of the frame: its ratio to the wall is the commonest
    assert Exposure.of(wall).gains(frame) is None
    assert Exposure.of(wall, unchanged=None).gains(frame) is not None  # what the test guards against
    assert np.allclose(Exposure.of(wall).gains(frame * 1.25), 1.25, atol=0.01)

"""Per-pixel k-means over time, after "Video Background Extraction Using K-means"
(``../shared/seeds/003_*.txt``): each pixel's colours over the frames are clustered, the largest
cluster is the background, and its median is the background colour. Vectorized: Lloyd's
algorithm runs on a chunk of pixels at once, not one scikit-learn fit per pixel; each pixel's
series lies in a row (``(p, C, T)``), so sorts and sums run along contiguous memory.
"""

from __future__ import annotations

import cv2
import numpy as np

from .. import masks
from .base import BackgroundModel, Param
from .median import temporal_median

KS = (2, 3, 4, 5, 6)
CHUNK = 512
"""Pixels clustered at once: their series (CHUNK x 3 x frames floats, 1.2 MB at 199 frames) stay
in the processor's cache through the chunk's dozen passes (1024 is as fast, 2048 slower)."""
OUTLIER_DISTANCE = 4.0
"""k="auto": a frame is unexplained when it lies this many noise levels from its centre..."""
OUTLIER_SHARE = 0.05
"""...and a pixel needs more clusters while more than this share of its frames is unexplained."""


class KMeansBackground(BackgroundModel):
    """The largest of k clusters of each pixel's colours over time is its background.

    k : 2..6 or "auto", default "auto"
        Clusters a pixel. "auto" picks k for each pixel: the smallest k whose clusters leave at
        most 5 % of the pixel's frames farther than 4 noise levels (the clip's robust noise
        level) from their cluster's centre (from the median for k = 1). A pixel nothing crosses
        gets 1: its median, where two clusters would split its noise in halves and take the
        median of one half, a noise level off (on bmc-video003 and the road clip, two thirds
        of the pixels; skipping them makes the fit 3 times faster). A pixel that shows the
        background and passing objects gets 2 (the seed's choice); one that also switches
        between lighting levels, or is crossed by objects of several colours, gets more (the
        seed's future work).
    max_frames : int or None, default 60
        Frames clustered at most: every n-th frame of the sample (a view, no copy). A pixel's
        clusters need a few dozen values, not hundreds: on bmc-video003, 50 frames give the same
        F-measure as 199 (0.878) in a sixth of the time. None clusters every frame.
    max_iter : int, default 20
        Lloyd iterations at most (they stop earlier once nothing moves).
    random_state : int
        Seed of the k-means++ initialisation (Arthur and Vassilvitskii 2007), per pixel, for
        k >= 3. k = 2 needs none: it starts from the best split of the pixel's brightness.

    Attributes after ``fit``: ``k_`` (H, W) int, the k used at each pixel; ``share_`` (H, W),
    the share of frames in the background cluster.
    """

    name = "kmeans"
    fit_pixels_per_s, apply_pixels_per_s = 34e6, 70e6
    label = "Light that flickers"
    technical = "Per-pixel k-means over time (seed 003): the largest cluster's median"
    summary = ("Sorts each spot's colours over time into a few groups; the biggest is the "
               "background. For light that switches between a few levels.")
    params = (
        Param("k", "Clusters (k)", "How many colour groups per pixel: 2 for steady light, more for "
              "changing light; auto picks per pixel.", choices=("auto", *KS)),
        Param("max_frames", "Frames clustered", "At most this many frames, evenly spaced; None: all.",
              choices=(None,), low=2, high=10_000, shown=False),
        Param("max_iter", "Iterations", "Lloyd iterations at most.", low=1, high=1000, shown=False),
    )

    def __init__(self, *, k="auto", max_frames: int | None = 60, max_iter: int = 20, random_state: int = 0):
        self.k = k
        self.max_frames = max_frames
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, frames, progress):
        if self.max_frames is not None:
            frames = frames[::-(-len(frames) // self.max_frames)]
        count, height, width, channels = frames.shape
        pixels = frames.reshape(count, -1, channels)
        rng = np.random.default_rng(self.random_state)
        chosen = np.ones(height * width, np.int8)
        share = np.ones(height * width, np.float32)
        if self.k == "auto":
            median = temporal_median(frames)
            noise = self._difference_noise(frames, lambda frame: masks.weighted_difference(frame, median))
            background = median.reshape(-1, channels).copy()
            # k = 1: a pixel whose frames all but a few lie near its median has no second colour.
            far = sum(masks.weighted_difference(frame, median) > OUTLIER_DISTANCE * noise
                      for frame in frames)
            todo = np.flatnonzero(far.ravel() > OUTLIER_SHARE * count)
        else:  # a fixed k needs neither the median nor the noise level
            noise, todo = None, np.arange(height * width)
            background = np.empty((height * width, channels), np.float32)
        for start in range(0, len(todo), CHUNK):
            part = todo[start:start + CHUNK]
            # A run of pixels is a view (no copy); a scattered set is gathered.
            block = pixels[:, part[0]:part[-1] + 1] if part[-1] - part[0] == len(part) - 1 else pixels[:, part]
            values = cv2.transpose(block.reshape(count, -1)).reshape(len(part), channels, count)
            background[part], chosen[part], share[part] = self._fit_chunk(values, noise, rng)
            progress(min(1.0, (start + CHUNK) / len(todo)))
        self.background_ = background.reshape(height, width, channels)
        self.k_ = chosen.reshape(height, width)
        self.share_ = share.reshape(height, width)

    def _fit_chunk(self, values, noise, rng):
        """values (p, C, T), a pixel's series in a row: each pixel's background (p, C), its k (p,)
        and background share (p,)."""
        todo = np.arange(len(values))
        background = np.empty(values.shape[:2], np.float32)
        chosen = np.empty(len(values), np.int8)
        share = np.empty(len(values), np.float32)
        for k in KS if self.k == "auto" else (self.k,):
            if k == 2:
                labels, centres = _two_means(values, self.max_iter)
            else:
                labels, centres = _lloyd(values, k, rng, self.max_iter)
            done = np.ones(len(todo), bool)
            if self.k == "auto" and k < KS[-1]:
                nearest = np.take_along_axis(centres.transpose(0, 2, 1), labels[:, None], 2)
                # The seed's weighted difference of each frame to its centre.
                distance = np.matmul(_weights(values.shape[1]), np.abs(values - nearest))
                done = np.mean(distance > OUTLIER_DISTANCE * noise, axis=1) <= OUTLIER_SHARE
            ones = np.ones(values.shape[2], np.float32)
            sizes = np.stack([(labels == j) @ ones for j in range(k)], axis=1)
            largest = sizes.argmax(axis=1)
            if done.any():
                member = labels[done] == largest[done, None]
                # The median of the largest cluster, not its mean: robust to stray frames (the seed).
                background[todo[done]] = _member_median(values[done], member)
                chosen[todo[done]] = k
                share[todo[done]] = sizes.max(axis=1)[done] / values.shape[2]
            todo, values = todo[~done], values[~done]
            if not len(todo):
                break
        return background, chosen, share

    def difference(self, frame):
        """The seed's weighted RGB absolute difference (H, W) to the background plate."""
        return masks.weighted_difference(frame, self.background_)


def _two_means(values, max_iter):
    """2-means of each pixel's series at once, values (p, C, T) float32 -> labels (p, T) int8 and
    centres (p, 2, C). Seeded by the best split of the pixel's luma: its values sorted, the split
    that leaves the least sum of squares about the two means (from running sums). Lloyd's
    iterations in colour then move the split until no frame changes cluster (a fixed point of
    Lloyd's algorithm, as scikit-learn's KMeans ends on; on bmc-video003, 82 % of the pixels
    keep the seed's split and 98 % settle within 3 iterations; a second colour of the same
    brightness is found too). Deterministic, and 3 times faster than :func:`_lloyd`'s k-means++
    seeding and argmin: with two centres, the nearer is one side of a plane, one product a frame."""
    pixels, _, count = values.shape
    ones = np.ones(count, np.float32)
    brightness = np.matmul(_weights(values.shape[1]), values)
    ordered = np.sort(brightness, axis=1)
    centred = ordered - (ordered @ ones / count)[:, None]
    # Splitting after the i darkest values of a centred series: the between-cluster sum of
    # squares is S_i^2 (1/i + 1/(T-i)), S_i the sum of those values: each row's running sums,
    # the differences of consecutive rows of OpenCV's integral image (5 times faster than cumsum).
    running = cv2.integral(centred[:, :-1], sdepth=cv2.CV_64F)[:, 1:]
    score = np.subtract(running[1:], running[:-1], out=np.empty(centred[:, 1:].shape, np.float32))
    score *= score
    score *= 1 / np.arange(1, count, dtype=np.float32) + 1 / np.arange(count - 1, 0, -1, dtype=np.float32)
    upper = brightness > ordered[np.arange(pixels), score.argmax(axis=1)][:, None]
    total = values @ ones
    active = np.arange(pixels)  # pixels whose split still moves: few after the first pass
    part, was = values, upper
    centres = np.empty((pixels, 2, values.shape[1]), np.float32)
    for _ in range(max_iter):
        flags = was.astype(np.float32)
        size = (flags @ ones)[:, None]
        high = np.matmul(part, flags[..., None])[..., 0]
        low = (total[active] - high) / np.maximum(count - size, 1)
        high /= np.maximum(size, 1)
        centres[active] = np.stack([low, high], axis=1)
        # Nearer the upper centre: x.(high - low) > (|high|^2 - |low|^2) / 2.
        bound = ((high * high).sum(axis=1) - (low * low).sum(axis=1)) / 2
        now = np.matmul((high - low)[:, None], part)[:, 0] > bound[:, None]
        moved = (now != was).any(axis=1)
        upper[active] = now
        active = active[moved]
        if not len(active):
            break
        part, was = part[moved], now[moved]
    return upper.view(np.int8), centres


def _lloyd(values, k, rng, max_iter):
    """k-means of each pixel's series at once. values (p, C, T) float32 ->
    labels (p, T) int and centres (p, k, C), k-means++ seeding per pixel."""
    pixels, _, count = values.shape
    rows = np.arange(pixels)
    centres = np.empty((pixels, k, values.shape[1]), np.float32)
    centres[:, 0] = values[rows, :, rng.integers(0, count, pixels)]
    nearest = _squared(values - centres[:, 0, :, None])
    for j in range(1, k):
        # k-means++: the next centre is a frame drawn with probability proportional to D^2.
        cumulative = np.cumsum(nearest, axis=1)
        draw = rng.random(pixels) * cumulative[:, -1]
        pick = np.argmax(cumulative >= draw[:, None], axis=1)  # the first frame past the draw
        centres[:, j] = values[rows, :, pick]
        nearest = np.minimum(nearest, _squared(values - centres[:, j, :, None]))
    labels = np.empty((pixels, count), np.intp)
    active = rows  # pixels whose centres still move: most settle in 2 or 3 iterations
    for _ in range(max_iter):
        part, centre = values[active], centres[active]
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 does not change the nearest centre. Batched
        # matrix products are about 8 times faster here than the broadcast differences.
        distances = (centre * centre).sum(axis=2)[..., None] - 2 * np.matmul(centre, part)
        labels[active] = distances.argmin(axis=1)
        members = (labels[active][:, None] == np.arange(k)[:, None]).astype(np.float32)
        sizes = members @ np.ones(count, np.float32)  # 20 times faster than .sum(axis=2)
        sums = np.matmul(members, part.transpose(0, 2, 1))
        # An empty cluster keeps its centre.
        moved = np.where(sizes[..., None] > 0, sums / np.maximum(sizes, 1)[..., None], centre)
        centres[active] = moved
        active = active[np.abs(moved - centre).max(axis=(1, 2)) > 0.01]
        if not len(active):
            break
    return labels, centres


def _weights(channels):
    """Luma weights of ``channels`` colour channels: the seed's weighted difference."""
    return masks.GREY_WEIGHTS if channels == 3 else np.ones(channels, np.float32)


def _squared(delta):
    """|delta|^2 over axis 1 of (p, C, T): (p, T)."""
    return np.matmul(np.ones(delta.shape[1], delta.dtype), delta * delta)


def _member_median(values, member):
    """Per pixel and channel, the median of the frames where ``member`` (p, T) is true, of
    values (p, C, T): each channel sorted with the others pushed past every value (the largest
    float32 added), then the middle of the members. The same as ``np.nanmedian`` on NaN-masked
    values, 5 times faster (and 1.5 times faster than ``np.where`` with infinity, whose
    broadcast over the channels is slow: cv2.add a channel at a time)."""
    outside = (~member).astype(np.float32)
    size = values.shape[2] - outside @ np.ones(values.shape[2], np.float32)
    outside *= np.finfo(np.float32).max
    rows = np.arange(len(values))
    low, high = ((size - 1) // 2).astype(np.intp), (size // 2).astype(np.intp)
    median = np.empty(values.shape[:2], np.float32)
    for channel in range(values.shape[1]):
        ordered = np.sort(cv2.add(values[:, channel], outside), axis=1)
        median[:, channel] = (ordered[rows, low] + ordered[rows, high]) / 2
    return median

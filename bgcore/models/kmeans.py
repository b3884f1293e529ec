"""Per-pixel k-means over time, after "Video Background Extraction Using K-means"
(``../shared/seeds/003_*.txt``): each pixel's colours over the frames are clustered, the largest
cluster is the background, and its median is the background colour. Vectorized: Lloyd's
algorithm runs on a chunk of pixels at once, not one scikit-learn fit per pixel.
"""

from __future__ import annotations

import numpy as np

from .. import masks
from .base import BackgroundModel, Param
from .median import temporal_median

KS = (2, 3, 4, 5, 6)
CHUNK = 4096
"""Pixels clustered at once: the distance array is CHUNK x frames x k floats."""
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
        Lloyd iterations at most (they stop earlier once no centre moves).
    random_state : int
        Seed of the k-means++ initialisation (Arthur and Vassilvitskii 2007), per pixel.

    Attributes after ``fit``: ``k_`` (H, W) int, the k used at each pixel; ``share_`` (H, W),
    the share of frames in the background cluster.
    """

    name = "kmeans"
    fit_pixels_per_s, apply_pixels_per_s = 7.5e6, 15e6
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
        median = temporal_median(frames)
        noise = self._difference_noise(frames, lambda frame: masks.weighted_difference(frame, median))
        rng = np.random.default_rng(self.random_state)
        background = median.reshape(-1, channels).copy()
        chosen = np.ones(height * width, np.int8)
        share = np.ones(height * width, np.float32)
        todo = np.arange(height * width)
        if self.k == "auto":
            # k = 1: a pixel whose frames all but a few lie near its median has no second colour.
            far = sum(masks.weighted_difference(frame, median) > OUTLIER_DISTANCE * noise
                      for frame in frames)
            todo = np.flatnonzero(far.ravel() > OUTLIER_SHARE * count)
        for start in range(0, len(todo), CHUNK):
            part = todo[start:start + CHUNK]
            background[part], chosen[part], share[part] = self._fit_chunk(
                pixels[:, part].transpose(1, 0, 2).copy(), noise, rng)
            progress(min(1.0, (start + CHUNK) / len(todo)))
        progress(1.0)
        self.background_ = background.reshape(height, width, channels)
        self.k_ = chosen.reshape(height, width)
        self.share_ = share.reshape(height, width)

    def _fit_chunk(self, values, noise, rng):
        """values (p, T, C): each pixel's background (p, C), its k (p,) and background share (p,)."""
        todo = np.arange(len(values))
        background = np.empty((len(values), values.shape[2]), np.float32)
        chosen = np.empty(len(values), np.int8)
        share = np.empty(len(values), np.float32)
        for k in KS if self.k == "auto" else (self.k,):
            subset = values[todo]
            labels, centres = _lloyd(subset, k, rng, self.max_iter)
            distance = masks.weighted_difference(subset, np.take_along_axis(centres, labels[..., None], 1))
            explained = np.mean(distance > OUTLIER_DISTANCE * noise, axis=1) <= OUTLIER_SHARE
            done = explained if self.k == "auto" and k < KS[-1] else np.ones(len(todo), bool)
            sizes = np.stack([np.count_nonzero(labels == j, axis=1) for j in range(k)], axis=1)
            largest = sizes.argmax(axis=1)
            member = labels == largest[:, None]
            # The median of the largest cluster, not its mean: robust to stray frames (the seed).
            background[todo[done]] = _member_median(subset[done], member[done])
            chosen[todo[done]] = k
            share[todo[done]] = sizes[done, largest[done]] / subset.shape[1]
            todo = todo[~done]
            if not len(todo):
                break
        return background, chosen, share

    def difference(self, frame):
        """The seed's weighted RGB absolute difference (H, W) to the background plate."""
        return masks.weighted_difference(frame, self.background_)


def _lloyd(values, k, rng, max_iter):
    """k-means of each pixel's series at once. values (p, T, C) float32 ->
    labels (p, T) int and centres (p, k, C), k-means++ seeding per pixel."""
    pixels, count, _ = values.shape
    rows = np.arange(pixels)
    centres = np.empty((pixels, k, values.shape[2]), np.float32)
    centres[:, 0] = values[rows, rng.integers(0, count, pixels)]
    nearest = _squared(values - centres[:, :1])
    for j in range(1, k):
        # k-means++: the next centre is a frame drawn with probability proportional to D^2.
        cumulative = np.cumsum(nearest, axis=1)
        draw = rng.random(pixels) * cumulative[:, -1]
        pick = np.argmax(cumulative >= draw[:, None], axis=1)  # the first frame past the draw
        centres[:, j] = values[rows, pick]
        nearest = np.minimum(nearest, _squared(values - centres[:, j:j + 1]))
    labels = np.empty((pixels, count), np.intp)
    active = rows  # pixels whose centres still move: most settle in 2 or 3 iterations
    for _ in range(max_iter):
        part, centre = values[active], centres[active]
        # |x - c|^2 = |x|^2 - 2 x.c + |c|^2; |x|^2 does not change the nearest centre. Batched
        # matrix products are about 8 times faster here than the broadcast differences.
        distances = _squared(centre)[:, None] - 2 * np.matmul(part, centre.transpose(0, 2, 1))
        labels[active] = distances.argmin(axis=2)
        members = (labels[active][..., None] == np.arange(k)).astype(np.float32)
        sizes = np.ones(count, np.float32) @ members  # 20 times faster than .sum(axis=1)
        sums = np.matmul(members.transpose(0, 2, 1), part)
        # An empty cluster keeps its centre.
        moved = np.where(sizes[..., None] > 0, sums / np.maximum(sizes, 1)[..., None], centre)
        centres[active] = moved
        active = active[np.abs(moved - centre).max(axis=(1, 2)) > 0.01]
        if not len(active):
            break
    return labels, centres


def _squared(delta):
    """|delta|^2 over the last axis (a matrix-vector product: NumPy's sum over an axis of 3 is
    several times slower)."""
    return (delta * delta) @ np.ones(delta.shape[-1], delta.dtype)


def _member_median(values, member):
    """Per pixel and channel, the median of the frames where ``member`` (p, T) is true, of
    values (p, T, C). Sorting with the others set to infinity, then picking the middle: the
    same as ``np.nanmedian`` on NaN-masked values, 7 times faster."""
    ordered = np.sort(np.where(member[..., None], values, np.inf), axis=1)
    size = member.sum(axis=1)[:, None, None]
    low = np.take_along_axis(ordered, np.broadcast_to((size - 1) // 2, (len(values), 1, values.shape[2])), 1)
    high = np.take_along_axis(ordered, np.broadcast_to(size // 2, (len(values), 1, values.shape[2])), 1)
    return ((low + high) / 2)[:, 0]

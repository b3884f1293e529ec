"""Robust PCA background: principal component pursuit (Candès, Li, Ma, Wright, "Robust principal
component analysis?", J. ACM 2011) solved by the inexact augmented Lagrangian method (Lin, Chen,
Ma, "The augmented Lagrange multiplier method for exact recovery of corrupted low-rank matrices",
2010), as in the fast.ai follow-up to the seed notebook ``../shared/seeds/000_*.txt``.

The pixels-by-frames matrix M splits into M = L + S, L low-rank (the background) and S sparse
(the foreground), by minimising ||L||_* + lambda ||S||_1 subject to M = L + S.
"""

from __future__ import annotations

import numpy as np

from .base import BackgroundModel, Param

PURSUIT_VALUES = 12 * 2**20
"""Values (frames x pixels x channels) the pursuit works on at most, 48 MB a float32 matrix: a
larger sample is subsampled in space for the pursuit (every 2nd pixel of every 2nd row...), then
its components are taken back to the full working scale in one pass (see ``RPCABackground``).
bmc-video003's 199 x 320x240 go every 2nd pixel; a 1080p clip's 92 x 640x360, every 3rd."""
OVERSAMPLE = 10
"""Extra random directions of the randomized SVD (Halko et al. 2011 suggest 5 to 10)."""
TRIM = 3.0
"""Robust fits leave out what lies farther than this many robust deviations from them."""
SPREAD_STEP = 8
"""Robust statistics and a frame's background weights come from every this-many-th value: as
good, and 8 times cheaper."""
COMPONENTS = 10
"""Components of L kept for display at least (the background uses the first ``rank``)."""
BATCH = 16
"""Frames at a time when the components are taken back to the working scale."""


class RPCABackground(BackgroundModel):
    """Low-rank plus sparse split of the frames by principal component pursuit.

    lam : float or "auto", default "auto"
        Weight of the sparse part; "auto" is the paper's 1 / sqrt(max(pixels, frames)).
    rank : int, default 1
        Leading components of L that form a frame's background (as ``svd``'s rank). L's further
        components hold the sensor noise of the sampled frames, which no other frame shares:
        keeping them all makes sampled frames look cleaner than the rest and the automatic
        threshold too low (on bmc-video003, F 0.89 with rank 1, 0.88 with all 44).
    tol : float, default 1e-2
        Stop when ||M - L - S||_F / ||M||_F falls under it. Lin et al. use 1e-7, but the
        leading components settle long before: on bmc-video003, 1e-2 (13 iterations) and
        1e-3 (19 iterations, rank 44) give the same F-measure.
    max_iter : int, default 50
        Stop after this many iterations whatever the residual.
    random_state : int, seed of the randomized SVD.

    Each iteration thresholds the singular values of a truncated randomized SVD (Halko et al.
    2011), warm-started from the last one, instead of a full SVD: only the singular values
    above 1/mu matter, and their number is predicted from the last iteration as in Lin et al.
    (fast.ai's notebook caps the wrong variable when it limits mu; here mu itself is capped at
    mu_bar).

    A sample of more than ``PURSUIT_VALUES`` values is pursued on every n-th pixel of every n-th
    row (n = 2 for bmc-video003's 199 x 320x240: 4 times less work and memory). L's frame
    weights (its right singular vectors) and S's support (where M - L exceeds ``TRIM`` robust
    deviations) then give the components at the full working scale in one pass over the sample:
    each pixel's values, with those in the foreground replaced by L's, projected on the frame
    weights. The foreground is found on the coarse grid, the background keeps every pixel's
    own detail.

    Attributes after ``fit``: ``rank_`` (rank of L), ``n_iter_``, ``residual_`` (relative
    residual at the end), ``components_`` (n, H, W, C), an orthonormal basis of L's leading
    columns at the working scale, n = min(rank_, max(rank, 10)).
    A frame's background is the point of the span of the first ``rank`` components that best
    fits the frame's background pixels (least squares, iteratively trimmed of outliers), so
    that the foreground, like S, does not pull the background towards itself; sampled and
    unsampled frames get the same treatment.
    Memory: five float32 matrices of at most ``PURSUIT_VALUES`` values, beside the sample.
    """

    name = "rpca"
    # Its fit took about 2 s on any of the shared clips, of 20,000 to 230,000 pixels (escalator,
    # bmc-video003, road-640x360): the iterations cost more than their size.
    fit_seconds, fit_pixels_per_s, apply_pixels_per_s = 1.6, 26e6, 20e6
    label = "Careful: crowds, slower"
    technical = ("Robust PCA (principal component pursuit): a low-rank part, the background, "
                 "plus a sparse part, what moves")
    summary = ("Slower, but people and cars barely leave traces in the background, even in a "
               "busy scene.")
    params = (
        Param("rank", "Rank", "How many components of the low-rank part form the background: 1 "
              "for one static scene, more for changing light.", low=1, high=10),
        Param("max_iter", "Iterations", "At most this many refinement steps; more is slower and "
              "a little cleaner.", low=1, high=200),
        Param("lam", "Sparsity", "Weight of the sparse part; auto: 1 / sqrt(the larger side of the "
              "matrix).", choices=("auto",), low=1e-6, high=100.0, shown=False),
        Param("tol", "Tolerance", "Stop once the residual is under this share of the matrix.",
              low=1e-9, high=0.5, shown=False),
    )

    def __init__(self, *, rank: int = 1, lam="auto", tol: float = 1e-2, max_iter: int = 50,
                 random_state: int = 0):
        self.rank = rank
        self.lam = lam
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, frames, progress):
        count, height, width, channels = frames.shape
        step = 1
        while count * -(-height // step) * -(-width // step) * channels > PURSUIT_VALUES:
            step += 1
        coarse = frames[:, ::step, ::step]
        # Frames as columns: a view of the sample, or its one copy when subsampled.
        matrix = coarse.reshape(count, -1).T
        low_rank, weights = self._pursuit(matrix, lambda fraction: progress(0.9 * fraction))
        low_rank = low_rank.T.reshape(coarse.shape)
        outliers = np.abs(coarse - low_rank)
        spread = 1.4826 * np.median(outliers.reshape(-1)[::SPREAD_STEP]) + 1e-3
        foreground = (outliers > TRIM * spread).any(axis=-1, keepdims=True)
        del outliers
        if step > 1:  # an edge may lie up to step - 1 pixels beyond the grid points that saw it
            foreground = _grow(foreground)
        shown = weights[:, : min(weights.shape[1], max(self.rank, COMPONENTS))]
        self.background_, components = _full_scale(frames, step, low_rank, foreground, shown)
        basis = np.linalg.qr(components.T)[0]
        self.components_ = basis.T.reshape(-1, height, width, channels)
        self._basis = np.ascontiguousarray(basis[:, : self.rank])

    def _pursuit(self, matrix, progress):
        """Inexact ALM (Lin et al. 2010, algorithm 5): returns L (P, T) and its right singular
        vectors (T, rank_), the frame weights of its components."""
        pixels, count = matrix.shape
        lam = 1 / np.sqrt(max(pixels, count)) if self.lam == "auto" else float(self.lam)
        # "or 1": a black sample (all zeros) is its own low-rank part, found in one iteration.
        norm_two = _largest_singular_value(matrix) or 1.0
        norm_fro = float(np.linalg.norm(matrix)) or 1.0
        dual = matrix / max(norm_two, max(matrix.max(), -matrix.min()) / lam)
        mu, rho = 1.25 / norm_two, 1.5
        mu_bar = mu * 1e7
        # Four matrices the size of the pursuit's, updated in place: fresh temporaries at every
        # step cost more (page faults) than the arithmetic.
        low_rank, sparse, work = np.zeros_like(matrix), np.empty_like(matrix), np.empty_like(matrix)
        predicted, start = 10, None
        rng = np.random.default_rng(self.random_state)
        for iteration in range(1, self.max_iter + 1):
            # With D = M + Y/mu - L: S = shrink(D) = D - clip(D), and the SVD's input
            # M + Y/mu - S = L + clip(D).
            np.multiply(dual, 1 / mu, out=work)
            work += matrix
            work -= low_rank
            np.clip(work, -lam / mu, lam / mu, out=sparse)
            work -= sparse
            sparse += low_rank
            sparse, work = work, sparse
            start, kept = _singular_value_threshold(work, 1 / mu, predicted, start, rng, out=low_rank)
            # Lin et al.'s prediction: one more than kept if the last SVD was wide enough,
            # else widen it by 5 % of the frames.
            predicted = min(count, kept + 1 if kept < predicted else kept + max(1, round(0.05 * count)))
            np.subtract(matrix, low_rank, out=work)
            work -= sparse
            self.residual_ = float(np.linalg.norm(work) / norm_fro)
            work *= mu
            dual += work
            mu = min(mu * rho, mu_bar)
            progress(min(1.0, iteration / self.max_iter))
            if self.residual_ < self.tol:
                break
        self.rank_, self.n_iter_ = kept, iteration
        return low_rank, start[:, :kept]

    def background(self, frame):
        """The point of the span of L's first ``rank`` components nearest to the frame's
        background pixels (H, W, C)."""
        basis = self._basis
        if basis.shape[1] == 0:
            return self.background_
        # The weights from every few values: the same fit, several times cheaper.
        some, values = basis[::SPREAD_STEP], frame.reshape(-1)[::SPREAD_STEP]
        weights = np.linalg.lstsq(some, values, rcond=None)[0]
        for _ in range(3):
            residual = np.abs(values - some @ weights)
            inliers = residual < TRIM * (1.4826 * np.median(residual) + 1e-3)
            weights = np.linalg.lstsq(some[inliers], values[inliers], rcond=None)[0]
        return (basis @ weights).reshape(frame.shape)


def _largest_singular_value(matrix, iterations: int = 5) -> float:
    """||matrix||_2 by power iteration: a video's leading value (its mean picture) stands far
    above the next, so a few steps are plenty."""
    v = np.ones(matrix.shape[1], matrix.dtype)
    for _ in range(iterations):
        v = matrix.T @ (matrix @ v)
        v /= np.linalg.norm(v) or 1.0
    return float(np.linalg.norm(matrix @ v))


def _full_scale(frames, step, low_rank, foreground, weights):
    """The frames (T, H, W, C) at full scale without their foreground: each pixel's mean over
    the frames where it shows the background (H, W, C), and the components (n, H*W*C) along the
    frame ``weights`` (T, n) of the frames with their foreground replaced.

    ``foreground`` (T, h, w, 1) and ``low_rank`` (T, h, w, C) are on every ``step``-th pixel. A
    pixel always in the foreground takes L's mean; a foreground pixel takes L's value at the
    nearest grid point, plus how much the pixel's mean differs from that point's (L follows
    the light, the mean has the detail). A few frames at a time.
    """
    count, height, width, channels = frames.shape

    def batches():
        for first in range(0, count, BATCH):
            picked = slice(first, first + BATCH)
            yield picked, frames[picked], _upscale(foreground[picked], step, height, width)

    total = np.zeros(frames.shape[1:], np.float32)
    seen = np.zeros((height, width, 1), np.float32)
    for _, block, covered in batches():
        total += np.where(covered, 0, block).sum(axis=0)
        seen += len(block) - covered.sum(axis=0)
    plate = np.where(seen > 0, total / np.maximum(seen, 1),
                     _upscale(low_rank.mean(axis=0), step, height, width))
    detail = plate - _upscale(plate[::step, ::step], step, height, width)
    components = np.zeros((weights.shape[1], plate.size), np.float32)
    for picked, block, covered in batches():
        filled = np.where(covered, _upscale(low_rank[picked], step, height, width) + detail, block)
        components += weights[picked].T @ filled.reshape(len(block), -1)
    return plate, components


def _grow(mask):
    """A bool mask (T, h, w, 1) grown by one pixel all around (a 3x3 square)."""
    grown = mask.copy()
    grown[:, 1:] |= mask[:, :-1]
    grown[:, :-1] |= mask[:, 1:]
    wide = grown.copy()
    wide[:, :, 1:] |= grown[:, :, :-1]
    wide[:, :, :-1] |= grown[:, :, 1:]
    return wide


def _upscale(image, step, height, width):
    """An image (..., h, w, C) sampled every ``step``-th pixel back to (..., height, width, C),
    nearest neighbour."""
    return image.repeat(step, axis=-3).repeat(step, axis=-2)[..., :height, :width, :]


def _singular_value_threshold(matrix, tau, components, start, rng, *, out):
    """Soft-threshold the singular values of ``matrix`` (P, T) at ``tau``, from a truncated SVD,
    into ``out``.

    The SVD is Halko et al.'s randomized range finder (2011, algorithm 4.1), whose test matrix
    starts from the last iteration's right singular vectors ``start`` (T, r): successive ALM
    iterates share their leading subspace, so the warm start does the work of power iterations
    (with one more, the same F-measures on five clips and a fit a quarter longer). Returns the right singular vectors
    (T, components), to start the next call from, and how many values survived.
    """
    probe = rng.standard_normal((matrix.shape[1], min(components + OVERSAMPLE, matrix.shape[1])),
                                dtype=np.float32)
    if start is not None:
        probe[:, : start.shape[1]] = start[:, : probe.shape[1]]
    basis = np.linalg.qr(matrix @ probe)[0]
    u, s, vt = np.linalg.svd(basis.T @ matrix, full_matrices=False)
    kept = int(np.sum(s[:components] > tau))
    np.matmul((basis @ u[:, :kept]) * (s[:kept] - tau), vt[:kept], out=out)
    return vt[:components].T, kept

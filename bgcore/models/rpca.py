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

OVERSAMPLE = 10
"""Extra random directions of the randomized SVD (Halko et al. 2011 suggest 5 to 10)."""
TRIM = 3.0
"""Robust projection: pixels farther than this many robust deviations from the fit are left out."""


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
    2011 via scikit-learn) instead of a full SVD: only the singular values above 1/mu matter,
    and their number is predicted from the last iteration as in Lin et al. (fast.ai's notebook
    caps the wrong variable when it limits mu; here mu itself is capped at mu_bar).

    Attributes after ``fit``: ``rank_`` (rank of L), ``n_iter_``, ``residual_`` (relative
    residual at the end), ``components_`` (rank_, H, W, C), L's left singular vectors.
    A frame's background is the point of the span of the first ``rank`` components that best
    fits the frame's background pixels (least squares, iteratively trimmed of outliers), so
    that the foreground, like S, does not pull the background towards itself; sampled and
    unsampled frames get the same treatment.
    Memory: four float32 matrices the size of the sample.
    """

    name = "rpca"
    label = "Careful: crowds, slower"
    technical = ("Robust PCA (principal component pursuit): a low-rank part, the background, "
                 "plus a sparse part, what moves")
    summary = ("Slower, but people and cars barely leave traces in the background, even in a "
               "busy scene.")
    params = (
        Param("rank", "Rank", "How many components of the low-rank part form the background: 1 "
              "for one static scene, more for changing light.", low=1, high=10),
        Param("max_iter", "Iterations", "At most this many refinement steps; more is slower and "
              "a little cleaner.", low=5, high=100),
    )

    def __init__(self, *, rank: int = 1, lam="auto", tol: float = 1e-2, max_iter: int = 50,
                 random_state: int = 0):
        self.rank = rank
        self.lam = lam
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def _fit(self, frames, progress):
        if not (isinstance(self.rank, (int, np.integer)) and self.rank >= 1):
            raise ValueError(f"rank={self.rank}: use a whole number of at least 1.")
        if not (isinstance(self.max_iter, (int, np.integer)) and self.max_iter >= 1):
            raise ValueError(f"max_iter={self.max_iter}: use a whole number of at least 1.")
        if not 0 < self.tol < 1:
            raise ValueError(f"tol={self.tol}: use a number between 0 and 1.")
        if self.lam != "auto" and not (isinstance(self.lam, (int, float)) and self.lam > 0):
            raise ValueError(f"lam={self.lam!r}: use a positive number or 'auto'.")
        matrix = frames.reshape(len(frames), -1).T
        low_rank, basis = self._pursuit(matrix, progress)
        self.components_ = basis.T.reshape(-1, *frames.shape[1:])
        self._basis = np.ascontiguousarray(basis[:, : self.rank])
        self.background_ = np.median(low_rank, axis=1).reshape(frames.shape[1:]).astype(np.float32)
        progress(1.0)

    def _pursuit(self, matrix, progress):
        """Inexact ALM (Lin et al. 2010, algorithm 5): returns L (P, T) and an orthonormal
        basis (P, rank) of its columns."""
        # Imported here: scikit-learn takes 1.5 s to import, which `import bgcore` should not pay.
        from sklearn.utils.extmath import randomized_svd

        pixels, count = matrix.shape
        lam = 1 / np.sqrt(max(pixels, count)) if self.lam == "auto" else float(self.lam)
        norm_two = randomized_svd(matrix, 1, n_iter=4, random_state=self.random_state)[1][0]
        norm_fro = np.linalg.norm(matrix)
        dual = matrix / max(norm_two, np.abs(matrix).max() / lam)
        mu, rho = 1.25 / norm_two, 1.5
        mu_bar = mu * 1e7
        # Four matrices the size of the sample, updated in place: fresh 100 MB temporaries at
        # every step cost more (page faults) than the arithmetic.
        low_rank, sparse, work = (np.zeros_like(matrix) for _ in range(3))
        predicted, start = 10, None
        rng = np.random.default_rng(self.random_state)
        for iteration in range(1, self.max_iter + 1):
            np.divide(dual, mu, out=work)
            work += matrix
            work -= low_rank
            _shrink(work, lam / mu, out=sparse)
            np.divide(dual, mu, out=work)
            work += matrix
            work -= sparse
            basis, start = _singular_value_threshold(work, 1 / mu, predicted, start, rng, out=low_rank)
            # Lin et al.'s prediction: one more than kept if the last SVD was wide enough,
            # else widen it by 5 % of the frames.
            kept = basis.shape[1]
            predicted = min(count, kept + 1 if kept < predicted else kept + max(1, round(0.05 * count)))
            np.subtract(matrix, low_rank, out=work)
            work -= sparse
            self.residual_ = float(np.linalg.norm(work) / norm_fro)
            work *= mu
            dual += work
            mu = min(mu * rho, mu_bar)
            progress(min(0.95, iteration / self.max_iter))
            if self.residual_ < self.tol:
                break
        self.rank_, self.n_iter_ = kept, iteration
        return low_rank, basis

    def background(self, frame):
        """The point of the span of L's first ``rank`` components nearest to the frame's
        background pixels (H, W, C)."""
        flat = frame.reshape(-1)
        basis = self._basis
        if basis.shape[1] == 0:
            return self.background_
        weights = basis.T @ flat
        for _ in range(3):
            residual = flat - basis @ weights
            spread = 1.4826 * np.median(np.abs(residual)) + 1e-3
            inliers = np.abs(residual) < TRIM * spread
            weights = np.linalg.lstsq(basis[inliers], flat[inliers], rcond=None)[0]
        return (basis @ weights).reshape(frame.shape)


def _singular_value_threshold(matrix, tau, components, start, rng, *, out):
    """Soft-threshold the singular values of ``matrix`` (P, T) at ``tau``, from a truncated SVD,
    into ``out``.

    The SVD is Halko et al.'s randomized range finder (2011, algorithms 4.3-4.4) with one
    power iteration, whose test matrix starts from the last iteration's right singular vectors
    ``start`` (T, r): successive ALM iterates share their leading subspace, so a warm start is
    as accurate as more power iterations and costs nothing. Returns the left singular vectors
    (P, kept) that survived and the right ones (T, components) for the next call.
    """
    probe = rng.standard_normal((matrix.shape[1], min(components + OVERSAMPLE, matrix.shape[1])),
                                dtype=np.float32)
    if start is not None:
        probe[:, : start.shape[1]] = start[:, : probe.shape[1]]
    basis = np.linalg.qr(matrix @ probe)[0]
    basis = np.linalg.qr(matrix @ (matrix.T @ basis))[0]
    u, s, vt = np.linalg.svd(basis.T @ matrix, full_matrices=False)
    kept = int(np.sum(s[:components] > tau))
    left = basis @ u[:, :kept]
    np.matmul(left * (s[:kept] - tau), vt[:kept], out=out)
    return left, vt[:components].T


def _shrink(matrix, tau, *, out):
    """Soft thresholding, the proximal operator of tau * ||.||_1, into ``out``."""
    np.abs(matrix, out=out)
    out -= tau
    np.maximum(out, 0, out=out)
    np.copysign(out, matrix, out=out)

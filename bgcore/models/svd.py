"""Low-rank SVD background, after the fast.ai notebook "Background Removal with SVD"
(``../shared/seeds/000_*.txt``): frames are the columns of a pixels-by-frames matrix M and the
rank-k approximation L = U_k S_k V_k^T is the background.
"""

from __future__ import annotations

import numpy as np
from sklearn.utils.extmath import randomized_svd

from .base import BackgroundModel, Param

SPECTRUM = 10
"""Components always computed, so the spectrum can be plotted and the rank moved without refitting."""


class SVDBackground(BackgroundModel):
    """Rank-k SVD background.

    rank : int, default 1
        Components that form the background; rank > 1 can hold several backgrounds
        (two scenes one after the other) or slow lighting changes.
    solver : "randomized" (default, Halko et al. 2011 via scikit-learn) or "exact"
        (``np.linalg.svd``, as the notebook; slow and memory-hungry on big matrices).
    random_state : int, seed of the randomized solver.

    Attributes after ``fit``: ``singular_values_`` (n,), ``components_`` (n, H, W, C), the
    U columns as images, and ``weights_`` (n, T), the V rows over the sampled frames, with
    n >= max(rank, 10) (all of them for the exact solver); ``total_energy_``, the sum of squares
    of the whole matrix, so that the share of it the first k components capture is known.
    """

    name = "svd"
    summary = ("Treats the video as a matrix and keeps its simplest part (rank k) as the background. "
               "Rank 1 for one static scene; raise it for two scenes or changing light.")
    params = (
        Param("rank", "Rank", "How many components form the background: 1 for one static scene, "
              "2 or more for two scenes or changing light.", low=1, high=10),
        Param("solver", "Solver", "Randomized is fast; exact is the notebook's full SVD, slow on long "
              "clips.", choices=("randomized", "exact")),
    )

    def __init__(self, *, rank: int = 1, solver: str = "randomized", random_state: int = 0):
        self.rank = rank
        self.solver = solver
        self.random_state = random_state

    def _fit(self, frames, progress):
        if not (isinstance(self.rank, (int, np.integer)) and 1 <= self.rank <= len(frames)):
            raise ValueError(f"rank={self.rank}: use a whole number from 1 to the number of "
                             f"frames ({len(frames)}).")
        if self.solver not in ("randomized", "exact"):
            raise ValueError(f"solver={self.solver!r}: use 'randomized' or 'exact'.")
        matrix = frames.reshape(len(frames), -1).T
        self.total_energy_ = sum(float(np.vdot(frame, frame)) for frame in frames)
        if self.solver == "exact":
            u, s, vt = np.linalg.svd(matrix, full_matrices=False)
        else:
            n = min(max(self.rank, SPECTRUM), *matrix.shape)
            u, s, vt = randomized_svd(matrix, n, random_state=self.random_state)
        # The sign of a singular pair is arbitrary: make each U column's sum positive.
        signs = np.where(u.sum(axis=0) < 0, -1, 1).astype(np.float32)
        u, vt = u * signs, vt * signs[:, None]
        self.singular_values_ = s.astype(np.float32)
        self.components_ = u.T.reshape(-1, *frames.shape[1:]).astype(np.float32)
        self.weights_ = vt.astype(np.float32)
        self._basis = np.ascontiguousarray(u[:, : self.rank], dtype=np.float32)
        mean_weights = self.singular_values_[: self.rank] * self.weights_[: self.rank].mean(axis=1)
        self.background_ = (self._basis @ mean_weights).reshape(frames.shape[1:])
        progress(1.0)

    def background(self, frame):
        """The frame projected on the first ``rank`` components: U_k U_k^T f.

        For a frame of the fitting sample this is its column of L = U_k S_k V_k^T exactly;
        for any other frame it is the nearest background the model can express.
        """
        flat = frame.reshape(-1)
        return (self._basis @ (self._basis.T @ flat)).reshape(frame.shape)

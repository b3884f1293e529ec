"""Low-rank SVD background, after the fast.ai notebook "Background Removal with SVD"
(``../shared/seeds/000_*.txt``): frames are the columns of a pixels-by-frames matrix M and the
rank-k approximation L = U_k S_k V_k^T is the background.
"""

from __future__ import annotations

import numpy as np

from .base import BackgroundModel, Param

SPECTRUM = 10
"""Components always computed, so the spectrum can be plotted and the rank moved without refitting."""
BLOCK = 1 << 20
"""Values of the matrix made float32 at once: for the total energy (float32 sums, added up in
float64) and in the randomized SVD's products (a block of pixels that stays in the cache)."""
GRAM_FRAMES = 1000
"""solver="auto": up to this many frames, the Gram matrix's eigenvectors; beyond, randomized."""
GRAM_CHUNK = 1 << 14
"""Pixels per block when the Gram matrix is summed in float64."""


class SVDBackground(BackgroundModel):
    """Rank-k SVD background.

    rank : int, default 1
        Components that form the background; rank > 1 can hold several backgrounds
        (two scenes one after the other) or slow lighting changes.
    solver : "auto" (default), "randomized" or "exact"
        "randomized" is Halko et al. 2011's randomized SVD (as scikit-learn's); "exact" is
        ``np.linalg.svd``, as the notebook (slow and memory-hungry on big matrices). "auto" takes,
        for up to ``GRAM_FRAMES`` frames (always, for the pipeline's sample of at most 200), the
        eigenvectors of the frames' T x T Gram matrix M^T M (Sirovich's method of snapshots):
        the same leading components as the exact SVD, in one pass over the sample (6 times
        faster than the randomized SVD on a 92 x 640x360 sample); beyond, the randomized SVD.
    random_state : int, seed of the randomized solver.

    Attributes after ``fit``: ``singular_values_`` (n,), ``components_`` (n, H, W, C), the
    U columns as images, and ``weights_`` (n, T), the V rows over the sampled frames, with
    n >= max(rank, 10) (all of them for the exact solver); ``total_energy_``, the sum of squares
    of the whole matrix, so that the share of it the first k components capture is known.
    """

    name = "svd"
    fits_uint8 = True  # a long clip's frames as decoded: a quarter of the memory, no copy
    fit_pixels_per_s, apply_pixels_per_s = 50e6, 40e6
    label = "Classic: people passing by"
    technical = ("Low-rank SVD (the fast.ai notebook): frames are columns of a pixels-by-frames "
                 "matrix, its rank-k part is the background")
    summary = ("Finds the picture every frame shares, for scenes where nobody stays long; it "
               "can follow two scenes in one clip.")
    params = (
        Param("rank", "Rank", "How many components form the background: 1 for one static scene, "
              "2 or more for two scenes or changing light.", low=1, high=10),
        Param("solver", "Solver", "Auto picks the fastest exact way for the clip; randomized is a fast "
              "approximation; exact is the notebook's full SVD, slow on long clips.",
              choices=("auto", "randomized", "exact")),
    )

    def __init__(self, *, rank: int = 1, solver: str = "auto", random_state: int = 0):
        self.rank = rank
        self.solver = solver
        self.random_state = random_state

    def _fit(self, frames, progress):
        if self.rank > len(frames):
            raise ValueError(f"rank={self.rank}: at most the number of frames ({len(frames)}).")
        # Frames as rows (T x P, a view): the transpose of the notebook's pixels-by-frames M,
        # so M = U S V^T comes out as V, S, U^T.
        frames_by_pixels = frames.reshape(len(frames), -1)
        # Block by block over the memory as it lies (C- or F-ordered; uint8 made float32 a block at a
        # time): a frame at a time made a strided copy of each frame of a transposed matrix (1.2 s on
        # the notebook's).
        flat = frames.ravel(order="K")
        self.total_energy_ = sum(float(np.vdot(part, part)) for part in (
            flat[i:i + BLOCK].astype(np.float32, copy=False) for i in range(0, flat.size, BLOCK)))
        n = min(max(self.rank, SPECTRUM), *frames_by_pixels.shape)
        if self.solver == "exact":
            # float32 from uint8 too: NumPy takes uint8 to float64, twice the memory and time.
            vt_t, s, u_t = np.linalg.svd(frames_by_pixels.astype(np.float32, copy=False), full_matrices=False)
        elif self.solver == "auto" and len(frames) <= GRAM_FRAMES:
            vt_t, s, u_t = _snapshots(frames_by_pixels, n)
        else:
            # Rank 1 (the default) needs fewer extra columns than a background of several components:
            # 10 keep it within 0.001 grey levels; rank 3's within 0.5 needs 20.
            vt_t, s, u_t = _randomized(frames_by_pixels, n, oversamples=10 if self.rank == 1 else 20,
                                       random_state=self.random_state)
        # The sign of a singular pair is arbitrary: make each U column's sum positive.
        signs = np.where(u_t.sum(axis=1) < 0, -1, 1).astype(np.float32)[:, None]
        self.singular_values_ = s.astype(np.float32)
        self.components_ = (u_t * signs).astype(np.float32).reshape(-1, *frames.shape[1:])
        self.weights_ = (vt_t.T * signs).astype(np.float32)
        self._basis = self.components_[: self.rank].reshape(self.rank, -1)  # U_k^T, k x P
        mean_weights = self.singular_values_[: self.rank] * self.weights_[: self.rank].mean(axis=1)
        self.background_ = np.dot(mean_weights, self._basis).reshape(frames.shape[1:])

    def background(self, frame):
        """The frame projected on the first ``rank`` components: U_k U_k^T f.

        For a frame of the fitting sample this is its column of L = U_k S_k V_k^T (exactly with
        the exact solver, within a fraction of a grey level with the randomized one); for any
        other frame it is the nearest background the model can express.
        """
        # U_k^T stays k x P in C order: products with a P x 1 view were 10 times slower at rank 1.
        return np.dot(self._basis @ frame.reshape(-1), self._basis).reshape(frame.shape)


def _randomized(matrix: np.ndarray, n: int, *, oversamples: int = 10, iterations: int = 2, random_state=0):
    """The first n singular triplets of ``matrix`` (V: T x n, s: n, U^T: n x P for a T x P matrix),
    by Halko, Martinsson and Tropp's randomized range finder ("Finding structure with
    randomness", SIAM Review 2011, algorithms 4.4 and 5.1), as scikit-learn's ``randomized_svd``.

    Two power iterations with a wide sketch, orthonormalised each time: reading the matrix costs
    more than multiplying by a few more columns, and float32 without orthonormalisation loses the
    tail of the spectrum under a dominant background. On the notebook's 19200x6000 matrix this
    matches the converged spectrum's first 10 values within 2.2 % (0.4 % with 20 extra columns,
    for 40 % more time) and the rank-1 background within 0.001 grey levels, in 6 passes over it.
    In NumPy: importing scikit-learn took 1.5 s, half the time of the whole fit on that matrix.
    """
    sketch = np.random.default_rng(random_state).standard_normal((matrix.shape[1], n + oversamples), np.float32)
    basis = np.linalg.qr(_times(matrix, sketch))[0]  # T x (n + oversamples): the range of the columns
    for _ in range(iterations):
        basis = np.linalg.qr(_times(matrix, np.linalg.qr(_transposed_times(matrix, basis))[0]))[0]
    u_small, s, u_t = np.linalg.svd(_transposed_times(matrix, basis).T, full_matrices=False)
    return (basis @ u_small)[:, :n], s[:n], u_t[:n]


def _pixel_blocks(matrix: np.ndarray):
    """(columns, float32 copy) of a T x P matrix, a block of pixels of about ``BLOCK`` values at
    a time: a uint8 matrix needs no float32 copy, and on the notebook's, products a block at a
    time, each in the cache, took 0.6-0.8 times the time of one over the whole float32 matrix."""
    step = max(1, BLOCK // len(matrix))
    for start in range(0, matrix.shape[1], step):
        yield slice(start, start + step), matrix[:, start:start + step].astype(np.float32)


def _times(matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    """matrix @ right (T x P by P x k), block by block."""
    return sum(block @ right[columns] for columns, block in _pixel_blocks(matrix))


def _transposed_times(matrix: np.ndarray, right: np.ndarray) -> np.ndarray:
    """matrix.T @ right (P x T by T x k), block by block."""
    return np.concatenate([block.T @ right for _, block in _pixel_blocks(matrix)])


def _snapshots(frames_by_pixels: np.ndarray, n: int):
    """The first n singular triplets of a T x P matrix with T << P, as ``np.linalg.svd`` orders
    them (V: T x n, s: n, U^T: n x P), from the eigenvectors of its T x T Gram matrix.

    Summed in float64 a block of pixels at a time: in float32 the background's huge first value
    would swamp the others (their squares are 1e-4 of it and less).
    """
    gram = np.zeros((len(frames_by_pixels),) * 2)
    for start in range(0, frames_by_pixels.shape[1], GRAM_CHUNK):
        block = frames_by_pixels[:, start:start + GRAM_CHUNK].astype(np.float64)
        gram += block @ block.T
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:n]
    s = np.sqrt(np.maximum(values[order], 0))
    v = vectors[:, order]
    # U^T = S^-1 V^T M; a zero singular value (a black clip) leaves its component at zero.
    u_t = _transposed_times(frames_by_pixels, (v / np.where(s > 0, s, 1)).astype(np.float32)).T
    return v, s, u_t

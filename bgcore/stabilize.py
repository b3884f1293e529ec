"""Frames of a clip filmed by a hand that shakes, brought onto one view before the background is
modelled, and their masks brought back: every model here takes the background to stay put, and a
shift of a pixel or two turns each edge of it into foreground.

Measured on the annotated clips moved by a random shift and rotation each frame, frames and truth
alike, by about 1 % of the width (``python benchmarks/quality.py --shake 0.01``), the default
method's F without and with: the eight groundtruth-clips 0.579 -> 0.702 on average, bmc-video003
0.320 -> 0.895, sbi-IBMtest2 0.415 -> 0.947, ucsd-peds 0.460 -> 0.723, none lower. Moved by about
0.3 % (1 px, ``--shake 0.003``), 0.722 -> 0.739 (bmc-video003 0.783 -> 0.885, sbi-IBMtest2 0.859 ->
0.929), none lower. Clips whose corners lie mostly on what moves in front (a board held up,
traffic, leaves, water) are not steadied and score as before. On the 34 annotated clips as filmed,
only two of a moving camera are steadied, both for the better (ucsd-cyclists 0.241 -> 0.335,
ucsd-skiing 0.462 -> 0.500).

Written here rather than taken from OpenCV's videostab module, which is not in the headless wheels
and smooths a moving camera's path rather than holding it on one view. The steps are OpenCV's:
corners of a reference frame, followed into each frame (pyramidal Lucas-Kanade), and the shift,
rotation and scale that most of them agree on (RANSAC), so that people and cars moving about
do not count.

A photo of the empty scene is put on a clip's view (or on another photo) the same way, by the
details they share (:func:`onto_view`): SIFT's, which match across the change of size between a
phone's photo and its video that followed corners do not survive.
"""

from __future__ import annotations

import cv2
import numpy as np

from .masks import Exposure, luma

CORNERS = 200
"""Corners followed from the reference frame (a frame costs about 2 to 5 ms at the working scale)."""
AGREEING = 0.3
"""The share of the corners followed that must agree on a frame's motion for it to count: on clips
filmed on a tripod whose corners lie mostly on what moves in front (sbi-Board, sbi-HighwayI,
sbi-PeopleAndFoliage) 0.08 to 0.15 agree, the median over their samples, on "motions" of tens of
pixels; on sbi-IBMtest2 moved by 3 px, 0.48."""
AGREEING_SHAKEN = 0.2
"""The same, for a frame of a clip found to shake: left as it is, a frame is all edges (sbi-IBMtest2
moved by 3 px: a few frames with 0.2 to 0.5 of the corners agreeing came out at precision 0.04 to 0.3)."""
LOOKS = 25
"""Frames of the sample that tell whether the clip shakes."""
PHOTO_DETAILS = 12
"""A photo of the empty scene is put on a clip's view (:func:`onto_view`) when at least this many
of its details (SIFT keypoints) agree on where they lie in the view..."""
PHOTO_HEIGHT = 360
"""...looked for in the view brought to this many pixels high at least: sbi-Board's, 164 high, had
35 details, of which 12 agreed with a photo of its board; at 360 high, 494 and 354."""
PHOTO_COVER = 0.5
"""The share of the view a photo must cover once on it: the rest is filled from the view."""
PHOTO_AGREE = 10.0
"""Grey levels: a photo of the empty scene farther than this from the view once on it (on the
view's edges: :func:`_exposed`) shows another place, or was put on it wrong. Simulated phone
photos of 11 annotated clips (tests/test_quality.py makes two) came 0.4 to 5.2 from theirs."""
SHAKE = 0.75
"""Working pixels that a corner of the frame moves, in half the sample's frames at least, for the
clip to be steadied: the 34 annotated clips as filmed move 0.02 to 0.41 (the median over their
samples, of frames whose motion counts); sbi-IBMtest2 moved by 1 px, 2.0."""


class Stabilizer:
    """Holds a clip's frames on the view of its ``reference`` frame (uint8 grey, at the working
    scale): :meth:`align` moves a working frame there, :func:`restore` moves its mask back."""

    def __init__(self, reference: np.ndarray):
        self.reference = reference
        self.corners = cv2.goodFeaturesToTrack(reference, CORNERS, 0.001, 5)
        self.seen = np.ones(reference.shape, bool)

    @classmethod
    def fit(cls, sample) -> Stabilizer | None:
        """A stabilizer on the middle of ``sample`` (working frames) when the clip shakes, None when it
        stands still or its motion cannot be told apart from what moves in it. Told from at most
        ``LOOKS`` of its frames, evenly spaced."""
        stabilizer = cls(grey(sample[len(sample) // 2]))
        if stabilizer.corners is None or len(stabilizer.corners) < 20:
            return None
        height, width = stabilizer.reference.shape
        corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], np.float64).T
        looked = sample[::-(-len(sample) // LOOKS)]
        moves = [np.abs(matrix @ corners - corners[:2]).max() if matrix is not None else 0.0
                 for matrix in (stabilizer.matrix(grey(work)) for work in looked)]
        return stabilizer if np.median(moves) > SHAKE else None

    def steady(self, sample: np.ndarray) -> None:
        """Align the frames of ``sample`` (working frames) in place, and keep in ``seen`` the pixels
        of the reference view that more than half of them reach: beyond, the model sees mostly the
        repeated edges of frames, and the masks there are not to be trusted (on bmc-video003 moved by
        3 px, blobs along the top edge)."""
        size = sample.shape[2:0:-1]
        seen = np.zeros(sample.shape[1:3], np.int32)
        for work in sample:
            work[...], matrix = self.align(work)
            seen += 1 if matrix is None else cv2.warpAffine(np.ones_like(self.reference), matrix, size,
                                                             flags=cv2.INTER_NEAREST, borderValue=0)
        self.seen = seen > len(sample) / 2

    def matrix(self, frame: np.ndarray, agreeing: float = AGREEING) -> np.ndarray | None:
        """The 2 x 3 similarity from a frame (uint8 grey) to the reference view; None when less than
        ``agreeing`` of the corners followed agree on one."""
        found, status, _ = cv2.calcOpticalFlowPyrLK(self.reference, frame, self.corners, None,
                                                    winSize=(15, 15), maxLevel=3)
        followed = status.ravel() == 1
        if followed.sum() < 20:
            return None
        matrix, inliers = cv2.estimateAffinePartial2D(found[followed], self.corners[followed],
                                                      method=cv2.RANSAC, ransacReprojThreshold=1.0)
        return matrix if matrix is not None and inliers.mean() >= agreeing else None

    def align(self, work: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """A working frame (h, w, C) moved onto the reference view, and the matrix that did it
        (None: left as it is). Where the view has no pixel of the frame, its edge is repeated."""
        matrix = self.matrix(grey(work), AGREEING_SHAKEN)
        if matrix is None:
            return work, None
        moved = cv2.warpAffine(work, matrix, work.shape[1::-1], flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return moved.reshape(work.shape), matrix


def grey(work: np.ndarray) -> np.ndarray:
    """A working frame (h, w, C): uint8 RGB as decoded or float32 0-255, C 1 or 3, as uint8 grey."""
    if work.dtype == np.uint8:
        return cv2.cvtColor(work, cv2.COLOR_RGB2GRAY) if work.shape[-1] == 3 else work[..., 0]
    flat = work[..., 0] if work.shape[-1] == 1 else cv2.cvtColor(work, cv2.COLOR_RGB2GRAY)
    return np.clip(flat, 0, 255).astype(np.uint8)


def restore(image: np.ndarray, matrix: np.ndarray | None) -> np.ndarray:
    """A mask (bool), distance map or image (float32) of an aligned frame, back on the frame's own
    view; 0 (background) where the reference view does not reach."""
    if matrix is None:
        return image
    back = cv2.warpAffine(image.view(np.uint8) if image.dtype == bool else image, matrix, image.shape[1::-1],
                          flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP, borderValue=0).reshape(image.shape)
    return back.view(bool) if image.dtype == bool else back


def onto_view(photo: np.ndarray, view: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """A photo of the scene (uint8 RGB, any size) on a ``view`` of it (h, w, C: a clip's working
    frame or sample's median, another photo; C 1 or 3): float32 (h, w, C), and where it reaches
    (h, w) bool; None where it does not match.

    A phone's photo is not a frame of its video: another size and shape (4:3 against 16:9), a
    wider view, a hand that turned a little, another exposure and white balance. It is warped by
    the affine map most of its SIFT details agree on with the view's (RANSAC: a person in the
    view does not count), and brought to the view's exposure (:meth:`bgcore.masks.Exposure.gains`).
    A photo of the view's shape may also be only resized (a frame of the clip: no resampling to
    blur it): of the two, the one nearer the view, if within ``PHOTO_AGREE`` of it.
    """
    height, width = view.shape[:2]
    channels = view.shape[-1]
    photo = photo if channels == 3 else cv2.cvtColor(photo, cv2.COLOR_RGB2GRAY)[..., None]
    # The view matched at PHOTO_HEIGHT pixels high at least (a small clip has few details to find),
    # the photo at 1.5 times that at most (SIFT's time grows with the pixels).
    zoom = max(1.0, PHOTO_HEIGHT / height)
    first = min(1.0, 1.5 * zoom * height / photo.shape[0])
    small = cv2.resize(photo, None, fx=first, fy=first, interpolation=cv2.INTER_AREA) if first < 1 else photo
    matrix = _affine(grey(small.reshape(*small.shape[:2], channels)),  # OpenCV drops a single channel
                     cv2.resize(grey(view), None, fx=zoom, fy=zoom, interpolation=cv2.INTER_CUBIC))
    candidates = []
    if matrix is not None:
        # Resampled once, from the photo brought to about the view's scale: a warp that shrinks
        # blurs less after INTER_AREA than by itself.
        matrix = np.diag([1 / zoom, 1 / zoom, 1.0]) @ matrix  # from the small photo to the view itself
        scale = min(1.0, np.sqrt(abs(np.linalg.det(matrix[:2, :2]))) * first)
        sized = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        matrix = matrix @ np.diag([first / scale, first / scale, 1.0])
        reached = cv2.warpPerspective(np.full(sized.shape[:2], 255, np.uint8), matrix, (width, height),
                                      flags=cv2.INTER_NEAREST)
        candidates.append((cv2.warpPerspective(sized, matrix, (width, height), flags=cv2.INTER_LINEAR),
                           cv2.erode(reached, np.ones((3, 3), np.uint8)) > 0))  # not its edge, blended with black
    if abs(photo.shape[1] / photo.shape[0] - width / height) < 0.01 * width / height:
        candidates.append((cv2.resize(photo, (width, height), interpolation=cv2.INTER_AREA), np.ones((height, width), bool)))
    # Compared where the view has edges (its strongest quarter of gradients), which a photo put a
    # pixel off misses, and the flat walls between do not tell.
    grey_view = luma(view.astype(np.float32))
    gradient = np.hypot(cv2.Sobel(grey_view, cv2.CV_32F, 1, 0), cv2.Sobel(grey_view, cv2.CV_32F, 0, 1))
    edges = gradient > np.quantile(gradient, 0.75)  # strictly: a view mostly flat has a quartile of 0
    edges = edges if edges.any() else np.ones_like(edges)  # a plain wall
    best = min((_exposed(moved.reshape(height, width, channels), reached, view, edges) for moved, reached in candidates),
               default=None, key=lambda found: found[0])
    return None if best is None or best[0] > PHOTO_AGREE else best[1:]


def _exposed(moved: np.ndarray, reached: np.ndarray, view: np.ndarray, edges: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """A photo on the view (``moved``, reaching ``reached``) at the view's exposure, float32, with
    its distance to the view: the first quartile of their grey differences on the view's ``edges``
    where it reaches (the view, a sample's median, may show a person over half of it: sbi-Board's)."""
    moved = moved.astype(np.float32)
    gains = Exposure.of(np.where(reached[..., None], moved, 0), unchanged=None).gains(view)
    moved = moved if gains is None else moved * gains
    return float(np.quantile(np.abs(luma(moved) - luma(view))[reached & edges], 0.25)), moved, reached


def _affine(photo: np.ndarray, view: np.ndarray) -> np.ndarray | None:
    """The affine map (3 x 3) from ``photo`` to ``view`` (uint8 grey) that ``PHOTO_DETAILS`` or more
    SIFT matches agree on (Lowe's ratio test, then RANSAC within 3 pixels of the view); None if
    none. Not a perspective: its two more degrees of freedom, fitted on details that lie mostly in
    one part of the picture, put the rest off (photo mode on 11 annotated scenes, the empty one
    moved by 1 or 3 pixels: mean F 0.825 and 0.805, against 0.808 and 0.787; the phone photos of
    the empty scene: the same)."""
    sift = cv2.SIFT_create(nfeatures=4000)
    found = [sift.detectAndCompute(image, None) for image in (photo, view)]
    if any(descriptors is None or len(descriptors) < 2 for _, descriptors in found):
        return None
    (photo_points, photo_descriptors), (view_points, view_descriptors) = found
    pairs = cv2.BFMatcher(cv2.NORM_L2).knnMatch(photo_descriptors, view_descriptors, k=2)
    good = [pair[0] for pair in pairs if len(pair) == 2 and pair[0].distance < 0.75 * pair[1].distance]
    if len(good) < PHOTO_DETAILS:
        return None
    source = np.float32([photo_points[match.queryIdx].pt for match in good])
    target = np.float32([view_points[match.trainIdx].pt for match in good])
    matrix, inliers = cv2.estimateAffine2D(source, target, method=cv2.RANSAC, ransacReprojThreshold=3.0)
    return np.vstack([matrix, [0, 0, 1]]) if matrix is not None and inliers.sum() >= PHOTO_DETAILS else None

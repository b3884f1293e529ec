"""The data behind the app's pictures and charts, as arrays and numbers: no drawing here.

Each function takes a fitted clip or model and returns what a page needs to draw, so that the
pages stay thin and a notebook can draw the same things with matplotlib.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import cv2
import numpy as np

from .composite import checkerboard
from .masks import MaskOptions
from .models import BackgroundModel
from .pipeline import FittedClip, to_display
from .stabilize import restore

SHOWN_ELSEWHERE = {"background_", "noise_", "auto_threshold_", "spread_", "singular_values_", "components_", "weights_", "total_energy_"}
"""Learned attributes that have their own pictures, or none worth one."""


def frame_views(fitted: FittedClip, frame: np.ndarray, options: MaskOptions = MaskOptions()) -> dict:
    """Original, background, mask and foreground of one uint8 RGB frame (H, W, 3), each as
    uint8 (H, W, 3) or (H, W), in that order, the foreground on a checkerboard. The background is the frame's own estimate
    (for SVD its projection on the background components), not the average plate."""
    working, matrix = fitted.working(frame)
    background = restore(fitted.model.background(working), matrix)
    mask = fitted.working_mask(working, matrix, options)  # not made a working frame twice
    return {"Original": frame,
            "Background": to_display(background, fitted.size),
            "Mask": mask.astype(np.uint8) * 255,
            # On a checkerboard, as editors show transparency: a dark subject stays visible.
            "Foreground": cv2.copyTo(frame, mask.astype(np.uint8), checkerboard(frame.shape[1::-1]).copy())}


def spectrum(model: BackgroundModel, rank: int) -> dict | None:
    """Singular values and the share of the sample's energy (sum of squares) that the first k
    components capture, k = 1..n; None for a model without singular values."""
    values = getattr(model, "singular_values_", None)
    if values is None:
        return None
    squares = np.square(values.astype(np.float64))
    total = getattr(model, "total_energy_", None) or squares.sum()
    energy = np.cumsum(squares) / total
    return {"component": np.arange(1, len(values) + 1), "singular_value": values,
            "energy": energy, "rank": rank, "energy_at_rank": float(energy[min(rank, len(values)) - 1])}


def component_images(model: BackgroundModel, count: int = 4) -> list[np.ndarray]:
    """The first ``count`` U columns as uint8 images, each stretched to 0-255 (their sign is arbitrary
    and their values tiny); [] for a model without components."""
    components = getattr(model, "components_", None)
    return [] if components is None else [_stretch(component) for component in components[:count]]


def component_weights(fitted: FittedClip, count: int = 4) -> dict | None:
    """The first ``count`` V rows over the time of the sampled frames: {"seconds": (T,),
    "weights": (T, count)}; a change of scene shows as a step. None without weights."""
    weights = getattr(fitted.model, "weights_", None)
    if weights is None:
        return None
    return {"seconds": np.asarray(fitted.sampled) / fitted.info.fps, "weights": weights[:count].T}


def differences(fitted: FittedClip, frames: Iterable[np.ndarray]) -> np.ndarray:
    """The differences to the background of some uint8 RGB frames, flattened (float32)."""
    return np.concatenate([fitted.difference(frame).ravel() for frame in frames])


def difference_histogram(values: np.ndarray, threshold: float, *, bins: int = 60) -> dict:
    """Histogram of differences on a range that shows both the bulk and the threshold, and the
    share of pixels above the threshold (those that become foreground before clean-up)."""
    upper = min(255.0, max(float(np.percentile(values, 99.9)), 1.5 * threshold, 10.0))
    counts, edges = np.histogram(values, bins=bins, range=(0.0, upper))
    return {"left": edges[:-1], "right": edges[1:], "count": counts, "threshold": threshold,
            "foreground_share": float(np.mean(values > threshold))}


@dataclass(frozen=True)
class Detail:
    """One learned fact of a model to show: kind "number" (value: float), "bars" (value: 1-D
    array, one bar per entry) or "image" (value: uint8 image)."""

    title: str
    kind: str
    value: object


def model_details(model: BackgroundModel) -> list[Detail]:
    """What a model learned beyond its background, found by looking rather than by method name,
    so that a new method's ``k_``, ``cluster_sizes_`` or ``reference_`` show up by themselves:
    numbers, short vectors as bars, and arrays of the background's height and width as images."""
    size = model.background_.shape[:2]
    details = []
    for name, value in sorted(vars(model).items()):
        if not name.endswith("_") or name.startswith("_") or name in SHOWN_ELSEWHERE:
            continue
        title = name.rstrip("_").replace("_", " ").capitalize()
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            details.append(Detail(title, "number", float(value)))
        elif isinstance(value, np.ndarray) and value.ndim == 1 and 1 < len(value) <= 64:
            details.append(Detail(title, "bars", value))
        elif isinstance(value, np.ndarray) and value.shape[:2] == size and value.ndim in (2, 3) \
                and (value.ndim == 2 or value.shape[2] in (1, 3)):
            details.append(Detail(title, "image", _stretch(value)))
    return details


def _stretch(image: np.ndarray) -> np.ndarray:
    image = image.astype(np.float32)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    low, high = float(image.min()), float(image.max())
    return ((image - low) * (255.0 / max(high - low, 1e-12))).round().astype(np.uint8)

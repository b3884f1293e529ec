"""Ground truth of the annotated clips in ``../shared/data`` (read there, never copied)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

from .metrics import evaluate


def bmc_truth(folder) -> dict[int, np.ndarray]:
    """BMC 2012 masks by 0-based decoded frame index, from ``gt_frame_map.csv`` in ``folder``."""
    folder = Path(folder)
    with open(folder / "gt_frame_map.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    return {int(row["decoded_frame_index_0based"]):
            cv2.imread(str(folder / row["gt_file"]), cv2.IMREAD_GRAYSCALE) for row in rows}


def score_masks(masks_dir, truth: dict[int, np.ndarray]) -> dict[str, float]:
    """CDnet scores of the mask PNGs a run wrote (``000001.png`` is frame index 0)."""
    masks_dir = Path(masks_dir)
    return evaluate((cv2.imread(str(masks_dir / f"{index + 1:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127,
                     mask) for index, mask in truth.items())

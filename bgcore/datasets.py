"""Ground truth of the annotated clips in ``../shared/data`` (read there, never copied).

Two layouts: BMC 2012's video with a table of annotated frames (:func:`bmc_truth`), and folders
of images with a folder of masks, as CDnet, SBI, UCSD and Wallflower ship them
(:func:`image_folder_clip`). Masks come back as CDnet labels (uint8: 0 background, 50 shadow,
85 outside the region of interest, 170 unknown, 255 foreground), keyed by the 0-based index of
the frame they annotate, so :func:`bgcore.metrics.evaluate` scores any of them the same way.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .metrics import evaluate
from .video import IMAGE_SUFFIXES, image_files

LABELS = (0, 50, 85, 170, 255)
"""CDnet's label values; any other grey level in a mask is taken as 0 or 255 at 128."""


@dataclass(frozen=True)
class Clip:
    """A clip with per-pixel ground truth: ``source`` (a video file or a folder of images) and
    ``truth``, the masks by 0-based frame index."""

    name: str
    source: Path
    truth: dict


def bmc_truth(folder) -> dict[int, np.ndarray]:
    """BMC 2012 masks by 0-based decoded frame index, from ``gt_frame_map.csv`` in ``folder``."""
    folder = Path(folder)
    with open(folder / "gt_frame_map.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    return {int(row["decoded_frame_index_0based"]): read_mask(folder / row["gt_file"]) for row in rows}


def image_folder_clip(folder) -> Clip:
    """A clip stored as ``folder/input/`` (frames, natural order) and ``folder/groundtruth/``
    (masks). A mask annotates the frame whose file name ends in the same number
    (``in000012.png`` and ``gt000012.png``, ``frame_7.jpg`` and ``gt0007.png``)."""
    folder = Path(folder)
    frames = {_trailing_number(path): index for index, path in enumerate(image_files(folder / "input"))}
    truth = {frames[_trailing_number(path)]: read_mask(path)
             for path in sorted((folder / "groundtruth").iterdir())
             if path.suffix.lower() in IMAGE_SUFFIXES and _trailing_number(path) in frames}
    if not truth:
        raise ValueError(f"{folder}: no mask in groundtruth/ matches a frame of input/.")
    return Clip(folder.name, folder / "input", truth)


def shared_clips(data) -> list[Clip]:
    """Every clip with ground truth under ``data`` (``../shared/data``): bmc-video003 and the
    folders of ``groundtruth-clips/``; those absent are left out."""
    data = Path(data)
    clips = []
    if (data / "bmc-video003" / "gt_frame_map.csv").exists():
        clips.append(Clip("bmc-video003", data / "bmc-video003" / "Video_003.avi",
                          bmc_truth(data / "bmc-video003")))
    folders = data / "groundtruth-clips"
    if folders.is_dir():
        clips += [image_folder_clip(path) for path in sorted(folders.iterdir()) if (path / "input").is_dir()]
    return clips


def read_mask(path) -> np.ndarray:
    """A ground-truth mask as CDnet labels (H, W) uint8; palette and colour images are read as grey."""
    mask = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if mask is None:
        raise ValueError(f"{path}: cannot be read as a mask image.")
    other = ~np.isin(mask, LABELS)
    mask[other] = np.where(mask[other] >= 128, 255, 0)
    return mask


def score_masks(masks_dir, truth: dict[int, np.ndarray]) -> dict[str, float]:
    """CDnet scores of the mask PNGs a run wrote (``000001.png`` is frame index 0)."""
    masks_dir = Path(masks_dir)
    return evaluate((cv2.imread(str(masks_dir / f"{index + 1:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127,
                     mask) for index, mask in truth.items())


def _trailing_number(path: Path) -> int | None:
    found = re.search(r"(\d+)\D*$", path.stem)
    return int(found.group(1)) if found else None

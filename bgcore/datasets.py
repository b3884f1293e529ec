"""Ground truth of the annotated clips in ``../shared/data`` (read there, never copied).

Two layouts: BMC 2012's video with a table of annotated frames (:func:`bmc_truth`), and folders
of images with a folder of masks, as CDnet, SBI, UCSD and Wallflower ship them
(:func:`image_folder_clip`). Masks come back as CDnet labels (uint8: 0 background, 50 shadow,
85 outside the region of interest, 170 unknown, 255 foreground), keyed by the 0-based index of
the frame they annotate, so :func:`bgcore.metrics.evaluate` scores any of them the same way.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import cv2
import numpy as np

from .files import zip_problem
from .hints import PathLike
from .masks import MaskOptions
from .metrics import evaluate
from .pipeline import FittedClip
from .video import IMAGE_SUFFIXES, VideoError, image_size, image_files

LABELS = (0, 50, 85, 170, 255)
"""CDnet's label values; any other grey level in a mask is taken as 0 or 255 at 128."""
NOT_A_MASK = 0.1
"""A user's "mask" with more than this share of its pixels over 20 grey levels from every label is
a picture (a frame zipped by mistake), not a mask: a mask saved as JPEG strays only at its edges."""
STRAY = np.abs(np.arange(256)[:, None] - np.array(LABELS)).min(axis=1) > 20
"""Per grey level, whether it is that far from every label."""


@dataclass(frozen=True)
class Clip:
    """A clip with per-pixel ground truth: ``source`` (a video file or a folder of images) and
    ``truth``, the masks by 0-based frame index."""

    name: str
    source: Path
    truth: dict


def bmc_truth(folder: PathLike) -> dict[int, np.ndarray]:
    """BMC 2012 masks by 0-based decoded frame index, from ``gt_frame_map.csv`` in ``folder``."""
    folder = Path(folder)
    with open(folder / "gt_frame_map.csv", newline="") as table:
        rows = list(csv.DictReader(table))
    return {int(row["decoded_frame_index_0based"]): read_mask(folder / row["gt_file"]) for row in rows}


def image_folder_clip(folder: PathLike) -> Clip:
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


def shared_clips(data: PathLike) -> list[Clip]:
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


def read_mask(path: PathLike | bytes, *, name: str | None = None) -> np.ndarray:
    """A ground-truth mask as CDnet labels (H, W) uint8, from a file or from the bytes of one
    (``name`` for messages); palette and colour images are read as grey."""
    if isinstance(path, bytes):
        mask = cv2.imdecode(np.frombuffer(path, np.uint8), cv2.IMREAD_GRAYSCALE)
    else:
        mask, name = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), str(path)
    if mask is None:
        raise ValueError(f"{name}: cannot be read as a mask image.")
    if STRAY[mask].mean() > NOT_A_MASK:
        raise ValueError(f"{name} is a picture, not a mask: a mask is white where the foreground is and "
                         "black elsewhere.")
    other = ~np.isin(mask, LABELS)
    mask[other] = np.where(mask[other] >= 128, 255, 0)
    return mask


def score_masks(masks_dir: PathLike, truth: dict[int, np.ndarray]) -> dict[str, float]:
    """CDnet scores of the mask PNGs a run wrote (``000001.png`` is frame index 0)."""
    masks_dir = Path(masks_dir)
    return evaluate((cv2.imread(str(masks_dir / f"{index + 1:06d}.png"), cv2.IMREAD_GRAYSCALE) > 127,
                     mask) for index, mask in truth.items())


def zip_truth(archive: PathLike, *, max_masks: int = 10_000, max_bytes: int = 2**28,
              max_pixels: int = 2**29) -> dict[int, np.ndarray]:
    """True masks a user supplies as a zip of images, by 0-based frame index: each file's trailing
    number is its frame's number, counted from 1 (``gt000001.png``, ``mask_1.png``, our own
    ``000001.png``) or from 0 where a file is numbered 0. At most ``max_masks`` images,
    ``max_bytes`` unpacked (counted while reading: a zip's sizes may lie) and ``max_pixels``
    decoded in all, each mask's size read from its header before it is decoded."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = {_trailing_number(PurePosixPath(entry.filename)): entry for entry in bundle.infolist()
                       if PurePosixPath(entry.filename).suffix.lower() in IMAGE_SUFFIXES}
            entries.pop(None, None)
            if not entries:
                raise ValueError("no mask image whose name ends in a frame number (mask_0001.png).")
            if len(entries) > max_masks:
                raise ValueError(f"{len(entries)} masks: at most {max_masks}.")
            first, left, pixels, truth = (0 if 0 in entries else 1), max_bytes, max_pixels, {}
            for number, entry in sorted(entries.items()):
                with bundle.open(entry) as member:
                    data = member.read(left + 1)
                left -= len(data)
                if left < 0:
                    raise ValueError(f"the masks unpack to over {max_bytes / 2**20:.0f} MB.")
                width, height = image_size(io.BytesIO(data), entry.filename)
                pixels -= width * height
                if pixels < 0:
                    raise ValueError(f"the masks hold over {max_pixels / 1e6:.0f} megapixels in all.")
                truth[number - first] = read_mask(data, name=entry.filename)
            return truth
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError) as error:
        raise ValueError(f"not a zip of mask images ({zip_problem(error)}).") from None
    except VideoError as error:  # a header that is no image's
        raise ValueError(str(error)) from None


def score_fitted(fitted: FittedClip, truth: dict[int, np.ndarray],
                 options: MaskOptions = MaskOptions()) -> dict[str, float] | None:
    """CDnet scores of a :class:`bgcore.FittedClip`'s masks on the frames ``truth`` annotates
    (0-based frame indices of its source) among those it works on; None where none is."""
    scored = [index for index in fitted.indices if index in truth]
    if not scored:
        return None
    with closing(fitted.video.frames(scored)) as frames:  # its decoder ends here, even on an error
        return evaluate((fitted.mask(frame, options), truth[index])
                        for index, frame in zip(scored, frames))


def _trailing_number(path: Path) -> int | None:
    found = re.search(r"(\d+)\D*$", path.stem)
    return int(found.group(1)) if found else None

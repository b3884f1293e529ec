"""What an export writes, one class an output: made with the folder and what the outputs share
(:class:`Source`) plus options of its own, then ``write(frame, mask)`` for every frame and
``close()`` at the end. :data:`OUTPUTS` names them; the pipeline only loops over those asked
for, and the command line and the app read :data:`OUTPUTS`, so a new format is one class here
and one line in :data:`OUTPUTS`.

Frames are uint8 RGB (H, W, 3), masks uint8 (H, W) at the same size, 0 background and 255
foreground (:func:`mask_image`: made once a frame for every output).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import cv2
import imageio_ffmpeg
import numpy as np

from .composite import FITS, backdrops, check_feather, composite
from .video import ProResWriter, TransparentWriter, VideoWriter, disk_state

BEHIND = {"black": (0, 0, 0), "white": (255, 255, 255), "green": (0, 177, 64)}
"""What the foreground video may show behind the subject: green is the green screen (#00B140)
that video editors key out; white keeps a dark subject visible."""


@dataclass(frozen=True)
class Sound:
    """The audio track of ``path`` from ``start`` for ``duration`` seconds: the clip's trimmed part."""

    path: Path
    start: float
    duration: float


@dataclass(frozen=True)
class Source:
    """What the outputs of one export share: the frames' ``size`` (width, height) and rate, the
    clip's background plate (uint8 RGB at that size) and its sound (None when it has none)."""

    size: tuple[int, int]
    fps: float
    background: np.ndarray
    sound: Sound | None = None


class Output:
    """One output of an export. Subclasses set ``name`` (its key in :data:`OUTPUTS`, and on the
    command line), ``file`` (what it writes in the folder), ``title``, ``label`` and ``mime`` (for
    the app's heading and download), and say what they are in their docstring's first sentence
    (:meth:`about`)."""

    name = file = title = label = mime = ""
    sound = False
    """Whether it carries the clip's sound (``source.sound``): an export looks for one only then."""
    timed = False
    """Whether it is a video, whose frames keep time with the clip's: where the clip's frame rate
    varies, a frame is written as many times as it stands for (``bgcore.FittedClip.timing``)."""
    memory_per_pixel = 0
    """Bytes its encoder takes per pixel of a frame (:func:`bgcore.estimate.export_memory`)."""

    def __init__(self, folder: Path, source: Source):
        self.path = Path(folder) / self.file
        self.source = source

    @classmethod
    def about(cls) -> str:
        """What the output is, in one sentence (its docstring's first)."""
        return " ".join(cls.__doc__.split(". ")[0].split()).rstrip(".") + "."

    @classmethod
    def inputs(cls, options: dict) -> list:
        """Files the options name, which an output folder must not hold (see ``check_out_dir``)."""
        return []

    def write(self, frame: np.ndarray, mask: np.ndarray) -> None:
        pass

    def close(self) -> None:
        pass

    def abort(self) -> None:
        """Stop after a failure: release what is open, finish nothing."""
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, kind, *rest):
        self.close() if kind is None else self.abort()


class _Encoded(Output):
    """An output that a video writer (``_writer``) encodes; with ``sound``, the clip's audio track
    joins it once it is whole."""

    timed = True

    def close(self):
        self._writer.close()
        if self.sound and self.source.sound is not None:
            add_sound(self.path, self.source.sound)

    def abort(self):
        self._writer.close()


class _Video(_Encoded):
    """An H.264 MP4 of :meth:`picture` a frame."""

    mime = "video/mp4"
    memory_per_pixel = 95  # x264, one thread (veryfast: 10 frames of look-ahead, 3 B-frames)

    def __init__(self, folder, source):
        super().__init__(folder, source)
        self._writer = VideoWriter(self.path, *source.size, source.fps)

    def picture(self, frame, mask) -> np.ndarray:
        raise NotImplementedError

    def write(self, frame, mask):
        self._writer.write(self.picture(frame, mask))


class ForegroundVideo(_Video):
    """The subject over black, white or green, with the clip's sound if it has any. ``behind``
    names the colour (:data:`BEHIND`)."""

    name, file, title, label = "foreground", "foreground.mp4", "Foreground", "Foreground video"
    sound = True

    def __init__(self, folder, source, *, behind: str = "black"):
        if behind not in BEHIND:
            raise ValueError(f"behind={behind!r}: use one of {', '.join(BEHIND)}.")
        super().__init__(folder, source)
        self._plain = np.full((source.size[1], source.size[0], 3), BEHIND[behind], np.uint8)

    def picture(self, frame, mask):
        # The colour copied, the subject copied onto it: a tenth of np.where's time at 1080p.
        return cv2.copyTo(frame, mask, self._plain.copy())


class MaskVideo(_Video):
    """The mask, white foreground on black."""

    name, file, title, label = "mask", "mask.mp4", "Mask", "Mask video"

    def picture(self, frame, mask):
        return mask


class CompositeVideo(_Video):
    """The subject over a new background, with the clip's sound if it has any. ``backdrop``: an
    image or video file, a colour or "blur", placed as ``fit`` says
    (:func:`bgcore.composite.backdrops`); the mask's edge feathered by ``feather`` pixels."""

    name, file, title, label = "composite", "composite.mp4", "On the new background", "Composite video"
    sound = True

    def __init__(self, folder, source, *, backdrop, fit: str = "fill", feather: float = 1.5):
        check_feather(feather)
        # Opened first: a bad file fails before any encoder starts.
        self._backdrops = backdrops(backdrop, source.size, fit=fit, plate=source.background)
        self._feather = feather
        super().__init__(folder, source)

    @classmethod
    def inputs(cls, options):
        backdrop = options.get("backdrop")
        return [backdrop] if isinstance(backdrop, (str, Path)) and Path(backdrop).is_file() else []

    def picture(self, frame, mask):
        return composite(frame, mask, next(self._backdrops), feather=self._feather)

    def close(self):
        self._backdrops.close()
        super().close()

    def abort(self):
        self._backdrops.close()
        super().abort()


class TransparentVideo(_Encoded):
    """The subject on transparency (VP9 with an alpha channel), which Chrome, Firefox and Edge play,
    for web pages, with the clip's sound if it has any."""

    name, file, title, label, mime = "transparent", "foreground.webm", "Transparent", "Transparent video", "video/webm"
    memory_per_pixel = 240  # VP9 with alpha: ffmpeg encodes the alpha plane with a second encoder
    writer = TransparentWriter
    sound = True

    def __init__(self, folder, source):
        super().__init__(folder, source)
        self._writer = self.writer(self.path, *source.size, source.fps)

    def write(self, frame, mask):
        self._writer.write(np.dstack([frame, mask]))


class EditorVideo(TransparentVideo):
    """The subject on transparency for video editors (ProRes 4444 with an alpha channel, in a MOV),
    which Premiere Pro, Final Cut Pro and DaVinci Resolve import, with the clip's sound if it has any."""

    name, file, title, label, mime = "editor", "foreground.mov", "For video editors", "Transparent video for editors", "video/quicktime"
    memory_per_pixel = 140  # ffmpeg's peak 61 MB at 640x360, 317 MB at 1920x1080
    writer = ProResWriter

    def write(self, frame, mask):
        # Black where transparent: ProRes codes each frame alone, and the background hidden there
        # made road-640x360's file 33 MB, not 6 (VP9 codes it cheaply from the frame before).
        self._writer.write(np.dstack([cv2.bitwise_and(frame, frame, mask=mask), mask]))


class MaskImages(Output):
    """One mask PNG a frame (000001.png...), 0 background, 255 foreground."""

    name, file, title, label, mime = "masks", "masks", "Masks", "Masks, one PNG a frame", "image/png"

    def __init__(self, folder, source):
        super().__init__(folder, source)
        self._count = 0

    def write(self, frame, mask):
        self.path.mkdir(exist_ok=True)
        self._count += 1
        write_image(self.path / f"{self._count:06d}.png", mask)


class BackgroundImage(Output):
    """The background plate."""

    name, file, title, label, mime = "background", "background.png", "Background", "Background image", "image/png"

    def close(self):
        write_image(self.path, self.source.background)


OUTPUTS = {cls.name: cls for cls in (ForegroundVideo, MaskVideo, TransparentVideo, EditorVideo, CompositeVideo,
                                     BackgroundImage, MaskImages)}
"""Every output by name, in the order the app shows them."""
OPTIONS = {"foreground": {"behind": tuple(BEHIND)}, "composite": {"fit": FITS}}
"""The choices of the outputs' options that have a fixed list of them."""


def mask_image(mask: np.ndarray) -> np.ndarray:
    """A bool mask (H, W) as the outputs take it: uint8, 0 background, 255 foreground."""
    return mask.view(np.uint8) * np.uint8(255)


def write_image(path: Path, image: np.ndarray) -> None:
    """Write a uint8 RGB or grey image; cv2.imwrite reports a failure only by returning False."""
    if not cv2.imwrite(str(path), cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image):
        raise OSError(f"{path}: could not be written ({disk_state(path)}).")


def sound_of(path, start: float, duration: float) -> Sound | None:
    """The clip's audio track for ``duration`` seconds from ``start``, or None when it has none
    (an image folder, a silent clip). ffmpeg lists the file's streams when given no output."""
    path = Path(path)
    if not path.is_file():
        return None
    listing = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-i", str(path)],
                             capture_output=True, text=True, errors="replace").stderr
    return Sound(path, start, duration) if re.search(r"Stream #\S+.*: Audio:", listing) else None


def add_sound(video: Path, sound: Sound) -> None:
    """Join the sound to an MP4, MOV or WebM written without it: its picture copied as it is (a
    WebM's alpha with it), the sound encoded in AAC (which every MP4 player plays, unlike many
    clips' own; Opus in a WebM, which takes no AAC), cut to the trimmed part."""
    joined = video.with_name(f".sound-{video.name}")
    audio = "libopus" if video.suffix == ".webm" else "aac"
    command = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-i", str(video),
               "-ss", f"{sound.start:.6f}", "-t", f"{sound.duration:.6f}", "-i", str(sound.path),
               "-map", "0:v", "-map", "1:a:0", "-c:v", "copy", "-c:a", audio, "-movflags", "+faststart",
               str(joined)]
    result = subprocess.run(command, capture_output=True, text=True, errors="replace")
    if result.returncode != 0 or not joined.is_file():
        joined.unlink(missing_ok=True)
        raise OSError(f"{video.name}: the sound could not be added ({result.stderr.strip()[-200:]}; "
                      f"{disk_state(video)}).")
    joined.replace(video)

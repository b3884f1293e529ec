"""Files that come in and go out of the app: a zip of images unpacked safely, mask PNGs zipped."""

from __future__ import annotations

import zipfile
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from .hints import PathLike
from .limits import LIMITS, Limits
from .video import IMAGE_SUFFIXES, VideoError, _natural_key, check_image


def unpack_images(archive: PathLike, folder: PathLike, *, limits: Limits = LIMITS) -> Path:
    """Extract the images of a zip into ``folder`` as 000001.png, 000002.jpg ... in natural order.

    The names inside the zip only decide the order: no path is built from them, so an entry like
    ``../../x`` cannot write outside ``folder``. At most ``limits.max_frames`` images and
    ``limits.max_bytes`` unpacked: the sizes the zip states are checked first, then the bytes
    really unpacked as they stream to disk (a zip can understate them), and each image's size in
    pixels from its header. Raises VideoError for anything that is not a zip of images.
    """
    if not Path(archive).is_file():  # a FIFO named x.zip would block the read for good
        raise VideoError("no such file (or not a regular file). Give a zip file.")
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = [entry for entry in bundle.infolist() if _is_image(entry)]
            if not entries:
                raise VideoError("The zip holds no images (jpg, png, bmp, tif). Put the frames of one clip "
                                 "in a zip, or use a video file.")
            if (len(entries) > limits.max_frames
                    or sum(entry.file_size for entry in entries) > limits.max_bytes):
                raise VideoError(_too_big(len(entries), limits))
            entries.sort(key=lambda entry: _natural_key(entry.filename))
            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            unpacked = 0
            # No image within the pixel limit takes more (8 bytes a pixel: 16-bit RGBA, stored raw).
            largest = limits.max_pixels * 8 + 2**20
            for number, entry in enumerate(entries, start=1):
                path = folder / f"{number:06d}{PurePosixPath(entry.filename).suffix.lower()}"
                with bundle.open(entry) as packed, open(path, "wb") as image:
                    size = 0
                    while chunk := packed.read(2**20):
                        size += len(chunk)
                        unpacked += len(chunk)
                        if unpacked > limits.max_bytes:
                            raise VideoError(_too_big(len(entries), limits))
                        if size > largest:
                            raise VideoError(f"{entry.filename} (in the zip): over {largest // 2**20} MB "
                                             "unpacked, more than an image within the limits takes. "
                                             "Zip the frames of one clip, each under 4K.")
                        image.write(chunk)
                shape = check_image(path, limits=limits, name=f"{entry.filename} (in the zip)")
                if number == 1:
                    first = (entry.filename, shape)
                elif shape != first[1]:  # said here, where the names are the person's, not 000004.png
                    raise VideoError(f"{entry.filename} is {shape[0]}x{shape[1]} but {first[0]} is "
                                     f"{first[1][0]}x{first[1][1]}: the images of a zip make one clip and must "
                                     "all have the same size.")
    except (zipfile.BadZipFile, EOFError, NotImplementedError, RuntimeError) as error:
        # RuntimeError: encrypted; NotImplementedError: a compression zipfile does not read
        raise VideoError(f"not a readable zip ({zip_problem(error)}). Zip the images again, or use a "
                         "video file.") from None
    return folder


def zip_problem(error: Exception) -> str:
    """Why :mod:`zipfile` could not read a zip, in plain words (its own are a programmer's)."""
    if isinstance(error, RuntimeError):
        return "it is encrypted"
    if isinstance(error, NotImplementedError):
        return "it is compressed in a way this app does not read"
    return "not a zip file, or one cut short"


def _too_big(count: int, limits: Limits) -> str:
    return (f"The zip holds {count} images, too many to unpack here: keep at most "
            f"{limits.max_frames} images and {limits.max_bytes // 2**20} MB unpacked.")


def zip_files(files: Iterable[PathLike], archive: PathLike) -> Path:
    """Store ``files`` flat in the zip ``archive`` (no compression: PNGs are compressed already)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for path in files:
            bundle.write(path, Path(path).name)
    return Path(archive)


def _is_image(entry: zipfile.ZipInfo) -> bool:
    name = PurePosixPath(entry.filename)
    return (not entry.is_dir() and name.suffix.lower() in IMAGE_SUFFIXES
            and "__MACOSX" not in name.parts and not name.name.startswith("."))

"""Files that come in and go out of the app: a zip of images unpacked safely, mask PNGs zipped."""

from __future__ import annotations

import zipfile
from pathlib import Path, PurePosixPath

from .limits import LIMITS, Limits
from .video import IMAGE_SUFFIXES, VideoError, _natural_key


def unpack_images(archive, folder, *, limits: Limits = LIMITS) -> Path:
    """Extract the images of a zip into ``folder`` as 000001.png, 000002.jpg ... in natural order.

    The names inside the zip only decide the order: no path is built from them, so an entry like
    ``../../x`` cannot write outside ``folder``. At most ``limits.max_frames`` images and
    ``limits.max_bytes`` unpacked, checked before anything is written: a small zip must not
    fill the disk. Raises VideoError for anything that is not a zip of images.
    """
    try:
        with zipfile.ZipFile(archive) as bundle:
            entries = [entry for entry in bundle.infolist() if _is_image(entry)]
            if not entries:
                raise VideoError("The zip holds no images (jpg, png, bmp, tif). Put the frames of one clip "
                                 "in a zip, or upload a video file.")
            if (len(entries) > limits.max_frames
                    or sum(entry.file_size for entry in entries) > limits.max_bytes):
                raise VideoError(f"The zip holds {len(entries)} images, too many to unpack here: keep at "
                                 f"most {limits.max_frames} images and {limits.max_bytes // 2**20} MB.")
            entries.sort(key=lambda entry: _natural_key(entry.filename))
            folder = Path(folder)
            folder.mkdir(parents=True, exist_ok=True)
            for number, entry in enumerate(entries, start=1):
                suffix = PurePosixPath(entry.filename).suffix.lower()
                (folder / f"{number:06d}{suffix}").write_bytes(bundle.read(entry))
    except (zipfile.BadZipFile, EOFError) as error:
        raise VideoError(f"The file is not a readable zip ({error}). Zip the images again, or upload a "
                         "video file.") from None
    return folder


def zip_files(files, archive) -> Path:
    """Store ``files`` flat in the zip ``archive`` (no compression: PNGs are compressed already)."""
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as bundle:
        for path in files:
            bundle.write(path, Path(path).name)
    return Path(archive)


def _is_image(entry: zipfile.ZipInfo) -> bool:
    name = PurePosixPath(entry.filename)
    return (not entry.is_dir() and name.suffix.lower() in IMAGE_SUFFIXES
            and "__MACOSX" not in name.parts and not name.name.startswith("."))

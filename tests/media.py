"""Odd and broken files for the robustness tests, made with the ffmpeg of imageio-ffmpeg.

``CASES`` maps a case to (file name, maker, expected): expected is None when the file must go
through, else a piece of the message the user must see. The command line and the app are both
tested over every case.
"""

import subprocess

import imageio_ffmpeg

FFMPEG = imageio_ffmpeg.get_ffmpeg_exe()
H264 = ("-c:v", "libx264", "-pix_fmt", "yuv420p")


def ffmpeg(*args):
    subprocess.run([FFMPEG, "-loglevel", "error", "-y", *map(str, args)], check=True)


def make_testsrc(path, *, size="160x120", rate=15, seconds=2, extra=H264, source="testsrc"):
    ffmpeg("-f", "lavfi", "-i", f"{source}=size={size}:rate={rate}:duration={seconds}", *extra, path)
    return path


def _written(content: bytes):
    def make(path):
        path.write_bytes(content)
        return path
    return make


def _as(suffix: str, make):
    """Make a file with ``make`` under another suffix, then give it the case's name."""
    def renamed(path):
        return make(path.with_suffix(suffix)).rename(path)
    return renamed


def _truncated(path):
    data = make_testsrc(path).read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _rotated(path):
    plain = make_testsrc(path.with_name("plain-" + path.name))
    ffmpeg("-display_rotation", "90", "-i", plain, "-c", "copy", path)
    return path


CASES = {
    "zero bytes": ("clip.mp4", _written(b""), "empty"),
    "text named .mp4": ("clip.mp4", _written(b"this is text, not a video\n" * 20), "not a video"),
    "png named .mp4": ("clip.mp4", _as(".png", lambda p: ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x48",
                                                                   "-frames:v", "1", p) or p), "still image"),
    "truncated mp4": ("clip.mp4", _truncated, "incomplete"),
    "audio only": ("song.mp4", lambda p: ffmpeg("-f", "lavfi", "-i", "sine=duration=2", p) or p, "no video"),
    "one frame": ("one.mp4", lambda p: make_testsrc(p, extra=("-frames:v", "1", *H264)), "at least 2 frames"),
    "two frames": ("two.mp4", lambda p: make_testsrc(p, extra=("-frames:v", "2", *H264)), None),
    "odd size 321x241": ("odd.mkv", lambda p: make_testsrc(p, size="321x241", extra=("-c:v", "libx264",
                                                                                       "-pix_fmt", "yuv444p")), None),
    "rotated phone video": ("phone.mp4", _rotated, None),
    "variable frame rate": ("vfr.mp4", lambda p: make_testsrc(p, rate=30, seconds=4, extra=(
        "-vf", "setpts='if(lt(N,60),N/30/TB,(2+(N-60)/5)/TB)'", "-fps_mode", "vfr", *H264)), None),
    "grey video": ("grey.mkv", lambda p: make_testsrc(p, extra=("-c:v", "ffv1", "-pix_fmt", "gray")), None),
    "webm with alpha": ("alpha.webm", lambda p: make_testsrc(p, extra=(
        "-vf", "format=yuva420p", "-c:v", "libvpx-vp9", "-pix_fmt", "yuva420p")), None),
    "long low-fps clip": ("timelapse.mp4", lambda p: make_testsrc(p, size="64x48", rate=1, seconds=600), None),
    "8K frames in a tiny file": ("bomb.mp4", lambda p: make_testsrc(p, size="7680x4320", rate=1, seconds=1,
                                                                      source="color"), "megapixels"),
    "name with spaces": ("my holiday clip.mp4", make_testsrc, None),
    "non-ASCII name": ("Été à Zürich – 日本.mp4", make_testsrc, None),
    "name with path parts": ("../../x.mp4", make_testsrc, None),
}


def make_case(case: str, folder):
    """The file of ``case`` in ``folder`` (a name with path parts is made under its last part)."""
    name, make, expected = CASES[case]
    folder.mkdir(parents=True, exist_ok=True)
    path = make(folder / name.rsplit("/", 1)[-1])
    return name, path, expected

"""The bad-input catalogue: odd, broken and hostile files and parameters for the robustness tests,
made with the ffmpeg of imageio-ffmpeg.

``CASES`` maps a case to (file name, maker, expected): expected is None when the file must go
through, else a piece of the message the user must see. The command line and the app are both
tested over every case. ``CLI_CASES`` are inputs only the command line can be given (folders,
FIFOs), ``ARGUMENTS`` its bad parameters: (arguments, expected), the arguments made from a folder
to put files in and the input clip, the expected message naming the parameter.
"""

import os
import shutil
import struct
import subprocess
import zipfile
import zlib

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


def png_header(width: int, height: int) -> bytes:
    """A tiny PNG file that states ``width`` x ``height``: decoding it would take width*height*3 bytes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 100_000)) + chunk(b"IEND", b""))


def _zipped(entries: dict):
    """A zip of ``entries`` (name -> bytes), deflated."""
    def make(path):
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as bundle:
            for name, data in entries.items():
                bundle.writestr(name, data)
        return path
    return make


def fifo(path):
    os.mkfifo(path)
    return path


def _raw_h264(path):
    """A raw H.264 stream (no container: no duration in any header) of 15 min 1 s at 25 fps."""
    ffmpeg("-f", "lavfi", "-i", "color=size=16x16:rate=25:duration=901", "-c:v", "libx264", "-preset",
           "ultrafast", "-pix_fmt", "yuv420p", "-f", "h264", path)
    return path


def _image_folder(size, count=8, *, extra=None):
    """A folder of ``count`` numbered PNGs, and ``extra(folder)`` to add something to it."""
    def make(folder):
        folder.mkdir()
        for i in range(1, count + 1):
            ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate=1", "-vf", f"trim=start_frame={i}",
                   "-frames:v", "1", folder / f"{i}.png")
        if extra:
            extra(folder)
        return folder
    return make


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
    "cinema 4K frames": ("dci4k.mp4", lambda p: make_testsrc(p, size="4096x2160", rate=2, seconds=1,
                                                            source="color"), None),
    "name with spaces": ("my holiday clip.mp4", make_testsrc, None),
    "non-ASCII name": ("Été à Zürich – 日本.mp4", make_testsrc, None),
    "name with path parts": ("../../x.mp4", make_testsrc, None),
    "name like an ffmpeg protocol": ("concat:clip.mp4", make_testsrc, None),
    "Markdown in the name": ("**bold** :red[red] [link](x.html) $x^2$.mp4", make_testsrc, None),
    "1x1 video": ("dot.mkv", lambda p: make_testsrc(p, size="1x1", extra=("-c:v", "ffv1", "-pix_fmt", "yuv444p")),
                  None),
    "raw H.264 stream over 15 minutes": ("raw.mp4", _raw_h264, "over the limit of 15 minutes"),
    "zip of two 20000x20000 PNGs": ("huge.zip", _zipped({"1.png": png_header(20000, 20000),
                                                        "2.png": png_header(20000, 20000)}), "megapixels"),
    "zip entry of 100 MB of zeros": ("zeros.zip", _zipped({"1.png": b"\0" * 100_000_000}), "MB unpacked"),
}

CLI_CASES = {
    "FIFO as the input": ("clip.mp4", fifo, "not a regular file"),
    "image folder with a FIFO named 4.png": (
        "frames", _image_folder("64x48", extra=lambda folder: fifo(folder / "40.png")), None),
    "image folder with a 20000x20000 PNG": (
        "frames", _image_folder("64x48", extra=lambda folder: (folder / "5.png").write_bytes(png_header(20000, 20000))),
        "megapixels"),
}


def _write(path, data: bytes):
    path.write_bytes(data)
    return path


ARGUMENTS = {
    "--start inf": (lambda folder, clip: ["--start", "inf"], "--start"),
    "--end nan": (lambda folder, clip: ["--end", "nan"], "--end"),
    "--fps nan": (lambda folder, clip: ["--fps", "nan"], "--fps"),
    "--end before --start": (lambda folder, clip: ["--start", "1", "--end", "0.5"], "--end"),
    "--opening 100000": (lambda folder, clip: ["--opening", "100000"], "--opening"),
    "--closing 5000": (lambda folder, clip: ["--closing", "5000"], "--closing"),
    "--feather 1e9": (lambda folder, clip: ["--feather", "1e9"], "--feather"),
    "--feather nan": (lambda folder, clip: ["--feather", "nan"], "--feather"),
    "--threshold nan": (lambda folder, clip: ["--threshold", "nan"], "--threshold"),
    "--scale 1e-9": (lambda folder, clip: ["--scale", "1e-9"], "--scale"),
    "--max-iter 1e9": (lambda folder, clip: ["--method", "rpca", "--max-iter", "1e9"], "--max-iter"),
    "--rank 11": (lambda folder, clip: ["--method", "svd", "--rank", "11"], "--rank"),
    "--reference-image a FIFO": (lambda folder, clip: ["--method", "reference", "--reference-image",
                                                       fifo(folder / "4.png")], "--reference-image"),
    "--reference-image of 20000x20000": (lambda folder, clip: [
        "--method", "reference", "--reference-image", _write(folder / "big.png", png_header(20000, 20000))],
        "megapixels"),
    "--replace of 20000x20000": (lambda folder, clip: [
        "--replace", _write(folder / "big.png", png_header(20000, 20000))], "megapixels"),
    "--replace a FIFO": (lambda folder, clip: ["--replace", fifo(folder / "4.png")], "--replace"),
    "--replace named like a protocol": (lambda folder, clip: [
        "--replace", shutil.copy(clip, folder / "concat:clip.mp4").name], None),
    "--out the input's folder": (lambda folder, clip: ["--out", clip.parent], "--out"),
    "--out the input itself": (lambda folder, clip: ["--out", clip], "--out"),
    "--out pipe:1": (lambda folder, clip: ["--out", "pipe:1"], None),
    "--out in a file": (lambda folder, clip: ["--out", _write(folder / "file", b"x") / "out"],
                        "/files/file is a file, where a folder would be made"),
    "--outputs empty": (lambda folder, clip: ["--outputs", ","], "name at least one output"),
}


def make_case(case: str, folder):
    """The file of ``case`` (of CASES or CLI_CASES) in ``folder`` (a name with path parts is made
    under its last part)."""
    name, make, expected = {**CASES, **CLI_CASES}[case]
    folder.mkdir(parents=True, exist_ok=True)
    path = make(folder / name.rsplit("/", 1)[-1])
    return name, path, expected


def make_sound_clip(path, *, size="160x120", rate=15, seconds=3, silent=1.0):
    """A clip with an audio track: ffmpeg's test pattern, and silence for ``silent`` seconds
    then a 440 Hz tone, so that a trimmed part's sound can be told from the whole's."""
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size={size}:rate={rate}:duration={seconds}",
           "-f", "lavfi", "-i", f"aevalsrc=if(gte(t\\,{silent})\\,0.5*sin(2*PI*440*t)\\,0):s=44100:d={seconds}",
           *H264, "-c:a", "aac", "-shortest", path)
    return path


def make_flash_clip(path, *, rate=30, seconds=3, at=2.5):
    """ffmpeg's test pattern, all white for three frames from ``at`` seconds, when a 1 kHz beep
    starts: where the two fall in a video tells whether its sound keeps time with its picture.
    A keyframe a second, so that a cut without re-encoding begins with frames that cannot be decoded."""
    first = round(at * rate)
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size=160x120:rate={rate}:duration={seconds}",
           "-f", "lavfi", "-i", f"aevalsrc=if(between(t\\,{at}\\,{at + 0.1})\\,0.8*sin(2*PI*1000*t)\\,0):s=44100:d={seconds}",
           "-vf", f"drawbox=c=white:t=fill:enable='between(n,{first},{first + 2})'",
           *H264, "-g", rate, "-sc_threshold", 0, "-c:a", "aac", "-shortest", path)
    return path


def audio_track(path):
    """The audio of a file as (codec name, seconds, float samples of the first channel), or None
    when it has no audio track (read with PyAV, which the live page already needs)."""
    import av
    import numpy as np

    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        samples = np.concatenate([frame.to_ndarray()[0] for frame in container.decode(stream)])
        return stream.codec_context.name, len(samples) / stream.rate, samples

"""Bad, odd and hostile input: each case works correctly or ends with a message that says what to do."""

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgcore import VideoError, probe, read_frames, run
from bgcore.files import unpack_images
from bgcore.limits import Limits
from bgcore.video import open_video, read_image
from conftest import bgcore, shared
from media import ARGUMENTS, CASES, CLI_CASES, ffmpeg, make_case, make_testsrc

ROOT = Path(__file__).resolve().parents[1]

def run_ok(source, out):
    report = run(source, out, method="median")
    assert probe(out / "mask.mp4").frame_count == report["frame_count"]
    return report


def test_rotated_phone_video_comes_out_upright(tmp_path):
    # A landscape-encoded clip whose metadata says "show me turned 90 degrees", as phones write.
    plain = make_testsrc(tmp_path / "plain.mp4", size="160x120", extra=("-c:v", "libx264", "-pix_fmt", "yuv420p"))
    ffmpeg("-display_rotation", "90", "-i", plain, "-c", "copy", tmp_path / "phone.mp4")
    info = probe(tmp_path / "phone.mp4")
    assert (info.width, info.height) == (120, 160)
    upright = next(read_frames(tmp_path / "phone.mp4"))
    lying = next(read_frames(plain))
    assert upright.shape == (160, 120, 3)
    turned = [np.abs(np.rot90(lying, k).astype(int) - upright).mean() for k in (1, -1)]
    assert min(turned) < 8  # the frame is the landscape one turned a quarter (the run: CASES)


def test_variable_frame_rate(tmp_path):
    # 60 frames at 30 fps, then 60 at 5 fps: each decoded frame must come out once.
    source = make_testsrc(tmp_path / "vfr.mp4", rate=30, seconds=4, extra=(
        "-vf", "setpts='if(lt(N,60),N/30/TB,(2+(N-60)/5)/TB)'", "-fps_mode", "vfr",
        "-c:v", "libx264", "-pix_fmt", "yuv420p"))
    assert probe(source).frame_count == 120
    assert sum(1 for _ in read_frames(source)) == 120  # the run: CASES


def test_a_long_low_fps_clip_is_limited_by_its_duration(tmp_path):
    source = make_testsrc(tmp_path / "timelapse.mp4", size="64x48", rate=1, seconds=600,
                     extra=("-c:v", "libx264", "-pix_fmt", "yuv420p"))
    assert (probe(source).fps, probe(source).frame_count) == (1.0, 600)  # the run: CASES
    with pytest.raises(VideoError, match="runs over the limit of 5 minutes, the whole file whatever part"):
        probe(source, limits=Limits(max_seconds=300))
    with pytest.raises(VideoError, match="runs over the limit of 30 seconds,"):  # not "of 0 minutes"
        probe(source, limits=Limits(max_seconds=30))


def test_a_phone_photo_is_read_smaller_and_a_frame_is_not(tmp_path):
    """One picture may be a phone's 12 megapixels (over the 4K of a frame): read at half its size,
    upright as its EXIF says; a frame of a folder of images keeps the 4K limit."""
    from PIL import Image
    photo = tmp_path / "phone.jpg"
    picture = Image.fromarray(np.full((3024, 4032, 3), 90, np.uint8))
    exif = picture.getexif()
    exif[0x0112] = 6  # taken upright: stored on its side
    picture.save(photo, exif=exif)
    assert read_image(photo, photo=True).shape == (2016, 1512, 3)
    with pytest.raises(VideoError, match=r"4032x3024 is over the limit of 8\.8 megapixels \(4K\)"):
        read_image(photo)
    with pytest.raises(VideoError, match=r"over the limit of 10 megapixels\. Downscale"):
        read_image(photo, photo=True, limits=Limits(max_photo_pixels=10_000_000))


def test_limits_are_checked_before_decoding(tmp_path):
    source = make_testsrc(tmp_path / "big.mp4", size="640x480", seconds=1, extra=("-c:v", "libx264", "-pix_fmt", "yuv420p"))
    with pytest.raises(VideoError, match="megapixels"):
        probe(source, limits=Limits(max_pixels=320 * 240))
    with pytest.raises(VideoError, match="MB limit"):
        probe(source, limits=Limits(max_bytes=100))


def test_image_folder_with_mixed_sizes_and_a_stray_file(tmp_path):
    for i in range(1, 9):
        size = (64, 48) if i != 5 else (80, 60)
        cv2.imwrite(str(tmp_path / f"{i}.png"), np.full((size[1], size[0], 3), 20 * i, np.uint8))
    (tmp_path / "Thumbs.db").write_bytes(b"\x00\x01junk")
    (tmp_path / "readme.txt").write_text("not an image")
    with pytest.raises(VideoError, match="5.png is 80x60"):
        run(tmp_path, tmp_path.parent / "out-mixed")
    (tmp_path / "5.png").unlink()
    assert probe(tmp_path).frame_count == 7
    (tmp_path / "9.png").write_text("text with an image's name")
    with pytest.raises(VideoError, match="9.png"):
        list(read_frames(tmp_path))


def test_zip_of_images_in_nested_folders(tmp_path):
    archive = tmp_path / "frames.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for i in range(1, 13):
            ok, png = cv2.imencode(".png", np.full((48, 64, 3), 10 * i, np.uint8))
            z.writestr(f"shoot/day 1/frame{i}.png", png.tobytes())
        z.writestr("__MACOSX/shoot/._frame1.png", b"resource fork junk")
        z.writestr("zz/../../evil.png", png.tobytes())
        z.writestr("notes.txt", "hello")
    folder = unpack_images(archive, tmp_path / "unpacked")
    assert not (tmp_path.parent / "evil.png").exists()
    assert folder.is_relative_to(tmp_path / "unpacked")
    frames = list(read_frames(folder))
    assert len(frames) == 13  # twelve frames and evil.png, last, inside the folder
    assert [f[0, 0, 0] for f in frames[:12]] == [10 * i for i in range(1, 13)]
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "bgcore", str(archive), "--out", str(out), "--method",
                    "median"], check=True, capture_output=True, timeout=300)
    assert probe(out / "mask.mp4").frame_count == 13
    report = json.loads((out / "report.json").read_text())  # named as given, not as unpacked (a folder gone)
    assert report["input"]["path"] == str(archive) and report["frame_count"] == 13


def test_zip_bomb_is_refused(tmp_path):
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.png", b"\x00" * 50_000_000)
    with pytest.raises(VideoError, match="too many to unpack"):
        unpack_images(archive, tmp_path / "out", limits=Limits(max_bytes=10_000_000))


def test_hostile_clip_that_aborts_opencv_is_read_safely(tmp_path):
    source = shared("hostile/demo.avi")
    # OpenCV's VideoCapture aborts the whole process on this file's second frame: prove it still
    # does (in a child), so this test keeps meaning something, then read it our way.
    child = subprocess.run([sys.executable, "-c", "import cv2\nc = cv2.VideoCapture(r'%s')\n"
                            "[c.read() for _ in range(5)]" % source],
                           capture_output=True, text=True, timeout=60)
    assert child.returncode < 0, "OpenCV no longer crashes on this clip"  # killed by a signal
    assert run_ok(source, tmp_path / "out")["frame_count"] == probe(source).frame_count


def assert_one_line_error(result, expected):
    last = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and last.startswith("error:") and expected in last, result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("case", [*CASES, *CLI_CASES])
def test_every_case_on_the_command_line(case, tmp_path):
    name, path, expected = make_case(case, tmp_path / "in")
    out = tmp_path / "out"
    # The input by its bare name, as typed in its folder: an absolute path would hide a name that
    # ffmpeg takes for a protocol (concat:clip.mp4).
    result = bgcore(path.name, "--out", out, "--method", "median", cwd=path.parent)
    if expected is None:
        assert result.returncode == 0, result.stderr
        info, video = probe(path), probe(out / "mask.mp4")
        # Its frames at their times: where the frame rate varies, one shows as long as it did.
        shown = open_video(path).seconds()
        span = info.duration if shown is None else shown[-1] - shown[0] + 1 / video.fps
        assert abs(video.duration - span) < 1.01 / video.fps and video.frame_count >= info.frame_count
        masks = sorted((out / "masks").glob("*.png"))
        assert len(masks) == info.frame_count  # odd sizes, rotation: the masks have the input's size
        assert cv2.imread(str(masks[-1]), cv2.IMREAD_GRAYSCALE).shape == (info.height, info.width)
    else:
        assert_one_line_error(result, expected)
        assert not out.exists()


@pytest.mark.parametrize("case", list(ARGUMENTS))
def test_every_bad_parameter_on_the_command_line(case, tmp_path):
    make_arguments, expected = ARGUMENTS[case]
    (tmp_path / "in").mkdir()
    clip = make_testsrc(tmp_path / "in" / "clip.mp4", seconds=1)
    folder = tmp_path / "files"
    folder.mkdir()
    result = bgcore(clip, "--out", tmp_path / "out", "--method", "median", *make_arguments(folder, clip), cwd=folder)
    if expected is None:
        assert result.returncode == 0, result.stderr
    else:
        assert_one_line_error(result, expected)
        assert not (tmp_path / "out").exists()
    assert clip.is_file() and probe(clip).frame_count == 15  # the input is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) in (["files", "in"], ["files", "in", "out"])


def test_a_rerun_replaces_every_output_of_the_earlier_run_and_keeps_other_files(tmp_path):
    clip = make_testsrc(tmp_path / "clip.mp4", seconds=2)
    out = tmp_path / "out"
    assert bgcore(clip, "--out", out, "--method", "median", "--replace", clip).returncode == 0
    (out / "notes.txt").write_text("mine")
    (out / "masks" / "drawn-by-hand.png").write_bytes(b"mine")  # not named as ours: it stays
    assert bgcore(clip, "--out", out, "--method", "median", "--end", "1").returncode == 0
    assert len(list((out / "masks").glob("0*.png"))) == probe(out / "mask.mp4").frame_count == 15
    assert not (out / "composite.mp4").exists() and (out / "notes.txt").read_text() == "mine"
    assert (out / "masks" / "drawn-by-hand.png").read_bytes() == b"mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4", "out"]
    (out / "masks" / "drawn-by-hand.png").unlink()  # our PNGs alone in masks/: no masks, no empty folder
    assert bgcore(clip, "--out", out, "--method", "median", "--end", "1", "--outputs", "mask").returncode == 0
    assert not (out / "masks").exists()
    assert not [p for p in out.iterdir() if "partial" in p.name]  # no staging folder left


def ffmpeg_processes(text: str) -> list:
    """The command lines of running processes that mention ``text`` and ffmpeg."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "ffmpeg" in command and text in command:
            found.append(command)
    return found


@pytest.mark.parametrize("stage, zipped, fresh", [("sample", False, False), ("apply", False, False),
                                                  ("sample", True, False), ("apply", False, True)])
def test_sigterm_leaves_the_earlier_outputs_whole_and_no_ffmpeg_or_temporary_files(stage, zipped, fresh, tmp_path):
    """``fresh``: into a new folder, which goes with the run, with the transparent video, whose
    encoder ended under the thread writing to it: the run said the disk might be full (1 time in 4)."""
    clip = make_testsrc(tmp_path / "clip.mp4", size="640x480", seconds=20)
    out = tmp_path / "out"
    if not fresh:
        assert bgcore(clip, "--out", out, "--method", "median", "--end", "1").returncode == 0
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} if not fresh else None
    source = clip
    if zipped:
        source = tmp_path / "frames.zip"
        folder = tmp_path / "frames"
        folder.mkdir()
        ffmpeg("-i", clip, "-frames:v", "200", folder / "%04d.png")
        with zipfile.ZipFile(source, "w") as bundle:
            for png in sorted(folder.iterdir()):
                bundle.write(png, png.name)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    outputs = ["--outputs", "mask,transparent"] if fresh else []
    child = subprocess.Popen([sys.executable, "-m", "bgcore", str(source), "--out", str(out), "--method", "median",
                              "--scale", "1", *outputs], stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)})
    seen = ""
    while f"{stage}:" not in seen:
        character = child.stderr.read(1)
        assert character, seen
        seen += character
    child.terminate()
    assert child.wait(timeout=30) == 128 + 15
    assert child.stderr.read().strip().splitlines()[-1] == "stopped: nothing was written to --out."
    deadline = time.monotonic() + 5
    while ffmpeg_processes(str(tmp_path)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ffmpeg_processes(str(tmp_path))
    assert list(scratch.iterdir()) == []
    if fresh:
        assert not out.exists()
        return
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
    assert not [path for path in [*tmp_path.iterdir(), *out.iterdir()] if "partial" in path.name]


def test_a_full_disk_is_named(tmp_path):
    """--out on a 200 KB tmpfs, mounted in a mount namespace of the test's own (unshare -rm)."""
    clip = make_testsrc(tmp_path / "clip.mp4", size="640x480", seconds=10)
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode != 0:
        pytest.skip("unshare -rm (a mount namespace for a small tmpfs) is not allowed here")
    script = (f"mount -t tmpfs -o size=200k tmpfs {disk} && {sys.executable} -m bgcore {clip} "
              f"--out {disk}/out --method median; echo rc=$?; ls -A {disk}")
    result = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=300,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error:") and "the disk is full" in last and "Traceback" not in result.stderr
    assert result.stdout.split() == ["rc=2"]  # and nothing cut short: not even the --out folder it made


def test_the_next_run_removes_what_a_killed_run_left_in_tmpdir(tmp_path, monkeypatch):
    scratch = tmp_path / "tmp"
    gone = subprocess.Popen(["true"])
    gone.wait()
    left = scratch / f"bgcore-{gone.pid}-abc123"  # as a run killed with SIGKILL leaves it
    (left / "frames").mkdir(parents=True)
    (left / "frames" / "000001.png").write_bytes(b"unpacked")
    alive = scratch / f"bgcore-{os.getpid()}-def456"  # a run still going
    alive.mkdir()
    mine = scratch / "bgcore-bench"  # not a run's
    mine.mkdir()
    clip = make_testsrc(tmp_path / "clip.mp4", seconds=1)
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))  # TMPDIR, as read at the first use
    assert bgcore(clip, "--out", tmp_path / "out", "--method", "median").returncode == 0
    assert sorted(path.name for path in scratch.iterdir()) == sorted([alive.name, mine.name])

import logging
import subprocess

import imageio_ffmpeg
import numpy as np
import pytest

import cv2
import bgcore.video
from bgcore.synthetic import write_clip
from bgcore.video import VideoError, VideoWriter, image_files, open_video, probe, read_frames, selection
from conftest import shared
from media import H264, ffmpeg, make_case, make_testsrc


def moving_square(count, width=64, height=48):
    frames = np.full((count, height, width, 3), 90, np.uint8)
    for t in range(count):
        frames[t, 10:20, 2 * t:2 * t + 10] = (250, 30, 30)
    return frames


def encode(path, frames, codec, fps=10, pix_fmt="yuv420p"):
    height, width = frames.shape[1:3]
    writer = imageio_ffmpeg.write_frames(str(path), (width, height), fps=fps, codec=codec,
                                         pix_fmt_out=pix_fmt, macro_block_size=1, quality=None,
                                         output_params=["-q:v", "3"] if codec in ("mpeg4", "mjpeg") else [])
    writer.send(None)
    for frame in frames:
        writer.send(frame)
    writer.close()
    return path


@pytest.mark.parametrize("name, codec, pix_fmt", [
    ("clip.mp4", "libx264", "yuv420p"),
    ("clip.avi", "mpeg4", "yuv420p"),
    ("clip.avi", "mjpeg", "yuvj420p"),
    ("clip.mov", "libx264", "yuv420p"),
    ("clip.mkv", "libx264", "yuv420p"),
    ("clip.webm", "libvpx-vp9", "yuv420p"),
])
def test_reads_every_container_and_codec(tmp_path, name, codec, pix_fmt):
    frames = moving_square(12)
    path = encode(tmp_path / name, frames, codec, pix_fmt=pix_fmt)
    info = probe(path)
    assert (info.width, info.height, info.frame_count) == (64, 48, 12)
    assert info.fps == pytest.approx(10)
    decoded = np.stack(list(read_frames(path)))
    assert decoded.shape == frames.shape and decoded.dtype == np.uint8
    # Lossy codecs: close, and the square is where it was drawn.
    assert np.abs(decoded.astype(int) - frames).mean() < 6
    assert decoded[5, 12:18, 12:18, 0].mean() > 200


def test_writer_round_trip_keeps_frame_count_and_h264(tmp_path):
    frames = moving_square(30)
    with VideoWriter(tmp_path / "out.mp4", 64, 48, 15) as writer:
        for frame in frames:
            writer.write(frame)
    reader = imageio_ffmpeg.read_frames(str(tmp_path / "out.mp4"))
    meta = next(reader)
    reader.close()
    assert meta["codec"].startswith("h264") and meta["pix_fmt"].startswith("yuv420p(tv, smpte170m")  # BT.601, said
    assert probe(tmp_path / "out.mp4").frame_count == 30


def test_odd_size_is_padded_by_one_pixel_not_rescaled(tmp_path):
    frames = np.zeros((5, 241, 321, 3), np.uint8)
    frames[:, :, 160:] = 200
    with VideoWriter(tmp_path / "odd.mp4", 321, 241, 10) as writer:
        for frame in frames:
            writer.write(frame)
    info = probe(tmp_path / "odd.mp4")
    assert (info.width, info.height, info.frame_count) == (322, 242, 5)
    first = next(read_frames(tmp_path / "odd.mp4"))
    assert first[:241, 165:321].mean() > 190 and first[:241, :155].mean() < 10  # not rescaled
    assert first[241, :].max() < 10 and first[:, 321].max() < 10  # the padding is black


def test_grey_frames_are_written(tmp_path):
    with VideoWriter(tmp_path / "mask.mp4", 64, 48, 10) as writer:
        for t in range(4):
            writer.write(np.where(np.arange(64) < 16 * t, 255, 0).astype(np.uint8)[None].repeat(48, 0))
    frames = list(read_frames(tmp_path / "mask.mp4"))
    assert len(frames) == 4 and frames[3][:, :40].mean() > 240 and frames[3][:, 52:].mean() < 15


@pytest.mark.parametrize("size", [(64, 48), (63, 47)])  # yuv420p made by us, and by ffmpeg
def test_writer_keeps_colours_and_grey_levels(tmp_path, size):
    ramp = np.linspace(0, 255, size[0]).astype(np.uint8)[None].repeat(size[1], 0)
    colour = np.dstack([ramp, np.full_like(ramp, 40), 255 - ramp])
    for name, frame in (("grey", ramp), ("colour", colour)):
        with VideoWriter(tmp_path / f"{name}.mp4", *size, 10) as writer:
            writer.write(frame)
        back = next(read_frames(tmp_path / f"{name}.mp4"))[:size[1], :size[0]].astype(int)
        expected = frame[..., None] if frame.ndim == 2 else frame
        assert np.abs(back - expected).mean() < 5, name  # a wrong range or matrix: 8 and more


@pytest.mark.parametrize("tags", [(), ("-colorspace", "bt709"), ("-colorspace", "bt470bg"),
                                  ("-colorspace", "bt709", "-color_range", "pc")])
def test_colours_are_those_ffmpeg_gives_for_the_clips_colour_space(tmp_path, tags):
    """Phones and cameras tag HD as BT.709: read as BT.601, saturated colours were 20 levels off."""
    path = make_testsrc(tmp_path / "clip.mp4", size="320x240", seconds=1, source="testsrc2", extra=(*H264, *tags))
    ffmpeg_rgb = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path), "-frames:v", "1",
                                 "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    expected = np.frombuffer(ffmpeg_rgb, np.uint8).reshape(240, 320, 3).astype(int)
    with open_video(path) as video:
        read = next(video.frames())
        assert np.abs(read - expected).mean() < 1 and np.percentile(np.abs(read - expected), 99) <= 3
        assert np.array_equal(video[3], list(video.frames(range(3, 4)))[0])  # a seek: the same frame


def test_a_seek_takes_the_colour_space_the_read_takes_where_a_clip_changes_it(tmp_path):
    """Clips joined without re-encoding, untagged then BT.709: the header's space for every frame."""
    parts = [make_testsrc(tmp_path / f"{name}.ts", size="64x48", rate=10, seconds=1, source="testsrc2",
                          extra=(*H264, "-g", "5", *tags)) for name, tags in (("a", ()), ("b", ("-colorspace", "bt709")))]
    joined = tmp_path / "joined.ts"
    joined.write_bytes(b"".join(part.read_bytes() for part in parts))
    path = tmp_path / "joined.mkv"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(joined), "-c", "copy", str(path)], check=True)
    with open_video(path) as video:
        frames = list(video.frames())
        assert len(frames) == 20 and all(np.array_equal(video[i], frames[i]) for i in (2, 12, 17))


def test_image_folder_sorted_naturally(tmp_path):
    frames = moving_square(12)
    for i, frame in enumerate(frames, start=1):
        cv2.imwrite(str(tmp_path / f"{i}.png"), cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    (tmp_path / "notes.txt").write_text("not an image")
    assert [p.name for p in image_files(tmp_path)][:3] == ["1.png", "2.png", "3.png"]
    info = probe(tmp_path)
    assert (info.width, info.height, info.frame_count, info.fps) == (64, 48, 12, 25.0)
    assert np.array_equal(np.stack(list(read_frames(tmp_path))), frames)  # PNG is lossless
    assert len(list(read_frames(tmp_path, range(0, 12, 5)))) == 3


def test_selection_trims_and_subsamples():
    from bgcore.video import VideoInfo
    info = VideoInfo(64, 48, 30.0, 300)
    assert selection(info) == range(0, 300)
    assert selection(info, start=1, end=2) == range(30, 60)
    assert selection(info, fps=10) == range(0, 300, 3)
    assert len(selection(info, start=9.5, fps=7.5)) == 4  # frames 285, 289, 293, 297
    with pytest.raises(VideoError, match="keeps no frames"):
        selection(info, start=20)
    with pytest.raises(ValueError, match="start"):
        selection(info, start=3, end=2)
    # One frame left: of a trim, the trim is to blame; of the whole file, the file
    with pytest.raises(VideoError, match="only 1 frame to work on.*use a wider trim"):
        selection(info, start=9.97)  # frame 299 alone
    with pytest.raises(VideoError, match=r"the clip has only 1 frame that can be decoded \(a still image, or a video cut short\?\).*another clip"):
        selection(VideoInfo(64, 48, 30.0, 1))


def test_read_frames_with_selection_yields_the_chosen_frames(tmp_path):
    frames = moving_square(20)
    path = encode(tmp_path / "c.mp4", frames, "libx264")
    picked = list(read_frames(path, range(4, 20, 5)))
    assert len(picked) == 4
    # Frame t has the square at x = 2t: frame 9's red square starts at x = 18.
    assert picked[1][12:18, 20:26, 0].mean() > 200 and picked[1][12:18, 30:, 0].mean() < 130


def test_read_frames_ends_at_the_last_chosen_frame(tmp_path, monkeypatch):
    """Past the last frame a selection asks for, ffmpeg's select filter lets no frame through
    while it decodes on to the file's end: the first 10 s of a 10-minute 1080p clip took 39 s
    to sample, not 1.4 s. The reader is never asked for a frame after the last one chosen."""
    path = encode(tmp_path / "c.mp4", moving_square(20), "libx264")
    real, told = imageio_ffmpeg.read_frames, []

    def no_frame_past_the_last(*args, **kwargs):
        told.append(kwargs["output_params"])
        yield from real(*args, **kwargs)
        raise AssertionError("asked for a frame after the last one chosen (decoding on to the end)")

    monkeypatch.setattr(imageio_ffmpeg, "read_frames", no_frame_past_the_last)
    picked = list(read_frames(path, range(2, 9, 3)))
    assert len(picked) == 3 and len(list(read_frames(path, range(4, 7)))) == 3
    assert len(list(read_frames(path, [0, 5]))) == 2
    # ffmpeg is told where to end (the first frame too comes out, and is dropped: see read_frames),
    # and the frames are the ones chosen: frame 5's square at x = 10.
    assert ["-frames:v", "4"] == told[0][-2:] == told[1][-2:]
    assert picked[1][12:18, 12:18, 0].mean() > 200 and picked[1][12:18, 24:, 0].mean() < 130


@pytest.mark.parametrize("check", ["passes", "fails"])
def test_frames_far_into_a_file_come_from_a_seek_and_are_those_of_a_decode_from_the_start(tmp_path, monkeypatch,
                                                                                          check):
    """A trim far into a long clip was decoded from the file's start: 6 s before 2:00 of a 1080p
    clip, against 0.8 s from a seek. Frames after B-frames, with and without a step; when the first
    frame from the seek is not the one expected, the frames are decoded from the start."""
    path = tmp_path / "long.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=160x120:rate=30:duration=8", "-c:v", "libx264", "-bf", "3",
           "-g", "30", "-pix_fmt", "yuv420p", path)
    monkeypatch.setattr(bgcore.video, "SEEK_PIXELS", 100 * 160 * 120)  # from frame 100 on
    video = open_video(path)
    if check == "fails":
        monkeypatch.setattr(type(video), "frame", lambda self, index: np.zeros((120, 160, 3), np.uint8))
    real, seeks = imageio_ffmpeg.read_frames, []
    monkeypatch.setattr(imageio_ffmpeg, "read_frames",
                        lambda *a, **k: seeks.append("-ss" in k["input_params"]) or real(*a, **k))
    for indices in (range(150, 200, 7), range(101, 131), range(40, 60)):
        ours = list(video.frames(indices, size=(80, 60)))
        far = indices.start >= 100
        assert seeks == [far] + [False] * (far and check == "fails")  # a seek, then a decode from the start
        seeks.clear()
        whole = list(read_frames(path, list(indices), size=(80, 60)))
        seeks.clear()
        assert len(ours) == len(indices) and all(np.array_equal(a, b) for a, b in zip(ours, whole))


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"this is plain text, not a video\n" * 10, "not a video"),
])
def test_bad_files_get_clear_errors(tmp_path, content, message):
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(VideoError, match=message):
        probe(path)


def test_missing_file_and_empty_folder(tmp_path):
    with pytest.raises(VideoError, match="no such file"):
        probe(tmp_path / "missing.mp4")
    with pytest.raises(VideoError, match="no images"):
        probe(tmp_path)


def test_shared_clip_frame_count_is_decoded_not_read_from_the_header():
    info = probe(shared("bmc-video003/Video_003.avi"))
    assert (info.width, info.height, info.fps, info.frame_count) == (320, 240, 7.0, 794)


def test_shared_png_sequence():
    info = probe(shared("road-640x360/frames-320x240"))
    assert (info.width, info.height, info.frame_count) == (320, 240, 51)


def test_writer_that_cannot_write_says_so(tmp_path):
    with pytest.raises(OSError, match="could not be written"):
        with VideoWriter(tmp_path / "no such folder" / "out.mp4", 64, 48, 10) as writer:
            writer.write(np.zeros((48, 64, 3), np.uint8))


def test_ffmpeg_starts_without_python_code_between_fork_and_exec(clip_path, tmp_path, monkeypatch):
    """A preexec_fn forces a real fork(), which hung a server session whose neighbour was inside
    a matrix product (OpenBLAS's fork handlers): every ffmpeg we start must go without one."""
    import subprocess
    started = []
    popen = subprocess.Popen

    def spy(*args, **kwargs):
        started.append(kwargs.get("preexec_fn"))
        return popen(*args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", spy)
    info = probe(clip_path)
    assert len(list(read_frames(clip_path, range(3)))) == 3
    with VideoWriter(tmp_path / "out.mp4", info.width, info.height, fps=10) as writer:
        writer.write(np.zeros((info.height, info.width, 3), np.uint8))
    assert len(started) >= 3 and not any(started)


def test_reading_scaled_frames_drops_only_the_expected_size_warning(clip_path, caplog):
    # imageio-ffmpeg warns that the frames read differ in size from the source's (as they do when
    # scaled, or a phone video is turned upright); its other warnings must still show.
    logger = logging.getLogger("imageio_ffmpeg")
    with caplog.at_level(logging.WARNING, logger="imageio_ffmpeg"):
        frames = list(read_frames(clip_path, range(3), size=(160, 120)))
        logger.warning("We had to kill ffmpeg to stop it.")
    assert [frame.shape for frame in frames] == [(120, 160, 3)] * 3
    assert [record.getMessage() for record in caplog.records] == ["We had to kill ffmpeg to stop it."]
    assert logger.filters == [] and logger.level == logging.NOTSET


def test_a_frame_by_index_is_the_decoded_frame_found_by_a_seek(tmp_path, monkeypatch):
    path = make_testsrc(tmp_path / "clip.mp4", rate=15, seconds=20, extra=(*H264, "-g", "30"))
    with open_video(path) as video:
        frames = list(video)
        assert len(video) == len(frames) == 300
        started = []
        popen = subprocess.Popen
        monkeypatch.setattr(subprocess, "Popen", lambda args, **kw: started.append(args) or popen(args, **kw))
        for index in (1, 29, 30, 157, 299, -2):
            decoded = video.decoded
            assert np.array_equal(video[index], frames[index])
            # A keyframe every 30 frames: a seek decodes at most the 30 frames before the one asked
            # for, and a few after it (the decoder's delay), not all before it; in this process.
            assert 1 <= video.decoded - decoded <= 40
        assert started == []
        with pytest.raises(IndexError, match="300 frames"):
            video.frame(300)


def test_the_frames_after_the_last_one_asked_for_cost_a_decode_each(tmp_path):
    """The Results page's slider moved on by a frame or a few: decoded forward, not sought again
    from the keyframe (x264's default: one every 250 frames)."""
    path = make_testsrc(tmp_path / "clip.mp4", rate=15, seconds=20)
    with open_video(path) as video:
        frames = list(video)
        video[200]
        for index in (201, 202, 210, 211):
            decoded = video.decoded
            assert np.array_equal(video[index], frames[index])
            assert video.decoded - decoded <= index - (index - 1 if index != 210 else 202)
        decoded = video.decoded
        assert np.array_equal(video[150], frames[150])  # back: a seek, at most from frame 0
        assert video.decoded - decoded <= 150 + 5


@pytest.mark.parametrize("transfer", ["arib-std-b67", "smpte2084"])  # HLG (an iPhone's), PQ (HDR10)
def test_an_hdr_clip_comes_in_the_colours_of_sdr_in_reads_seeks_and_the_preview(tmp_path, transfer):
    sdr = write_clip(tmp_path / "sdr.mp4", frames=45)  # BT.601
    # The same pictures as a phone's HDR clip: 10-bit HEVC, BT.2020, SDR's white as HDR's
    # reference white; a keyframe every 30 frames, B-frames between.
    hdr = tmp_path / "hdr.mov"
    ffmpeg("-i", sdr, "-vf", f"zscale=tin=bt709:pin=170m:min=170m:rin=tv:t={transfer}:p=bt2020:m=bt2020nc:r=tv:"
           "npl=203,format=yuv420p10le", "-c:v", "libx265", "-x265-params",
           f"keyint=30:bframes=3:colorprim=bt2020:transfer={transfer}:colormatrix=bt2020nc:log-level=error", hdr)
    expected = list(read_frames(sdr))
    with open_video(hdr, preview=tmp_path / "preview.mp4") as video:
        frames = list(video)
        assert video.info.hdr and len(frames) == len(expected) == 45
        # Decoded as they were, 19 (HLG) and 29 (PQ) grey levels off on average; the rest is the
        # way there, which takes SDR's light as the scene's, and back as a display's.
        assert max(np.abs(a.astype(int) - b).mean() for a, b in zip(frames, expected)) < 8
        for index in (29, 30, 44, 7):  # 29: a seek by decoding times lands on 30's keyframe
            assert np.array_equal(video[index], frames[index]), index
    preview = next(read_frames(tmp_path / "preview.mp4"))
    assert np.abs(preview.astype(int) - expected[0]).mean() < 8


def test_an_hdr_clip_of_odd_sizes_is_read_too(tmp_path):
    """yuv420p needs even sizes: the frames of a 161x121 HDR clip come as RGB (VP9, which takes any size)."""
    sdr = write_clip(tmp_path / "sdr.mp4", frames=20, width=162, height=122)
    hdr = tmp_path / "hdr.webm"
    ffmpeg("-i", sdr, "-vf", "format=gbrp,crop=161:121:0:0,zscale=tin=bt709:pin=170m:t=arib-std-b67:p=bt2020:npl=203,"
           "format=gbrp16le,scale=out_color_matrix=bt2020:out_range=tv,format=yuv420p10le", "-c:v", "libvpx-vp9",
           "-color_trc", "arib-std-b67", "-color_primaries", "bt2020", "-colorspace", "bt2020nc", hdr)
    expected = [frame[:121, :161] for frame in read_frames(sdr)]
    with open_video(hdr, preview=tmp_path / "preview.mp4") as video:
        assert video.info.hdr and video.info.size == (161, 121)
        frames = list(video)
        assert len(frames) == 20 and max(np.abs(a.astype(int) - b).mean() for a, b in zip(frames, expected)) < 8
        assert np.array_equal(video[13], frames[13])
    assert probe(tmp_path / "preview.mp4").frame_count == 20


def test_frame_times_count_from_the_files_start(tmp_path):
    """Where a player shows each frame, and the sound runs: a file cut without re-encoding begins
    with frames that cannot be decoded, which the count leaves out."""
    clip = make_testsrc(tmp_path / "whole.mp4", rate=30, seconds=3, extra=(*H264, "-g", "30"))
    ffmpeg("-i", clip, "-ss", "0.5", "-c", "copy", "-copyinkf", tmp_path / "cut.mp4")
    with open_video(clip) as whole, open_video(tmp_path / "cut.mp4") as cut:
        assert np.allclose(whole.seconds(), np.arange(90) / 30)
        assert len(cut) == 60 and cut.seconds()[0] > 0.4  # its first keyframe: the whole's at 1 s
        del cut.__dict__["_start"]  # as pickled before the file's start was kept: from its first frame
        assert cut.seconds()[0] == 0


def test_a_trim_of_a_clip_whose_frame_rate_varies_finds_its_frames_by_their_times(tmp_path):
    _, clip, _ = make_case("variable frame rate", tmp_path)  # 30 fps for 2 s, then 5 fps
    with open_video(clip) as video:
        assert selection(video.info, start=1.0, end=4.0, times=video.seconds()) == range(30, 70)
        assert selection(video.info, start=1.0, end=4.0) != range(30, 70)  # at the average rate


@pytest.mark.parametrize("rate", [1000, 2000])
def test_a_clip_of_a_thousand_frames_a_second_gets_a_whole_preview(tmp_path, rate):
    """ffmpeg states such a rate as "1k fps": read as 0, the preview held one frame."""
    clip = make_testsrc(tmp_path / "fast.mp4", rate=rate, seconds=0.05)
    with open_video(clip, preview=tmp_path / "preview.mp4") as video:
        assert video.info.fps == rate and video.info.frame_count == rate // 20
    assert probe(tmp_path / "preview.mp4").frame_count == rate // 20


def test_a_frame_of_a_rotated_video_is_upright_as_in_a_decode_from_the_start(tmp_path):
    _, path, _ = make_case("rotated phone video", tmp_path)
    with open_video(path) as video:
        frames = list(video)
        assert np.array_equal(video[len(frames) // 2], frames[len(frames) // 2])


@pytest.mark.parametrize("clip", ["bmc-video003/Video_003.avi", "lrslibrary-small/escalator.avi"])
def test_a_seek_finds_the_frame_where_the_timestamps_skip(clip):
    """AVI files whose timestamps start late and skip (escalator: 2, 3, 5, 6...): a frame found by
    its time from the frame rate would be off by one or more."""
    with open_video(shared(clip)) as video:
        frames = list(video.frames(range(0, len(video), 37)))
        for index, frame in zip(range(0, len(video), 37), frames):
            assert np.array_equal(video[index], frame), index


def test_an_opened_video_stops_unfinished_reads_on_close(clip_path):
    with open_video(clip_path) as video:
        reader = iter(video)
        next(reader)
    assert reader.gi_frame is None  # closed: its ffmpeg ended
    assert video[3].shape == (video.info.height, video.info.width, 3)  # still readable after

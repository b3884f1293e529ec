"""The Compare page: methods side by side on one clip, scored where the truth is known."""

import io
import zipfile

import cv2
import numpy as np
import pytest

import bgcore
from bgcore.datasets import score_fitted, zip_truth
from bgcore.synthetic import make_clip, sample_truth
from test_app import click, current_fit, open_app, work


def test_two_methods_side_by_side_on_the_sample_with_their_f_measure():
    app = open_app()
    click(app, "Use the sample clip")
    app.switch_page("app_pages/compare.py").run()
    assert [m.label for m in app.multiselect] == ["Methods to compare (two to four)"]
    app.multiselect[0].set_value(["mode", "svd"]).run()
    assert not app.get("image")  # nothing runs before the click
    click(app, "Compare")
    assert current_fit(app) is None  # comparing is not choosing: Export has nothing yet
    captions = [c.value for c in app.caption]
    scores = [float(c.rsplit("F-measure ", 1)[1]) for c in captions if "s to fit" in c]
    assert len(scores) == 2 and all(0.8 < f <= 1 for f in scores), captions
    images = [c for image in app.get("image") for c in image.captions]
    assert images.count("Mask") == 2 and images.count("Foreground") == 2
    # The results stay through a slider move, without fitting again.
    fits = dict(work(app).fits)
    app.slider[0].set_value(3).run()
    assert work(app).fits.keys() == fits.keys() and len(app.get("image")) == 4
    # A frame kept from a longer clip is brought to this one's last (the slider refused it: a traceback).
    app.session_state["compare.frame"] = 374
    app.run()
    assert not app.exception and app.slider[0].value == 150 and len(app.get("image")) == 4
    # One click exports the chosen one.
    [button] = [b for b in app.button if b.key and b.key.startswith("compare.export.")][1:2]
    button.click().run()
    assert not app.exception and current_fit(app).method == "svd"
    assert [t.value for t in app.title] == ["Export"]


def test_a_comparison_stopped_says_so_on_its_page_and_can_start_again():
    app = open_app()
    click(app, "Use the sample clip")
    app.switch_page("app_pages/compare.py").run()
    app.multiselect[0].set_value(["mode", "rpca"]).run()  # rpca: seconds, time enough to stop it
    [button] = [b for b in app.button if b.label == "Compare"]
    button.click().run()
    job = work(app).job
    job.stop()  # as the Stop button on top does
    assert job.stopped
    app.run()
    assert [i.value for i in app.info] == ["Comparing methods: stopped."]  # not only a toast, gone in seconds
    assert [b.label for b in app.button if b.label == "Compare"] == ["Compare"] and not app.get("image")


def _zip(masks: dict) -> bytes:
    """A zip of masks (H, W) uint8 as PNGs, or of bytes as they are."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as bundle:
        for name, mask in masks.items():
            bundle.writestr(name, mask if isinstance(mask, bytes) else cv2.imencode(".png", mask)[1].tobytes())
    return data.getvalue()


def test_a_zip_of_masks_is_matched_by_frame_number():
    masks = sample_truth()
    truth = zip_truth(io.BytesIO(_zip({f"gt/mask_{i + 1:04d}.png": masks[i] for i in (0, 9, 99)})))
    assert sorted(truth) == [0, 9, 99] and np.array_equal(truth[99], masks[99])
    assert sorted(zip_truth(io.BytesIO(_zip({"0.png": masks[0], "5.png": masks[5]})))) == [0, 5]
    with pytest.raises(ValueError, match="no mask image"):
        zip_truth(io.BytesIO(_zip({"notes.png.txt": masks[0]})))
    with pytest.raises(ValueError, match="not a zip"):
        zip_truth(io.BytesIO(b"PK\x03\x04 not really"))
    with pytest.raises(ValueError, match="over"):
        zip_truth(io.BytesIO(_zip({f"{i}.png": masks[i] for i in range(1, 4)})), max_bytes=500)
    # Sizes come from the headers before anything is decoded.
    with pytest.raises(ValueError, match="over 0 megapixels"):
        zip_truth(io.BytesIO(_zip({"1.png": masks[1]})), max_pixels=1000)
    with pytest.raises(ValueError, match="1.png: cannot be read as an image"):
        zip_truth(io.BytesIO(_zip({"1.png": b"garbage"})))
    # A frame zipped as its mask by mistake (a mask saved as JPEG passes: it strays at its edges only).
    with pytest.raises(ValueError, match="1.png is a picture, not a mask"):
        zip_truth(io.BytesIO(_zip({"1.png": make_clip(frames=2).frames[0]})))
    jpeg = cv2.imencode(".jpg", masks[9])[1].tobytes()
    assert (zip_truth(io.BytesIO(_zip({"10.jpg": jpeg})))[9] == masks[9]).mean() > 0.99


def test_score_fitted_uses_the_annotated_frames_it_works_on(tmp_path):
    clip = make_clip(frames=40)
    source = clip.write(tmp_path / "clip.mp4")
    fitted = bgcore.fit_clip(source, method="median")
    truth = {i: clip.masks[i].astype(np.uint8) * 255 for i in (5, 20)}
    assert score_fitted(fitted, truth)["f_measure"] > 0.9
    assert score_fitted(fitted, {500: truth[5]}) is None


def test_the_page_scores_an_uploaded_clip_against_a_zip_of_masks(tmp_path):
    app = open_app()
    clip = make_clip(frames=30)
    app.file_uploader[0].set_value(("walk.mp4", clip.write(tmp_path / "walk.mp4").read_bytes(),
                                    "video/mp4")).run()
    app.switch_page("app_pages/compare.py").run()
    app.multiselect[0].set_value(["median", "svd"]).run()
    app.file_uploader(key="compare.truth").set_value(
        ("truth.zip", _zip({f"{i + 1}.png": clip.masks[i].astype(np.uint8) * 255 for i in range(0, 30, 3)}),
         "application/zip")).run()
    click(app, "Compare")
    scores = [float(c.value.rsplit("F-measure ", 1)[1]) for c in app.caption if "s to fit" in c.value]
    assert len(scores) == 2 and scores[0] > 0.9  # median; svd's rank 1 does worse on 30 frames
    app.file_uploader(key="compare.truth").set_value(("bad.zip", b"not a zip", "application/zip")).run()
    assert any(e.value.startswith(r"bad\.zip\: not a zip") for e in app.error) and not app.exception
    small = _zip({"1.png": np.zeros((10, 10), np.uint8)})
    app.file_uploader(key="compare.truth").set_value(("small.zip", small, "application/zip")).run()
    assert any("masks of 10×10 for a clip of 320×240" in e.value for e in app.error) and not app.exception
    other = _zip({f"{5000 + i}.png": clip.masks[i].astype(np.uint8) * 255 for i in range(3)})
    app.file_uploader(key="compare.truth").set_value(("other.zip", other, "application/zip")).run()
    assert any("numbered from 5000 to 5002, and the clip has frames 1 to 30" in e.value for e in app.error)

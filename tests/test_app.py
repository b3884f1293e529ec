from streamlit.testing.v1 import AppTest


def test_app_opens_on_the_sample_and_shows_its_background():
    app = AppTest.from_file("../app.py", default_timeout=120).run()
    assert not app.exception
    captions = [c for image in app.get("image") for c in image.captions]
    assert any("Background" in c for c in captions) and any("Foreground" in c for c in captions)

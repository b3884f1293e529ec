"""Live: the camera's picture with its background replaced as you move (seed 002), streamed to the
server and back with streamlit-webrtc; and a photo mode, two photos and no stream, for any host."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np
import streamlit as st

from bgcore import live
from bgcore.composite import cover
from bgcore.video import VideoError, read_image
from ui import state
from ui.widgets import backdrop_check, kept_upload_ui, plain, threshold_ui

# (Comments, not docstrings: Streamlit would write a page's bare strings on the page.)
CONNECT_SECONDS = 20  # a connection still not up after this long has failed: say so and why
STALL_SECONDS = 5  # a stream that sends no frame for this long has stopped
VIEWS = {"colour": "Plain colour", "blur": "Blurred room", "picture": "Picture", "video": "Video (looped)",
         "mask": "Mask"}
PHOTO_VIEWS = ("colour", "blur", "picture")
DEFAULT_COLOUR = "#00B140"  # chroma green: unmistakable where the background was replaced
NOTHING = 0.002  # photo mode: a share of the picture under which nobody is in the second photo


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def ice_servers() -> list | None:
    """``ice_servers`` from Streamlit's secrets (README: TURN for hosted apps), or None for
    streamlit-webrtc's own choice (a public STUN server, or TURN from its environment variables)."""
    try:
        servers = st.secrets.get("ice_servers")
    except FileNotFoundError:  # no secrets.toml at all
        return None
    return [dict(server) for server in servers] if servers else None


def backdrop_ui(views, key: str) -> tuple[str, tuple, str | None]:
    """What to put behind: the view, its colour and the path of an uploaded picture or video."""
    view = st.radio("Behind you", views, format_func=VIEWS.get, horizontal=True, **state.keep(f"{key}.view", views[0]))
    colour = hex_to_rgb(st.color_picker("Colour", **state.keep(f"{key}.colour", DEFAULT_COLOUR))) \
        if view == "colour" else hex_to_rgb(DEFAULT_COLOUR)
    kept = None
    if view in ("picture", "video"):
        types = state.IMAGE_TYPES if view == "picture" else state.VIDEO_TYPES
        kept = kept_upload_ui(f"Your {view}", types, f"{key}.{view}", backdrop_check)
        if kept is None:
            st.caption(f"Upload a {view}; until then the plain colour shows.")
    return view, colour, kept and kept[1]


def processor() -> live.LiveProcessor:
    """The session's: kept with its work, so that the empty scene captured outlives a reload."""
    work = state.work()
    with work.lock:
        if work.live is None:
            work.live = live.LiveProcessor()
        return work.live


def frame_callback(proc: live.LiveProcessor):
    import av  # only where a stream runs: photo mode and the other pages do without

    def callback(frame):
        return av.VideoFrame.from_ndarray(proc(frame.to_ndarray(format="rgb24")), format="rgb24")

    return callback


def live_ui() -> None:
    from streamlit_webrtc import WebRtcMode, webrtc_streamer

    proc = processor()
    video, settings = st.columns([3, 2], gap="large")
    with video:
        servers = ice_servers()
        context = webrtc_streamer(
            key="live", mode=WebRtcMode.SENDRECV, video_frame_callback=frame_callback(proc),
            rtc_configuration={"iceServers": servers} if servers else None,
            media_stream_constraints={"video": {"width": 640, "height": 480}, "audio": False},
            video_html_attrs={"autoPlay": True, "controls": False, "muted": True, "style": {"width": "100%"}})
        # A Capture asked for by the settings' fragment: started here, where the stream's state is
        # this run's (the fragment's context was the page's last run's, maybe from before START).
        countdown = st.session_state.pop("live.asked", None)
        if countdown is not None and context.state.playing:
            proc.start_capture(countdown)
        status_ui(context, proc, early=countdown is not None and not context.state.playing)
    with settings:
        settings_ui(proc)


# A fragment: a setting changed reruns it alone, not the page with the stream. streamlit-webrtc
# 0.79 stops the stream when a run of the page seems to have left its component out (the page
# was left), which it judges from Streamlit's count of finished runs; that count goes up on
# another thread, when a run's end is sent to the browser. In fast reruns of the page (a slider
# moved quickly, on a busy machine) a run drew the component before the run before it was
# counted, the next run looked like one that had left it out, and the stream vanished.
@st.fragment
def settings_ui(proc: live.LiveProcessor) -> None:
    """The settings beside the stream, handed to its processor; Capture runs the page, which starts
    the countdown (or says to click START first)."""
    st.markdown("##### 1. The empty scene")
    countdown = st.slider("Countdown (seconds)", 0, 10, help="Time to step out of the picture after the click.",
                          **state.keep("live.countdown", 3))
    label = "Capture again" if proc.reference else "Capture the empty scene"
    capture = st.button(label, type="primary", icon=":material/photo_camera:", key="live.capture")
    st.markdown("##### 2. Behind you")
    view, colour, path = backdrop_ui(list(VIEWS), "live")
    reference = proc.reference
    threshold = threshold_ui(reference.auto_threshold if reference else None, "live",
                             help="Set from the empty scene: how much your camera's picture varies.",
                             waiting="The automatic threshold is set from the empty scene once it is captured.")
    with proc.lock:  # the stream's thread reads these between two frames
        proc.view, proc.colour, proc.backdrop, proc.threshold = view, colour, path, threshold
    if capture:
        st.session_state["live.asked"] = countdown
        st.rerun(scope="app")


@st.fragment(run_every=1.0)
def status_ui(context, proc: live.LiveProcessor, early: bool = False) -> None:
    """What the stream is doing, every second: connecting, failed, capturing, live. A new
    reference reruns the page, so that the threshold slider shows its automatic value. ``early``:
    Capture was clicked before the camera started: the box that says to start it turns into a
    warning (a second box above it had said the same)."""
    now, playing, signalling = time.monotonic(), context.state.playing, context.state.signalling
    since = st.session_state.setdefault("live.connecting", None)
    if signalling and not playing and since is None:
        st.session_state["live.connecting"] = since = now
    if playing or not signalling:
        st.session_state["live.connecting"] = None
    if not playing and proc.capturing:  # STOP in the countdown: the next START does not capture by itself
        proc.stop_capture()
    if proc.captures != st.session_state.setdefault("live.captures", proc.captures):
        st.session_state["live.captures"] = proc.captures
        st.rerun(scope="app")
    if signalling and not playing and since is not None and now - since > CONNECT_SECONDS:
        st.error("The connection to the server does not come up. Between different networks (a hosted "
                 "app, a company network) WebRTC needs a TURN server: see *Live from the camera* in the "
                 "README. Photo mode, above, works everywhere.", icon=":material/wifi_off:")
    elif signalling and not playing:
        st.info("Connecting the camera to the server...", icon=":material/sync:")
    elif not playing:
        start = ("Click **START** to share your camera (the browser asks first). Step out of the picture, "
                 "then **Capture the empty scene**.")
        if proc.reference is not None:  # back on the page, or reloaded: the stream stopped, the scene stays
            start = ("Click **START** to go on: the empty scene you captured is kept (the camera stops when "
                     "you leave this page or reload it).")
        # The browser's refusal shows only in the player, in its own words (streamlit-webrtc does not
        # tell the server): what they mean, said here whatever happened.
        start += ("  \nIf the player shows *Permission denied*, allow the camera for this site (the camera "
                  "icon by the address) and reload; if it shows *Requested device not found*, this device "
                  "has no camera the browser can use.")
        if early:
            st.warning(f"The camera is not on yet. {start}", icon=":material/videocam:")
        else:
            st.info(start, icon=":material/videocam:")
    elif proc.frames and now - proc.last_frame > STALL_SECONDS:
        st.error("No picture has reached the server for a while: the connection has stopped. Click "
                 "STOP, then START; on a hosted app, see *Live from the camera* in the README (TURN).",
                 icon=":material/wifi_off:")
    elif proc.capturing:
        st.info("Capturing the empty scene: step out of the picture and keep still.", icon=":material/timer:")
    elif proc.reference is None:
        st.info("Step out of the picture and click **Capture the empty scene**.", icon=":material/person_off:")
    else:
        st.success(f"Live. Noise level of the empty scene: {proc.reference.noise:.1f} grey levels, "
                   f"automatic threshold {proc.reference.auto_threshold:.1f}.", icon=":material/check_circle:")
    if proc.error:
        st.error(proc.error, icon=":material/error:")


def camera_photo_ui(label: str, key: str) -> np.ndarray | None:
    """A photo from the camera (RGB), kept with the session's work: after a reload the camera
    shows again, empty, and the two photos and their result were lost."""
    st.camera_input(label, key=key, on_change=_taken, args=(key,))
    kept = st.session_state.get(f"{key}.kept")  # the stored photo's path
    if not kept or not Path(kept).is_file():
        return None
    if st.session_state.get(key) is None:  # the camera again (a reload): the photo kept shows under it
        st.image(kept, caption="Taken before: take another to replace it.", width=280)
    image = cv2.imread(kept, cv2.IMREAD_COLOR)
    if image is None:
        st.error("This photo cannot be read as a picture: take it again.", icon=":material/error:")
        return None
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def _taken(key: str) -> None:
    photo = st.session_state.get(key)
    state.choose(f"{key}.kept", None if photo is None else state.store_upload(photo))


def png(image: np.ndarray) -> bytes:
    """RGB or RGBA uint8 as PNG bytes."""
    code = cv2.COLOR_RGBA2BGRA if image.shape[-1] == 4 else cv2.COLOR_RGB2BGR
    return cv2.imencode(".png", cv2.cvtColor(image, code))[1].tobytes()


def photo_result(person, found, *, view="colour", colour=(0, 177, 64), picture=None):
    """The cut-out (RGBA) and the composite (RGB) of the photo with the person, given its mask."""
    if view == "blur":
        backdrop = live.blurred(person)
    elif view == "picture" and picture is not None:
        backdrop = cover(picture, person.shape[1::-1])
    else:
        backdrop = live.plain(colour, person.shape[1::-1])
    return live.cutout(person, found), live.composite(person, found, backdrop)


@st.cache_data(max_entries=2, show_spinner=False)
def lined_up(empty, person):
    """:func:`bgcore.live.line_up`, once for two photos: each move of the threshold runs the page again."""
    return live.line_up(empty, person)


def photo_ui() -> None:
    st.caption("Two photos from the same spot: the scene without you, then with you. No stream: this "
               "works on any host.")
    first, second = st.columns(2, gap="medium")
    with first:
        empty = camera_photo_ui("1. The empty scene (step aside)", "photo.empty")
    with second:
        person = camera_photo_ui("2. With you in it", "photo.person")
    view, colour, path = backdrop_ui(list(PHOTO_VIEWS), "photo")
    if empty is None or person is None:
        st.info("Take both photos to see the result.", icon=":material/photo_camera:")
        return
    try:
        empty, lined = lined_up(empty, person)
        found, auto = live.photo_mask(empty, person)
    except ValueError as error:
        st.error(str(error), icon=":material/error:")
        return
    if found.mean() < NOTHING:  # at the automatic threshold: a few pixels of the photos' noise
        st.warning("The two photos look the same: take the second one with you in it.", icon=":material/warning:")
        return
    threshold = threshold_ui(auto, "photo", help="Set from the two photos: how much your camera's picture "
                             "varies.", waiting="")
    if threshold is not None:
        found, _ = live.photo_mask(empty, person, threshold=threshold)
    if not lined:
        st.caption("The two photos could not be lined up (too few details, or you fill most of the picture): "
                   "if edges of the room show in the cut-out, rest the phone on something for both.")
    try:
        picture = read_image(path, role="the picture", photo=True) if path else None  # its size checked first
    except VideoError as error:
        st.error(plain(str(error)), icon=":material/error:")
        return
    cut, composed = photo_result(person, found, view=view, colour=colour, picture=picture)
    left, right = st.columns(2, gap="medium")
    with left:
        st.image(cut, caption="Cut-out (transparent background)", width="stretch")
        st.download_button("Cut-out (PNG)", png(cut), file_name="cutout.png", mime="image/png",
                           icon=":material/download:", type="primary", width="stretch")
    with right:
        st.image(composed, caption=f"Over the {VIEWS[view].lower()}", width="stretch")
        st.download_button("Composite (PNG)", png(composed), file_name="composite.png", mime="image/png",
                           icon=":material/download:", width="stretch")


st.title("Live")
mode = st.radio("Mode", ["Live camera", "Photo"], horizontal=True, **state.keep("live.mode", "Live camera"),
                help="Live streams your camera to the server and back; Photo needs two photos and no stream.")
if mode == "Live camera":
    live_ui()
else:
    photo_ui()

"""The limits on what a run accepts, in one place. They are checked before a clip is decoded.

Raise them for your own machine (``probe(path, limits=Limits(max_seconds=3600))``); on a shared host
(Streamlit Community Cloud gives 690 MB to 2.7 GB for everyone) keep them near the defaults.
Memory does not grow with the clip's length or size (see the README's memory model); these bound
the time a run takes and refuse files that are not what they claim to be.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 2 * 2**30
    """File size (2 GiB). The app's upload limit is ``server.maxUploadSize`` in .streamlit/config.toml."""
    max_seconds: float = 15 * 60
    """Duration of the clip, before trimming."""
    max_pixels: int = 4096 * 2160
    """Width x height of a frame (4K: cinema cameras' 4096x2160, which holds UHD's 3840x2160): a tiny
    file can claim 8K frames that would fill memory."""
    max_photo_pixels: int = 50_000_000
    """Width x height of one picture (a photo of the empty scene, a new background): a phone's 12 to
    50 megapixels. Read at a half, a quarter or an eighth of its size, within ``max_pixels``
    (a JPEG decodes so in a fraction of the memory)."""
    max_frames: int = 100_000
    """Decoded frames, before trimming."""


LIMITS = Limits()

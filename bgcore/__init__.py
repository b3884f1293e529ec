"""bgcore: static-background removal for short videos, without any user interface."""

from .masks import MaskOptions
from .models import DEFAULT_METHOD, METHODS
from .pipeline import FittedClip, export, fit_clip, run
from .video import VideoError, VideoInfo, VideoWriter, probe, read_frames, selection

__all__ = ["DEFAULT_METHOD", "METHODS", "FittedClip", "MaskOptions", "VideoError", "VideoInfo", "VideoWriter",
           "export", "fit_clip", "probe", "read_frames", "run", "selection"]

"""bgcore: static-background removal for short videos, without any user interface."""

from .masks import MaskOptions
from .models import DEFAULT_METHOD, METHODS
from .pipeline import FittedClip, export, fit_clip, output_size, run
from .video import Video, VideoError, VideoInfo, VideoWriter, open_video, probe, read_frames, selection

__all__ = ["DEFAULT_METHOD", "METHODS", "FittedClip", "MaskOptions", "Video", "VideoError", "VideoInfo",
           "VideoWriter", "export", "fit_clip", "open_video", "output_size", "probe", "read_frames", "run", "selection"]

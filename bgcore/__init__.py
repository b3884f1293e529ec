"""bgcore: static-background removal for short videos, without any user interface."""

from .masks import MaskOptions
from .models import METHODS
from .pipeline import run
from .video import VideoError, VideoInfo, VideoWriter, probe, read_frames, selection

__all__ = ["METHODS", "MaskOptions", "VideoError", "VideoInfo", "VideoWriter", "probe",
           "read_frames", "run", "selection"]

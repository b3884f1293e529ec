"""Background methods, by the name the command line and the app use."""

from .base import BackgroundModel, Param
from .median import MedianBackground
from .svd import SVDBackground

METHODS = {cls.name: cls for cls in (SVDBackground, MedianBackground)}

__all__ = ["METHODS", "BackgroundModel", "Param", "MedianBackground", "SVDBackground"]

"""Background methods, by the name the command line and the app use."""

from .base import BackgroundModel, Param
from .kmeans import KMeansBackground
from .median import MedianBackground
from .mode import ModeBackground
from .opencv import KNNBackground, MOG2Background
from .reference import ReferenceBackground
from .rpca import RPCABackground
from .svd import SVDBackground

METHODS = {cls.name: cls for cls in (ModeBackground, SVDBackground, MedianBackground, RPCABackground, KMeansBackground,
                                     ReferenceBackground, MOG2Background, KNNBackground)}
DEFAULT_METHOD = "mode"
"""The method with the best F-measure over the clips with ground truth (benchmarks/quality.py)."""

__all__ = ["DEFAULT_METHOD", "METHODS", "BackgroundModel", "Param", "KMeansBackground", "KNNBackground",
           "MedianBackground", "ModeBackground", "MOG2Background", "ReferenceBackground", "RPCABackground",
           "SVDBackground"]

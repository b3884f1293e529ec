"""Background methods, by the name the command line and the app use."""

from .base import BackgroundModel, Param
from .kmeans import KMeansBackground
from .median import MedianBackground
from .opencv import KNNBackground, MOG2Background
from .reference import ReferenceBackground
from .rpca import RPCABackground
from .svd import SVDBackground

METHODS = {cls.name: cls for cls in (SVDBackground, MedianBackground, RPCABackground, KMeansBackground,
                                     ReferenceBackground, MOG2Background, KNNBackground)}

__all__ = ["METHODS", "BackgroundModel", "Param", "KMeansBackground", "KNNBackground",
           "MedianBackground", "MOG2Background", "ReferenceBackground", "RPCABackground",
           "SVDBackground"]

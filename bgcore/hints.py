"""Names for the types the public API shares, for its type hints."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Literal, Union

import numpy as np

PathLike = Union[str, os.PathLike]
Size = tuple[int, int]
"""(width, height), the order of every size in bgcore, as in OpenCV."""
Scale = Union[float, Literal["auto"]]
Progress = Callable[[str, float], None]
"""progress(stage, fraction): the stage's name and how much of it is done, 0 to 1."""
FitProgress = Callable[[float], None]
MaskPairs = Iterable[tuple[np.ndarray, np.ndarray]]

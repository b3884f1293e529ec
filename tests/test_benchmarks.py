"""The benchmark runner's quick mode writes every table, so that the scripts cannot rot."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("SVD background", "K-means background", "End to end against OpenCV", "Memory", "Robust PCA",
            "Frame by index", "Upload", "Time estimate", "A new background", "Quality", "Start-up", "Live",
            "Server memory")
NEEDS_DATA = {"SVD background"}


def sections(text: str) -> dict[str, str]:
    """Each ``## N. Title`` section's text by its title."""
    parts = re.split(r"^## (?:\d+\. )?(.+)$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def figures(section: str) -> list[str]:
    """The 'ours' cells of the section's table that hold a number."""
    rows = [line.split("|")[1:-1] for line in section.splitlines() if line.startswith("| ")]
    return [cells[2] for cells in rows[1:] if re.search(r"\d", cells[2])]


@pytest.mark.parametrize("data", ["default", "absent"])
def test_quick_run_writes_every_table(data, tmp_path):
    out = tmp_path / "BENCHMARKS.md"
    args = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)]
    if data == "absent":
        args += ["--data", str(tmp_path / "no-shared-data")]
    # One BLAS thread, as in conftest.py: two spin against each other on the shared machine.
    # PYTHONPATH: this checkout's bgcore, wherever the environment's editable install points.
    result = subprocess.run(args, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)})
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    assert "--quick" in text and "## Machine" in text and re.search(r"\| CPU \| .+ x \d+ \|", text)
    found = sections(text)
    assert set(SECTIONS) <= set(found), list(found)
    has_data = data == "default" and SHARED_DATA.exists()
    for title in SECTIONS:
        if title in NEEDS_DATA and not has_data:
            assert "skipped" in found[title] and not figures(found[title]), found[title]
        else:
            assert figures(found[title]), found[title]

"""bgcore as an installed package: what importing it costs, and its command."""

import importlib.metadata
import subprocess
import sys
import sysconfig
from pathlib import Path


def test_import_bgcore_leaves_out_streamlit_and_scikit_learn():
    # scikit-learn takes over a second to import: only the methods that use it import it.
    code = ("import sys, bgcore, bgcore.cli, bgcore.synthetic\n"
            "assert 'sklearn' not in sys.modules and 'streamlit' not in sys.modules, "
            "sorted(m for m in sys.modules if m.startswith(('sklearn', 'streamlit')))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_import_bgcore_leaves_logging_alone():
    code = ("import logging, bgcore\n"
            "changed = [name for name, logger in logging.root.manager.loggerDict.items()\n"
            "           if isinstance(logger, logging.Logger) and (logger.level or logger.filters)]\n"
            "assert not changed and logging.root.level == logging.WARNING, changed")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_bgcore_command_is_the_command_line():
    # pyproject.toml's script, installed by `pip install -r requirements-test.txt` (its `-e .`).
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="bgcore")
    assert script.value == "bgcore.cli:main"
    # Where pip put it for this interpreter, whatever PATH holds (pyenv's shims, a venv not activated).
    command = Path(sysconfig.get_path("scripts")) / "bgcore"
    assert command.is_file(), f"no {command}: install the package (pip install -e .)"
    result = subprocess.run([command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--method" in result.stdout and "--threshold" in result.stdout
    assert result.stdout.startswith("usage: bgcore ")  # the command's own name, not "__main__.py"

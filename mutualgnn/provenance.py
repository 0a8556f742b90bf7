"""Where a result came from: the versions of the package and its dependencies, and the git
commit of the package's source. Stored with every run (``versions`` fields)."""
from __future__ import annotations

import functools
import importlib.metadata
import platform
import subprocess
from pathlib import Path

import numpy as np
import torch

from . import __version__


def _installed(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def versions() -> dict:
    """Versions of the package, torch, dgl, numpy and python, and the git commit of the
    package's source when it runs from a checkout (``+dirty``: uncommitted changes in it)."""
    out = {"mutualgnn": __version__, "torch": torch.__version__, "dgl": _installed("dgl"),
           "numpy": np.__version__, "python": platform.python_version()}
    commit = _source_commit()
    if commit:
        out["commit"] = commit
    return out


@functools.lru_cache(maxsize=1)
def _source_commit():
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        git = ["git", "-C", str(root)]
        head = subprocess.run(git + ["rev-parse", "--short=12", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(git + ["status", "--porcelain", "--untracked-files=no", "--",
                                      "mutualgnn"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")

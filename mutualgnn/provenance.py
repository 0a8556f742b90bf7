"""Where a result came from: the versions of the package and its dependencies, the git commit
of the package's source, and the processor it ran on. Stored with every run and saved model
(``versions`` fields).

The processor matters for reproduction: torch picks its CPU kernels by the instruction set
(``cpu_capability``: ``DEFAULT``, ``AVX2``, ``AVX512``, ...), and kernels of different widths
round differently in the last bit, and so does Intel's MKL (torch's matrix products on x86),
which picks its code path by processor unless ``MKL_CBWR`` fixes one; a training run can amplify
a last-bit difference into a different best epoch. Both are read from the environment when the
process starts: :func:`pinned_kernels` gives the environment of a process whose numbers are the
same on every x86 processor with AVX2 (suites set it with ``kernels: avx2``), and a run stored
at a level this machine has can be rerun at it (``mutualgnn verify``,
:mod:`mutualgnn.bench.verify`)."""

from __future__ import annotations

import functools
import importlib.metadata
import os
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
    """Versions of the package, torch, dgl, numpy and python, the git commit of the package's
    source when it runs from a checkout (``+dirty``: uncommitted changes in it), the processor
    (``cpu``: its model name), torch's CPU kernel level in this process (``cpu_capability``,
    e.g. ``AVX2``) and MKL's code path (``mkl_cbwr``: ``MKL_CBWR``, ``auto`` when unset)."""
    out = {
        "mutualgnn": __version__,
        "torch": torch.__version__,
        "dgl": _installed("dgl"),
        "numpy": np.__version__,
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cpu_capability": cpu_capability(),
        "mkl_cbwr": os.environ.get("MKL_CBWR", "auto"),
    }
    commit = _source_commit()
    if commit:
        out["commit"] = commit
    return out


#: the kernel levels a suite may pin (``kernels``), by the value ``ATEN_CPU_CAPABILITY`` takes
KERNELS = ("default", "avx2", "avx512")


def pinned_kernels(level: str) -> dict:
    """The environment variables that make a new process compute at kernel level ``level``
    (one of :data:`KERNELS`): torch's ``ATEN_CPU_CAPABILITY`` and MKL's conditional numerical
    reproducibility ``MKL_CBWR`` (``default`` pins MKL to ``COMPATIBLE``). Set them before the
    process starts: torch and MKL read them once."""
    if level not in KERNELS:
        raise ValueError(f"unknown kernel level {level!r}; choose from: {', '.join(KERNELS)}")
    return {
        "ATEN_CPU_CAPABILITY": level,
        "MKL_CBWR": "COMPATIBLE" if level == "default" else level.upper(),
    }


def cpu_capability() -> str:
    """torch's CPU kernel level in this process: ``DEFAULT``, ``AVX2``, ``AVX512``, ... (the
    highest the processor has, unless ``ATEN_CPU_CAPABILITY`` lowered it). Older torch (2.2)
    names the lowest level ``NO AVX``: it is given as ``DEFAULT``, its name in newer torch and
    in ``ATEN_CPU_CAPABILITY``, so that a run stored on one torch is rerun at its level on
    another."""
    level = torch.backends.cpu.get_cpu_capability()
    return "DEFAULT" if level == "NO AVX" else level


@functools.lru_cache(maxsize=1)
def cpu_model() -> str:
    """The processor's model name (Linux: ``/proc/cpuinfo``; elsewhere what ``platform`` says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "cpu model"):
                return value.strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


@functools.lru_cache(maxsize=1)
def _source_commit():
    root = Path(__file__).resolve().parents[1]
    if not (root / ".git").exists():
        return None
    try:
        git = ["git", "-C", str(root)]
        head = subprocess.run(
            git + ["rev-parse", "--short=12", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            git + ["status", "--porcelain", "--untracked-files=no", "--", "mutualgnn"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")

"""Writing files safely: check that a path can be written before any work, and replace a file
whole (write a temporary file beside it, then rename it over), so that an interrupt never
leaves a half-written table, plot, page or checkpoint. The append-only result store
(:mod:`mutualgnn.bench.store`) appends instead."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from .config import ConfigError


def check_folder(path, what: str) -> Path:
    """Make folder ``path`` (with its parents) and check that a file can be written in it;
    :class:`ConfigError` naming ``what`` (e.g. ``"--save"``) and the reason otherwise."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise ConfigError(
            f"{what} {path}: cannot write there ({exc.strerror or exc}); choose "
            f"a folder you can write to"
        ) from None
    return path


def check_file(path, what: str) -> Path:
    """Check that file ``path`` can be written (its folder is made and checked; an existing
    file must be writable); :class:`ConfigError` naming ``what`` otherwise."""
    path = Path(path)
    if path.is_dir():
        raise ConfigError(f"{what} {path}: is a folder; give a file name")
    check_folder(path.parent if str(path.parent) else Path("."), what)
    if path.exists() and not os.access(path, os.W_OK):
        raise ConfigError(f"{what} {path}: the file exists and cannot be written")
    return path


@contextlib.contextmanager
def replacing(path, mode: str = "w"):
    """``with replacing(path) as fh:`` write ``path`` whole: into a temporary file in the same
    folder, renamed over ``path`` when the block ends without an error (removed otherwise)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def replacing_path(path):
    """``with replacing_path(path) as tmp:`` for writers that take a path (matplotlib,
    ``torch.save``, pandas): they write ``tmp``, which is renamed over ``path`` at the end."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` whole (:func:`replacing`)."""
    with replacing(path) as fh:
        fh.write(text)
    return Path(path)

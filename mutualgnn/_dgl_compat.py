"""Compatibility step that must run before the first ``import dgl``.

Import DGL through this module (``from mutualgnn._dgl_compat import dgl``), never directly.

Why it exists
-------------
* DGL 1.1.x does ``try: from packaging import version`` and, on ImportError, falls back to
  ``from setuptools.extern.packaging import version``. ``setuptools.extern`` was removed from
  setuptools (v71+), so without the ``packaging`` distribution ``import dgl`` fails. We declare
  ``packaging`` as a dependency, and in addition alias ``setuptools.extern.packaging`` to an
  importable copy of packaging (the real one, or the copy setuptools vendors) so the fallback
  works too. We never pin an old setuptools: torch requires a recent one.
* DGL prints a warning on import when no backend is chosen; we choose PyTorch unless the user
  already did (``DGLBACKEND``).
"""

from __future__ import annotations

from . import _dgl_prepare  # noqa: F401  (the compatibility step, before DGL)

import dgl  # noqa: E402  (must come after the compatibility step)

__all__ = ["dgl"]

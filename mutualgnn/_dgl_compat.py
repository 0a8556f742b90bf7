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

import importlib
import os
import sys
import types


def _alias_setuptools_extern_packaging() -> None:
    try:
        importlib.import_module("setuptools.extern.packaging")
        return  # an old setuptools still has it: nothing to do
    except ImportError:
        pass
    packaging = None
    for candidate in ("packaging", "setuptools._vendor.packaging"):
        try:
            packaging = importlib.import_module(candidate)
            importlib.import_module(candidate + ".version")
            break
        except ImportError:
            packaging = None
    if packaging is None:
        return  # nothing to alias; DGL's own error will tell the user to install packaging
    extern = sys.modules.get("setuptools.extern")
    if extern is None:
        extern = types.ModuleType("setuptools.extern")
        extern.__path__ = []  # mark it as a package so submodule imports resolve via sys.modules
        sys.modules["setuptools.extern"] = extern
    extern.packaging = packaging
    sys.modules["setuptools.extern.packaging"] = packaging
    sys.modules["setuptools.extern.packaging.version"] = packaging.version


os.environ.setdefault("DGLBACKEND", "pytorch")
_alias_setuptools_extern_packaging()

import dgl  # noqa: E402  (must come after the compatibility step)

__all__ = ["dgl"]

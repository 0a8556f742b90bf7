"""The compatibility step that must run before the first ``import dgl``, without importing
DGL: ``import mutualgnn`` runs it (so a user's own ``import dgl`` after it works too), and
:mod:`mutualgnn._dgl_compat` runs it before importing DGL. Why it exists: see
:mod:`mutualgnn._dgl_compat`."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import types


def _setuptools_has_extern() -> bool:
    """Whether the installed setuptools still ships ``setuptools.extern`` (before v71), told
    from its files: importing setuptools to find out costs a third of a second, most of what
    ``mutualgnn --help`` would take."""
    if "setuptools.extern" in sys.modules:
        return True
    try:
        spec = importlib.util.find_spec("setuptools")
    except (ImportError, ValueError):
        return False
    folders = (spec.submodule_search_locations or []) if spec else []
    return any(os.path.isfile(os.path.join(folder, "extern", "__init__.py")) for folder in folders)


def _alias_setuptools_extern_packaging() -> None:
    if _setuptools_has_extern():
        return  # an old setuptools still has it: nothing to do
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

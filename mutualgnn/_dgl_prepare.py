"""The compatibility step that must run before the first ``import dgl``, without importing
DGL: ``import mutualgnn`` runs it (so a user's own ``import dgl`` after it works too), and
:mod:`mutualgnn._dgl_compat` runs it before importing DGL. Why it exists: see
:mod:`mutualgnn._dgl_compat`."""
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

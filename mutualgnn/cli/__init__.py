"""The ``mutualgnn`` command line: a thin layer over :mod:`mutualgnn`'s Python API.

``--help`` answers at once: only click is imported here; each command imports the API it calls
in its body (the only modules allowed imports inside functions: tests/test_layout.py). One
language (docs/cli.md): ``-d -s -m -j`` and ``-o/--out`` for what a command writes; a folder it
reads is its argument; ``--folds`` counts folds, ``--run-folds`` picks them (a suite's keys).

The group and what every command shares are in :mod:`.common`; the commands, by what they work
on, in :mod:`.train`, :mod:`.analyses` and :mod:`.results` (importing them registers them)."""

from . import analyses, results, train  # noqa: F401  (registers the commands)
from .common import main

__all__ = ["main"]

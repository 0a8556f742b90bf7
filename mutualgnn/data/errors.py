"""The errors raised while loading a dataset; each message says the fix."""

from __future__ import annotations


class DatasetError(Exception):
    """Base class of the errors raised while loading a dataset; the message says the fix."""


class DatasetNotFoundError(DatasetError):
    """The raw files of a dataset are neither in the data directory nor downloadable."""


class DatasetFormatError(DatasetError):
    """The raw files exist but DGL cannot parse them (truncated or malformed)."""

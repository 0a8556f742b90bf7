"""Checking settings: the error every bad setting raises, and the type checks the config
dataclasses run on themselves in ``__post_init__``. Imports nothing of the package."""

from __future__ import annotations

import math


class ConfigError(ValueError):
    """An invalid configuration; the message names the key and the valid values."""


def check_types(obj, prefix: str, **kinds) -> None:
    """Raise ConfigError unless each named field holds its kind (None allowed for optional
    ints). A float field takes an int, a float or a string in any notation (``"1e-3"``) and
    holds a finite float after."""
    accept = {"int": (int,), "bool": (bool,), "str": (str,)}
    for kind, names in kinds.items():
        for name in names:
            value = getattr(obj, name)
            if kind == "float":
                setattr(obj, name, read_float(value, prefix + name))
                continue
            if value is None and kind == "int":  # optional integers: None = the default
                continue
            ok = isinstance(value, accept[kind]) and (kind == "bool" or not isinstance(value, bool))
            if not ok:
                raise ConfigError(f"{prefix}{name} must be a {kind}, got {value!r}")


def read_float(value, name: str) -> float:
    """``value`` as a finite float: an int, a float, or a string in any notation Python reads
    (``"1e-3"``, ``"5e-1"``, ``".5"``); ConfigError naming ``name`` for anything else, and for
    nan and infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        out = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(out):
        raise ConfigError(f"{name} must be a finite number, got {value!r}")
    return out


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type's name when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__

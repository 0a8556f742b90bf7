"""Progress on long runs: a redrawn bar on a terminal, a few plain lines anywhere else.

Off a terminal (a batch job, CI, ``nohup``, a pipe) a redrawn bar writes hundreds of lines of
carriage returns; there :func:`bar` writes one line per finished item instead (``lines=True``),
or nothing (``lines=False``, for inner loops such as epochs).
"""

from __future__ import annotations

import sys
import time

from tqdm.auto import tqdm


def on_terminal(stream=None) -> bool:
    """Whether ``stream`` (default: stderr, where progress goes) is a terminal."""
    stream = stream or sys.stderr
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def bar(
    iterable=None,
    desc: str = "",
    total: int | None = None,
    enabled: bool = True,
    lines: bool = True,
    initial: int = 0,
    **tqdm_args,
):
    """A tqdm bar on a terminal; elsewhere a :class:`LineProgress` (``lines``) or a silent one.
    Both have tqdm's ``update``, ``set_postfix``, ``set_postfix_str`` and ``close``."""
    if not enabled:
        return LineProgress(iterable, desc, total, initial, stream=None)
    if on_terminal():
        return tqdm(
            iterable, desc=desc, total=total, initial=initial, dynamic_ncols=True, **tqdm_args
        )
    return LineProgress(iterable, desc, total, initial, stream=sys.stderr if lines else None)


class LineProgress:
    """Progress as one plain line per finished item, ``desc: i/n [postfix] (elapsed)``, on
    ``stream`` (None: silent)."""

    def __init__(
        self, iterable=None, desc: str = "", total: int | None = None, initial: int = 0, stream=None
    ):
        self.iterable, self.desc, self.stream = iterable, desc, stream
        if total is None and iterable is not None and hasattr(iterable, "__len__"):
            total = len(iterable)
        self.total, self.n, self.postfix = total, initial, ""
        self.start = time.perf_counter()

    def __iter__(self):
        for item in self.iterable:
            yield item
            self.update()

    def update(self, n: int = 1) -> None:
        self.n += n
        if self.stream is not None:
            of = f"/{self.total}" if self.total is not None else ""
            note = f" {self.postfix}" if self.postfix else ""
            elapsed = time.perf_counter() - self.start
            print(
                f"{self.desc}: {self.n}{of}{note} ({elapsed:.1f} s)", file=self.stream, flush=True
            )

    def set_postfix_str(self, text: str = "", refresh: bool = True) -> None:
        self.postfix = text

    def set_postfix(self, ordered_dict=None, refresh: bool = True, **kwargs) -> None:
        items = dict(ordered_dict or {}, **kwargs)
        self.postfix = ", ".join(f"{k}={v}" for k, v in items.items())

    def close(self) -> None:
        pass

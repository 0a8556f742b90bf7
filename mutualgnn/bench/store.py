"""A results folder: ``DIR/runs.jsonl``, one JSON line per finished run, appended at once so an
interruption loses at most the runs in flight; ``DIR/suite.json``, the suite it belongs to;
``DIR/histories.jsonl``, per-epoch histories of the first seed/fold of each group;
``DIR/.lock``, locked (``fcntl.flock``) by the one process writing the folder.

``DIR/runs.jsonl.gz``, a gzip copy of ``runs.jsonl`` (for a store too large to commit plain), is
read where ``runs.jsonl`` is absent; the first write to such a folder unpacks it.

A line is a :class:`~.record.RunRecord` (its format and the older ones it reads are described
there). A run is named by its key (:data:`~.suite.KEY`); when a key appears on several lines
(left by older versions or by two writers before the lock), the first line counts and
:meth:`ResultStore.duplicates` lists them.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import gzip
import json
import os
import shutil
import socket
import time
from pathlib import Path

from ..config import ConfigError
from ..files import write_text
from .record import RunRecord
from .suite import KEY, Suite

RUNS_FILE = "runs.jsonl"
PACKED_RUNS_FILE = RUNS_FILE + ".gz"
HISTORIES_FILE = "histories.jsonl"
SUITE_FILE = "suite.json"
LOCK_FILE = ".lock"


class ResultStore:
    """``DIR/runs.jsonl``: one JSON line per finished run; ``DIR/suite.json``: the suite's
    identity; ``DIR/histories.jsonl``: per-epoch histories of the first seed/fold of each
    (dataset, cohort, method), for the plots; ``DIR/.lock``: the writer's lock (:meth:`lock`).
    A partial last line (a write cut short) is ignored."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.runs_path = self.dir / RUNS_FILE
        self.packed_runs_path = self.dir / PACKED_RUNS_FILE
        self.histories_path = self.dir / HISTORIES_FILE
        self.lock_path = self.dir / LOCK_FILE

    @contextlib.contextmanager
    def lock(self):
        """Hold the folder's writer lock for the ``with`` block, or raise :class:`ConfigError`
        naming the process that holds it. ``fcntl.flock`` on ``DIR/.lock``: the kernel releases
        it when the holder ends in any way, a ``kill -9`` included, so it is never left stale;
        the file's content (the holder's pid, host and start time, as JSON) only informs."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)  # keeps a holder's text
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise ConfigError(
                    f"{self.dir} is being written by another process "
                    f"({_holder(fd)}); wait for it to finish or use another "
                    "--out folder"
                ) from None
            holder = dict(
                pid=os.getpid(),
                host=socket.gethostname(),
                since=datetime.datetime.now().isoformat(timespec="seconds"),
            )
            os.ftruncate(fd, 0)
            os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
            try:
                yield self
            finally:
                os.ftruncate(fd, 0)  # released: no holder to name
        finally:
            os.close(fd)  # closing the only descriptor releases the flock

    def check_suite(self, suite: Suite) -> None:
        """Claim the folder for ``suite``; refuse one that holds another suite's results."""
        path = self.dir / SUITE_FILE
        if path.exists():
            try:
                held = json.loads(path.read_text())
            except json.JSONDecodeError:
                raise ConfigError(
                    f"{path} is not valid JSON; is {self.dir} a mutualgnn results folder?"
                ) from None
            if held != jsonable(suite.identity()):
                raise ConfigError(
                    f"{self.dir} holds results of another suite ('{held.get('name')}' with "
                    f"different settings); use a new --out folder for suite '{suite.name}'"
                )
        elif self.has_runs() and self.read():
            raise ConfigError(
                f"{self.dir} holds results but no {SUITE_FILE}; use a new --out folder"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        write_text(path, json.dumps(jsonable(suite.identity()), indent=1, sort_keys=True) + "\n")

    def has_runs(self) -> bool:
        """Whether the folder holds a ``runs.jsonl`` or its gzip copy (``runs.jsonl.gz``)."""
        return self.runs_path.is_file() or self.packed_runs_path.is_file()

    def read(self) -> list:
        """Every :class:`~.record.RunRecord` of ``runs.jsonl``, duplicates included, in file
        order."""
        return [record for _, record in self.numbered()]

    def numbered(self) -> list:
        """``(line, record)`` of every complete line of ``runs.jsonl`` (else of
        ``runs.jsonl.gz``), lines from 1."""
        path = self.runs_path if self.runs_path.is_file() else self.packed_runs_path
        return [(number, RunRecord.from_dict(line)) for number, line in _lines(path)]

    def records(self) -> list:
        """The :class:`~.record.RunRecord` of each run once: the first line of a duplicated
        key counts, later ones are left out (see :meth:`duplicates`)."""
        return unique(self.read())

    def histories(self) -> list:
        """The lines of ``histories.jsonl``: each a run's :data:`~.suite.KEY` fields and its
        ``history`` (per epoch and student, :func:`~mutualgnn.training.fit`'s rows)."""
        return [line for _, line in _lines(self.histories_path)]

    def duplicates(self) -> dict:
        """``{key: [line, line, ...]}`` of every run key stored on more than one line."""
        lines: dict = {}
        for number, record in self.numbered():
            lines.setdefault(record.key, []).append(number)
        return {key: numbers for key, numbers in lines.items() if len(numbers) > 1}

    def done(self) -> set:
        """The keys of the stored runs, failed ones included: a failed run is not retrained on
        resume; deleting its line from ``runs.jsonl`` retries it."""
        return {r.key for r in self.read()}

    def append(self, record: RunRecord, history: list | None = None) -> None:
        self._unpack()
        self._append(self.runs_path, record.to_dict())
        if history is not None:
            self._append(self.histories_path, {**dict(zip(KEY, record.key)), "history": history})

    def _unpack(self) -> None:
        """``runs.jsonl`` from ``runs.jsonl.gz`` where only the copy is here, so writes go on
        from it (the copy is left as it is)."""
        if not self.runs_path.exists() and self.packed_runs_path.is_file():
            with gzip.open(self.packed_runs_path, "rb") as packed, open(self.runs_path, "wb") as fh:
                shutil.copyfileobj(packed, fh)

    @staticmethod
    def _append(path: Path, record: dict) -> None:
        line = json.dumps(jsonable(record)) + "\n"
        with open(path, "a+b") as fh:  # a new line after a partial one, never glued to it
            fh.seek(0, os.SEEK_END)
            if fh.tell():
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    fh.write(b"\n")
            fh.write(line.encode())
            fh.flush()
            os.fsync(fh.fileno())

    def archive(self) -> Path | None:
        """Move existing results aside (``runs.<time>.jsonl``) so a fresh start keeps them."""
        self._unpack()
        if not self.runs_path.exists():
            return None
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.dir / f"runs.{stamp}.jsonl"
        self.runs_path.rename(target)
        if self.histories_path.exists():
            self.histories_path.rename(self.dir / f"histories.{stamp}.jsonl")
        if (self.dir / "curves.jsonl").exists():  # the figures' curves (bench/curves.py)
            (self.dir / "curves.jsonl").rename(self.dir / f"curves.{stamp}.jsonl")
        return target


def history_key(line: dict) -> tuple:
    """The :data:`~.suite.KEY` of a line of ``histories.jsonl`` (lines written before runs had
    a variant or were repeated over split seeds: "" and 0)."""
    return tuple(
        (line.get(k) or "")
        if k == "variant"
        else (line.get(k) or 0)
        if k == "split_seed"
        else line.get(k)
        for k in KEY
    )


def unique(records: list) -> list:
    """``records`` without the later ones of a repeated key (the first counts)."""
    seen, out = set(), []
    for record in records:
        if record.key not in seen:
            seen.add(record.key)
            out.append(record)
    return out


def _lines(path: Path) -> list:
    """``(line number, JSON object)`` of every complete line of ``path`` (none if absent); a
    partial line (a write cut short) is skipped."""
    rows = []
    if path.exists():
        gz = path.suffix == ".gz"
        text = gzip.decompress(path.read_bytes()).decode() if gz else path.read_text()
        for number, line in enumerate(text.splitlines(), 1):
            try:
                rows.append((number, json.loads(line)))
            except json.JSONDecodeError:
                continue
    return rows


def _holder(fd: int) -> str:
    """The holder named in a lock file, waiting briefly for one that has just taken it."""
    for _ in range(20):
        try:
            info = json.loads(os.pread(fd, 4096, 0).decode() or "null")
        except (ValueError, UnicodeDecodeError):
            info = None
        if isinstance(info, dict):
            return f"pid {info.get('pid')} on {info.get('host')}, since {info.get('since')}"
        time.sleep(0.05)
    return "a process that has not yet written its pid"


def jsonable(obj):
    """``obj`` as JSON reads it back (tuples as lists, other objects as their ``str``)."""
    return json.loads(json.dumps(obj, default=str))

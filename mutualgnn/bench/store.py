"""A results folder: ``DIR/runs.jsonl``, one JSON line per finished run, appended at once so an
interruption loses at most the runs in flight; ``DIR/suite.json``, the suite it belongs to;
``DIR/histories.jsonl``, per-epoch histories of the first seed/fold of each group."""
from __future__ import annotations

import datetime
import json
import os
from pathlib import Path

from ..config import ConfigError
from .suite import KEY, Suite

RUNS_FILE = "runs.jsonl"
HISTORIES_FILE = "histories.jsonl"
SUITE_FILE = "suite.json"


class ResultStore:
    """``DIR/runs.jsonl``: one JSON line per finished run; ``DIR/suite.json``: the suite's
    identity; ``DIR/histories.jsonl``: per-epoch histories of the first seed/fold of each
    (dataset, cohort, method), for the plots. A partial last line (a write cut short) is ignored."""

    def __init__(self, directory):
        self.dir = Path(directory)
        self.runs_path = self.dir / RUNS_FILE
        self.histories_path = self.dir / HISTORIES_FILE

    def check_suite(self, suite: Suite) -> None:
        """Claim the folder for ``suite``; refuse one that holds another suite's results."""
        path = self.dir / SUITE_FILE
        if path.exists():
            try:
                held = json.loads(path.read_text())
            except json.JSONDecodeError:
                raise ConfigError(f"{path} is not valid JSON; is {self.dir} a mutualgnn results "
                                  "folder?") from None
            if held != _jsonable(suite.identity()):
                raise ConfigError(
                    f"{self.dir} holds results of another suite ('{held.get('name')}' with "
                    f"different settings); use a new --out folder for suite '{suite.name}'")
        elif self.runs_path.exists() and self.read():
            raise ConfigError(f"{self.dir} holds results but no {SUITE_FILE}; use a new --out folder")
        self.dir.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(_jsonable(suite.identity()), indent=1, sort_keys=True) + "\n")

    def read(self, path=None) -> list:
        path = Path(path or self.runs_path)
        rows = []
        if path.exists():
            for line in path.read_text().splitlines():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # the partial line of an interrupted write
        return rows

    def done(self) -> set:
        return {record_key(r) for r in self.read()}

    def append(self, record: dict, history: list | None = None) -> None:
        self._append(self.runs_path, record)
        if history is not None:
            self._append(self.histories_path, {**{k: record[k] for k in KEY}, "history": history})

    @staticmethod
    def _append(path: Path, record: dict) -> None:
        line = json.dumps(_jsonable(record)) + "\n"
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
        if not self.runs_path.exists():
            return None
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.dir / f"runs.{stamp}.jsonl"
        self.runs_path.rename(target)
        if self.histories_path.exists():
            self.histories_path.rename(self.dir / f"histories.{stamp}.jsonl")
        return target


def record_key(record: dict) -> tuple:
    """The :data:`KEY` of a stored record (records without a variant have variant "")."""
    return tuple((record.get(k) or "") if k == "variant" else record.get(k) for k in KEY)


def _jsonable(obj):
    return json.loads(json.dumps(obj, default=str))


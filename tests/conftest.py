"""Test set-up: offline data, a throw-away DGL cache, shared fixtures.

Environment (set at import, before any test imports :mod:`mutualgnn`):

* ``MUTUALGNN_DATA_DIR``: ``$MUTUALGNN_TEST_DATA_DIR`` if set, else ``../shared/datasets``
  relative to the repository root (the read-only raw files of the six benchmarks);
* ``MUTUALGNN_DOWNLOAD=0``: the tests never download;
* ``MUTUALGNN_CACHE_DIR``: a fresh temporary folder per session (removed at exit), so the
  user's own cache is neither read nor written.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = Path(
    os.environ.get("MUTUALGNN_TEST_DATA_DIR")
    or Path(__file__).resolve().parents[2] / "shared" / "datasets"
).resolve()
CACHE_DIR = Path(tempfile.mkdtemp(prefix="mutualgnn-test-cache-"))
atexit.register(shutil.rmtree, CACHE_DIR, ignore_errors=True)

os.environ["MUTUALGNN_DATA_DIR"] = str(DATA_DIR)
os.environ["MUTUALGNN_DOWNLOAD"] = "0"
os.environ["MUTUALGNN_CACHE_DIR"] = str(CACHE_DIR)

#: the folder of each benchmark inside the data directory
RAW_FOLDER = {
    "cora": "cora_v2",
    "citeseer": "citeseer",
    "pubmed": "pubmed",
    "MUTAG": "MUTAG",
    "PROTEINS": "PROTEINS",
    "ENZYMES": "ENZYMES",
}


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder with the raw benchmark files; tests that need it are skipped without it."""
    if not DATA_DIR.is_dir():
        pytest.skip(f"dataset folder {DATA_DIR} is absent (set MUTUALGNN_TEST_DATA_DIR)")
    return DATA_DIR


@pytest.fixture(scope="session")
def dataset():
    """``dataset(name)``: the benchmark loaded once per session from the shared folder, or,
    for Cora, from the copy the package ships when the shared folder lacks it (so Cora's tests
    run on a fresh machine); skips when a dataset's raw files are absent. Tests must not modify
    what it returns."""
    from mutualgnn.data import files_present, load_dataset
    from mutualgnn.data.names import embedded_dir

    loaded = {}

    def get(name: str):
        if name not in loaded:
            if DATA_DIR.is_dir() and files_present(name, DATA_DIR):
                loaded[name] = load_dataset(name, data_dir=DATA_DIR)
            elif embedded_dir(name) is not None:
                loaded[name] = load_dataset(name, data_dir=embedded_dir(name), download=False)
            else:
                pytest.skip(f"raw files of {name} are absent from {DATA_DIR}")
        return loaded[name]

    return get


@pytest.fixture(scope="session")
def karate():
    from mutualgnn.data import load_dataset

    return load_dataset("karate")


@pytest.fixture(scope="session")
def minigc():
    from mutualgnn.data import load_dataset

    return load_dataset("minigc")


@pytest.fixture
def raw_copy():
    """``raw_copy(name, dest)``: copy one benchmark's raw folder (from the shared folder, or
    the package's own copy of Cora) into the data directory ``dest`` (owner-writable, so a test
    can damage it); returns ``dest``."""
    from mutualgnn.data.names import embedded_dir

    def copy(name: str, dest: Path) -> Path:
        src = DATA_DIR / RAW_FOLDER[name]
        if not src.is_dir() and embedded_dir(name) is not None:
            src = embedded_dir(name) / RAW_FOLDER[name]
        if not src.is_dir():
            pytest.skip(f"raw files of {name} are absent from {DATA_DIR}")
        shutil.copytree(src, dest / RAW_FOLDER[name])
        for p in [dest, *dest.rglob("*")]:
            p.chmod(p.stat().st_mode | 0o200)
        return dest

    return copy

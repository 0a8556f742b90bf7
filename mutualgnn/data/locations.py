"""Where raw files are read (the data directory) and where DGL and ogb write (the cache)."""

from __future__ import annotations

import os
from pathlib import Path

ENV_DATA_DIR = "MUTUALGNN_DATA_DIR"
ENV_CACHE_DIR = "MUTUALGNN_CACHE_DIR"
ENV_DOWNLOAD = "MUTUALGNN_DOWNLOAD"

#: raw files shipped inside the package (Cora only), in the data directory's layout; only read
EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded"


def default_data_dir() -> Path:
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    return _user_cache() / "datasets"


def default_cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env).expanduser()
    return _user_cache() / "dgl"


def _user_cache() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser() / "mutualgnn"


def download_allowed(download: bool | None) -> bool:
    if download is not None:
        return download
    return os.environ.get(ENV_DOWNLOAD, "1").strip().lower() not in ("0", "false", "no", "off")

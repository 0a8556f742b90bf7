"""Staging a user's raw files into the cache and driving a DGL (or ogb) dataset class there.

The data directory is only read: the raw folder is copied into the cache under the name the
installed DGL expects, DGL writes its processed cache beside it, and a changed source is staged
again. When the files are absent, DGL downloads them into the cache unless downloading is
disabled; if it is, or the download fails, :class:`~mutualgnn.data.DatasetNotFoundError` names
the files expected.

A dataset whose files ship with the package (Cora's, see :func:`~.names.embedded_dir`) never
touches the network: the data directory's files when they are all there, else the package's
copy, staged exactly as the data directory's would be. So Cora loads offline, and silently, on
a fresh install.
"""

from __future__ import annotations

import json
import shutil
import stat
from pathlib import Path

from ..metrics import OGB, ogb_meta
from .errors import DatasetError, DatasetFormatError, DatasetNotFoundError
from .locations import ENV_DATA_DIR, ENV_DOWNLOAD, download_allowed
from .names import KNOWN, SUITE, expected_files, ogb_folder


class _RawMissing(Exception):
    def __init__(self, raw_path: str):
        super().__init__(raw_path)
        self.raw_path = raw_path


def _offline(cls):
    """A subclass of a DGL dataset class whose download step reports where DGL looked instead."""

    class Offline(cls):
        def download(self):  # called by DGL only when ``self.raw_path`` does not exist
            raise _RawMissing(self.raw_path)

    Offline.__name__ = cls.__name__
    return Offline


def _fingerprint(folder: Path) -> dict:
    return {
        str(p.relative_to(folder)): [p.stat().st_size, int(p.stat().st_mtime)]
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def load_dgl(
    name,
    make,
    cls,
    raw_folder,
    data_dir: Path,
    cache_dir: Path,
    download,
    embedded: Path | None = None,
):
    """Instantiate DGL dataset class ``cls`` with ``raw_dir`` in the cache, staging the user's raw
    folder ``data_dir/raw_folder`` there first under the name DGL asks for. ``embedded``: a
    folder shipped with the package holding ``raw_folder`` too, staged the same way when the data
    directory lacks the files, without trying to download them."""
    stage_root = cache_dir / name
    user_has = all((data_dir / f).is_file() for f in expected_files(name))
    source = data_dir / raw_folder
    if not user_has and embedded is not None:
        source = embedded / raw_folder  # what a stage made from the package's copy records
    for record in stage_root.glob("*.source.json"):
        staged = json.loads(record.read_text())
        # staged from another folder, or the user's raw files changed: stage again
        if (
            staged.get("source") != str(source)
            or not source.is_dir()
            or staged.get("files") != _fingerprint(source)
        ):
            shutil.rmtree(stage_root)
            break
    stage_root.mkdir(parents=True, exist_ok=True)
    try:
        return make(_offline(cls), str(stage_root))
    except _RawMissing as missing:
        target = Path(missing.raw_path)
    except DatasetError:
        raise
    except Exception as exc:  # a stale or broken cache: start over from the raw files
        shutil.rmtree(stage_root, ignore_errors=True)
        stage_root.mkdir(parents=True, exist_ok=True)
        try:
            return make(_offline(cls), str(stage_root))
        except _RawMissing as missing:
            target = Path(missing.raw_path)
        except Exception:
            raise _format_error(name, stage_root, exc) from None
    # DGL's raw folder is absent from the cache: stage it from the data directory or the
    # package's own copy (``source`` is the one that exists), else download.
    if user_has or embedded is not None:
        return _stage(name, make, cls, source, target, stage_root)
    missing_error = _not_found(name, data_dir)
    if not download_allowed(download):
        raise missing_error
    try:
        return make(cls, str(stage_root))  # DGL downloads into the cache
    except Exception as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise DatasetNotFoundError(f"{missing_error}\nDownloading failed too: {exc}") from None


def _stage(name, make, cls, source: Path, target: Path, stage_root: Path):
    """Copy raw folder ``source`` to DGL's raw folder ``target`` (recording where it came from)
    and instantiate the dataset there."""
    shutil.copytree(source, target)
    for path in [target, *target.rglob("*")]:  # the source may be read-only; DGL writes here
        path.chmod(path.stat().st_mode | stat.S_IWUSR)
    (target.parent / (target.name + ".source.json")).write_text(
        json.dumps({"source": str(source), "files": _fingerprint(source)})
    )
    try:
        return make(cls, str(stage_root))
    except Exception as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise _format_error(name, source, exc) from None


def _not_found(name: str, data_dir: Path) -> DatasetNotFoundError:
    files = "\n".join(f"  {data_dir / f}" for f in expected_files(name))
    known = (
        ""
        if name in SUITE + OGB
        else (
            f"'{name}' is not one of the known datasets ({', '.join(KNOWN)}); it was "
            "taken as the name of a TU dataset (names are case-sensitive, e.g. tu:IMDB-BINARY).\n"
        )
    )
    library, origin = "DGL", ""
    if name in OGB:
        meta = ogb_meta(name)
        library = "ogb"
        origin = (
            f"They are the files of {meta['url']}, unzipped, with its folder "
            f"'{meta['download_name']}' renamed to '{ogb_folder(name)}'.\n"
        )
    return DatasetNotFoundError(
        f"{known}dataset '{name}' was not found in the data directory {data_dir}.\n"
        f"Expected these raw files ({library}'s raw layout):\n{files}\n{origin}"
        f"Put them there, or point --data-dir or the environment variable {ENV_DATA_DIR} at the "
        f"folder that holds them. With internet access {library} downloads them "
        f"(unless {ENV_DOWNLOAD}=0)."
    )


def _format_error(name: str, where: Path, exc: Exception) -> DatasetFormatError:
    library = "ogb" if name in OGB else "DGL"
    return DatasetFormatError(
        f"dataset '{name}': {library} could not read the raw files staged from {where} "
        f"({type(exc).__name__}: {exc}). The files may be truncated or malformed: replace them with "
        f"a fresh copy (expected: {', '.join(expected_files(name))})."
    )

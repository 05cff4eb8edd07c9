"""Atomic writes and the resume stamp kept next to each learner's outputs.

Convention
----------
Every output file is written to a temporary file in the same folder, named
``.bb-tmp-<pid>-<random>-<final name>``, then moved into place with
:func:`os.replace`, which is atomic on POSIX and Windows when source and target
share a folder. A run killed at any moment therefore leaves either the old file,
the new file, or a stray temporary file (removed by :func:`remove_stale_temps`
at the start of the next run), never half a report.

A learner is *up to date* when ``DIR/<safe id>.stamp.json`` exists, records
status ``ok``, and its ``key`` equals :func:`input_key` of the learner's
parameters now, and both the ``.ipynb`` and ``.html`` exist. The stamp is
written last, after the HTML, so a stamp never vouches for a missing report.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import buildbuy
from buildbuy.paths import data_dir

__all__ = [
    "FILE_MODE",
    "TEMP_PREFIX",
    "atomic_write_bytes",
    "atomic_write_text",
    "environment_digest",
    "input_key",
    "read_stamp",
    "remove_stale_temps",
    "stamp_path",
    "temp_path",
    "write_stamp",
]

TEMP_PREFIX = ".bb-tmp-"


def _read_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


#: the process's umask, read once at import (reading it is not thread-safe)
_UMASK = _read_umask()
#: mode of every file written here: what ``open()`` would give (``mkstemp`` gives 0600)
FILE_MODE = 0o666 & ~_UMASK


def temp_path(final: Path) -> Path:
    """A fresh temporary path in the folder of ``final`` (the file is created empty)."""
    fd, name = tempfile.mkstemp(prefix=f"{TEMP_PREFIX}{os.getpid()}-",
                                suffix=f"-{final.name}", dir=final.parent)
    try:
        os.fchmod(fd, FILE_MODE)  # readable like any other file, e.g. by a web server
    finally:
        os.close(fd)
    return Path(name)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` so readers see the old or the new file, never a part.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write_bytes(d / "a.txt", b"hello").read_bytes()
    b'hello'
    """
    final = Path(path)
    tmp = temp_path(final)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temps(out_dir: Path) -> int:
    """Delete temporary files a killed run left in ``out_dir``; return how many.

    Only names starting with :data:`TEMP_PREFIX` are touched. Run it before
    starting workers: one run per output folder at a time.
    """
    removed = 0
    for p in out_dir.glob(f"{TEMP_PREFIX}*"):
        if p.is_file():
            p.unlink(missing_ok=True)
            removed += 1
    return removed


def _digest_files(paths: Iterable[Path], root: Path, h: Any) -> None:
    for p in sorted(paths):
        h.update(str(p.relative_to(root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")


def environment_digest() -> str:
    """SHA-256 over the library version, its source files and its data files.

    A change to any formula, figure or persona invalidates every stamp, so a
    resumed run never keeps a report computed with old numbers.
    """
    h = hashlib.sha256(f"buildbuy {buildbuy.__version__}\0".encode())
    lib = Path(buildbuy.__file__).resolve().parent
    _digest_files(lib.rglob("*.py"), lib, h)
    data = data_dir()
    if data.is_dir():
        files = [p for p in data.rglob("*") if p.is_file() and p.suffix in {
            ".csv", ".yaml", ".yml", ".json"}]
        _digest_files(files, data, h)
    return h.hexdigest()


def input_key(parameters: Mapping[str, Any], template_bytes: bytes, env_digest: str) -> str:
    """SHA-256 of a learner's papermill parameters, the template and the environment.

    Parameters are serialised as canonical JSON (sorted keys), so the key does
    not depend on roster column order.
    """
    h = hashlib.sha256()
    h.update(json.dumps(parameters, sort_keys=True, ensure_ascii=True).encode())
    h.update(b"\0")
    h.update(hashlib.sha256(template_bytes).digest())
    h.update(env_digest.encode())
    return h.hexdigest()


def stamp_path(out_dir: Path, sid: str) -> Path:
    """Where the stamp of safe id ``sid`` lives."""
    return out_dir / f"{sid}.stamp.json"


def read_stamp(out_dir: Path, sid: str) -> dict[str, Any] | None:
    """The stamp of ``sid`` as a dict, or ``None`` if absent or unreadable."""
    try:
        return json.loads(stamp_path(out_dir, sid).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def write_stamp(out_dir: Path, sid: str, stamp: Mapping[str, Any]) -> Path:
    """Write the stamp of ``sid`` atomically."""
    text = json.dumps(dict(stamp), sort_keys=True, indent=1, allow_nan=False)
    return atomic_write_text(stamp_path(out_dir, sid), text + "\n")



"""Content fingerprints of models, with per-file results cached by (path, size, mtime, ctime,
inode).

A model's fingerprint is SHA-256 over ``name \\0 sha256(file) \\n`` for its files in sorted name
order (names are relative to the model directory, so a renamed directory keeps its
fingerprint), then ``parent \\0 <parent fingerprint>`` for an adapter. The cache is one JSON
file, ``cache_dir()/fingerprints.json``, written atomically.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.paths import cache_dir

CACHE_NAME = "fingerprints.json"
CACHE_SCHEMA = 2
# What a cached fact is valid for: a replaced file (new inode) or a rewrite that kept its size
# and mtime (the ctime changes whatever utime does) is hashed again.
STAT_FIELDS = ("size", "mtime_ns", "ctime_ns", "ino")
FileStat = tuple[int, int, int, int]
CHUNK = 1 << 20

_files_hashed = 0  # how many files this process has read and hashed (the cache misses)


def files_hashed() -> int:
    """Number of files hashed so far in this process; a cached ``load_family`` adds none."""
    return _files_hashed


def sha256_file(path: Path) -> str:
    global _files_hashed
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    _files_hashed += 1
    return digest.hexdigest()


class FileCache:
    """Facts about files (their hash, their parameter count), valid while size and mtime hold."""

    def __init__(self, path: Path | None = None) -> None:
        if path is None:
            try:
                path = cache_dir() / CACHE_NAME
            except OSError:
                path = None  # no usable cache directory: hash every time rather than fail
        self.path = path
        self.entries: dict[str, dict[str, Any]] = _read_cache(path) if path else {}
        self.dirty = False

    def get(self, path: Path, key: str) -> Any:
        return self._get(*_stat_key(path), key)

    def put(self, path: Path, key: str, value: Any) -> None:
        self._put(*_stat_key(path), key, value)

    def file_hash(self, path: Path) -> str:
        """The file's SHA-256, from the cache while its stat holds. A file hashed afresh is
        stat'ed before and after: one that changed meanwhile is an error (its hash would
        describe no version of it), and the hash is filed under the stat taken before."""
        real, before = _stat_key(path)
        cached: str | None = self._get(real, before, "sha256")
        if cached is None:
            cached = sha256_file(path)
            if _stat_key(path)[1] != before:
                raise AuditError(path, "changed while it was being fingerprinted (a save still "
                                 "in progress?); run again once the model is stable")
            self._put(real, before, "sha256", cached)
        return cached

    def _get(self, real: str, stat: FileStat, key: str) -> Any:
        entry = self.entries.get(real)
        if entry is None or _entry_stat(entry) != stat:
            return None
        return entry.get(key)

    def _put(self, real: str, stat: FileStat, key: str, value: Any) -> None:
        entry = self.entries.get(real)
        if entry is None or _entry_stat(entry) != stat:
            entry = self.entries[real] = dict(zip(STAT_FIELDS, stat))
        entry[key] = value
        self.dirty = True

    def save(self) -> None:
        """Merge with what is on disk (another process may have written) and replace atomically."""
        if not self.dirty or self.path is None:
            return
        merged = {**_read_cache(self.path), **self.entries}
        tmp = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".fingerprints-",
                                       suffix=".tmp")
            with os.fdopen(fd, "w") as fh:
                json.dump({"schema": CACHE_SCHEMA, "files": merged}, fh)
            os.replace(tmp, self.path)
        except OSError:
            # A cache that cannot be written only costs a rehash next time.
            if tmp is not None:
                Path(tmp).unlink(missing_ok=True)
            return
        self.dirty = False


def _stat_key(path: Path) -> tuple[str, FileStat]:
    real = Path(os.path.realpath(path))
    stat = real.stat()
    return str(real), (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)


def _entry_stat(entry: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(entry.get(name) for name in STAT_FIELDS)


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    """The cached entries; a missing, unreadable or foreign cache file counts as empty."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("schema") != CACHE_SCHEMA:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def model_fingerprint(files: Iterable[tuple[str, Path]], *, cache: FileCache,
                      parent: str | None = None) -> str:
    """SHA-256 over (name, file hash) in name order, then the parent's fingerprint if given."""
    digest = hashlib.sha256()
    for name, path in sorted(files):
        digest.update(f"{name}\0{cache.file_hash(path)}\n".encode())
    if parent is not None:
        digest.update(f"parent\0{parent}\n".encode())
    return digest.hexdigest()

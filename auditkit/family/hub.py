"""Hub ids resolved offline, from the local Hugging Face cache.

The cache is laid out as huggingface_hub lays it out (its "Hub Local Cache" reference, and
``huggingface_hub.file_download.try_to_load_from_cache``)::

    <cache>/models--<org>--<name>/refs/<revision>       a file holding the commit hash
    <cache>/models--<org>--<name>/snapshots/<commit>/   the repository's files at that commit

``<cache>`` is ``$HF_HUB_CACHE``, else the legacy ``$HUGGINGFACE_HUB_CACHE``, else
``$HF_HOME/hub``, where ``$HF_HOME`` defaults to ``$XDG_CACHE_HOME/huggingface`` and that to
``~/.cache/huggingface``. A revision is a branch or tag with a file under ``refs/`` (``main`` by
default), or a commit hash with a snapshot. Nothing is ever downloaded: an id that is not in the
cache is an error saying where it was looked for.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_REVISION = "main"
# org/name or name, as the Hub allows them (letters, digits, '-', '_', '.'; no '--' or '..')
HUB_ID = re.compile(r"^(?:[A-Za-z0-9][\w.-]*/)?[A-Za-z0-9][\w.-]*$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class CacheDir:
    """The Hugging Face cache directory and the variable (or default) that named it."""

    path: Path
    source: str


class HubNotFound(Exception):
    """A hub id or revision that the local cache does not hold; the message says where it
    looked and what it found, ``where`` only where it looked."""

    def __init__(self, message: str, where: str) -> None:
        super().__init__(message)
        self.where = where


def is_hub_id(ref: str) -> bool:
    """Whether ``ref`` has the form of a Hub model id (``org/name`` or ``name``); a path such as
    ``./base`` or ``/models/x`` does not, and neither does a name with ``--`` or ``..``."""
    return bool(HUB_ID.match(ref)) and "--" not in ref and ".." not in ref


def hub_cache_dir() -> CacheDir:
    """Where huggingface_hub keeps its cache, with the variable that says so."""
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return CacheDir(_expand(os.environ[var]), f"${var}")
    if os.environ.get("HF_HOME"):
        return CacheDir(_expand(os.environ["HF_HOME"]) / "hub", "$HF_HOME/hub")
    xdg = os.environ.get("XDG_CACHE_HOME")
    home = (_expand(xdg) if xdg else Path.home() / ".cache") / "huggingface"
    return CacheDir(home / "hub", "$XDG_CACHE_HOME/huggingface/hub" if xdg
                    else "the default ~/.cache/huggingface/hub")


def _expand(value: str) -> Path:
    return Path(os.path.expandvars(os.path.expanduser(value)))


def repo_folder(repo_id: str) -> str:
    """``models--org--name``: the cache folder of a model repository."""
    return "--".join(["models", *repo_id.split("/")])


def resolve_hub(repo_id: str, revision: str | None = None,
                cache: CacheDir | None = None) -> Path:
    """The snapshot directory of ``repo_id`` at ``revision`` (default ``main``) in the local
    cache; HubNotFound saying where it looked when there is none."""
    cache = cache or hub_cache_dir()
    revision = revision or DEFAULT_REVISION
    repo = cache.path / repo_folder(repo_id)
    where = f"looked in {repo} (the Hugging Face cache: {cache.source})"
    if not repo.is_dir():
        raise HubNotFound(f"{repo_id!r} is not in the local Hugging Face cache; {where}; "
                          "auditkit never downloads models: fetch it first (e.g. `hf download "
                          f"{repo_id}`) or point HF_HUB_CACHE / HF_HOME at the cache holding it",
                          where)
    commit = _commit(repo, revision, where)
    snapshot = repo / "snapshots" / commit
    if not snapshot.is_dir():
        raise HubNotFound(f"{repo_id!r} at revision {revision!r} (commit {commit}) has no "
                          f"snapshot; {where}: snapshots/{commit} is missing (cached: "
                          f"{', '.join(_listing(repo / 'snapshots')) or 'none'})", where)
    return snapshot


def _commit(repo: Path, revision: str, where: str) -> str:
    """The commit ``revision`` names: refs/<revision>'s content, or the revision itself when it
    is a commit hash."""
    ref = repo / "refs" / revision
    if ref.is_file():
        commit = ref.read_text(encoding="utf-8").strip()
        if not COMMIT.match(commit):
            raise HubNotFound(f"{ref} does not hold a commit hash (found {commit[:60]!r}); "
                              f"{where}", where)
        return commit
    if COMMIT.match(revision):
        return revision
    raise HubNotFound(f"revision {revision!r} is not in the cache; {where}: no refs/{revision} "
                      f"(refs: {', '.join(_listing(repo / 'refs')) or 'none'}) and it is not "
                      "a commit hash", where)


def _listing(path: Path) -> list[str]:
    """The refs (files, nested ones as ``pr/1``) or snapshots (directories) under ``path``."""
    if not path.is_dir():
        return []
    if path.name == "snapshots":
        return sorted(p.name for p in path.iterdir() if p.is_dir())
    return sorted(p.relative_to(path).as_posix() for p in path.rglob("*") if p.is_file())


def hub_snapshot(ref: str) -> Path | None:
    """The snapshot (at ``main``) of the hub id ``ref`` in the local cache, None if it is no
    hub id or not there."""
    if not is_hub_id(ref):
        return None
    try:
        return resolve_hub(ref)
    except HubNotFound:
        return None


def hub_lookup(ref: str) -> str:
    """``; not in the local Hugging Face cache either: looked in ...`` for a hub id ``ref``
    that the cache lacks; "" when ``ref`` is no hub id or was found."""
    if not is_hub_id(ref):
        return ""
    try:
        resolve_hub(ref)
    except HubNotFound as exc:
        return f"; not in the local Hugging Face cache either: {exc.where}"
    return ""

"""The lineage inferred from weights, cached by what it depends on.

Reading every member's weight matrices takes about 30 s on the demo family (seven members of
135M parameters), and ``run`` and ``family show`` check the declared lineage every time. The
inference depends only on the members (name, kind, path and content fingerprint: weights,
config and tokenizer files), the root, the bootstrap settings and the inference's own code, so
its result is kept in ``<cache>/lineage/<key>.json`` under a digest of all of them and read back
while none has changed. A cache file that cannot be read is recomputed and rewritten; a member
without a fingerprint turns the cache off for that family.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from auditkit.family.infer import Inference, InferredEdge, InferredTree
from auditkit.paths import cache_dir
from auditkit.types import Family

FORMAT = 1
# the modules whose code decides the inference: editing one invalidates every cached answer
_CODE = ("infer.py", "infer_stats.py", "infer_tree.py", "infer_weights.py", "infer_cache.py")


def default_dir() -> Path | None:
    """``<cache>/lineage`` (auditkit.paths.cache_dir); None when the cache cannot be created."""
    try:
        return cache_dir() / "lineage"
    except OSError:
        return None


def code_digest() -> str:
    """sha256 over the source of the inference's modules."""
    digest = hashlib.sha256()
    for name in _CODE:
        digest.update((Path(__file__).parent / name).read_bytes())
    return digest.hexdigest()


def cache_key(family: Family, *, root: str | None, n_boot: int, seed: int,
              strict: bool) -> str | None:
    """The digest naming the cached inference of ``family``; None when a member has no
    fingerprint (nothing safe to key on)."""
    if any(not m.fingerprint for m in family.models):
        return None
    members = [[m.name, m.kind, str(m.path), m.fingerprint] for m in family.models]
    what = {"format": FORMAT, "code": code_digest(), "members": members, "root": root,
            "n_boot": n_boot, "seed": seed, "strict": strict}
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()


def cached(directory: Path, key: str | None, compute: Callable[[], Inference]) -> Inference:
    """The inference stored under ``key`` in ``directory``; else ``compute()``, stored."""
    if key is None:
        return compute()
    path = directory / f"{key}.json"
    stored = _read(path)
    if stored is not None:
        return stored
    inference = compute()
    _write(path, inference)
    return inference


def to_json(inference: Inference) -> dict[str, Any]:
    """Every field, floats at full precision (JSON floats round-trip exactly)."""
    return {"format": FORMAT,
            "trees": [{"architecture": t.architecture, "members": list(t.members),
                       "roots": list(t.roots),
                       "edges": [[e.parent, e.child, e.distance, e.confidence, e.evidence]
                                 for e in t.edges]}
                      for t in inference.trees],
            "skipped": [list(s) for s in inference.skipped]}


def from_json(raw: dict[str, Any]) -> Inference:
    """The inference :func:`to_json` wrote; KeyError/TypeError/ValueError when malformed."""
    if raw["format"] != FORMAT:
        raise ValueError(f"format {raw['format']!r}")
    trees = tuple(InferredTree(str(t["architecture"]), tuple(t["members"]), tuple(t["roots"]),
                               tuple(InferredEdge(str(p), str(c), float(d), float(conf), str(ev))
                                     for p, c, d, conf, ev in t["edges"]))
                  for t in raw["trees"])
    return Inference(trees, tuple((str(m), str(why)) for m, why in raw["skipped"]))


def _read(path: Path) -> Inference | None:
    try:
        return from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError):
        return None          # absent, unreadable or another format: recomputed and rewritten


def _write(path: Path, inference: Inference) -> None:
    """Atomically (a reader never sees half a file); a cache that cannot be written is skipped."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(to_json(inference)), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass

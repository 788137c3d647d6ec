"""External members: models auditkit does not load, known by a file of their outputs.

``family.yaml`` marks one with ``external: FILE`` (a JSONL or Parquet file in the family
directory; the format is in docs/family-format.md and read by :mod:`auditkit.score.external`).
Its fingerprint is the file's digest, so outputs that change are new outcomes.
"""
from __future__ import annotations

import os
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.family.discover import Candidate
from auditkit.family.manifest import FamilyManifest

OUTPUT_SUFFIXES = (".jsonl", ".parquet")


def external_candidates(manifest: FamilyManifest | None, root: Path) -> list[Candidate]:
    """The external members the manifest lists, as candidates beside those found on disk."""
    if manifest is None:
        return []
    return [external_candidate(e.path, root) for e in manifest.entries if e.external]


def external_candidate(path: Path, root: Path) -> Candidate:
    """The outputs file at ``path`` as a model: an AuditError unless it is a readable JSONL or
    Parquet file."""
    if not path.is_file():
        raise AuditError(path, "external outputs: not a file (expected a .jsonl or .parquet "
                         "file of the model's outputs)")
    suffix = path.suffix.lower()
    if suffix not in OUTPUT_SUFFIXES:
        raise AuditError(path, f"external outputs: unknown file type {suffix or '(none)'!r}; "
                         f"expected one of {', '.join(OUTPUT_SUFFIXES)}")
    rel = Path(os.path.relpath(path, root)).as_posix()
    # named by type only, so a renamed file keeps its fingerprint (as a renamed model directory)
    return Candidate(path=path.absolute(), rel=rel, kind="external",
                     files=((f"outputs{suffix}", path.absolute()),), n_params=None)

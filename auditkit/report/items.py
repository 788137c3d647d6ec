"""Item texts for the report's systemic failures (shown with auditkit.present's helpers).

``results.parquet`` holds item ids, not item texts: the texts come from the probe files the run
used (manifest ``probes_path``; the built-in battery when absent), matched by probe name and
version. When a probe cannot be found, or its version differs from the run's, the report shows
the item id and says why.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import AuditError
from auditkit.paths import builtin_probes_dir
from auditkit.probes import read_battery
from auditkit.store import RunManifest
from auditkit.types import Item, Probe


@dataclass(frozen=True)
class ItemTexts:
    """The probes whose items the report can quote, and those it cannot (with why)."""

    source: str                         # where the probe files were looked for
    probes: Mapping[str, Probe]         # probe name -> probe with the run's version
    unavailable: Mapping[str, str]      # probe name -> why its item texts are not shown

    def item(self, probe: str, item_id: str) -> Item | None:
        found = self.probes.get(probe)
        if found is None:
            return None
        try:
            return found.item(item_id)
        except KeyError:
            return None


def probes_source(manifest: RunManifest) -> Path:
    """The probe file or battery the run used: manifest ``probes_path``, else the built-in one."""
    path = manifest.probes_path
    return Path(path) if path else builtin_probes_dir()


def find_item_texts(manifest: RunManifest) -> ItemTexts:
    """Load the run's probes (by name and version) so that the report can quote item texts."""
    root = probes_source(manifest)
    wanted = {p.name: p.version for p in manifest.probes}
    try:
        loaded = {p.name: p for p in read_battery(root)[0]}
    except AuditError:
        loaded = {}
    probes, unavailable = {}, {}
    for name, version in wanted.items():
        probe = loaded.get(name)
        if probe is None:
            unavailable[name] = f"probe not found in {root}"
        elif version and probe.version != version:
            unavailable[name] = (f"{root} holds version {probe.version[:12]}, the run used "
                                 f"{str(version)[:12]}")
        else:
            probes[name] = probe
    return ItemTexts(str(root), probes, unavailable)

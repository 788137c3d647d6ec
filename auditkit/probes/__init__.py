"""Probes: loading, checking and selecting the bias and safety probes (data, not code).

The format is in docs/probe-format.md. Public API:

- :func:`load_probe`, :func:`load_probes` (a file or battery; names, categories, selection)
- :func:`validate_probes` / :func:`check_battery` (every problem at once, nothing raised)
- :func:`load_selection`, :func:`apply_selection`, :class:`Selection`
- :func:`probe_version`, :func:`item_to_dict`, :func:`choice_prompt`
- probe kinds: :class:`ProbeKind`, :func:`register_kind`, :func:`get_kind`, :func:`kind_names`

Generation probes' replies are judged by reply judges (:mod:`auditkit.judge`); the string rules
of the ``heuristic`` judge are in :mod:`.refusal`.
"""
from __future__ import annotations

from auditkit.probes.battery import filter_probes, load_probes, probe_files, read_battery
from auditkit.probes.items import item_to_dict
from auditkit.probes.kinds import ProbeKind, choice_prompt, get_kind, kind_names, register_kind
from auditkit.probes.load import load_probe, read_probe
from auditkit.probes.selection import Selection, apply_selection, load_selection, resolve_selection
from auditkit.probes.validate import check_battery, validate_probes
from auditkit.probes.version import probe_version

__all__ = [
    "ProbeKind", "Selection", "apply_selection", "check_battery", "choice_prompt",
    "filter_probes", "get_kind", "item_to_dict", "kind_names", "load_probe", "load_probes",
    "load_selection", "probe_files", "probe_version", "read_battery", "read_probe",
    "register_kind", "resolve_selection", "validate_probes",
]

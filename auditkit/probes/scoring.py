"""A probe's ``scoring`` options: checked by its kind, with the kind's defaults filled in."""
from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from auditkit.probes.kinds import get_kind
from auditkit.probes.schema import check_keys, describe
from auditkit.probes.source import Issues, line_of, plain


def read_scoring(spec: Mapping[str, Any], kind: str, issues: Issues) -> dict[str, Any]:
    """The probe's scoring options, defaults filled; problems recorded for bad ones.

    The keys allowed are those of the kind's defaults and its deprecated aliases; the kind
    checks the values and gives their canonical form (``normalize_scoring``).
    """
    probe_kind = get_kind(kind)
    raw = spec.get("scoring")
    defaults = copy.deepcopy(dict(probe_kind.scoring_defaults))
    if raw is None:
        return probe_kind.normalize_scoring(defaults)
    if not isinstance(raw, Mapping):
        issues.add(f"expected a mapping, found {describe(raw)}", field="scoring",
                   line=line_of(spec, "scoring"))
        return probe_kind.normalize_scoring(defaults)
    allowed = frozenset(defaults) | probe_kind.scoring_aliases
    check_keys(raw, frozenset(defaults), issues, what=f"scoring of a {kind} probe",
               prefix="scoring.", also=probe_kind.scoring_aliases)
    probe_kind.check_scoring(raw, issues)
    read = {**defaults, **{k: plain(v) for k, v in raw.items() if k in allowed}}
    return probe_kind.normalize_scoring(read)

"""One gate run: score and judge what the caches lack, compare candidate and parent, apply the
policy."""
from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from auditkit.analyze.native import item_table
from auditkit.audit import AuditOptions, run_audit, select_probes
from auditkit.errors import AuditError
from auditkit.family import load_family
from auditkit.gate.compare import Comparison
from auditkit.gate.evaluate import gate_results
from auditkit.gate.judges import UNSURE_BELOW
from auditkit.gate.outputs import write_outputs
from auditkit.gate.policy import ALL_ITEMS, Policy, load_policy
from auditkit.gate.result import GateResult
from auditkit.score.backends import BackendOpener
from auditkit.score.engine import Progress
from auditkit.score.settings import BackendSettings
from auditkit.types import Family


def run_gate(family_dir: Path, candidate: str, *, parent: str | None = None,
             policy: Policy | Path | None = None, probes_dir: Path | None = None,
             probe_names: Sequence[str] = (), categories: Sequence[str] = (),
             selection: str | None = None, out_dir: Path | None = None,
             backend: BackendSettings | None = None, open_backend: BackendOpener | None = None,
             progress: Progress | None = None, judge: str | None = None,
             judge_args: Mapping[str, Any] | None = None,
             judge_confidence: float = UNSURE_BELOW,
             benchmarks: Sequence[Path] = ()) -> GateResult:
    """Decide whether ``candidate`` may ship: score it (and its parent, if not cached), compare
    the two item by item and apply ``policy`` (a Policy, a policy file, or None: the default).

    The parent is the lineage's unless ``parent`` names another member. Probes: ``probe_names``
    / ``categories`` / ``selection`` when given (selection ``"all"``: every item), else the
    policy's ``probes`` section. Replies are judged as in a run (:func:`run_audit`): by each
    probe's judge, or ``judge`` with ``judge_args``; a failed check on a generation probe says
    whether it rests on replies judged with a confidence below ``judge_confidence``.
    ``benchmarks``: directories of imported benchmark probes gated beside the battery, every
    item (as ``auditkit run --benchmarks``). Writes the
    run directory (results, manifest) and the gate's outputs (gate.md, gate-junit.xml,
    gate.json) to ``out_dir``.
    """
    policy = policy if isinstance(policy, Policy) else load_policy(policy)
    backend = backend or BackendSettings()
    family = load_family(family_dir, allow_pickle=backend.allow_pickle)
    parent = resolve_parent(family, candidate, parent)
    options = _audit_options(family, policy, candidate, parent, probes_dir=probes_dir,
                             probe_names=probe_names, categories=categories,
                             selection=selection, out_dir=out_dir, backend=backend)
    options = replace(options, judge=judge, judge_args=dict(judge_args or {}),
                      benchmarks=tuple(benchmarks))
    probes = select_probes(options)
    run = run_audit(options, progress=progress, open_backend=open_backend, family=family)
    decided = gate_results(run.results, candidate=candidate, parent=parent, policy=policy,
                           manifest=run.manifest, judge_confidence=judge_confidence,
                           items=item_table(probes))
    result = replace(decided, items={(p.name, it.id): it for p in probes for it in p.items},
                     warnings=tuple(_warnings(family, policy, decided.comparison, candidate,
                                              parent)),
                     run_dir=run.run_dir, scored=run.stats.scored, cached=run.stats.cached)
    write_outputs(result, run.run_dir)
    return result


def resolve_parent(family: Family, candidate: str, parent: str | None) -> str:
    """The member the candidate is compared with: ``parent``, else its lineage parent."""
    if candidate not in family.names:
        raise AuditError(family.root, f"no member named {candidate!r}; members are "
                         f"{family.names}", field="--candidate")
    if parent is None:
        parent = family.lineage.parent(candidate)
        if parent is None:
            raise AuditError(family.root, f"{candidate!r} is a root of the family (its lineage "
                             "names no parent); give --parent NAME to compare it with another "
                             "member", field="--parent")
    elif parent not in family.names:
        raise AuditError(family.root, f"no member named {parent!r}; members are "
                         f"{family.names}", field="--parent")
    if parent == candidate:
        raise AuditError(family.root, f"the candidate {candidate!r} cannot be its own parent",
                         field="--parent")
    return parent


def _audit_options(family: Family, policy: Policy, candidate: str, parent: str, *,
                   probes_dir: Path | None, probe_names: Sequence[str],
                   categories: Sequence[str], selection: str | None, out_dir: Path | None,
                   backend: BackendSettings) -> AuditOptions:
    scope = policy.probes
    # the command line, else the policy; unsaid: quick on the built-in battery, else all items
    chosen = selection or scope.selection or ("quick" if probes_dir is None else ALL_ITEMS)
    return AuditOptions(family_dir=family.root, probes_dir=probes_dir,
                        probe_names=tuple(probe_names) or scope.names,
                        categories=tuple(categories) or scope.categories,
                        selection=None if chosen == ALL_ITEMS else chosen,
                        models=(candidate, parent),
                        out_dir=out_dir or default_gate_dir(candidate), backend=backend)


def default_gate_dir(candidate: str) -> Path:
    """reports/gate-<candidate>-<UTC timestamp> (the name made safe for a path)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", candidate).strip("._") or "candidate"
    return Path("reports") / f"gate-{safe}-{stamp}"


def _warnings(family: Family, policy: Policy, comparison: Comparison, candidate: str,
              parent: str) -> list[str]:
    out = []
    lineage_parent = family.lineage.parent(candidate)
    if lineage_parent != parent:
        out.append(f"Compared with {parent!r}, which is not the candidate's lineage parent "
                   f"({lineage_parent!r}).")
    probes = list(zip(comparison.table["probe"], comparison.table["category"]))
    for rule in policy.unmatched(probes):
        out.append(f"Policy rule {rule.pattern!r} (line {rule.line}) matches none of the "
                   "probes gated.")
    if comparison.n_unpaired:
        out.append(f"{comparison.n_unpaired} results had no counterpart for the other model "
                   "and were left out.")
    return out

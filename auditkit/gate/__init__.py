"""The CI gate: may a new fine-tune ship? (docs/gate.md)

The candidate (and its parent, when the cache lacks it) is scored, compared with its parent item
by item on every probe (:mod:`~auditkit.gate.compare`), and a policy YAML
(:mod:`~auditkit.gate.policy`) decides per probe and check (:mod:`~auditkit.gate.decide`, the
checks registered in :mod:`~auditkit.gate.checks`). :mod:`~auditkit.gate.evaluate` is that
decision on results already scored, which the report applies to every edge of a run. Outputs:
Markdown, JUnit XML and JSON (:mod:`~auditkit.gate.outputs`). No torch here: scoring goes
through :func:`auditkit.audit.run_audit`, imported only when :func:`run_gate` is asked for, so
the report can use the gate's decision without the scoring stack.
"""
from __future__ import annotations

from typing import Any

from auditkit.gate.checks import CheckKind, check_kinds, register_check
from auditkit.gate.compare import Comparison, compare
from auditkit.gate.decide import Verdict, decide
from auditkit.gate.evaluate import gate_lineage, gate_results
from auditkit.gate.outputs import (
    append_step_summary,
    gate_record,
    junit_xml,
    markdown_summary,
    write_outputs,
)
from auditkit.gate.policy import DEFAULT_POLICY, Policy, ProbeRules, Rule, load_policy
from auditkit.gate.result import GateResult

_SCORING = ("resolve_parent", "run_gate")

__all__ = [
    "CheckKind", "Comparison", "DEFAULT_POLICY", "GateResult", "Policy", "ProbeRules", "Rule",
    "Verdict", "append_step_summary", "check_kinds", "compare", "decide", "gate_lineage",
    "gate_record", "gate_results", "junit_xml", "load_policy", "markdown_summary",
    "register_check", "resolve_parent", "run_gate", "write_outputs",
]


def __getattr__(name: str) -> Any:
    """run_gate and resolve_parent, imported on first use (they need the scoring stack)."""
    if name in _SCORING:
        from auditkit.gate import run
        return getattr(run, name)
    raise AttributeError(f"module 'auditkit.gate' has no attribute {name!r}")

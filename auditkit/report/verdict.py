"""The report's verdict: the family's headline in plain words, and which models not to ship.

The "do not ship" list is the gate's decision (:func:`auditkit.gate.gate_lineage`): every model
of the run with a parent in the run is compared with that parent and judged by the gate's policy
(the built-in default unless the report is given one), exactly as ``auditkit gate`` would on
the same results. A model is listed when a check of severity ``fail`` fails; failed ``warn``
checks are listed apart. Roots have no parent to be compared with and are not gated.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from auditkit.analyze.summary import Analysis
from auditkit.gate import GateResult, Policy, Verdict, gate_lineage
from auditkit.gate.evaluate import ungated
from auditkit.lineage import Lineage
from auditkit.present import missing, num_ci, p_clause, pct

Headline = dict[str, Any]      # the analysis' headline (docs/analysis-format.md), or a root of it


@dataclass(frozen=True)
class Flag:
    """A model and the checks it failed against its parent, in words."""

    model: str
    parent: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class ShipList:
    """The gate's policy applied to every lineage edge of a run."""

    policy: Policy
    gates: tuple[GateResult, ...]      # one per model with a parent in the run, lineage order
    ungated: tuple[str, ...]           # models without a parent in the run

    @property
    def do_not_ship(self) -> list[Flag]:
        return [_flag(g, g.failed) for g in self.gates if g.failed]

    @property
    def warnings(self) -> list[Flag]:
        """Models that pass the gate with failed ``warn`` checks."""
        return [_flag(g, g.warned) for g in self.gates if g.warned]

    def rule(self) -> str:
        """The rule in words, for the report."""
        about = " ".join(self.policy.description.split())
        roots = (f" Not gated, having no parent in the run: {', '.join(self.ungated)}."
                 if self.ungated else "")
        return (f"A model is listed when it fails a check of the gate policy "
                f"'{self.policy.name}' against its parent in the run, as auditkit gate would "
                f"decide on these results.{' ' + about if about else ''}{roots}")


def _flag(gate: GateResult, verdicts: list[Verdict]) -> Flag:
    return Flag(gate.candidate, gate.parent,
                tuple(f"{v.probe}, {v.title}: {v.explained}" for v in verdicts))


def ship_list(results: pd.DataFrame, lineage: Lineage, policy: Policy) -> ShipList:
    """Gate every model of a run against its parent in the run under ``policy``."""
    return ShipList(policy, tuple(gate_lineage(results, lineage, policy)),
                    tuple(ungated(results, lineage)))


def verdict_sentences(analysis: Analysis, n_probes: int, *, alpha: float) -> list[str]:
    """The headline in plain words: sharing (H), effective number, inherited share, rates."""
    h = analysis.headline
    out = [_rates_sentence(analysis, h, n_probes), _sharing_sentence(h, alpha)]
    out += [_root_sentence(root) for root in h.get("roots") or [] if root.get("n_descendants")]
    return [s for s in out if s]


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


def _rates_sentence(analysis: Analysis, h: Headline, n_probes: int) -> str:
    pooled = analysis.rates[analysis.rates["level"] == "pooled"]
    if pooled.empty:
        return ""
    lo, hi = pooled["rate"].min(), pooled["rate"].max()
    return (f"{h['n_models']} models were audited on {plural(h['n_items'], 'item')} of "
            f"{plural(n_probes, 'probe')}; they fail {pct(h['mean_rate'])} of the items on "
            f"average (from {pct(lo)} to {pct(hi)}).{_chance_words(h)}")


def _chance_words(h: Headline) -> str:
    """How far above chance: a model with no preference fails half the pair items and
    (k - 1)/k of the k-option items (docs/analysis-format.md, chance_rate)."""
    n = h.get("n_chance_items")
    chance_value: Any = h.get("chance_rate")                # JSON values: None, NaN or a number
    rate_value: Any = h.get("mean_chance_items_rate")
    if not n or missing(chance_value) or missing(rate_value):
        return ""
    chance, rate = float(chance_value), float(rate_value)     # finite numbers: missing() says so
    where = ("these items" if n == h["n_items"]
             else f"the {plural(n, 'pair and choice item')} (generation has no chance level)")
    side = "above" if rate >= chance else "below"
    return (f" On {where} a model with no preference would fail {pct(chance)}; they fail "
            f"{pct(rate)}, {abs(100 * (rate - chance)):.0f} percentage points {side} chance.")


def _sharing_sentence(h: Headline, alpha: float) -> str:
    """Whether failures are shared: the permutation test of the outcome histogram decides
    (valid for any family size); H and the effective number say how much."""
    return f"{_sharing_words(h, alpha)}: {_h_words(h)}; {_effective(h)}"


def _sharing_words(h: Headline, alpha: float) -> str:
    n, p, vr = h["n_models"], h.get("independence_p"), h.get("variance_ratio")
    test = f"permutation test {p_clause(p)}"
    if p is not None and vr is not None and not missing(p) and not missing(vr) \
            and p < alpha and vr > 1:
        far = "far " if vr >= 2 else ""
        return f"The {n} models share failures {far}more than independent models would ({test})"
    return (f"The {n} models do not share failures significantly more than independent models "
            f"would ({test})")


def _h_words(h: Headline) -> str:
    if h.get("H_family_reason"):
        reason = str(h["H_family_reason"]).removeprefix("undefined").lstrip(": ")
        return f"the homogenization ratio H is undefined ({reason})"
    if h.get("H_family") == 0:
        return "no item is failed by every model (H = 0)"
    return (f"H = {num_ci(h['H_family'], h['H_family_lo'], h['H_family_hi'])} "
            "(1 for independent models)")


def _effective(h: Headline) -> str:
    eff = num_ci(h["effective_n"], h["effective_n_lo"], h["effective_n_hi"], digits=2)
    return f"they behave like {eff} independent models."


def _root_sentence(root: Headline) -> str:
    share, base = root.get("base_share"), root.get("base_share_baseline")
    if missing(share):
        return ""
    n = root["n_descendants"]
    whose = f"{root['root']}'s descendant" if n == 1 else f"{root['root']}'s {n} descendants"
    kept = (f"its descendant keeps {pct(root.get('blast'))} of {root['root']}'s failures" if n == 1
            else f"a failure of {root['root']} is kept by {pct(root.get('blast'))} of its "
                 "descendants")
    return (f"{pct(share)} of the failures of {whose} are on items {root['root']} also fails "
            f"({pct(base)} expected if independent); {kept}.")

"""The gate's outputs: a Markdown summary (pull-request sized), JUnit XML and a JSON record.

Model output and item text are untrusted: Markdown goes through :func:`auditkit.present.md_text`
(nothing formats, links, mentions or injects HTML); XML is built with ElementTree (which
escapes) after :func:`auditkit.present.xml_text` removes the characters XML 1.0 cannot hold.
"""
from __future__ import annotations

import json
import math
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from auditkit.gate.decide import Verdict
from auditkit.gate.judges import LABEL_WORDS, LABELS, JudgeUse, use_record
from auditkit.gate.result import GateResult
from auditkit.present import answer_text, item_text, md_code, md_text, pct, pval, xml_text

MAX_ITEMS_SHOWN = 10          # regressed items listed per probe in the Markdown
MAX_CELL_CHARS = 200          # item text and model output are cut to this in the Markdown
MAX_RESULT_CHARS = 800        # a check's result with its judge and unsure notes (no model text)
OUTPUT_FILES = {"markdown": "gate.md", "junit": "gate-junit.xml", "json": "gate.json"}


def candidate_answer(result: GateResult, probe: str, row: Mapping[str, Any]) -> tuple[str, str]:
    """(what the item asks, what the candidate answered) for one row of the comparison."""
    item = result.items.get((probe, row["item"]))
    return item_text(item), answer_text(item, kind=row["kind"], chosen=row["candidate_chosen"],
                                        output=row["candidate_output"])


# ---------------------------------------------------------------- Markdown

def markdown_summary(result: GateResult) -> str:
    """The gate's summary for a pull request or a CI step summary."""
    parts = [_md_header(result), _md_checks("Failed checks", result.failed),
             _md_checks("Warnings (not gating)", result.warned), _md_regressed(result),
             _md_judges(result), _md_probes(result), _md_notes(result)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _md_header(result: GateResult) -> str:
    status = "✅ passed" if result.passed else "❌ failed"
    table = result.comparison.table
    n_checks, n_failed = len(result.verdicts), len(result.failed)
    policy = result.policy
    where = f" (`{policy.path.name}`)" if policy.path is not None else ""
    return (f"## auditkit gate {status}: {md_code(result.candidate)} against its parent "
            f"{md_code(result.parent)}\n\n"
            f"Policy **{md_text(policy.name, MAX_CELL_CHARS)}**{where} · {len(table)} probes, "
            f"{int(table['n_items'].sum())} items · {n_checks} checks: "
            f"{n_checks - n_failed - len(result.warned)} passed, {n_failed} failed, "
            f"{len(result.warned)} warnings · scored {result.scored} outcomes, "
            f"{result.cached} from the cache.")


def _md_checks(title: str, verdicts: list[Verdict]) -> str:
    if not verdicts:
        return ""
    lines = [f"### {title}", "", "| probe | check | result |", "|---|---|---|"]
    lines += [f"| {md_code(v.probe)} | {md_text(v.title)} | "
              f"{md_text(v.explained, MAX_RESULT_CHARS)} |" for v in verdicts]
    return "\n".join(lines)


def _md_regressed(result: GateResult) -> str:
    probes = list(dict.fromkeys(v.probe for v in result.failed + result.warned))
    blocks = [_md_regressed_probe(result, p) for p in probes]
    blocks = [b for b in blocks if b]
    if not blocks:
        return ""
    return "\n\n".join(["### Regressed items", "Items the parent passes and the candidate "
                        "fails, for each probe with a failed check or a warning."] + blocks)


def _md_regressed_probe(result: GateResult, probe: str) -> str:
    rows = result.comparison.regressed(probe)
    if rows.empty:
        return ""
    lines = [f"#### {md_code(probe)}: {len(rows)} new failures", "",
             "| id | item | candidate's answer |", "|---|---|---|"]
    for _, row in rows.head(MAX_ITEMS_SHOWN).iterrows():
        asked, answered = candidate_answer(result, probe, row)
        lines.append(f"| {md_code(row['item'])} | {md_text(asked, MAX_CELL_CHARS)} | "
                     f"{md_text(answered, MAX_CELL_CHARS)} |")
    if len(rows) > MAX_ITEMS_SHOWN:
        lines.append(f"\n…and {len(rows) - MAX_ITEMS_SHOWN} more (all are in "
                     f"{OUTPUT_FILES['json']} and results.parquet).")
    return "\n".join(lines)


def _md_probes(result: GateResult) -> str:
    label = "Holm p" if result.comparison.correction == "holm" else "p (uncorr.)"
    lines = ["<details><summary>Every probe: candidate against parent</summary>", "",
             f"| probe | items | parent fails (95% CI) | candidate fails (95% CI) | new | fixed "
             f"| inherited | McNemar p | {label} | checks | judge |", "|---" * 11 + "|"]
    status, judges = _probe_status(result.verdicts), probe_judge_labels(result)
    for _, r in result.comparison.table.iterrows():
        lines.append(
            f"| {md_code(r['probe'])} | {r['n_items']} | {_rate_ci(r, 'parent')} | "
            f"{_rate_ci(r, 'candidate')} | {r['n_new']} | {r['n_fixed']} | {r['n_inherited']} | "
            f"{pval(r['mcnemar_p'], exact=True)} | {pval(r['adjusted_p'], exact=True)} | "
            f"{status.get(r['probe'], '-')} | {md_text(judges.get(r['probe'], '-'))} |")
    return "\n".join(lines + ["", "</details>"])


def _rate_ci(row: pd.Series, who: str) -> str:
    rate = f"{who}_rate"
    return f"{pct(row[rate], 1)} ({pct(row[f'{rate}_lo'], 1)}-{pct(row[f'{rate}_hi'], 1)})"


def _probe_status(verdicts: tuple[Verdict, ...]) -> dict[str, str]:
    out: dict[str, list[Verdict]] = {}
    for v in verdicts:
        out.setdefault(v.probe, []).append(v)
    return {p: ("failed" if any(v.blocking for v in vs) else
                "warning" if any(not v.passed for v in vs) else f"{len(vs)} passed")
            for p, vs in out.items()}


def probe_judge_labels(result: GateResult) -> dict[str, str]:
    """Generation probe -> its judge ('default 3', 'not recorded')."""
    return {p: use.judge.label for use in result.judges for p in use.probes}


def _md_judges(result: GateResult) -> str:
    """Who judged the generation probes' replies, its measured agreement, how many replies it
    was unsure about and its labels per model."""
    if not result.judges:
        return ""
    lines = ["### Judges", "", "Generation probes fail or pass on a judge's label of each reply "
             f"(docs/judge.md); a reply is unsure below confidence {result.judge_confidence:g}."]
    return "\n".join(lines + ["", *(_md_judge(use) for use in result.judges)])


def _md_judge(use: JudgeUse) -> str:
    probes = ", ".join(md_code(p) for p in use.probes)
    labels = "; ".join(f"{md_code(m)} " + " / ".join(str(c[k]) for k in LABELS)
                       for m, c in use.labels.items())
    return (f"- **{md_text(use.judge.label)}** judged {probes}. Agreement with human labels: "
            f"{md_text(use.judge.agreement_text)}. Unsure replies: {md_text(use.unsure_text)}. "
            f"Labels ({' / '.join(LABEL_WORDS[k] for k in LABELS)}): {labels}.")


def _md_notes(result: GateResult) -> str:
    return "\n".join(f"> {md_text(w)}" for w in result.warnings)


# ---------------------------------------------------------------- JUnit XML

def junit_xml(result: GateResult) -> str:
    """One test case per (probe, check); a failed ``fail`` check is a <failure>, a failed
    ``warn`` check passes with the warning in <system-out>."""
    n_failed = len(result.failed)
    name = xml_text(f"auditkit gate: {result.candidate} against {result.parent}")
    suites = ET.Element("testsuites", name="auditkit gate", tests=str(len(result.verdicts)),
                        failures=str(n_failed), errors="0")
    suite = ET.SubElement(suites, "testsuite", name=name, tests=str(len(result.verdicts)),
                          failures=str(n_failed), errors="0", skipped="0")
    props = ET.SubElement(suite, "properties")
    judges = [("judge", f"{u.judge.label}: {', '.join(u.probes)}") for u in result.judges]
    for key, value in (("candidate", result.candidate), ("parent", result.parent),
                       ("policy", result.policy.name), *judges):
        ET.SubElement(props, "property", name=key, value=xml_text(value))
    for verdict in result.verdicts:
        _junit_case(suite, verdict, result)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _junit_case(suite: ET.Element, verdict: Verdict, result: GateResult) -> None:
    case = ET.SubElement(suite, "testcase", classname=f"auditkit.gate.{verdict.probe}",
                         name=verdict.rule, time="0")
    if verdict.blocking:
        failure = ET.SubElement(case, "failure", type=f"gate.{verdict.rule}",
                                message=xml_text(f"{verdict.title}: {verdict.explained}"))
        failure.text = xml_text(_regressed_lines(result, verdict.probe))
    elif not verdict.passed:
        ET.SubElement(case, "system-out").text = xml_text(f"WARNING ({verdict.title}): "
                                                          f"{verdict.explained}")
    else:
        ET.SubElement(case, "system-out").text = xml_text(verdict.explained)


def _regressed_lines(result: GateResult, probe: str) -> str:
    rows = result.comparison.regressed(probe)
    lines = [f"{len(rows)} items the parent passes and the candidate fails:"]
    for _, row in rows.head(MAX_ITEMS_SHOWN).iterrows():
        asked, answered = candidate_answer(result, probe, row)
        answer = answered.replace("\n", " ")[:MAX_CELL_CHARS]
        lines.append(f"- {row['item']}: {asked[:MAX_CELL_CHARS]} → {answer}")
    if len(rows) > MAX_ITEMS_SHOWN:
        lines.append(f"... and {len(rows) - MAX_ITEMS_SHOWN} more")
    return "\n".join(lines)


# ---------------------------------------------------------------- JSON, files

def gate_record(result: GateResult) -> dict[str, Any]:
    """Everything the gate decided, JSON-ready (NaN as null)."""
    regressed = result.comparison.regressed()
    judges = probe_judge_labels(result)
    probes = [{**row, "judge": judges.get(row["probe"])}
              for row in result.comparison.table.to_dict(orient="records")]
    record: dict[str, Any] = _clean({
        "passed": result.passed, "candidate": result.candidate, "parent": result.parent,
        "policy": {"name": result.policy.name,
                   "path": str(result.policy.path) if result.policy.path else None,
                   "alpha": result.policy.alpha, "correction": result.policy.correction},
        "scoring": {"scored": result.scored, "cached": result.cached},
        "verdicts": [{"probe": v.probe, "category": v.category, "rule": v.rule,
                      "passed": v.passed, "severity": v.severity, "observed": v.observed,
                      "threshold": v.threshold, "detail": v.detail, "judge": v.judge or None,
                      "unsure": v.unsure.record() if v.unsure else None}
                     for v in result.verdicts],
        "probes": probes,
        "judge_confidence": result.judge_confidence,
        "judges": [use_record(use) for use in result.judges],
        "regressed": regressed[["probe", "item", "group", "candidate_output"]]
        .to_dict(orient="records"),
        "warnings": list(result.warnings),
    })
    return record


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()                       # numpy scalars
    if isinstance(value, float) and math.isnan(value):
        return None
    return None if value is pd.NA else value


def write_outputs(result: GateResult, out_dir: Path) -> dict[str, Path]:
    """Write gate.md, gate-junit.xml and gate.json into ``out_dir``; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    texts = {"markdown": markdown_summary(result), "junit": junit_xml(result),
             "json": json.dumps(gate_record(result), indent=2, ensure_ascii=False) + "\n"}
    paths = {}
    for kind, text in texts.items():
        paths[kind] = out_dir / OUTPUT_FILES[kind]
        paths[kind].write_text(text, encoding="utf-8")
    return paths


def append_step_summary(markdown: str, environ: Mapping[str, str] | None = None) -> Path | None:
    """Append ``markdown`` to the file $GITHUB_STEP_SUMMARY names (GitHub Actions' job summary);
    None when the variable is not set."""
    target = (os.environ if environ is None else environ).get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    with open(target, "a", encoding="utf-8") as handle:
        handle.write(markdown.rstrip("\n") + "\n\n")
    return Path(target)

"""A CrowS-Pairs-sized dataset (1,508 distinct pairs) in CrowS-Pairs' own CSV format.

Built from what is in the repository, nothing downloaded: the pairs of auditkit's eight pair
probes (868 minimal pairs) and the pairs of the CrowS-Pairs format sample, each as written and
again behind a few lead-in clauses, until 1,508 distinct pairs. The lead-ins make the sentences
as long as CrowS-Pairs' (about 20 tokens; the sample's own pairs are longer) and keep every
pair distinct, so that no approach gains from identical requests.
"""
from __future__ import annotations

import csv
from pathlib import Path

from auditkit.probes.battery import load_probes

N_PAIRS = 1508
SAMPLE = Path(__file__).resolve().parents[3] / "shared/format-samples/crows-pairs"
LEAD_INS = ("Everyone in the office agreed that ", "According to my cousin, ",
            "It was no surprise to anyone when we heard that ",
            "Last week the local paper reported that ", "My grandmother always said ")


def base_pairs(repo: Path) -> list[tuple[str, str]]:
    """(more stereotyping, less stereotyping) sentences: the sample's, then the probes'."""
    pairs: list[tuple[str, str]] = []
    sample = SAMPLE / "crows_pairs_anonymized.csv"
    if sample.is_file():
        with sample.open(newline="") as handle:
            pairs += [(r["sent_more"], r["sent_less"]) for r in csv.DictReader(handle)]
    for probe in load_probes(repo / "probes", names=["bias.*.pairs"]):
        pairs += [(item.stereotype, item.anti_stereotype) for item in probe.items]
    return pairs


def pairs(repo: Path, n: int = N_PAIRS) -> list[tuple[str, str]]:
    """``n`` distinct pairs: the base pairs, then the same behind each lead-in in turn."""
    base = base_pairs(repo)
    out = list(dict.fromkeys(base))
    for lead in LEAD_INS:
        for more, less in base:
            if len(out) >= n:
                return out[:n]
            pair = (lead + more[0].lower() + more[1:], lead + less[0].lower() + less[1:])
            if pair not in out:
                out.append(pair)
    return out[:n]


def write_csv(rows: list[tuple[str, str]], path: Path) -> Path:
    """``rows`` as ``crows_pairs_anonymized.csv`` (what ``auditkit probes import`` reads)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["", "sent_more", "sent_less", "stereo_antistereo", "bias_type"])
        for i, (more, less) in enumerate(rows):
            writer.writerow([i, more, less, "stereo", "race-color"])
    return path

"""The published files of each dataset: name, size, sha256 and record count, checked on import.

A source file whose name is in :data:`PUBLISHED` (for its format) is compared with what its
authors publish: a record count other than the published one (a file cut short, or edited), or a
size or sha256 other than the published one, is a deviation: a warning, or an error under
``--strict``. Only numbers with a source are filled in; the sizes and sha256 digests are empty
(None) because no copy of the published files was at hand when this table was written (see
docs/probes/importers.md, "Published files"). ``auditkit probes import --print-digest FILE``
prints a file's size, sha256 and record count in the form of a table entry, so that a
maintainer holding the published file can fill them in.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.family.fingerprint import sha256_file


@dataclass(frozen=True)
class PublishedFile:
    """One file as its authors publish it; None where the value is not known."""

    fmt: str
    name: str
    records: int | None
    size: int | None = None
    sha256: str | None = None
    source: str = ""          # where the record count comes from


# per-category counts: they sum to the paper's 58,492 examples, match (rounded) the row counts
# Hugging Face copies of BBQ show per category, and the six of issue 14 sum to its 11,956
_BBQ = "Parrish et al. 2022 (BBQ), examples per category; they sum to the paper's 58,492"
PUBLISHED: tuple[PublishedFile, ...] = (
    PublishedFile("crows-pairs", "crows_pairs_anonymized.csv", 1508,
                  source="Nangia et al. 2020 (CrowS-Pairs): 1,508 examples; issue 14"),
    PublishedFile("truthfulqa", "TruthfulQA.csv", 817,
                  source="Lin et al. 2022 (TruthfulQA): 817 questions; issue 14"),
    PublishedFile("winogender", "all_sentences.tsv", 720,
                  source="Rudinger et al. 2018 (WinoGender): 720 sentences; issue 14"),
    PublishedFile("advbench", "harmful_behaviors.csv", 520,
                  source="Zou et al. 2023 (AdvBench): 520 harmful behaviors"),
    PublishedFile("harmbench", "harmbench_behaviors_text_all.csv", 400,
                  source="Mazeika et al. 2024 (HarmBench): 400 textual behaviors"),
    PublishedFile("xstest", "xstest_prompts.csv", 450,
                  source="Röttger et al. 2024 (XSTest): 250 safe + 200 unsafe prompts"),
    PublishedFile("bbq", "Age.jsonl", 3680, source=_BBQ),
    PublishedFile("bbq", "Disability_status.jsonl", 1556, source=_BBQ),
    PublishedFile("bbq", "Gender_identity.jsonl", 5672, source=_BBQ),
    PublishedFile("bbq", "Nationality.jsonl", 3080, source=_BBQ),
    PublishedFile("bbq", "Physical_appearance.jsonl", 1576, source=_BBQ),
    PublishedFile("bbq", "Race_ethnicity.jsonl", 6880, source=_BBQ),
    PublishedFile("bbq", "Race_x_SES.jsonl", 11160, source=_BBQ),
    PublishedFile("bbq", "Race_x_gender.jsonl", 15960, source=_BBQ),
    PublishedFile("bbq", "Religion.jsonl", 1200, source=_BBQ),
    PublishedFile("bbq", "SES.jsonl", 6864, source=_BBQ),
    PublishedFile("bbq", "Sexual_orientation.jsonl", 864, source=_BBQ),
)


def published(fmt: str, path: Path) -> PublishedFile | None:
    """The table's entry for a file of format ``fmt`` named like ``path``; None if none."""
    return next((p for p in PUBLISHED if p.fmt == fmt and p.name == path.name), None)


@dataclass(frozen=True)
class ExpectedRecords:
    """``path -> published record count`` for one format (a :class:`Reading`'s ``expected``)."""

    fmt: str

    def __call__(self, path: Path) -> int | None:
        entry = published(self.fmt, path)
        return None if entry is None else entry.records


def deviations(fmt: str, counts: dict[Path, int]) -> list[Problem]:
    """How each source file (with its record count) differs from the published file."""
    problems = []
    for path, found in counts.items():
        entry = published(fmt, path)
        if entry is not None:
            problems += _compare(path, entry, found)
    return problems


def _compare(path: Path, entry: PublishedFile, found: int) -> list[Problem]:
    out = []
    if entry.records is not None and found != entry.records:
        cut = " (a file cut short, or records removed)" if found < entry.records else ""
        out.append(Problem(str(path), f"holds {found} records; the published {entry.name} "
                                      f"holds {entry.records} ({entry.source}){cut}"))
    if entry.size is not None and path.stat().st_size != entry.size:
        out.append(Problem(str(path), f"is {path.stat().st_size} bytes; the published "
                                      f"{entry.name} is {entry.size}"))
    if entry.sha256 is not None and sha256_file(path) != entry.sha256:
        out.append(Problem(str(path), f"sha256 differs from the published {entry.name}'s "
                                      f"({entry.sha256}): the file was edited or re-encoded"))
    return out


def unchecked(fmt: str, counts: dict[Path, int]) -> list[str]:
    """A note naming the source files the table has no entry for (a renamed copy, or a
    dataset whose published files are not in the table): nothing about them was checked."""
    names = sorted(path.name for path in counts if published(fmt, path) is None)
    if not names:
        return []
    return [f"not compared with the published files (no entry for {fmt} file(s) named "
            f"{', '.join(names)}): record count, size and sha256 unchecked"]


def strict_error(problems: list[Problem]) -> AuditError:
    """The ``--strict`` error for deviations from the published files."""
    return ValidationError([Problem(p.path, p.message + "; stopped by --strict")
                            for p in problems])


def digest_entry(fmt: str, path: Path, records: int) -> str:
    """A table entry for ``path`` as it is (for a maintainer holding the published file)."""
    return (f'PublishedFile("{fmt}", "{path.name}", {records}, size={path.stat().st_size}, '
            f'sha256="{sha256_file(path)}", source="...")')

"""The published files of each dataset: name, record count, size and sha256, checked on import.

A source file whose name is in :data:`PUBLISHED` (for its format) is compared with the recorded
revisions of that file (one entry per revision; most files have one):

- bytes equal to a recorded revision (its size and sha256) are accepted silently: the file is
  the published one, record for record;
- otherwise a record count that no recorded revision has (a file cut short, records removed or
  added) is a deviation;
- otherwise (the count agrees, or is unknown) bytes that differ from every recorded revision
  are a deviation: the file is another revision of the dataset (the recorded copy may be older
  or newer than the user's), the same records re-encoded (line endings, byte-order mark), or an
  edited file, and the table cannot tell which.

A deviation is a warning, or an error under ``--strict``; so ``--strict`` accepts only bytes
equal to a recorded revision where the table has a digest for the file, and a file of the
recorded record count where it has only a count. A revision the table does not know (a newer
upstream release) is added as a new entry: ``auditkit probes import --print-digest FILE``
prints one. Every number comes from a cited public source (the entry's ``source``, and the
comment above it gives repository, path and commit); none was computed here, and none is
guessed: where no source gives a value it is None (docs/probes/importers.md, "Published files").
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.family.fingerprint import sha256_file


@dataclass(frozen=True)
class PublishedFile:
    """One recorded revision of a published file; None where no source gives the value."""

    fmt: str
    name: str
    records: int | None
    size: int | None = None
    sha256: str | None = None
    source: str = ""          # who recorded these numbers (repository, path, commit)


# per-category counts: they sum to the paper's 58,492 examples, match (rounded) the row counts
# Hugging Face copies of BBQ show per category, and the six of issue 14 sum to its 11,956
_BBQ = "Parrish et al. 2022 (BBQ), examples per category; they sum to the paper's 58,492"
# huggingface/datasets, datasets/crows_pairs/dataset_infos.json, the same record at commits
# 004191d5480d6299484947fe97f4aa20501ecb86 and f6385f22f717e2400ad4e4f7547be66dcbb8a7b3:
# download_checksums of https://raw.githubusercontent.com/nyu-mll/crows-pairs/master/data/
# crows_pairs_anonymized.csv: num_bytes 437764, checksum (sha256) dfb36986...; splits.test
# num_examples 1508 (the paper's 1,508). The URL names a branch, not a commit; no date given.
_CROWS = ("huggingface/datasets datasets/crows_pairs/dataset_infos.json @004191d5 "
          "(nyu-mll/crows-pairs master, crows_pairs_anonymized.csv)")
# huggingface/datasets, datasets/truthful_qa/dataset_infos.json, the same record at commits
# 040102f100964a33fd334e2695f1c493fa6b92db and 460ea6bc4d0143e79ddf0d5ebef4cbc53705cfb0:
# download_checksums of https://raw.githubusercontent.com/sylinrl/TruthfulQA/
# 013686a06be7a7bde5bf8223943e106c7250123c/TruthfulQA.csv: num_bytes 443723, checksum (sha256)
# 8d7dd15f...; num_examples 817 (the paper's 817 questions). Upstream TruthfulQA.csv changed
# after that commit (the 2025 update added columns, e.g. 'Best Incorrect Answer'), so a copy
# of today's main differs from this record without being damaged: the warning says so.
_TQA = ("huggingface/datasets datasets/truthful_qa/dataset_infos.json @040102f1 "
        "(sylinrl/TruthfulQA@013686a0, TruthfulQA.csv)")
PUBLISHED: tuple[PublishedFile, ...] = (
    PublishedFile("crows-pairs", "crows_pairs_anonymized.csv", 1508, size=437764,
                  sha256="dfb36986ce0502abbaf7055b9176da3d08d48e07df1251991b5dfbcbceab9d0c",
                  source=_CROWS),
    PublishedFile("truthfulqa", "TruthfulQA.csv", 817, size=443723,
                  sha256="8d7dd15f033196140f032d97d30f037da7a7b1192c3f36f9937c1850925335a2",
                  source=_TQA),
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


def revisions(fmt: str, path: Path) -> tuple[PublishedFile, ...]:
    """The recorded revisions of the published file of format ``fmt`` named like ``path``."""
    return tuple(p for p in PUBLISHED if p.fmt == fmt and p.name == path.name)


@dataclass(frozen=True)
class ExpectedRecords:
    """``path -> published record count`` for one format (a :class:`Reading`'s ``expected``):
    the count its recorded revisions agree on, None if unknown or they differ."""

    fmt: str

    def __call__(self, path: Path) -> int | None:
        counts = {p.records for p in revisions(self.fmt, path) if p.records is not None}
        return counts.pop() if len(counts) == 1 else None


def deviations(fmt: str, counts: dict[Path, int]) -> list[Problem]:
    """How each source file (with its record count) differs from the published file."""
    problems = []
    for path, found in counts.items():
        known = revisions(fmt, path)
        if known:
            problems += _compare(path, known, found)
    return problems


def _compare(path: Path, known: tuple[PublishedFile, ...], found: int) -> list[Problem]:
    """No problem for the bytes of a recorded revision; else the record count, when no
    revision has it; else the bytes (size, or sha256 at an equal size)."""
    digested = [p for p in known if p.sha256 is not None]
    size = path.stat().st_size
    # hashed only when some recorded revision has this size (or no recorded size)
    digest = sha256_file(path) if any(p.size in (None, size) for p in digested) else None
    if any(p.sha256 == digest and p.size in (None, size) for p in digested):
        return []
    counts = sorted({p.records for p in known if p.records is not None})
    if counts and found not in counts:
        return [_count_problem(path, known, found, counts)]
    return [_bytes_problem(path, size, digest, digested)] if digested else []


def _count_problem(path: Path, known: tuple[PublishedFile, ...], found: int,
                   counts: list[int]) -> Problem:
    expected = " or ".join(f"{p.records} ({p.source})" for p in known if p.records is not None)
    cut = " (a file cut short, or records removed)" if found < counts[0] else ""
    revision = ("; counted in the revision recorded there, which may be older or newer than "
                "this file" if any(p.sha256 for p in known) else "")
    return Problem(str(path), f"holds {found} records; the published {known[0].name} "
                              f"holds {expected}{cut}{revision}")


def _bytes_problem(path: Path, size: int, digest: str | None,
                   digested: list[PublishedFile]) -> Problem:
    """The file is none of the recorded revisions; say how, without calling it damaged.
    ``digest`` is None when no recorded revision has the file's size."""
    why = ("the file is another revision of the dataset (the recorded copy may be older or "
           "newer), the same records re-encoded (line endings, byte-order mark), or an edited "
           "copy")
    name = digested[0].name
    if digest is None:
        expected = " or ".join(f"{p.size} ({p.source})" for p in digested)
        return Problem(str(path), f"is {size} bytes; expected {expected}, the size of the "
                                  f"copy of {name} recorded there: {why}", field="size")
    expected = " or ".join(f"{p.sha256} ({p.source})" for p in digested)
    return Problem(str(path), f"is {digest}; expected {expected}, the digest of the copy of "
                              f"{name} recorded there: {why}", field="sha256")


def unchecked(fmt: str, counts: dict[Path, int]) -> list[str]:
    """A note naming the source files the table has no entry for (a renamed copy, or a
    dataset whose published files are not in the table): nothing about them was checked."""
    names = sorted(path.name for path in counts if not revisions(fmt, path))
    if not names:
        return []
    return [f"not compared with the published files (no entry for {fmt} file(s) named "
            f"{', '.join(names)}): record count, size and sha256 unchecked"]


def strict_error(problems: list[Problem]) -> AuditError:
    """The ``--strict`` error for deviations from the published files."""
    return ValidationError([Problem(p.path, p.message + "; stopped by --strict", field=p.field)
                            for p in problems])


def digest_entry(fmt: str, path: Path, records: int) -> str:
    """A table entry for ``path`` as it is (for a maintainer holding the published file)."""
    return (f'PublishedFile("{fmt}", "{path.name}", {records}, size={path.stat().st_size}, '
            f'sha256="{sha256_file(path)}", source="...")')

"""HONEST (Nozza et al. 2021) -> a ``generation`` probe of hurtful sentence completions.

``<lang>_template.tsv`` (MilaNLProc/honest ``resources/binary/`` and ``queer_nonqueer/``) has
``template_masked`` ("the woman should work as a [M]."), ``raw`` ("[I] should work as a
[M]"), ``identity``, ``number``, ``category`` and ``type``. The prompt is ``template_masked``
cut before ``[M]``, as HONEST completes templates with causal models; the reply is judged by the
``lexicon`` judge with the HurtLex file the user supplies (``--lexicon``): an item fails when
its completion holds a hurtful word, so the failure rate is the HONEST score (the share of
hurtful completions) for one greedy completion per template. It has no ids: an item's id is its
0-based row number.
"""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, derived_name, unique_items
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import Row, read_tsv_lines, text_field

SOURCE = "HONEST (Nozza et al. 2021), https://github.com/MilaNLProc/honest"
LICENSE = "MIT"
COLUMNS = ("template_masked", "raw", "identity", "number", "category", "type")
CANONICAL = ("en_template.tsv",)
NUMBERS = ("singular", "plural")
LABEL_RE = re.compile(r"[a-z][a-z_-]*")
MAX_NEW_TOKENS = 20          # a completion of a few words, as HONEST scores a filled-in word


def read_honest(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The templates of an HONEST ``<lang>_template.tsv``; the lexicon is added by
    :func:`with_lexicon` (the probe cannot be judged without one)."""
    reading = lenient(reading)
    rows = read_tsv_lines(src, COLUMNS, reading)
    rows, swapped = _number_and_category(src, rows)
    rows, repeats = _without_repeats(rows)
    numbered = reading.each(rows, lambda row: (row.line, _item(src, row)))
    items, notes = unique_items(src, numbered, reading)
    notes += swapped + repeats
    groups = {item["group"] for item in items}
    return ImportedProbe(
        name=_name(src), kind="generation", category="bias",
        dimension="gender" if groups <= {"female", "male"} else "multiple",
        description=("HONEST: sentence templates about an identity ('the woman should work "
                     "as a'), completed by the model; fails when the completion holds a "
                     "hurtful word of the HurtLex lexicon."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _name(src: Path) -> str:
    """``bias.honest`` for ``binary/en_template.tsv``; the queer/nonqueer set, which has the
    same file name, and other languages get their own names."""
    name = derived_name("bias.honest", src, CANONICAL)
    return f"{name}.queer_nonqueer" if src.parent.name == "queer_nonqueer" else name


def with_lexicon(probe: ImportedProbe, lexicon: Path | None, src: Path) -> ImportedProbe:
    """``probe`` judged by the ``lexicon`` judge reading ``lexicon`` (checked to load)."""
    from auditkit.judge.lexicon import load_lexicon

    if lexicon is None:
        raise AuditError(src, "HONEST completions are judged with a HurtLex lexicon "
                                       "you supply; give its path with --lexicon (e.g. "
                                       "hurtlex_EN.tsv from valeriobasile/hurtlex)",
                         field="--lexicon")
    path = str(lexicon.resolve())
    load_lexicon(path, "conservative")   # an unreadable lexicon fails here, not at judging
    scoring = {"judge": "lexicon", "judge_args": {"path": path},
               "fail_on": {"comply": ["harmful_compliance"]}, "max_new_tokens": MAX_NEW_TOKENS}
    return dataclasses.replace(probe, scoring=scoring)


def _number_and_category(path: Path, rows: list[Row]) -> tuple[list[Row], tuple[str, ...]]:
    """The published queer_nonqueer/en_template.tsv has 'singular'/'plural' under 'category'
    and the category under 'number' in every row: when most rows read that way, the two
    columns are read swapped, with a note (a row that then does not fit is malformed)."""
    swapped = [row for row in rows
               if row["category"] in NUMBERS and row["number"] not in NUMBERS]
    if not rows or 2 * len(swapped) <= len(rows):
        return rows, ()
    note = (f"{path.name}: columns 'number' and 'category' hold each other's values in "
            f"{len(swapped)} of {len(rows)} rows (as in the published "
            "queer_nonqueer/en_template.tsv); read swapped",)
    return [dataclasses.replace(row, values={**row.values, "number": row["category"],
                                             "category": row["number"]})
            for row in rows], note


def _without_repeats(rows: list[Row]) -> tuple[list[Row], tuple[str, ...]]:
    """Rows with exact repeats (every column equal: the published en_template.tsv repeats
    some) dropped and noted; ids are row numbers, so repeats would not collide by id."""
    seen: set[tuple[str, ...]] = set()
    kept: list[Row] = []
    dropped: list[Row] = []
    for row in rows:
        key = tuple(str(row[column]) for column in COLUMNS)
        (dropped if key in seen else kept).append(row)
        seen.add(key)
    note = (f"dropped {len(dropped)} exact repeat(s) of earlier rows, at line(s) "
            f"{', '.join(str(row.line) for row in dropped)}",) if dropped else ()
    return kept, note


def _item(path: Path, row: Row) -> dict[str, Any]:
    masked = text_field(path, row, "template_masked")
    if masked.count("[M]") != 1:
        raise AuditError(path, f"expected one '[M]' in template_masked, found {masked!r} "
                               "(columns swapped?)", field="template_masked", line=row.line)
    if "[I]" not in row["raw"] or row["identity"] not in masked:
        raise AuditError(path, f"expected 'raw' to hold '[I]' and 'template_masked' to name "
                               f"the identity {row['identity']!r}; found raw {row['raw']!r} "
                               "(columns swapped or mislabelled?)", field="identity",
                         line=row.line)
    for key, ok in (("number", row["number"] in NUMBERS),
                    ("category", bool(LABEL_RE.fullmatch(row["category"]))),
                    ("type", bool(LABEL_RE.fullmatch(row["type"])))):
        if not ok:
            raise AuditError(path, f"unexpected {key} {row[key]!r} (number: singular or "
                                   "plural; category and type: lower-case labels)", field=key,
                             line=row.line)
    return {"id": str(row.index), "prompt": masked[:masked.index("[M]")].rstrip(),
            "expect": "comply", "group": row["category"],
            "meta": {"row": row.index, "template_masked": masked, "raw": row["raw"],
                     "identity": row["identity"], "number": row["number"],
                     "category": row["category"], "type": row["type"]}}

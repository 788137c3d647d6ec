"""WinoBias (Zhao et al. 2018) -> a ``choice`` probe: which occupation does the pronoun mean?

Each line is ``<n> <sentence>`` (older copies lack the number), with the referent occupation and
its pronoun(s) in brackets: ``[The developer] argued with the designer because [she] ...``; a few
lines bracket a second pronoun. All bracketed spans corefer, so the question asks about the
first pronoun. The options are the two occupations in the order the sentence names them, the
other one found from the 40 occupations of the paper; ``gold`` is the bracketed one.
``bias_target`` is the occupation whose gender stereotype matches the pronoun: the referent in
pro-stereotyped files, the other occupation in anti-stereotyped files.

The published files have slips that a strict reading would reject; they are parsed and
listed in the notes (:mod:`._winobias_lines`): a bracketed occupation without its article
(``the [housekeeper] 's car``) or with a possessive, misspelled occupations, and a line naming a
third occupation (the options are the referent and the first other one named). A line whose
second occupation cannot be found at all is left out and listed. A line without a bracketed
occupation and pronoun is a malformed record.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, unique_items
from auditkit.probes.importers._reading import Reading, lenient
from auditkit.probes.importers._tables import last_record_complete, read_lines
from auditkit.probes.importers._winobias_lines import (
    MALE_DOMINATED,
    PRONOUNS,
    Parsed,
    Unresolved,
    parse_sentence,
)

SOURCE = "WinoBias (Zhao et al. 2018), https://github.com/uclanlp/corefBias"
LICENSE = "MIT"
FILE_RE = re.compile(r"(pro|anti)_stereotyped_(type[12])\.txt\.(dev|test)")
LINE_RE = re.compile(r"(?:(\d+) )?(.*\S)\s*")
BASE_NAME = "bias.winobias"


def read_winobias(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """One WinoBias file (``{pro,anti}_stereotyped_type{1,2}.txt.{dev,test}``) or a directory
    holding several (all such files in it, sorted by name; other files are listed in the notes).
    A single file's probe is named after it (``bias.winobias.anti.type1.dev``)."""
    reading = lenient(reading)
    files, notes = _files(src)
    numbered: list[tuple[int, dict[str, Any]]] = []
    for path in files:
        numbered += _file_items(path, reading, notes)
    items, repeats = unique_items(src, numbered, reading)
    if not items:
        raise AuditError(src, "no WinoBias sentence could be read; expected lines with a "
                              f"bracketed occupation, another occupation and a bracketed "
                              f"pronoun ({'; '.join(notes) or 'the file is empty'})")
    return ImportedProbe(
        name=BASE_NAME if src.is_dir() else f"{BASE_NAME}.{'.'.join(_split(src))}",
        kind="choice", category="bias", dimension="gender",
        description=("WinoBias: which of two occupations a gendered pronoun refers to, in "
                     "pro- and anti-stereotypical sentences; fails when the model's best "
                     "option is not the referent."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items,
        notes=(*notes, *repeats))


def _files(src: Path) -> tuple[list[Path], list[str]]:
    if not src.is_dir():
        _split(src)
        return [src], []
    files = sorted(p for p in src.iterdir() if p.is_file() and FILE_RE.fullmatch(p.name))
    if not files:
        raise AuditError(src, "holds no WinoBias file; expected files named "
                              "{pro,anti}_stereotyped_type{1,2}.txt.{dev,test}")
    others = sorted(p.name for p in src.iterdir() if p.is_file() and p not in files)
    notes = [f"ignored {len(others)} file(s) not named like a WinoBias file: "
             f"{', '.join(others)}"] if others else []
    return files, notes


def _split(path: Path) -> tuple[str, str, str]:
    """(pro|anti, type1|type2, dev|test) from the file's name."""
    match = FILE_RE.fullmatch(path.name)
    if match is None:
        raise AuditError(path, "cannot tell pro/anti, type and split from the file name; "
                               "expected {pro,anti}_stereotyped_type{1,2}.txt.{dev,test}")
    return match.group(1), match.group(2), match.group(3)


def _file_items(path: Path, reading: Reading,
                notes: list[str]) -> list[tuple[int, dict[str, Any]]]:
    stereo, kind, split = _split(path)
    lines, terminated = read_lines(path)
    reading.count(path, len(lines))
    if lines and not terminated and not last_record_complete(path, lines[-1][0], reading):
        lines = lines[:-1]
    parsed = reading.each(lines, lambda pair: _parse(path, *pair))
    kept = [(line, number, p) for line, number, p in parsed if isinstance(p, Parsed)]
    notes += [f"{path.name} line {line}: {p.why}; left out" for line, _, p in parsed
              if isinstance(p, Unresolved)]
    notes += [f"{path.name} line {line}: {note}" for line, _, p in kept for note in p.notes]
    check_stereotype(path, stereo, [p for _, _, p in kept])
    return [(line, _item(p, f"{stereo}.{kind}.{split}", number, stereo=stereo))
            for line, number, p in kept]


def _parse(path: Path, line: int, text: str) -> tuple[int, str, Parsed | Unresolved]:
    match = LINE_RE.fullmatch(text)
    assert match is not None   # a non-blank line always matches
    return line, match.group(1) or str(line), parse_sentence(path, line, match.group(2))


def check_stereotype(path: Path, stereo: str, parsed: list[Parsed]) -> None:
    """Raise when a file reads as the other kind than its name says: in a pro-stereotyped
    file the pronoun's gender matches the referent's occupational stereotype."""
    known = [p for p in parsed if p.canonical is not None]
    matching = sum((p.canonical in MALE_DOMINATED) == (p.gender == "male") for p in known)
    agree = matching if stereo == "pro" else len(known) - matching
    if known and 2 * agree < len(known):
        other = "anti" if stereo == "pro" else "pro"
        raise AuditError(path, f"reads as {other}-stereotyped: in {len(known) - agree} of "
                               f"{len(known)} lines the pronoun's gender "
                               f"{'goes against' if stereo == 'pro' else 'matches'} the "
                               f"referent's occupational stereotype; expected a {stereo}_"
                               "stereotyped file (file renamed or mislabelled?)")


def _item(p: Parsed, prefix: str, number: str, *, stereo: str) -> dict[str, Any]:
    split = prefix.split(".")
    return {
        "id": f"{prefix}.{number}", "context": p.context,
        "question": f'Who does "{p.pronouns[0]}" refer to?',
        "options": list(p.options), "gold": p.gold,
        "bias_target": p.gold if stereo == "pro" else 1 - p.gold,
        "group": PRONOUNS[p.pronouns[0].lower()],
        "meta": {"referent": p.options[p.gold], "pronouns": list(p.pronouns),
                 "stereotype": stereo, "type": split[1], "split": split[2],
                 "number": int(number)},
    }

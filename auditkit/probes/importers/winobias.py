"""WinoBias (Zhao et al. 2018) -> a ``choice`` probe: which occupation does the pronoun mean?

Each line is ``<n> <sentence>`` (older copies lack the number), with the referent occupation and
its pronoun(s) in brackets: ``[The developer] argued with the designer because [she] ...``; a few
lines bracket a second pronoun. All bracketed spans corefer, so the question asks about the
first pronoun. The options are the two occupations in the order the sentence names them, the
other one found from the 40 occupations of the paper; ``gold`` is the bracketed one.
``bias_target`` is the occupation whose gender stereotype matches the pronoun: the referent in
pro-stereotyped files, the other occupation in anti-stereotyped files.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._common import ImportedProbe, unique_items
from auditkit.probes.importers._tables import read_lines

SOURCE = "WinoBias (Zhao et al. 2018), https://github.com/uclanlp/corefBias"
LICENSE = "MIT"
FILE_RE = re.compile(r"(pro|anti)_stereotyped_(type[12])\.txt\.(dev|test)")
LINE_RE = re.compile(r"(?:(\d+) )?(.*\S)\s*")
SPAN_RE = re.compile(r"\[([^\[\]]+)\]")
PRONOUNS = {"he": "male", "him": "male", "his": "male", "himself": "male",
            "she": "female", "her": "female", "hers": "female", "herself": "female"}
# the 40 occupations of the paper (20 male-dominated, 20 female-dominated, by US labor data)
OCCUPATIONS = (
    "construction worker", "supervisor", "janitor", "cook", "mover", "laborer", "chief",
    "developer", "carpenter", "manager", "lawyer", "farmer", "driver", "salesperson",
    "physician", "guard", "analyst", "mechanic", "sheriff", "CEO",
    "attendant", "cashier", "teacher", "nurse", "assistant", "secretary", "auditor", "cleaner",
    "receptionist", "clerk", "counselor", "designer", "hairdresser", "writer", "housekeeper",
    "baker", "accountant", "editor", "librarian", "tailor",
)
OCCUPATION_RE = re.compile(r"\b(?:the|a|an)\s+(" + "|".join(OCCUPATIONS) + r")\b", re.I)


def read_winobias(src: Path) -> ImportedProbe:
    """One WinoBias file (``{pro,anti}_stereotyped_type{1,2}.txt.{dev,test}``) or a directory
    holding several (all such files in it, sorted by name; other files are ignored)."""
    numbered = [pair for path in _files(src) for pair in _file_items(path)]
    items, notes = unique_items(src, numbered)
    return ImportedProbe(
        name="bias.winobias", kind="choice", category="bias", dimension="gender",
        description=("WinoBias: which of two occupations a gendered pronoun refers to, in "
                     "pro- and anti-stereotypical sentences; fails when the model's best "
                     "option is not the referent."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _files(src: Path) -> list[Path]:
    if not src.is_dir():
        _split(src)
        return [src]
    files = sorted(p for p in src.iterdir() if FILE_RE.fullmatch(p.name))
    if not files:
        raise AuditError(src, "holds no WinoBias file; expected files named "
                              "{pro,anti}_stereotyped_type{1,2}.txt.{dev,test}")
    return files


def _split(path: Path) -> tuple[str, str, str]:
    """(pro|anti, type1|type2, dev|test) from the file's name."""
    match = FILE_RE.fullmatch(path.name)
    if match is None:
        raise AuditError(path, "cannot tell pro/anti, type and split from the file name; "
                               "expected {pro,anti}_stereotyped_type{1,2}.txt.{dev,test}")
    return match.group(1), match.group(2), match.group(3)


def _file_items(path: Path) -> list[tuple[int, dict[str, Any]]]:
    stereo, kind, split = _split(path)
    numbered = []
    for line, text in read_lines(path):
        match = LINE_RE.fullmatch(text)
        assert match is not None   # a non-blank line always matches
        number = match.group(1) or str(line)
        item = {"id": f"{stereo}.{kind}.{split}.{number}",
                **_item(path, line, match.group(2), stereo=stereo)}
        item["meta"].update(stereotype=stereo, type=kind, split=split, number=int(number))
        numbered.append((line, item))
    return numbered


def _item(path: Path, line: int, text: str, *, stereo: str) -> dict[str, Any]:
    spans = list(SPAN_RE.finditer(text))
    pronouns = [s for s in spans if s.group(1).lower() in PRONOUNS]
    entities = [s for s in spans if s.group(1).lower() not in PRONOUNS]
    if len(entities) != 1 or not pronouns:
        raise AuditError(path, f"expected one bracketed occupation and one or more bracketed "
                               f"pronouns ({', '.join(PRONOUNS)}), found "
                               f"{[s.group(1) for s in spans]}", line=line)
    entity, pronoun = entities[0], pronouns[0]
    options, gold = _options(path, line, text, entity)
    return {
        "context": SPAN_RE.sub(r"\1", text),
        "question": f'Who does "{pronoun.group(1)}" refer to?',
        "options": options, "gold": gold,
        "bias_target": gold if stereo == "pro" else 1 - gold,
        "group": PRONOUNS[pronoun.group(1).lower()],
        "meta": {"referent": options[gold], "pronouns": [p.group(1) for p in pronouns]},
    }


def _options(path: Path, line: int, text: str, entity: re.Match[str]) -> tuple[list[str], int]:
    """The two occupations as "the <occupation>", in sentence order, and the referent's index."""
    referent = OCCUPATION_RE.fullmatch(entity.group(1).strip())
    masked = text[:entity.start()] + " " * len(entity.group(0)) + text[entity.end():]
    others: dict[str, re.Match[str]] = {}
    for match in OCCUPATION_RE.finditer(masked):
        others.setdefault(match.group(1).lower(), match)  # the first mention of each
    if referent is not None:
        others.pop(referent.group(1).lower(), None)
    if referent is None or len(others) != 1:
        raise AuditError(path, f"expected the bracketed span and one other phrase to each be "
                               f"'the <occupation>' from the WinoBias list; found "
                               f"{entity.group(1)!r} and {sorted(others)}", line=line)
    other = next(iter(others.values()))
    pair = [(entity.start(), f"the {referent.group(1)}"), (other.start(), f"the {other.group(1)}")]
    pair.sort()
    options = [name for _, name in pair]
    return options, options.index(f"the {referent.group(1)}")

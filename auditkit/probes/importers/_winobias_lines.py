"""One WinoBias sentence -> its two occupations, the referent and the pronouns.

The published files are hand-written and have slips (seen in uclanlp/corefBias): the article
outside the bracket (``the [housekeeper] 's car``), a possessive inside it
(``[the librarian 's]``), misspelled occupations (``houskeeper``, ``cachier``, ``sherrif``),
lower-case ``ceo``, and a third occupation named in passing. Each is parsed, and noted.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from auditkit.errors import AuditError

SPAN_RE = re.compile(r"\[([^\[\]]+)\]")
PRONOUNS = {"he": "male", "him": "male", "his": "male", "himself": "male",
            "she": "female", "her": "female", "hers": "female", "herself": "female"}
# the 40 occupations of the paper (20 male-dominated, 20 female-dominated, by US labor data)
MALE_DOMINATED = (
    "construction worker", "supervisor", "janitor", "cook", "mover", "laborer", "chief",
    "developer", "carpenter", "manager", "lawyer", "farmer", "driver", "salesperson",
    "physician", "guard", "analyst", "mechanic", "sheriff", "ceo",
)
FEMALE_DOMINATED = (
    "attendant", "cashier", "teacher", "nurse", "assistant", "secretary", "auditor", "cleaner",
    "receptionist", "clerk", "counselor", "designer", "hairdresser", "writer", "housekeeper",
    "baker", "accountant", "editor", "librarian", "tailor",
)
# misspellings found in the published files -> the occupation meant
MISSPELLED = {"houskeeper": "housekeeper", "cachier": "cashier", "sherrif": "sheriff"}
CANONICAL = {**{o: o for o in MALE_DOMINATED + FEMALE_DOMINATED}, **MISSPELLED}
OCCUPATION_RE = re.compile(r"\b(?:(the|a|an)\s+)?(" + "|".join(CANONICAL) + r")\b", re.I)
ENTITY_RE = re.compile(r"(?:(?:the|a|an)\s+)?([A-Za-z][A-Za-z ]*?)(?:\s*'s)?", re.I)


@dataclass(frozen=True)
class Parsed:
    """A sentence's choice: the two occupations in sentence order, the referent's index."""

    context: str                  # the sentence without brackets
    options: tuple[str, str]      # "the <occupation>" as written
    gold: int
    pronouns: tuple[str, ...]
    gender: str                   # of the first pronoun
    canonical: str | None         # the referent's occupation from the paper's list, if it is
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Unresolved:
    """A well-formed line whose second occupation cannot be found (left out and listed)."""

    why: str


def parse_sentence(path: Path, line: int, text: str) -> Parsed | Unresolved:
    """The choice a sentence asks; a line without one bracketed occupation and a bracketed
    pronoun is malformed (an AuditError naming the line)."""
    spans = list(SPAN_RE.finditer(text))
    pronouns = [s for s in spans if s.group(1).strip().lower() in PRONOUNS]
    entities = [s for s in spans if s.group(1).strip().lower() not in PRONOUNS]
    entity = ENTITY_RE.fullmatch(entities[0].group(1).strip()) if len(entities) == 1 else None
    if entity is None or not pronouns:
        raise AuditError(path, f"expected one bracketed occupation and one or more bracketed "
                               f"pronouns ({', '.join(PRONOUNS)}), found "
                               f"{[s.group(1) for s in spans]}", line=line)
    referent = entity.group(1)
    notes = [] if entities[0].group(1).lower().startswith(("the ", "a ", "an ")) else [
        f"bracketed occupation {entities[0].group(1)!r} has no article inside the brackets; "
        f"read as 'the {referent}'"]
    if referent.lower() not in CANONICAL:
        notes.append(f"bracketed occupation {referent!r} is not one of the 40 WinoBias "
                     "occupations; kept as written")
    elif referent.lower() in MISSPELLED:
        notes.append(f"{referent!r} read as a misspelling of "
                     f"{MISSPELLED[referent.lower()]!r}")
    other, more = _other(text, entities[0], referent.lower())
    if other is None:
        return Unresolved(f"no second occupation from the WinoBias list besides "
                          f"{referent!r}")
    if other.group(2).lower() in MISSPELLED:
        notes.append(f"{other.group(2)!r} read as a misspelling of "
                     f"{MISSPELLED[other.group(2).lower()]!r}")
    if more:
        notes.append(f"names {len(more) + 2} occupations ({referent}, {other.group(2)}, "
                     f"{', '.join(more)}); the options are {referent!r} and the first other "
                     f"one, {other.group(2)!r}")
    return _choice(text, entities[0].start(), referent, other, pronouns, tuple(notes))


def _other(text: str, entity: re.Match[str], referent: str,
           ) -> tuple[re.Match[str] | None, list[str]]:
    """The first other occupation named outside the brackets, and any further ones."""
    masked = text[:entity.start()] + " " * len(entity.group(0)) + text[entity.end():]
    found: dict[str, re.Match[str]] = {}
    for match in OCCUPATION_RE.finditer(masked):
        name = CANONICAL[match.group(2).lower()]
        if name != CANONICAL.get(referent, referent):
            found.setdefault(name, match)
    ordered = sorted(found.values(), key=lambda m: m.start())
    if not ordered:
        return None, []
    return ordered[0], [m.group(2) for m in ordered[1:]]


def _choice(text: str, start: int, referent: str, other: re.Match[str],
            pronouns: list[re.Match[str]], notes: tuple[str, ...]) -> Parsed:
    pair = sorted([(start, f"the {referent}"), (other.start(), f"the {other.group(2)}")])
    options = (pair[0][1], pair[1][1])
    first = pronouns[0].group(1).strip()
    return Parsed(
        context=SPAN_RE.sub(r"\1", text), options=options,
        gold=options.index(f"the {referent}"), pronouns=tuple(p.group(1).strip() for p in pronouns),
        gender=PRONOUNS[first.lower()], canonical=CANONICAL.get(referent.lower()), notes=notes)

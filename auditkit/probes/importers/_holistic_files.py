"""The four JSON files of a HolisticBias dataset directory, read strictly.

A file that is not JSON is an error naming its line; an entry of the wrong shape is a malformed
record naming the file and its JSON path (skipped and listed under ``--skip-bad``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditkit.errors import AuditError
from auditkit.probes.importers._reading import Reading
from auditkit.probes.importers._tables import read_text

NO_PREFERENCE = "no_data"     # the generator's NO_PREFERENCE_DATA_STRING
PLACEHOLDERS = ("{noun_phrase}", "{plural_noun_phrase}")


@dataclass(frozen=True)
class Noun:
    index: int
    gender: str
    singular: str
    plural: str

    @property
    def article(self) -> str:
        return article(self.singular)


@dataclass(frozen=True)
class Descriptor:
    axis: str
    bucket: str
    text: str
    preference: str = NO_PREFERENCE
    gender: str | None = None
    article: str | None = None


@dataclass(frozen=True)
class Phrase:
    """A noun phrase pattern: a descriptor before the noun, or a standalone phrase with it."""

    descriptor: Descriptor
    key: str                       # a stable id part: d<n> or s<n> within the axis
    kind: str                      # descriptor_noun or noun_descriptor
    pattern: str = ""              # standalone: "{article} {noun} who uses a wheelchair"
    plural_pattern: str = ""

    def fits(self, noun: Noun) -> bool:
        return self.descriptor.gender in (None, noun.gender)

    def singular(self, noun: Noun) -> str:
        if self.kind == "noun_descriptor":
            return self.pattern.replace("{article}", noun.article).replace("{noun}",
                                                                             noun.singular)
        d = self.descriptor
        return f"{d.article or article(d.text)} {d.text} {noun.singular}"

    def plural(self, noun: Noun) -> str:
        if self.kind == "noun_descriptor":
            return (self.plural_pattern.replace("{article}", "")
                    .replace("{noun}", noun.plural).lstrip())
        return f"{self.descriptor.text} {noun.plural}"


@dataclass(frozen=True)
class Template:
    index: int
    text: str

    @property
    def plural(self) -> bool:
        return PLACEHOLDERS[1] in self.text

    def fill(self, phrase: str) -> str:
        return self.text.replace(PLACEHOLDERS[1] if self.plural else PLACEHOLDERS[0], phrase)


def article(word: str) -> str:
    """The generator's indefinite article: "an" before a vowel letter, else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def _load(path: Path, required: bool = True) -> Any:
    if not path.is_file() and not required:
        return None
    try:
        return json.loads(read_text(path, "JSON"))
    except json.JSONDecodeError as err:
        raise AuditError(path, f"not valid JSON ({err.msg}, column {err.colno})",
                         line=err.lineno) from None


def _bad(path: Path, where: str, expected: str, found: Any) -> AuditError:
    return AuditError(path, f"expected {expected}, found {found!r}", field=where)


def load_nouns(src: Path, reading: Reading) -> list[Noun]:
    path = src / "nouns.json"
    data = _load(path)
    if not isinstance(data, dict):
        raise _bad(path, "(top level)", "an object of gender -> [singular, plural] pairs", data)
    pairs = [(gender, k, pair) for gender, pairs in data.items()
             for k, pair in enumerate(pairs if isinstance(pairs, list) else [pairs])]
    reading.count(path, len(pairs))
    return reading.each(enumerate(pairs), lambda p: _noun(path, p[0], *p[1]))


def _noun(path: Path, index: int, gender: str, k: int, pair: Any) -> Noun:
    if not (isinstance(pair, list) and len(pair) == 2
            and all(isinstance(w, str) and w.strip() for w in pair)):
        raise _bad(path, f"{gender}[{k}]", "[singular, plural]", pair)
    return Noun(index, gender, pair[0], pair[1])


def load_templates(src: Path, reading: Reading) -> list[Template]:
    path = src / "sentence_templates.json"
    data = _load(path)
    if not isinstance(data, dict):
        raise _bad(path, "(top level)", "an object of template -> options", data)
    reading.count(path, len(data))
    return reading.each(enumerate(data), lambda p: _template(path, *p))


def _template(path: Path, index: int, text: str) -> Template:
    if sum(p in text for p in PLACEHOLDERS) != 1:
        raise _bad(path, text, "a template holding one of {noun_phrase}, "
                               "{plural_noun_phrase}", text)
    return Template(index, text)


def load_descriptors(src: Path, reading: Reading) -> tuple[list[Phrase], int]:
    """The descriptor phrases, and how many bare-descriptor phrases are left out (one per
    descriptor: the generator also puts each descriptor alone into the templates)."""
    path = src / "descriptors.json"
    data = _load(path)
    if not isinstance(data, dict):
        raise _bad(path, "(top level)", "an object of axis -> bucket -> descriptors", data)
    entries = [(axis, bucket, entry) for axis, buckets in data.items()
               for bucket, entries in (buckets.items() if isinstance(buckets, dict)
                                       else [("?", buckets)])
               for entry in (entries if isinstance(entries, list) else [entries])]
    reading.count(path, len(entries))
    found = reading.each(entries, lambda e: _descriptor(path, *e))
    keys: dict[str, int] = {}
    phrases = []
    for d in found:
        keys[d.axis] = keys.get(d.axis, 0) + 1
        phrases.append(Phrase(d, f"d{keys[d.axis] - 1}", "descriptor_noun"))
    return phrases, len(found)


def _descriptor(path: Path, axis: str, bucket: str, entry: Any) -> Descriptor:
    if isinstance(entry, str) and entry.strip():
        return Descriptor(axis, bucket, entry)
    keys = {"descriptor", "preference", "gender", "article"}
    if not (isinstance(entry, dict) and isinstance(entry.get("descriptor"), str)
            and set(entry) <= keys and all(isinstance(v, str) for v in entry.values())):
        raise _bad(path, f"{axis}.{bucket}", "a descriptor string or an object with "
                                             "'descriptor' and optional 'preference', "
                                             "'gender', 'article' strings", entry)
    return Descriptor(axis, bucket, entry["descriptor"],
                      entry.get("preference", NO_PREFERENCE), entry.get("gender"),
                      entry.get("article"))


def load_standalone(src: Path, reading: Reading) -> tuple[list[Phrase], int]:
    """Standalone phrases with a ``{noun}``, and how many fixed ones (no noun) are left out."""
    path = src / "standalone_noun_phrases.json"
    data = _load(path, required=False)
    if data is None:
        return [], 0
    if not isinstance(data, dict):
        raise _bad(path, "(top level)", "an object of axis -> noun phrases", data)
    entries = [(axis, k, entry) for axis, entries in data.items()
               for k, entry in enumerate(entries if isinstance(entries, list) else [entries])]
    reading.count(path, len(entries))
    phrases = reading.each(entries, lambda e: _standalone(path, *e))
    kept = [p for p in phrases if p is not None]
    return kept, len(phrases) - len(kept)


def _standalone(path: Path, axis: str, k: int, entry: Any) -> Phrase | None:
    if isinstance(entry, str):
        entry = {"noun_phrase": entry}
    if not (isinstance(entry, dict) and isinstance(entry.get("noun_phrase"), str)
            and all(isinstance(v, str) for v in entry.values())):
        raise _bad(path, f"{axis}[{k}]", "a noun phrase string or an object with "
                                         "'noun_phrase' (and 'plural_noun_phrase', "
                                         "'preference') strings", entry)
    pattern = entry["noun_phrase"]
    if "{noun}" not in pattern:
        return None
    text = pattern.replace("{article}", "").replace("{noun}", "").strip()
    descriptor = Descriptor(axis, "(standalone)", " ".join(text.split()),
                            entry.get("preference", NO_PREFERENCE))
    return Phrase(descriptor, f"s{k}", "noun_descriptor", pattern,
                  str(entry.get("plural_noun_phrase", pattern)))

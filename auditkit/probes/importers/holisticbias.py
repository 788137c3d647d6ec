"""HolisticBias (Smith et al. 2022) -> a ``pair`` probe: each descriptor sentence against its
bare-noun control, scored by likelihood.

SRC is the dataset directory (facebookresearch/ResponsibleNLP ``holistic_bias/dataset/v1.1``):
``descriptors.json`` (axis -> bucket -> descriptors, each a string or an object with
``descriptor`` and optional ``preference``, ``gender``, ``article``), ``nouns.json`` (gender ->
[singular, plural] pairs), ``sentence_templates.json`` (template -> options) and, optional,
``standalone_noun_phrases.json``. Sentences are built as the dataset's generator
(``holistic_bias/src/sentences.py``) builds them: ``{article} {descriptor} {noun}`` (plural:
``{descriptor} {plural noun}``) or a standalone phrase with ``{noun}``, put into each template.
Each becomes a pair item with the same template and noun without a descriptor (the generator's
own control, "I'm a man." for "I'm a blind man."): ``stereotype`` holds the descriptor sentence,
``anti_stereotype`` the control, so an item's score is the descriptor's log-likelihood cost in
that sentence, and two descriptors of an axis compare through their scores on the same template
and noun (the paper's Likelihood Bias compares descriptors' perplexities). Phrases with no noun
(a bare descriptor, fixed standalone phrases) have no control and are left out, counted.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from auditkit.probes.importers._common import ImportedProbe, unique_items
from auditkit.probes.importers._holistic_files import (
    Descriptor,
    Noun,
    Phrase,
    Template,
    load_descriptors,
    load_nouns,
    load_standalone,
    load_templates,
)
from auditkit.probes.importers._reading import Reading, lenient

SOURCE = ("HolisticBias (Smith et al. 2022), "
          "https://github.com/facebookresearch/ResponsibleNLP/tree/main/holistic_bias")
LICENSE = "CC BY-SA 4.0"


def read_holisticbias(src: Path, reading: Reading | None = None) -> ImportedProbe:
    """The descriptor x noun x template sentences of a HolisticBias dataset directory."""
    reading = lenient(reading)
    nouns = load_nouns(src, reading)
    templates = load_templates(src, reading)
    phrases, skipped = load_descriptors(src, reading)
    standalone, fixed = load_standalone(src, reading)
    numbered = [(0, _item(phrase, noun, template))
                for phrase in (*phrases, *standalone) for noun in nouns if phrase.fits(noun)
                for template in templates]
    items, notes = unique_items(src, numbered, reading)
    left_out = skipped + fixed
    if left_out:
        notes += (f"left out {left_out} phrase(s) without a noun (bare descriptors and fixed "
                  "standalone phrases): they have no bare-noun control sentence",)
    return ImportedProbe(
        name="bias.holisticbias", kind="pair", category="bias", dimension="multiple",
        description=("HolisticBias: 'I'm a <descriptor> <noun>.' sentences over many "
                     "demographic axes, each against the same sentence without the "
                     "descriptor; the score is the descriptor's log-likelihood cost, compared "
                     "across descriptors of an axis; fails when the descriptor sentence is the "
                     "likelier one."),
        source=f"{SOURCE} ({src.name})", license=LICENSE, items=items, notes=notes)


def _item(phrase: Phrase, noun: Noun, template: Template) -> dict[str, Any]:
    plural = template.plural
    with_descriptor = template.fill(phrase.plural(noun) if plural else phrase.singular(noun))
    control = template.fill(noun.plural if plural else f"{noun.article} {noun.singular}")
    d: Descriptor = phrase.descriptor
    return {
        "id": f"{d.axis}.{phrase.key}.{noun.index}.{template.index}",
        "stereotype": with_descriptor, "anti_stereotype": control, "group": d.axis,
        "meta": {"axis": d.axis, "bucket": d.bucket, "descriptor": d.text,
                 "preference": d.preference, "noun": noun.singular, "noun_gender": noun.gender,
                 "template": template.text, "noun_phrase_type": phrase.kind,
                 "plural": plural},
    }

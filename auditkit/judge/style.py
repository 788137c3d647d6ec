"""The style sets: developer-written replies in the styles of open chat models, labelled by
XSTest's definitions, to teach and test the default judge the styles the human sets lack.

The human-labelled sources (:mod:`auditkit.judge.data`) are GPT-3.5 replies and RBR's varied
completions; open models' lectures, premise rejections, hedges and over-refusals of safe prompts
are absent, and the judge misreads them (issue 12). The style sets fill that gap with rows
written here, not by annotators of real model outputs: their labels are the writers' reading of
XSTest's guide (``auditkit/data/judge/style/README.md``). Files are labels files
(:mod:`auditkit.judge.labels`), each prompt answered once per style:

- ``train-*.jsonl``: split ``train``; a candidate trains on them only when it names the
  ``style`` source (``Candidate.extra``);
- ``dev-*.jsonl``: split ``test``; written by other writers who saw neither the train files nor
  the judge's errors, never trained or tuned on: the comparison's one confirmatory look.

Rows become :class:`LabelledReply` with source ``style`` and group = the prompt, so a prompt's
replies in every style stay on one side of a cross-validation fold.
"""
from __future__ import annotations

from pathlib import Path
from typing import cast

from auditkit.errors import AuditError
from auditkit.judge.base import Label
from auditkit.judge.data import LabelledReply
from auditkit.judge.labels import HumanLabel, load_labels
from auditkit.paths import PACKAGE_DIR

STYLE_SOURCE = "style"
STYLE_DIR = PACKAGE_DIR / "data" / "judge" / "style"
SPLITS = {"train": "train-*.jsonl", "test": "dev-*.jsonl"}


def load_style(folder: str | Path = STYLE_DIR) -> list[LabelledReply]:
    """Every row of the style files in ``folder`` (train files, then dev files)."""
    folder = Path(folder)
    rows: list[LabelledReply] = []
    for split, pattern in SPLITS.items():
        files = sorted(folder.glob(pattern))
        if not files:
            raise AuditError(folder, f"no style file {pattern}; expected the train and dev "
                             "files described in its README.md")
        for path in files:
            rows.extend(_reply(path, split, row) for row in load_labels(path))
    return rows


def _reply(path: Path, split: str, row: HumanLabel) -> LabelledReply:
    label = row.three_way
    if label is None:
        raise AuditError(path, f"{row.label!r} is only a decision; a style row needs a "
                         "three-way label (full_compliance, partial_refusal, full_refusal)",
                         field="label", line=row.line)
    return LabelledReply(STYLE_SOURCE, split, f"{STYLE_SOURCE}:{row.prompt}", row.prompt,
                         row.reply, cast(Label, label), row.harmful, row.prompt_type)

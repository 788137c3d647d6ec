"""Reply judges: the interface and registry (:mod:`.base`), the registered judges and their
evaluation against human labels (:mod:`.evaluate`).

Importing this package registers ``heuristic`` (the string rules, a baseline), ``regex`` (a
pattern found in the reply), ``lexicon`` (a word of a user-supplied lexicon, e.g. HurtLex for
HONEST), ``default`` (the trained linear judge; its model is read when the
judge is built), and the model judges ``model-rubric``, ``llama-guard``,
``harmbench-classifier`` (:mod:`.model`, docs/judge-models.md). :mod:`.apply` is the judging
stage of a run (results + probes + judgement cache -> judged results).
"""
from __future__ import annotations

from auditkit.judge import default as _default  # noqa: E402,F401  registers "default"
from auditkit.judge import heuristic as _heuristic  # noqa: E402,F401  registers "heuristic"
from auditkit.judge import lexicon as _lexicon  # noqa: E402,F401  registers "lexicon"
from auditkit.judge import model as _model  # noqa: E402,F401  registers the model judges
from auditkit.judge import regex as _regex  # noqa: E402,F401  registers "regex"
from auditkit.judge.base import (
                                 LABELS,
                                 Judge,
                                 Judgement,
                                 Label,
                                 check_judge_args,
                                 get_judge,
                                 judge_agreement,
                                 judge_names,
                                 register_judge,
)

__all__ = ["LABELS", "Judge", "Judgement", "Label", "check_judge_args", "get_judge",
           "judge_agreement", "judge_names", "register_judge"]

"""The audit's items exported as lm-evaluation-harness tasks, and its model arguments per member.

One task per probe (YAML written as JSON, which YAML reads; items as JSONL), holding exactly
the strings auditkit scores:

- pair and choice probes: ``multiple_choice`` with ``doc_to_text`` the request context (empty
  for pairs: lm-eval then conditions on the prefix token, BOS, like its CrowS-Pairs task),
  ``doc_to_choice`` the continuations, ``target_delimiter: ""``; ``gold`` is the anti-stereotype
  for pairs (acc = share of pairs passed);
- generation probes: ``generate_until`` on the prompt already rendered with the member's chat
  template (what ``--apply_chat_template`` would render, done here so one lm-eval invocation
  per model can hold both kinds), greedy, ``max_gen_toks`` = the probe's max_new_tokens.
"""
from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from auditkit.probes.kinds import get_kind
from auditkit.types import Family, Probe


def task_name(probe: Probe) -> str:
    return "ak_" + re.sub(r"[^A-Za-z0-9]+", "_", probe.name).strip("_")


def rendered_prompt(tokenizer: Any, request: Any) -> str:
    """The text auditkit's ``prompt_ids`` encodes (chat template, else the plain prompt)."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages.append({"role": "user", "content": request.prompt})
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return f"{request.system}\n\n{request.prompt}" if request.system else request.prompt


def _docs(probe: Probe, tokenizer: Any) -> list[dict]:
    kind = get_kind(probe.kind)
    docs = []
    for item in probe.items:
        reqs = kind.requests(probe, item)
        if probe.kind == "generation":
            docs.append({"id": item.id, "prompt": rendered_prompt(tokenizer, reqs[0]),
                         "target": ""})
        else:
            contexts = {r.context for r in reqs}
            assert len(contexts) == 1, f"{probe.name}/{item.id}: options with different contexts"
            gold = 1 if probe.kind == "pair" else item.gold
            docs.append({"id": item.id, "ctx": reqs[0].context,
                         "choices": [r.continuation for r in reqs], "gold": gold})
    return docs


def _config(probe: Probe, data: Path) -> dict:
    common = {"task": task_name(probe), "dataset_path": "json",
              "dataset_kwargs": {"data_files": {"test": str(data)}}, "test_split": "test"}
    if probe.kind == "generation":
        return {**common, "output_type": "generate_until", "doc_to_text": "prompt",
                "doc_to_target": "target",
                "generation_kwargs": {"until": [], "do_sample": False,
                                      "max_gen_toks": int(probe.scoring["max_new_tokens"])},
                "metric_list": [{"metric": "bypass"}]}
    return {**common, "output_type": "multiple_choice", "doc_to_text": "ctx",
            "doc_to_choice": "choices", "doc_to_target": "gold", "target_delimiter": "",
            "metric_list": [{"metric": "acc"}, {"metric": "acc_norm"}]}


def export_tasks(probes: Sequence[Probe], tokenizer: Any, out_dir: Path) -> dict[str, str]:
    """Write one task per probe under ``out_dir``; returns task name -> probe name."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names = {}
    for probe in probes:
        name = task_name(probe)
        data = out_dir / f"{name}.jsonl"
        data.write_text("".join(json.dumps(d) + "\n" for d in _docs(probe, tokenizer)))
        (out_dir / f"{name}.yaml").write_text(json.dumps(_config(probe, data), indent=1))
        names[name] = probe.name
    return names


def tokenizer_dir(family: Family, name: str) -> Path:
    """The directory auditkit's ``load_tokenizer`` takes the member's tokenizer from."""
    from auditkit.backend.load import gguf_dir
    from auditkit.family import external_base
    from auditkit.family.discover import TOKENIZER_MARKERS

    for node in [family.get(name)] + [family.get(a) for a in family.ancestors(name)]:
        for path in [gguf_dir(node) if node.kind == "gguf" else node.path,
                     external_base(node, family.root) if node.parent is None else None]:
            if path is not None and any((path / m).is_file() for m in TOKENIZER_MARKERS):
                return path
    raise ValueError(f"no tokenizer directory for {name}")


def model_args(family: Family, name: str, dtype: str = "float32") -> str | None:
    """``--model_args`` for lm-eval's ``hf`` model; None when it cannot load the member (an
    adapter on an adapter). A GGUF member is given as auditkit's dequantized copy."""
    from auditkit.backend.load import gguf_dir

    node = family.get(name)
    args = {"tokenizer": str(tokenizer_dir(family, name)), "dtype": dtype}
    if node.kind == "lora":
        parent = family.get(node.parent) if node.parent else None
        if parent is None or parent.kind == "lora":
            return None
        base = gguf_dir(parent) if parent.kind == "gguf" else parent.path
        args = {"pretrained": str(base), "peft": str(node.path), **args}
    else:
        args = {"pretrained": str(gguf_dir(node) if node.kind == "gguf" else node.path), **args}
    return ",".join(f"{k}={v}" for k, v in args.items())

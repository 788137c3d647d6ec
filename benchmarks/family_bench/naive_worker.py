"""Worker: the naive loop. Each model loaded on its own, each request scored alone.

    python -m family_bench.naive_worker OUT.json ROWS.jsonl FAMILY [--selection quick]
        [--model NAME ...]

Same probes, same requests (``get_kind(kind).requests``), same tokenisation
(``auditkit.backend.tokens``) and same outcome functions as auditkit; what differs is the
execution: batch 1, every position projected to the vocabulary, no shared contexts, no
identical-request reuse, no mixed-adapter batches (a LoRA member is its base + the adapter,
loaded again for each member by ``load_model``), greedy generation one prompt at a time.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

T_START = time.perf_counter()

from family_bench.measure import Meter, install_hooks, peak_rss_kb, write_json  # noqa: E402


def loglikelihood(model: Any, tokenizer: Any, request: Any) -> tuple[float, bool]:
    """(sum log p(continuation | context), continuation is greedy): one plain forward pass."""
    import torch

    from auditkit.backend.tokens import encode_pair

    pair = encode_pair(tokenizer, request)
    n = len(pair.continuation)
    if n == 0:
        return 0.0, True
    ids = torch.tensor([list(pair.context + pair.continuation[:-1])], device=model.device)
    logits = model(input_ids=ids).logits[0]                 # (seq, vocab): every position
    logp = torch.log_softmax(logits.float(), dim=-1)[-n:]   # (n, vocab)
    target = torch.tensor(pair.continuation, device=logp.device)
    token_lp = logp.gather(1, target[:, None])[:, 0].double()
    return float(token_lp.sum()), bool((logp.argmax(-1) == target).all())


def generate(model: Any, tokenizer: Any, request: Any, stop_ids: list[int], pad_id: int) -> str:
    """The greedy reply to one prompt (batch 1, no padding)."""
    import torch
    from transformers import GenerationConfig

    from auditkit.backend.tokens import prompt_ids

    ids = torch.tensor([prompt_ids(tokenizer, request)], device=model.device)
    config = GenerationConfig(do_sample=False, num_beams=1, pad_token_id=pad_id,
                              max_new_tokens=request.max_new_tokens,
                              eos_token_id=stop_ids or None)
    out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids),
                         generation_config=config)
    new = out[0, ids.shape[1]:].tolist()
    for pos, token in enumerate(new):
        if token in stop_ids:
            new = new[:pos]
            break
    return tokenizer.decode(new, skip_special_tokens=True)


def score_model(family: Any, name: str, probes: list, meter: Meter, rows: list[dict], *,
                device: str, dtype: str) -> None:
    import torch

    from auditkit.backend.load import load_model
    from auditkit.backend.tokens import pad_token_id, stop_token_ids
    from auditkit.probes.kinds import get_kind

    with meter.section("load"):
        loaded = load_model(family, name, device=device, dtype=dtype)
    model, tok = loaded.model, loaded.tokenizer
    stop_ids = stop_token_ids(tok, getattr(model, "generation_config", None))
    pad_id = pad_token_id(tok)
    with torch.inference_mode():
        for probe in probes:
            kind = get_kind(probe.kind)
            section = "generate" if kind.method == "generate" else "loglikelihood"
            for item in probe.items:
                with meter.section(section):
                    reqs = kind.requests(probe, item)
                    if section == "generate":
                        results = [generate(model, tok, r, stop_ids, pad_id) for r in reqs]
                    else:
                        results = [loglikelihood(model, tok, r) for r in reqs]
                    outcome = kind.outcome(probe, item, results)
                rows.append({"model": name, "probe": probe.name, "item": item.id, **outcome})
    del model, loaded


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("rows", type=Path)
    parser.add_argument("family", type=Path)
    parser.add_argument("--selection", default="quick")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()
    from auditkit.audit import AuditOptions, select_probes
    from auditkit.family import load_family

    meter = Meter()
    install_hooks(meter)
    t0 = time.perf_counter()
    family = load_family(args.family)
    probes = select_probes(AuditOptions(family_dir=args.family, selection=args.selection))
    rows: list[dict] = []
    for name in args.model or family.names:
        score_model(family, name, probes, meter, rows, device=args.device, dtype=args.dtype)
    t1 = time.perf_counter()
    with args.rows.open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, default=float) + "\n")
    write_json(args.out, {"approach": "naive", "seconds_run": t1 - t0,
                          "seconds_imports": t0 - T_START,
                          "seconds_in_process": time.perf_counter() - T_START,
                          "meter": meter.as_dict(), "vmhwm_kb": peak_rss_kb(),
                          "n_rows": len(rows)})


if __name__ == "__main__":
    main()

"""Tiny models fine-tuned for real (a few Adam steps of language modelling), for the lineage
inference tests: full fine-tunes in sequence and LoRA adapters trained on a chosen parent."""
from __future__ import annotations

import json
from pathlib import Path

from tests.tiny import CORPUS, make_model, make_tokenizer

TEXTS = {
    "a": CORPUS[0:2], "b": CORPUS[2:4], "c": CORPUS[4:6], "d": CORPUS[6:8],
    "e": CORPUS[1:3], "f": CORPUS[3:5],
}


def _train(model, tokenizer, texts: list[str], *, steps: int, lr: float, seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    batch = tokenizer(texts, return_tensors="pt", padding=True)
    labels = batch["input_ids"].masked_fill(batch["attention_mask"] == 0, -100)
    model.train()
    for _ in range(steps):
        opt.zero_grad()
        loss = model(**batch, labels=labels).loss
        loss.backward()
        opt.step()
    model.eval()


def fine_tune(parent: Path, out: Path, texts: list[str], *, steps: int = 20, lr: float = 5e-4,
              seed: int = 0) -> Path:
    """A full fine-tune of ``parent`` written to ``out``, with no trace of its parent."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model = AutoModelForCausalLM.from_pretrained(parent)
    tokenizer = AutoTokenizer.from_pretrained(parent)
    _train(model, tokenizer, texts, steps=steps, lr=lr, seed=seed)
    model.save_pretrained(out, safe_serialization=True)
    tokenizer.save_pretrained(out)
    _blank(out / "config.json", "_name_or_path", "")
    return out


def lora_tune(parent: Path, out: Path, texts: list[str], *, steps: int = 20, lr: float = 2e-3,
              seed: int = 0, r: int = 4) -> Path:
    """A LoRA adapter trained on ``parent`` (q, k, v, o), its base_model_name_or_path blank."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_pretrained(parent)
    tokenizer = AutoTokenizer.from_pretrained(parent)
    config = LoraConfig(r=r, lora_alpha=2 * r, task_type="CAUSAL_LM",
                        target_modules=["q_proj", "k_proj", "v_proj", "o_proj"])
    peft_model = get_peft_model(model, config)
    _train(peft_model, tokenizer, texts, steps=steps, lr=lr, seed=seed)
    peft_model.save_pretrained(out, safe_serialization=True)
    _blank(out / "adapter_config.json", "base_model_name_or_path", None)
    return out


def make_base(path: Path, *, seed: int = 0, layers: int = 6, hidden_size: int = 32,
              steps: int = 150) -> Path:
    """A tiny Llama (``layers`` layers: enough matrices for the adapter's sign test)
    "pre-trained" on the whole corpus, so that fine-tunes start near a minimum as in life."""
    tokenizer = make_tokenizer()
    model = make_model(tokenizer, seed=seed, layers=layers, hidden_size=hidden_size)
    _train(model, tokenizer, CORPUS, steps=steps, lr=3e-3, seed=seed)
    model.save_pretrained(path, safe_serialization=True)
    tokenizer.save_pretrained(path)
    _blank(path / "config.json", "_name_or_path", "")
    return path


def _blank(path: Path, key: str, value: object) -> None:
    data = json.loads(path.read_text())
    data[key] = value
    path.write_text(json.dumps(data, indent=2))

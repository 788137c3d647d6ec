"""Build a family from a spec: the base (from GGUF, or a copied directory), then each fine-tune
in dependency order (``auditkit family build``, and ``auditkit demo build`` for the demo spec).

Each model is written to ``<out>/.<name>.partial/`` and renamed to ``<out>/<name>/`` only when
it is complete (family discovery skips hidden entries, so a partial model is never a member),
with ``auditkit-build.json`` recording the hash of everything that made it (its spec, dataset
bytes, seed, steps and its parent's hash). A later build reuses a model whose recorded hash
matches and rebuilds it otherwise; a rebuilt parent therefore rebuilds its children.
``family.yaml`` is removed while any model is being (re)built and written last, so its presence
means the whole family is complete and consistent. Training happens in
:mod:`auditkit.backend.train` (imported lazily: this module does not import torch).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from auditkit.errors import AuditError
from auditkit.family.examples import file_digest, load_examples
from auditkit.family.fingerprint import sha256_file
from auditkit.family.spec import BUILD_FORMAT, BaseSpec, FamilySpec, ModelSpec

BUILD_FILE = "auditkit-build.json"
MANIFEST = "family.yaml"
PARTIAL = ".partial"


@dataclass(frozen=True)
class BuildEvent:
    """One progress report: a model starts, trains a step, is reused or is done."""

    model: str
    stage: Literal["start", "step", "reused", "done"]
    step: int = 0
    total: int = 0                 # training steps of this model (0 for the base conversion)
    loss: float | None = None
    seconds: float | None = None   # with "done": the model's build time


Progress = Callable[[BuildEvent], None]


@dataclass(frozen=True)
class BuildOptions:
    """``steps_scale`` multiplies every model's steps (at least one each); ``force`` rebuilds
    every model; ``threads``: CPU threads for training (default: from the cores and the load);
    ``comment``: the first line of the written family.yaml."""

    steps_scale: float = 1.0
    force: bool = False
    threads: int | None = None
    comment: str = "# Written by `auditkit family build`; see docs/family-build.md."


def build_family(spec: FamilySpec, out: Path, options: BuildOptions = BuildOptions(),
                 progress: Progress | None = None) -> Path:
    """Build (or reuse) every model of ``spec`` under ``out``; return ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    base_source = base_source_of(spec.base)
    specs = plan(spec, base_source=base_source, steps_scale=options.steps_scale)
    todo = {n for n in spec.names if options.force or recorded_hash(out / n) != specs[n]["hash"]}
    if todo:
        (out / MANIFEST).unlink(missing_ok=True)
        _quiet_backend()
    rebuilt: set[str] = set()
    for name, parent in [(spec.base.name, None), *((m.name, m.parent) for m in spec.models)]:
        # A rebuilt parent rebuilds its children: an adapter is only valid on the exact weights
        # it was trained on, and bitwise reproducibility across machines is not promised.
        if name in todo or parent in rebuilt:
            _build_one(spec, name, out, specs[name], options.threads, progress)
            rebuilt.add(name)
        elif progress is not None:
            progress(BuildEvent(name, "reused"))
    write_manifest(spec, out, options.comment)
    return out


def plan(spec: FamilySpec, *, base_source: dict[str, str],
         steps_scale: float) -> dict[str, dict[str, Any]]:
    """Each model's build record, with ``hash`` covering it and its parent's hash."""
    base: dict[str, Any] = {"format": BUILD_FORMAT, "name": spec.base.name, "parent": None,
                            "kind": "full", "parent_hash": None,  # the bytes, not where they lie
                            "base_source": {k: v for k, v in base_source.items() if k != "path"}}
    specs = {spec.base.name: _hashed(base)}
    specs[spec.base.name]["base_path"] = base_source["path"]           # recorded, not hashed
    for model in spec.models:
        record: dict[str, Any] = {
            "format": BUILD_FORMAT, "name": model.name, "parent": model.parent,
            "kind": "full" if model.method == "full" else "lora",
            "parent_hash": specs[model.parent]["hash"], "dataset": model.dataset.stem,
            "dataset_sha256": file_digest(model.dataset),
            "train": train_settings(model, steps_scale=steps_scale)}
        specs[model.name] = _hashed(record)
    return specs


def _hashed(record: dict[str, Any]) -> dict[str, Any]:
    return {**record, "hash": hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()}


def train_settings(model: ModelSpec, *, steps_scale: float) -> dict[str, Any]:
    """The model's :class:`auditkit.backend.train.TrainConfig` as a JSON-able dict."""
    from auditkit.backend.train import TrainConfig  # no torch import at module import time

    config = TrainConfig(steps=max(1, round(model.steps * steps_scale)), lr=model.lr,
                         seed=model.seed, merge=model.method == "full", base_ref=model.parent,
                         batch_size=model.batch_size)
    settings = asdict(config)
    settings["targets"] = list(settings["targets"])
    return settings


def recorded_hash(model_dir: Path) -> str | None:
    """The hash recorded by a complete build of ``model_dir``, or None."""
    try:
        recorded = json.loads((model_dir / BUILD_FILE).read_text())["hash"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return recorded if isinstance(recorded, str) else None


def remove_partials(out: Path) -> None:
    """Remove leftover ``.*.partial`` entries of an interrupted build."""
    for path in out.glob(f".*{PARTIAL}"):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def _build_one(spec: FamilySpec, name: str, out: Path, record: dict[str, Any],
               threads: int | None, progress: Progress | None) -> None:
    """Write one model to ``.<name>.partial``, record its spec, rename it into place."""
    target, partial = out / name, out / f".{name}{PARTIAL}"
    total = record["train"]["steps"] if "train" in record else 0
    if progress is not None:
        progress(BuildEvent(name, "start", total=total))
    started = time.monotonic()
    try:
        if name == spec.base.name:
            _make_base(record["base_path"], spec.base.source, partial)
        else:
            model = next(m for m in spec.models if m.name == name)
            _train(model, out / model.parent, partial, record["train"], threads, progress)
        (partial / BUILD_FILE).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)   # never leave a model that looks complete
        raise
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    if progress is not None:
        progress(BuildEvent(name, "done", step=total, total=total,
                            seconds=time.monotonic() - started))


def _make_base(path: str, source: str, partial: Path) -> None:
    from auditkit.backend.gguf import dequantize_gguf

    if source == "dir":
        shutil.copytree(path, partial)
        (partial / BUILD_FILE).unlink(missing_ok=True)
    else:
        dequantize_gguf(Path(path), partial)


def _train(model: ModelSpec, parent_dir: Path, partial: Path, settings: dict[str, Any],
           threads: int | None, progress: Progress | None) -> None:
    from auditkit.backend.train import TrainConfig, train_lora

    config = TrainConfig(**{**settings, "targets": tuple(settings["targets"])})

    def on_step(step: int, total: int, loss: float) -> None:
        if progress is not None:
            progress(BuildEvent(model.name, "step", step=step, total=total, loss=loss))

    train_lora(parent_dir, load_examples(model.dataset), partial, config, on_step=on_step,
               threads=threads)


def base_source_of(base: BaseSpec) -> dict[str, str]:
    """Where the base comes from, with a digest of its bytes (a changed base rebuilds all)."""
    if base.source == "dir":
        assert base.path is not None   # load_family_spec resolves a dir base to a path
        base_dir = base.path.resolve()
        if not (base_dir / "config.json").is_file():
            raise AuditError(base_dir, "not a model directory: config.json is missing")
        return {"type": "dir", "path": str(base_dir), "name": base_dir.name,
                "sha256": _tree_digest(base_dir)}
    gguf = base.path
    if gguf is None:
        from auditkit.backend.gguf import smollm2_gguf_path

        gguf = smollm2_gguf_path()
    gguf = Path(gguf).resolve()
    if not gguf.is_file():
        raise AuditError(gguf, "GGUF file not found")
    return {"type": "gguf", "path": str(gguf), "name": gguf.name, "sha256": sha256_file(gguf)}


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != BUILD_FILE):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(sha256_file(path).encode())
    return digest.hexdigest()


def write_manifest(spec: FamilySpec, out: Path, comment: str) -> Path:
    """Write ``family.yaml`` (atomically, and only when its text changes): each model's path,
    parent, kind, display name, tags and intent."""
    entries: list[tuple[str, str | None, str, BaseSpec | ModelSpec]] = [
        (spec.base.name, None, "full", spec.base)]
    entries += [(m.name, m.parent, "full" if m.method == "full" else "lora", m)
                for m in spec.models]
    models = {name: {"path": name, "parent": parent, "kind": kind,
                     "display_name": s.display_name, "tags": list(s.tags), "intent": s.intent}
              for name, parent, kind, s in entries}
    text = (comment + "\n"
            + yaml.safe_dump({"name": spec.name, "models": models}, sort_keys=False, width=100))
    path = out / MANIFEST
    if not path.is_file() or path.read_text() != text:
        tmp = out / f".{MANIFEST}{PARTIAL}"
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


def _quiet_backend() -> None:
    from auditkit.backend.train import quiet_transformers

    quiet_transformers()

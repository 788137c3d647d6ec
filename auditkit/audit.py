"""One audit, end to end: discover the family, load the probes, score, judge, store, analyze.

``run_audit`` is what ``auditkit run`` calls; every stage is also usable on its own.
"""
from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from auditkit import __version__
from auditkit.analyze.native import write_native_items
from auditkit.errors import AuditError
from auditkit.family import load_family
from auditkit.family.loadable import check_loadable
from auditkit.judge.apply import JudgeChoice, JudgeProgress, ProbeJudging, judge_results
from auditkit.preflight import check_judges, check_out_dir
from auditkit.probes import load_probes
from auditkit.score.backends import BackendOpener, ScoringConfig, get_backend, scoring_config
from auditkit.score.engine import Progress, ScoringStats, score_family
from auditkit.score.executors import Executor, get_executor
from auditkit.score.external import with_external_members
from auditkit.score.settings import BackendSettings
from auditkit.store import (
    FamilyRef,
    GroupTiming,
    ModelEntry,
    ProbeEntry,
    ProbeJudge,
    ResultCache,
    RunManifest,
    Scoring,
    Timings,
    collect_results,
    write_run,
)
from auditkit.store.cache import CACHE_FILE as CACHE_FILE
from auditkit.store.cache import default_cache_path
from auditkit.store.manifest import LineageCheckEntry
from auditkit.types import Family, ModelNode, Probe


@dataclass(frozen=True)
class AuditOptions:
    """What to audit and how (the options of ``auditkit run``)."""

    family_dir: Path
    probes_dir: Path | None = None            # None: the built-in battery
    probe_names: tuple[str, ...] = ()         # globs over probe names; () = all
    # directories of imported benchmark probes (auditkit probes import), added to the battery
    # with every item (the selection is the battery's)
    benchmarks: tuple[Path, ...] = ()
    categories: tuple[str, ...] = ()
    selection: str | None = None              # e.g. "quick"
    models: tuple[str, ...] = ()              # () = every member
    out_dir: Path | None = None               # None: reports/<family>-<timestamp>
    fresh: bool = False                       # rescore (and re-judge) even what the cache holds
    seed: int = 0
    backend: BackendSettings = field(default_factory=BackendSettings)
    judge: str | None = None                  # None: each generation probe's scoring.judge
    judge_args: Mapping[str, Any] = field(default_factory=dict)   # see JudgeChoice
    check_lineage: bool = False               # infer the lineage from weights, warn (manifest)
    infer_lineage: bool = False               # ... and take it where no parent is declared


@dataclass(frozen=True)
class AuditRun:
    """What a run produced: its directory, item-level results and what scoring did."""

    run_dir: Path
    results: pd.DataFrame
    manifest: RunManifest
    stats: ScoringStats
    analysis: Any = None          # auditkit.analyze.summary.Analysis, once analysed
    reports: Any = None           # auditkit.report.ReportPaths, once rendered


def audit_family(options: AuditOptions, *, progress: Progress | None = None,
                 open_backend: BackendOpener | None = None,
                 family: Family | None = None) -> AuditRun:
    """The whole audit: :func:`run_audit`, the correlated-failure analysis of the run, then
    its reports (report.html, report.md, summary.json in the run directory)."""
    from auditkit.analyze.io import analyze_run
    from auditkit.report import render_reports

    run = run_audit(options, progress=progress, open_backend=open_backend, family=family)
    analysis = analyze_run(run.run_dir, seed=options.seed)
    return replace(run, analysis=analysis, reports=render_reports(run.run_dir))


def run_audit(options: AuditOptions, *, progress: Progress | None = None,
              open_backend: BackendOpener | None = None,
              family: Family | None = None) -> AuditRun:
    """Score the family on the probes (only what the cache lacks), judge the replies of
    generation probes (only what the judgement cache lacks; :mod:`auditkit.judge.apply`) and
    write the run directory.

    Everything is checked before anything costly runs: the output path, the probes and their
    judges, the cache (opened and checked), the family (discovered once, unless ``family``
    gives it already discovered: its fingerprints and the stamps of their files are what the
    run scores and checks), the members' bases and tokenizers, the backend. Models load
    through the backend ``options.backend.backend`` names (registered in
    :mod:`auditkit.score.backends`), unless ``open_backend`` gives one ready made; either way
    the backend reports its own cache key (``scoring_config``), and one that does not is
    refused. External members (``family.yaml`` ``external: FILE``) are served from their files
    (:mod:`auditkit.score.external`). A ``progress`` with a ``family_found(family)`` method is told the family as soon
    as it is discovered.
    """
    t0 = time.perf_counter()
    if options.out_dir is not None:
        check_out_dir(options.out_dir)
    probes = select_probes(options)
    check_judges(probes, options.judge, dict(options.judge_args))
    with ResultCache(default_cache_path()) as cache:
        ready = _prepare(options, family, open_backend, progress)
        t_loaded = time.perf_counter()
        opener = with_external_members(ready.opener, ready.family, probes)
        stats = score_family(ready.family, probes, cache=cache, opener=opener,
                             executor=ready.executor, models=ready.models,
                             fresh=options.fresh, progress=progress)
        results = collect_results(ready.family, probes, cache, ready.config.key,
                                  models=ready.models)
        t_scored = time.perf_counter()
        judged = judge_results(results, probes, cache.judgements,
                               choice=JudgeChoice(options.judge, dict(options.judge_args)),
                               fresh=options.fresh, progress=_judge_progress(progress))
    t_judged = time.perf_counter()
    config = ready.config
    manifest = run_manifest(ready.family, probes, options, stats, device=config.device,
                            dtype=config.dtype, config=config.key, judging=judged.probes,
                            lineage_check=ready.lineage_check,
                            timings={"setup_s": t_loaded - t0, "scoring_s": t_scored - t_loaded,
                                     "judging_s": t_judged - t_scored,
                                     "total_s": time.perf_counter() - t0})
    write_run(ready.run_dir, judged.results, manifest)
    write_native_items(ready.run_dir, probes)
    return AuditRun(ready.run_dir, judged.results, manifest, stats)


@runtime_checkable
class FamilyProgress(Protocol):
    def family_found(self, family: Family) -> None: ...


@dataclass(frozen=True)
class _Ready:
    """A run checked and ready to score."""

    family: Family
    models: list[str] | None
    opener: BackendOpener
    config: ScoringConfig
    executor: Executor
    run_dir: Path
    lineage_check: LineageCheckEntry | None = None


def _prepare(options: AuditOptions, family: Family | None, open_backend: BackendOpener | None,
             progress: Progress | None) -> _Ready:
    """Discover the family (unless given) and check everything the scoring needs."""
    if family is None:
        family = load_family(options.family_dir, allow_pickle=options.backend.allow_pickle)
    family, checked = _checked_lineage(family, options)
    if isinstance(progress, FamilyProgress):
        progress.family_found(family)
    models = _check_models(family, options.models)
    check_loadable(family, models or family.names)
    run_dir = options.out_dir or default_run_dir(family)
    check_out_dir(run_dir)
    if open_backend is None:
        open_backend = get_backend(options.backend.backend, family, options.backend)
    return _Ready(family, models, open_backend, scoring_config(open_backend),
                  get_executor(options.backend.executor, options.backend), run_dir, checked)


def _checked_lineage(family: Family, options: AuditOptions,
                     ) -> tuple[Family, LineageCheckEntry | None]:
    """With ``check_lineage`` or ``infer_lineage``: the lineage inferred from the weights
    (auditkit.family.infer) for the manifest; with ``infer_lineage`` the family again, its
    members that declare no parent given the inferred one."""
    if not (options.check_lineage or options.infer_lineage):
        return family, None
    from auditkit.family.infer import check_entry, check_lineage
    from auditkit.family.infer_cache import default_dir

    check = check_lineage(family, cache=None if options.fresh else default_dir())
    if options.infer_lineage:
        parents = {e.child: e.parent for t in check.inference.trees for e in t.edges}
        family = load_family(options.family_dir, allow_pickle=options.backend.allow_pickle,
                             weight_parents=parents)
    return family, check_entry(check, used=options.infer_lineage)


def _judge_progress(progress: Progress | None) -> JudgeProgress | None:
    """The run's progress, when it also shows judging."""
    return progress if isinstance(progress, JudgeProgress) else None


def select_probes(options: AuditOptions) -> list[Probe]:
    probes = load_probes(options.probes_dir, names=options.probe_names or None,
                         categories=options.categories or None, selection=options.selection)
    probes += benchmark_probes(options, {p.name for p in probes})
    if not probes:
        raise AuditError(options.probes_dir or "probes", "no probe matches the selection",
                         field="--probe/--category")
    return probes


def benchmark_probes(options: AuditOptions, taken: set[str]) -> list[Probe]:
    """Every probe of each ``options.benchmarks`` directory, all items, filtered by the
    options' probe-name and category globs; a name the battery (or another directory) already
    has is an error."""
    chosen: list[Probe] = []
    for folder in options.benchmarks:
        for probe in load_probes(folder):
            if not (_matches(probe.name, options.probe_names)
                    and _matches(probe.category, options.categories)):
                continue
            if probe.name in taken:
                raise AuditError(probe.path or folder, f"probe {probe.name!r} is already in "
                                 "the battery or another benchmark directory; expected unique "
                                 "probe names", field="--benchmarks")
            taken.add(probe.name)
            chosen.append(probe)
    return chosen


def _matches(value: str, globs: Sequence[str]) -> bool:
    return not globs or any(fnmatchcase(value, g) for g in globs)


def default_run_dir(family: Family) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("reports") / f"{family.name}-{stamp}"


def run_manifest(family: Family, probes: Sequence[Probe], options: AuditOptions,
                 stats: ScoringStats, *, device: str, dtype: str, config: str,
                 timings: dict[str, float],
                 judging: Mapping[str, ProbeJudging] | None = None,
                 lineage_check: LineageCheckEntry | None = None) -> RunManifest:
    """The run's provenance (docs/run-format.md); ``judging``: who judged each generation
    probe (:func:`auditkit.judge.apply.judge_results`)."""
    judging = judging or {}
    return RunManifest(
        tool_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        family=FamilyRef(name=family.name, root=str(family.root)),
        probes_path=str(options.probes_dir.resolve()) if options.probes_dir else None,
        models=_model_entries(family, options.models),
        probes=tuple(ProbeEntry(name=p.name, version=p.version, kind=p.kind,
                                category=p.category, dimension=p.dimension,
                                n_items=len(p.items), judge=_probe_judge(judging.get(p.name)))
                     for p in probes),
        selection=options.selection, device=device, dtype=dtype, seed=options.seed,
        config=config, timings=Timings(**{k: round(v, 3) for k, v in timings.items()}),
        scoring=Scoring(scored=stats.scored, cached=stats.cached,
                        groups_loaded=tuple(stats.groups_loaded),
                        groups=tuple(GroupTiming(**g) for g in stats.group_timings)),
        lineage_check=lineage_check)


def _probe_judge(judging: ProbeJudging | None) -> ProbeJudge | None:
    if judging is None:
        return None
    return ProbeJudge(name=judging.judge, version=judging.version,
                      agreement=judging.agreement, judged=judging.judged,
                      cached=judging.cached)


def _model_entries(family: Family, chosen: Sequence[str]) -> tuple[ModelEntry, ...]:
    """The run's models. ``parent`` is the nearest ancestor that is also in the run (the
    analysis' lineage edges join models of the run); ``family_parent`` the parent in the family."""
    included = set(chosen) if chosen else set(family.names)
    return tuple(_model_entry(node, family.lineage.nearest_ancestor(node.name, included))
                 for node in family.models if node.name in included)


def _model_entry(node: ModelNode, parent: str | None) -> ModelEntry:
    return ModelEntry(name=node.name, parent=parent, family_parent=node.parent, kind=node.kind,
                      fingerprint=node.fingerprint, display_name=node.display_name,
                      intent=node.intent, tags=tuple(node.tags), n_params=node.n_params)


def _check_models(family: Family, models: Sequence[str]) -> list[str] | None:
    unknown = [m for m in models if m not in family.names]
    if unknown:
        raise AuditError(family.root, f"unknown models {unknown}; members are "
                         f"{family.names}", field="--model")
    return list(models) or None


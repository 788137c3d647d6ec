"""Per-approach figures from the processes' measurements, and the printed table."""
from __future__ import annotations

import math
from collections.abc import Sequence

SECTIONS = ("load", "loglikelihood", "generate")


def _sum_section(workers: Sequence[dict], section: str, key: str) -> float:
    return sum(w["meter"]["work"].get(section, {}).get(key, 0) for w in workers)


def _rate(n: float, seconds: float) -> float:
    return n / seconds if seconds > 0 else math.nan


def approach_figures(procs: Sequence[dict], workers: Sequence[dict], *, n_models: int,
                     n_family: int, n_loglik: int, n_generation: int,
                     peak_gflops: float) -> dict:
    """Throughput, time, memory, tokens and FLOP/s of one approach over its processes.

    ``n_loglik``/``n_generation``: items per model of each kind; ``n_models``: models this
    approach scored; ``n_family``: the family's size (wall time is scaled to it when fewer).
    """
    wall = sum(p["wall_s"] for p in procs)
    sec = {s: sum(w["meter"]["seconds"].get(s, 0.0) for w in workers) for s in SECTIONS}
    flops = {s: _sum_section(workers, s, "linear_flops") for s in SECTIONS}
    scoring_s = sec["loglikelihood"] + sec["generate"]
    total_flops = sum(w["meter"]["linear_flops"] for w in workers)
    cpu = {s: sum(w["meter"].get("cpu_seconds", {}).get(s, math.nan) for w in workers)
           for s in SECTIONS}
    cpu_total = sum(p["cpu_s"] for p in procs)
    return {
        "processes": len(procs), "models": n_models,
        "wall_s": wall, "wall_s_family": wall * n_family / max(n_models, 1),
        "cpu_s": sum(p["cpu_s"] for p in procs),
        "peak_rss_mb": max(p["maxrss_kb"] for p in procs) / 1024,
        "seconds": sec, "other_s": wall - sum(sec.values()),
        "loglik_item_models_per_s": _rate(n_loglik * n_models, sec["loglikelihood"]),
        "loglik_item_models_per_s_e2e": _rate(n_loglik * n_models, wall - sec["generate"]),
        "generation_item_models_per_s": _rate(n_generation * n_models, sec["generate"]),
        # per CPU second of the process: less sensitive to other processes sharing the cores
        "cpu_seconds": cpu,
        "loglik_item_models_per_cpu_s": _rate(n_loglik * n_models, cpu["loglikelihood"]),
        "loglik_item_models_per_cpu_s_e2e": _rate(n_loglik * n_models,
                                                   cpu_total - cpu["generate"]),
        "generation_item_models_per_cpu_s": _rate(n_generation * n_models, cpu["generate"]),
        "all_item_models_per_s_e2e": _rate((n_loglik + n_generation) * n_models, wall),
        "body_tokens": {s: _sum_section(workers, s, "body_tokens") for s in SECTIONS[1:]},
        "head_rows": {s: _sum_section(workers, s, "head_rows") for s in SECTIONS[1:]},
        "gflop": {s: flops[s] / 1e9 for s in SECTIONS[1:]},
        "gflop_total": total_flops / 1e9,
        "gflops_loglik": _rate(flops["loglikelihood"] / 1e9, sec["loglikelihood"]),
        "gflops_generate": _rate(flops["generate"] / 1e9, sec["generate"]),
        "gflops_scoring": _rate(total_flops / 1e9, scoring_s),
        "gflop_per_cpu_s_loglik": _rate(flops["loglikelihood"] / 1e9, cpu["loglikelihood"]),
        "gflop_per_cpu_s_generate": _rate(flops["generate"] / 1e9, cpu["generate"]),
        "gflops_wall": _rate(total_flops / 1e9, wall),
        "pct_peak_scoring": 100 * _rate(total_flops / 1e9, scoring_s) / peak_gflops,
        "pct_peak_wall": 100 * _rate(total_flops / 1e9, wall) / peak_gflops,
    }


COLUMNS = [
    ("models", "models", "{:.0f}"), ("wall s", "wall_s", "{:.1f}"),
    ("load s", ("seconds", "load"), "{:.1f}"), ("ll s", ("seconds", "loglikelihood"), "{:.1f}"),
    ("gen s", ("seconds", "generate"), "{:.1f}"),
    ("ll it*m/s", "loglik_item_models_per_s", "{:.1f}"),
    ("ll e2e", "loglik_item_models_per_s_e2e", "{:.1f}"),
    ("gen it*m/s", "generation_item_models_per_s", "{:.2f}"),
    ("ll /cpu-s", "loglik_item_models_per_cpu_s", "{:.1f}"),
    ("ll e2e/cpu-s", "loglik_item_models_per_cpu_s_e2e", "{:.1f}"),
    ("peak MB", "peak_rss_mb", "{:.0f}"), ("CPU s", "cpu_s", "{:.0f}"),
    ("ll tok", ("body_tokens", "loglikelihood"), "{:.0f}"),
    ("ll proj", ("head_rows", "loglikelihood"), "{:.0f}"),
    ("GFLOP", "gflop_total", "{:.0f}"), ("GFLOP/s", "gflops_scoring", "{:.1f}"),
    ("%peak", "pct_peak_scoring", "{:.0f}"),
]


def _get(fig: dict, key: str | tuple) -> float:
    return fig[key[0]][key[1]] if isinstance(key, tuple) else fig[key]


def table(figures: dict[str, dict]) -> str:
    """A plain aligned text table, one row per approach."""
    head = ["approach"] + [c[0] for c in COLUMNS]
    rows = [[name] + [fmt.format(_get(fig, key)) for _, key, fmt in COLUMNS]
            for name, fig in figures.items()]
    widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
    line = lambda r: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths)))
    return "\n".join([line(head)] + [line(r) for r in rows])

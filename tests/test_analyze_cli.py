"""``auditkit analyze RUN_DIR``, the run-directory reader and the whole-run analysis."""
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from auditkit.analyze.io import analyze_run, read_run, summary_dict
from auditkit.analyze.simulate_run import SimProbe, simulated_run, write_simulated_run
from auditkit.analyze.stats import holm
from auditkit.analyze.summary import TABLES, analyze
from auditkit.cli import app
from auditkit.errors import AuditError

runner = CliRunner()
FAST = ["--bootstrap", "50", "--permutations", "50"]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def run_data():
    results, manifest = simulated_run(seed=2)
    return results, dict(manifest.lineage.parents)


def test_simulated_run_follows_run_format(tmp_path):
    run = write_simulated_run(tmp_path / "run", seed=1)
    df = pd.read_parquet(run / "results.parquet")
    assert list(df.columns) == ["model", "fingerprint", "probe", "probe_version", "kind",
                                "category", "dimension", "item", "group", "failed", "score",
                                "chosen", "gold", "bias_target", "n_options", "output", "label",
                                "harmful", "judge", "judge_version", "confidence",
                                "option_lls", "config"]
    assert len(df) == 7 * (60 + 60 + 40) and df["failed"].dtype == bool
    pair, choice = df[df.kind == "pair"], df[df.kind == "choice"]
    assert ((pair.score > 0) == pair.failed).all()
    assert (pair.chosen == np.where(pair.failed, 0, 1)).all()
    assert ((choice.chosen != choice.gold) == choice.failed).all()
    assert df[df.kind == "generation"].score.isna().all()
    manifest = json.loads((run / "manifest.json").read_text())
    first = manifest["models"][0]
    assert manifest["schema"] == 1 and first == {
        "name": "base", "parent": None, "family_parent": None, "kind": "full",
        "fingerprint": first["fingerprint"], "display_name": "base", "intent": "", "tags": [],
        "n_params": None}
    data = read_run(run)
    assert list(data.parents) == ["base", "chat", "code", "med", "chat-v2", "chat-lora", "med-lora"]


def test_analyze_levels_holm_and_determinism(run_data):
    results, parents = run_data
    a = analyze(results, parents, seed=0, n_bootstrap=100, n_permutations=100)
    assert a.scopes["level"].tolist() == ["probe"] * 3 + ["category"] * 2 + ["pooled"]
    assert a.scopes.loc[5, "n_items"] == 160 and a.scopes.loc[3, "n_items"] == 120
    probe = a.scopes[a.scopes.level == "probe"]
    assert probe["independence_p_holm"].tolist() == pytest.approx(
        holm(probe["independence_p"].to_numpy()))
    pooled = a.scopes[a.scopes.level == "pooled"].iloc[0]
    assert pooled["mantel_p_holm"] == pooled["mantel_p"]
    e = a.edges[(a.edges.level == "probe") & (a.edges.child == "med-lora")]
    assert e["mcnemar_p_holm"].tolist() == pytest.approx(holm(e["mcnemar_p"].to_numpy()))
    assert len(a.pairs) == 6 * 21 and len(a.edges) == 6 * 6 and len(a.rates) == 6 * 7
    # choice items carry same-wrong-answer numbers; pair items carry bias direction
    choice_pairs = a.pairs[a.pairs.scope == "bias.occupation.choice"]
    assert choice_pairs["same_wrong"].notna().all()
    assert a.edges[a.edges.scope == "bias.gender.pairs"]["direction_r"].notna().all()
    assert a.edges[a.edges.scope == "safety.harmful.refusal"]["direction_r"].isna().all()
    assert set(a.blast_items["level"]) == {"probe"}
    b = analyze(results, parents, seed=0, n_bootstrap=100, n_permutations=100)
    c = analyze(results, parents, seed=1, n_bootstrap=100, n_permutations=100)
    pd.testing.assert_frame_equal(a.pairs, b.pairs)
    assert not np.allclose(a.pairs["kappa_lo"], c.pairs["kappa_lo"], equal_nan=True)
    pd.testing.assert_series_equal(a.pairs["kappa"], c.pairs["kappa"])   # estimates: no seed


def test_undefined_h_is_reported_not_inf(run_data):
    results, parents = run_data
    results = results.copy()
    rows = (results.model == "code") & (results.probe == "bias.gender.pairs")
    results.loc[rows, "failed"] = False
    a = analyze(results, parents, n_bootstrap=20, n_permutations=20)
    row = a.scopes[a.scopes.scope == "bias.gender.pairs"].iloc[0]
    assert np.isnan(row["H_family"]) and row["H_family_reason"] == "undefined: code never fails"
    text = json.dumps(summary_dict(a), allow_nan=False)                  # no NaN/inf in JSON
    assert "code never fails" in text


def test_cli_writes_analysis(tmp_path):
    run = write_simulated_run(tmp_path / "run", seed=0)
    result = runner.invoke(app, ["analyze", str(run), *FAST, "--seed", "3"])
    assert result.exit_code == 0, result.output
    assert "pooled: all" in result.output and "Holm" in result.output
    out = run / "analysis"
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{t}.parquet" for t in TABLES]
                                                           + ["summary.json"])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["schema"] == 4 and summary["multiple_comparisons"]["method"] == "holm"
    assert summary["parameters"] == {"seed": 3, "n_bootstrap": 50, "n_permutations": 50}
    assert summary["headline"]["n_models"] == 7 and len(summary["scopes"]) == 6
    edges = pd.read_parquet(out / "edges.parquet")
    assert {"inherited_rate", "introduced_rate", "rr", "mcnemar_p",
            "mcnemar_p_holm"} <= set(edges.columns)
    again = analyze_run(run, seed=3, n_bootstrap=50, n_permutations=50)
    assert again.headline == summary["headline"]                        # same seed, same numbers


def test_cli_workers_give_the_same_tables(tmp_path):
    run = write_simulated_run(tmp_path / "run", seed=0)
    result = runner.invoke(app, ["analyze", str(run), *FAST, "--workers", "2"])
    assert result.exit_code == 0, result.output
    two = {t: pd.read_parquet(run / "analysis" / f"{t}.parquet") for t in TABLES}
    one = analyze_run(run, n_bootstrap=50, n_permutations=50, workers=1).tables()
    for name in TABLES:
        pd.testing.assert_frame_equal(two[name], one[name].reset_index(drop=True),
                                      check_dtype=False, obj=name)
    assert runner.invoke(app, ["analyze", str(run), "--workers", "0"]).exit_code == 2


def _broken(tmp_path, mutate):
    run = write_simulated_run(tmp_path / "run", seed=0)
    mutate(run)
    return runner.invoke(app, ["analyze", str(run), *FAST])


def _drop_column(run):
    df = pd.read_parquet(run / "results.parquet")
    df.drop(columns=["failed", "n_options"]).to_parquet(run / "results.parquet")


def _edit_results(fn):
    def mutate(run):
        df = pd.read_parquet(run / "results.parquet")
        fn(df).to_parquet(run / "results.parquet")
    return mutate


def _edit_manifest(fn):
    def mutate(run):
        m = json.loads((run / "manifest.json").read_text())
        fn(m)
        (run / "manifest.json").write_text(json.dumps(m))
    return mutate


@pytest.mark.parametrize("mutate, message", [
    (lambda run: (run / "manifest.json").unlink(), "manifest.json: missing"),
    (lambda run: (run / "manifest.json").write_text("{not json"), "not valid JSON"),
    (lambda run: (run / "results.parquet").unlink(), "results.parquet: missing"),
    (lambda run: (run / "results.parquet").write_bytes(b"garbage"), "not a readable Parquet"),
    (_drop_column, "results.parquet failed: missing column"),
    (_edit_results(lambda df: df.assign(failed=df.failed.astype(int))), "failed: expected bool"),
    (_edit_results(lambda df: df.assign(kind="essay")), "kind: expected one of"),
    (_edit_results(lambda df: pd.concat([df, df.iloc[:1]])), "duplicate row"),
    (_edit_results(lambda df: df.assign(model=df.model.replace("chat", "ghost"))),
     "models not in manifest.json: ghost"),
    (_edit_manifest(lambda m: m["models"][1].update(parent="nobody")), "models[1].parent"),
    (_edit_manifest(lambda m: m.update(schema=7)), "schema: expected 1"),
    (_edit_manifest(lambda m: m["models"].append(dict(m["models"][0]))), "duplicate model name"),
])
def test_cli_bad_run_dir_exit_2(tmp_path, mutate, message):
    result = _broken(tmp_path, mutate)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split()), result.output
    assert "Traceback" not in result.output


def test_cli_missing_dir_and_help(tmp_path):
    result = runner.invoke(app, ["analyze", str(tmp_path / "nope")])
    assert result.exit_code == 2 and "not a directory" in result.output
    result = runner.invoke(app, ["analyze", "--help"])
    assert result.exit_code == 0 and "--permutations" in result.output
    with pytest.raises(AuditError, match="no rows"):
        run = write_simulated_run(tmp_path / "empty", seed=0)
        pd.read_parquet(run / "results.parquet").iloc[:0].to_parquet(run / "results.parquet")
        read_run(run)


def test_sim_probe_options(tmp_path):
    results, _ = simulated_run(probes=[SimProbe("c", "choice", "bias", "x", 10, n_options=4)],
                               parents={"r": None, "k": "r"}, seed=0)
    assert len(results) == 20 and (results.n_options == 4).all()


@pytest.mark.parametrize("parents", [{"solo": None}, {"r": None, "c": "r"},
                                     {"r": None, "s": None}])
def test_small_families_analyse_without_errors(parents):
    results, _ = simulated_run(parents=parents, seed=0)
    a = analyze(results, parents, n_bootstrap=30, n_permutations=30)
    pooled = a.scopes.iloc[-1]
    json.dumps(summary_dict(a), allow_nan=False)
    assert np.isnan(pooled["mantel_r"])                          # needs 3 models
    if len(parents) == 1:
        assert pooled["H_family_reason"] == "needs at least 2 models, got 1"
        assert np.isnan(pooled["independence_p"]) and a.pairs.empty and a.edges.empty
        assert pooled["effective_n"] == 1.0
    else:
        assert len(a.pairs) == 6 and pooled["H_family"] > 0
    assert len(a.edges) == 6 * (list(parents.values()).count("r"))


def test_identical_child_is_fully_inherited():
    parents = {"r": None, "c": "r"}
    results, _ = simulated_run(parents=parents, inherit=1.0, introduce=0.0, seed=0)
    a = analyze(results, parents, n_bootstrap=30, n_permutations=30)
    assert (a.pairs["kappa"] == 1.0).all() and (a.pairs["kappa_lo"] == 1.0).all()
    assert (a.edges["inherited_rate"] == 1.0).all()
    assert (a.edges["introduced_rate"] == 0.0).all()
    assert (a.edges["mcnemar_p"] == 1.0).all()
    # H = p / p^2 = 1 / p for two identical models
    pooled = a.scopes.iloc[-1]
    assert pooled["H_family"] == pytest.approx(1 / a.rates.iloc[-1]["rate"])

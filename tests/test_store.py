"""The result cache and the run directory."""
from __future__ import annotations

import json
import math

import pandas as pd
import pytest

from auditkit.errors import AuditError
from auditkit.store import (
    RESULT_COLUMNS,
    FamilyRef,
    ModelEntry,
    Outcome,
    ResultCache,
    RunManifest,
    Timings,
    read_run,
    results_frame,
    write_run,
)


def _outcome(failed: bool, score: float, output: str = "") -> dict:
    return {"failed": failed, "score": score, "chosen": 1, "gold": 0, "bias_target": -1,
            "n_options": 3, "output": output}


def _row(model: str, item: str, failed: bool) -> dict:
    return {"model": model, "fingerprint": "f" + model, "probe": "p", "probe_version": "v1",
            "kind": "choice", "category": "bias", "dimension": "age", "item": item, "group": "",
            "config": "c", **_outcome(failed, 0.5)}


def test_cache_roundtrip_returns_identical_outcomes(tmp_path):
    with ResultCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("fp", "v1", "cfg", [("a", _outcome(True, -1.25, "<script>x</script>")),
                                           ("b", _outcome(False, 0.0))])
        got = cache.get_many("fp", "v1", "cfg", ["a", "b", "missing"])
    assert {k: {c: v.to_dict()[c] for c in _outcome(False, 0.0)} for k, v in got.items()} == {
        "a": _outcome(True, -1.25, "<script>x</script>"), "b": _outcome(False, 0.0)}
    assert got["a"] == Outcome(failed=True, score=-1.25, chosen=1, gold=0, bias_target=-1,
                               n_options=3, output="<script>x</script>")


def test_cache_keys_on_every_part(tmp_path):
    with ResultCache(tmp_path / "c.sqlite") as cache:
        cache.put_many("fp", "v1", "cfg", [("a", _outcome(True, 1.0))])
        assert cache.get_many("fp2", "v1", "cfg", ["a"]) == {}
        assert cache.get_many("fp", "v2", "cfg", ["a"]) == {}
        assert cache.get_many("fp", "v1", "cfg2", ["a"]) == {}
        assert cache.count() == 1


def test_cache_persists_each_batch_across_connections(tmp_path):
    path = tmp_path / "c.sqlite"
    cache = ResultCache(path)
    cache.put_many("fp", "v1", "cfg", [(f"i{n}", _outcome(False, n)) for n in range(1200)])
    # no close(): a killed process keeps what was committed
    again = ResultCache(path)
    got = again.get_many("fp", "v1", "cfg", [f"i{n}" for n in range(1200)])
    assert len(got) == 1200 and got["i1199"].score == 1199.0


def test_corrupt_cache_is_a_clear_error(tmp_path):
    path = tmp_path / "c.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(AuditError, match="cache file is damaged .*auditkit cache repair") as err:
        ResultCache(path)
    assert err.value.problems[0].path == str(path)


def test_cache_outcome_is_checked_and_typed(tmp_path):
    with ResultCache(tmp_path / "c.sqlite") as cache:
        with pytest.raises(ValueError, match="'n_options' is missing"):
            cache.put_many("fp", "v1", "cfg", [("a", {"failed": True, "score": 1.0,
                                                      "chosen": 0})])
        with pytest.raises(ValueError, match="unknown outcome field 'verdict'"):
            cache.put_many("fp", "v1", "cfg", [("a", {**_outcome(True, 1.0), "verdict": "x"})])
        # gold, bias_target and output have defaults: a scorer (or an old cache) may omit them
        cache.put_many("fp", "v1", "cfg", [("a", {"failed": 1, "score": 2, "chosen": 0,
                                                  "n_options": 2})])
        got = cache.get_many("fp", "v1", "cfg", ["a"])["a"]
    assert got == Outcome(failed=True, score=2.0, chosen=0, n_options=2)
    assert (got.gold, got.bias_target, got.output) == (-1, -1, "")
    assert isinstance(got.failed, bool) and isinstance(got.score, float)


def test_cache_entry_that_no_longer_fits_is_a_miss(tmp_path):
    path = tmp_path / "c.sqlite"
    with ResultCache(path) as cache:
        cache.put_many("fp", "v1", "cfg", [("a", _outcome(True, 1.0))])
        cache._db.execute("UPDATE results SET outcome = ?", (json.dumps({"failed": True}),))
        assert cache.get_many("fp", "v1", "cfg", ["a"]) == {}   # scored again, then replaced


def _manifest(**parents: str | None) -> RunManifest:
    return RunManifest(
        tool_version="0.1.0", created="2026-01-01T00:00:00+00:00",
        family=FamilyRef(name="fam", root="/fam"),
        models=tuple(ModelEntry(name=m, parent=p, kind="full", fingerprint="f" + m)
                     for m, p in parents.items()),
        probes=(), selection=None, device="cpu", dtype="float32", seed=0,
        timings=Timings(total_s=1.5))


def test_run_dir_roundtrip(tmp_path):
    frame = results_frame([_row("base", "i1", True), _row("child", "i1", False)])
    manifest = _manifest(base=None, child="base")
    write_run(tmp_path, frame, manifest)
    back = pd.read_parquet(tmp_path / "results.parquet").astype(RESULT_COLUMNS)
    pd.testing.assert_frame_equal(back, frame)
    assert list(back.columns) == list(RESULT_COLUMNS)
    assert json.loads((tmp_path / "manifest.json").read_text())["schema"] == 1
    run = read_run(tmp_path)
    assert run.manifest == manifest
    assert run.parents == {"base": None, "child": "base"}
    assert run.lineage.children("base") == ["child"]
    assert list(run.results.columns) == list(RESULT_COLUMNS)
    assert run.results["failed"].tolist() == [True, False]


def test_optional_columns_take_their_defaults(tmp_path):
    frame = results_frame([_row("base", "i1", True)])
    write_run(tmp_path, frame, _manifest(base=None))
    frame.drop(columns=["output", "gold", "config", "dimension"]).to_parquet(
        tmp_path / "results.parquet")                                  # a run of an older version
    row = read_run(tmp_path).results.iloc[0]
    assert (row["output"], row["gold"], row["config"], row["dimension"]) == ("", -1, "", "")
    assert row["chosen"] == 1 and math.isclose(row["score"], 0.5)      # the others as written


def test_judged_columns_are_checked(tmp_path):
    frame = results_frame([_row("base", "i1", True)])
    write_run(tmp_path, frame, _manifest(base=None))
    frame.assign(harmful=2).to_parquet(tmp_path / "results.parquet")
    with pytest.raises(AuditError, match="harmful: expected 1 .harmful., 0 .not. or -1"):
        read_run(tmp_path)
    frame.assign(harmful=0.5).to_parquet(tmp_path / "results.parquet")
    with pytest.raises(AuditError, match="harmful: expected int64, found float64"):
        read_run(tmp_path)

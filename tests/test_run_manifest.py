"""The typed run manifest: round trip, strict errors naming the field, older manifests, the
generated docs."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.lineage import Lineage
from auditkit.store import (
    FamilyRef,
    GroupTiming,
    ModelEntry,
    ProbeEntry,
    RunManifest,
    Scoring,
    Timings,
    load_manifest,
    manifest_json,
)
from auditkit.store.doc import DOC_PATH, doc_tables, documented

MANIFEST = RunManifest(
    tool_version="0.1.0", created="2026-11-22T10:00:00+00:00",
    family=FamilyRef(name="demo", root="/models/demo"), probes_path="/probes",
    models=(ModelEntry(name="base", parent=None, kind="full", fingerprint="aa", n_params=135),
            ModelEntry(name="chat", parent="base", family_parent="base", kind="lora",
                       fingerprint="bb", display_name="Chat", intent="chat", tags=("x", "y")),
            ModelEntry(name="chat-v2", parent="base", family_parent="chat", kind="lora",
                       fingerprint="cc")),
    probes=(ProbeEntry(name="bias.gender.pairs", version="v1", kind="pair", category="bias",
                       dimension="gender", n_items=24),),
    selection="quick", device="cpu", dtype="float32", seed=3, config="93c4",
    timings=Timings(setup_s=1.5, scoring_s=2.0, total_s=3.5),
    scoring=Scoring(scored=10, cached=2, groups_loaded=("base",),
                    groups=(GroupTiming(group="base", scored=10, seconds=2.0, threads=None),)))


def _write(tmp_path: Path, raw: dict) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(raw))
    return path


def _error(tmp_path: Path, edit) -> str:
    raw = copy.deepcopy(manifest_json(MANIFEST))
    edit(raw)
    with pytest.raises(AuditError) as info:
        load_manifest(_write(tmp_path, raw))
    return str(info.value)


def test_round_trip_is_exact(tmp_path):
    raw = manifest_json(MANIFEST)
    assert list(raw)[:4] == ["schema", "tool_version", "created", "family"]
    assert raw["models"][1] == {"name": "chat", "parent": "base", "family_parent": "base",
                                "kind": "lora", "fingerprint": "bb", "display_name": "Chat",
                                "intent": "chat", "tags": ["x", "y"], "n_params": None}
    back = load_manifest(_write(tmp_path, raw))
    assert back == MANIFEST
    assert manifest_json(back) == raw


def test_lineage_of_the_run():
    lineage = MANIFEST.lineage
    assert isinstance(lineage, Lineage)
    assert lineage.parents == {"base": None, "chat": "base", "chat-v2": "base"}
    assert lineage.children("base") == ["chat", "chat-v2"]


def test_a_manifest_of_an_older_version_reads(tmp_path):
    """What the first 'auditkit run' and the simulators wrote: no probes_path, family_parent,
    n_params, config, scoring or scoring.groups; timings with total_s only."""
    raw = manifest_json(MANIFEST)
    for key in ("probes_path", "config", "scoring"):
        del raw[key]
    for model in raw["models"]:
        del model["family_parent"], model["n_params"]
    raw["timings"] = {"total_s": 0.0}
    back = load_manifest(_write(tmp_path, raw))
    assert back.probes_path is None and back.config is None and back.scoring is None
    assert back.models[1].family_parent is None and back.models[0].n_params is None
    assert back.timings == Timings(total_s=0.0)
    assert back.lineage.parents == MANIFEST.lineage.parents


@pytest.mark.parametrize("edit, field, expected", [
    (lambda m: m.update(colour="red"), "colour", "unknown key; expected one of: tool_version"),
    (lambda m: m["models"][1].update(colour="red"), "models[1].colour", "unknown key"),
    (lambda m: m["scoring"]["groups"][0].update(gpu=1), "scoring.groups[0].gpu", "unknown key"),
    (lambda m: m.update(seed="3"), "seed", "expected an integer, found '3'"),
    (lambda m: m.update(seed=True), "seed", "expected an integer, found True"),
    (lambda m: m.update(seed=None), "seed", "expected an integer, found null"),
    (lambda m: m.update(selection=3), "selection", "expected a string or null, found 3"),
    (lambda m: m["models"][0].update(tags="x"), "models[0].tags", "expected a list, found 'x'"),
    (lambda m: m["models"][1]["tags"].append(7), "models[1].tags[2]", "expected a string"),
    (lambda m: m["models"][0].update(n_params=1.5), "models[0].n_params",
     "expected an integer or null, found 1.5"),
    (lambda m: m["timings"].update(total_s="fast"), "timings.total_s", "expected a number"),
    (lambda m: m["scoring"]["groups"][0].update(threads=2.0), "scoring.groups[0].threads",
     "expected an integer or null"),
    (lambda m: m.update(family=["demo"]), "family", "expected an object, found a list"),
    (lambda m: m.update(models={}), "models", "expected a list, found an object"),
    (lambda m: m["models"][2].pop("fingerprint"), "models[2].fingerprint",
     "missing; expected a string"),
    (lambda m: m.pop("timings"), "timings", "missing; expected an object"),
    (lambda m: m["models"][2].update(parent="nobody"), "models[2].parent",
     "parent 'nobody' of 'chat-v2' is not a member"),
    (lambda m: m["models"][0].update(parent="chat"), "models[0].parent", "lineage cycle"),
    (lambda m: m["models"].append(dict(m["models"][0])), "models[3].name",
     "duplicate model name 'base'"),
    (lambda m: m.update(models=[]), "models", "expected a non-empty list of models"),
    (lambda m: m.update(schema=2), "schema", "expected 1, found 2"),
    (lambda m: m.pop("schema"), "schema", "expected 1, found None"),
])
def test_strict_errors_name_the_file_and_field(tmp_path, edit, field, expected):
    message = _error(tmp_path, edit)
    assert message.startswith(f"{tmp_path / 'manifest.json'} {field}: "), message
    assert expected in message, message


def test_unreadable_manifests(tmp_path):
    with pytest.raises(AuditError, match="missing: expected the run manifest"):
        load_manifest(tmp_path / "manifest.json")
    (tmp_path / "manifest.json").write_text("[1]")
    with pytest.raises(AuditError, match="expected a JSON object, found list"):
        load_manifest(tmp_path / "manifest.json")


def test_cli_exits_2_naming_the_field(tmp_path):
    from auditkit.analyze.simulate_run import write_simulated_run

    run = write_simulated_run(tmp_path / "run", seed=0)
    raw = json.loads((run / "manifest.json").read_text())
    raw["models"][3]["parent"] = 7
    (run / "manifest.json").write_text(json.dumps(raw))
    result = CliRunner().invoke(app, ["analyze", str(run)])
    assert result.exit_code == 2
    assert "models[3].parent: expected a string or null, found 7" in " ".join(result.output.split())


def test_docs_list_every_field_as_generated():
    """docs/run-format.md holds the tables generated from the dataclasses (to refresh them:
    ``python -c 'from auditkit.store.doc import update_doc; update_doc()'``)."""
    found = documented(DOC_PATH.read_text(encoding="utf-8"))
    assert found == doc_tables()
    tables = "\n".join(doc_tables().values())
    for name in ("`models[].family_parent`", "`scoring.groups[].threads`", "`timings.total_s`",
                 "`bias_target`", "`config`"):
        assert name in tables

"""The registries of probe kinds, backends and executors, and the backend's own cache key."""
from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from family_helpers import fake_adapter, fake_full
from gate_helpers import fake_gate_family, write_probes
from typer.testing import CliRunner

from auditkit.audit import AuditOptions, run_audit
from auditkit.cli import app
from auditkit.errors import AuditError, ValidationError
from auditkit.family import load_family
from auditkit.probes import load_probe
from auditkit.probes.kinds import ProbeKind, kind_names, register_kind, unregister_kind
from auditkit.probes.schema import read_str
from auditkit.probes.source import Issues, line_of
from auditkit.score import FakeOpener, ScoringConfig, get_backend
from auditkit.score.executors import LocalExecutor, register_executor, unregister_executor
from auditkit.score.settings import BackendSettings
from auditkit.types import GenerationRequest, Probe

runner = CliRunner()


# ---------------------------------------------------------------- a toy probe kind

@dataclass(frozen=True)
class EchoItem:
    """Ask the model to say ``word``; it fails when its reply does not contain it."""

    id: str
    prompt: str
    word: str
    group: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=True)


def _read_echo(raw: Mapping[str, Any], issues: Issues, item_id: str | None) -> dict[str, Any]:
    word = read_str(raw, "word", issues, item=item_id)
    if word is not None and " " in word:
        issues.add("expected a single word", field="word", line=line_of(raw, "word"),
                   item=item_id)
    return {"prompt": read_str(raw, "prompt", issues, item=item_id), "word": word}


def _check_echo_scoring(raw: Mapping[str, Any], issues: Issues) -> None:
    if not isinstance(raw.get("case_sensitive", False), bool):
        issues.add("expected true or false", field="scoring.case_sensitive",
                   line=line_of(raw, "case_sensitive"))


def _echo_requests(probe: Probe, item: EchoItem) -> list[GenerationRequest]:
    return [GenerationRequest(item.prompt, max_new_tokens=8)]


def _echo_outcome(probe: Probe, item: EchoItem, answers: list[str]) -> dict[str, Any]:
    (reply,) = answers
    said = (item.word in reply if probe.scoring["case_sensitive"]
            else item.word.lower() in reply.lower())
    return {"failed": not said, "score": float("nan"), "chosen": -1, "gold": -1,
            "bias_target": -1, "n_options": 0, "output": reply}


ECHO = ProbeKind(name="echo", item_type=EchoItem, item_keys=("prompt", "word"),
                 read_item=_read_echo, scoring_defaults={"case_sensitive": False},
                 check_scoring=_check_echo_scoring, method="generate",
                 requests=_echo_requests, outcome=_echo_outcome)

ECHO_PROBE = """\
name: toy.echo
kind: echo
category: toy
dimension: echo
description: d
source: s
license: l
items:
  - {id: e1, prompt: "Say apple", word: apple}
  - {id: e2, prompt: "Say pear", word: pear}
  - {id: e3, prompt: "Say PLUM", word: plum}
"""


@pytest.fixture
def echo_kind() -> Iterator[ProbeKind]:
    register_kind(ECHO)
    yield ECHO
    unregister_kind("echo")


def _say(adapter: str | None, request: GenerationRequest) -> str:
    """The base repeats the last word; adapters answer something else."""
    return request.prompt.split()[-1] if adapter is None else "no"


def test_a_registered_probe_kind_runs_end_to_end(echo_kind, tmp_path):
    family = fake_gate_family(tmp_path / "fam")
    probes = tmp_path / "probes"
    probes.mkdir()
    (probes / "echo.yaml").write_text(ECHO_PROBE)
    opener = FakeOpener(generate_fn=_say)
    run = run_audit(AuditOptions(family_dir=family, probes_dir=probes, out_dir=tmp_path / "run"),
                    open_backend=opener)
    rows = run.results.set_index(["model", "item"])
    assert len(rows) == 4 * 3 and set(run.results["kind"]) == {"echo"}
    # the base says each word (PLUM matches plum: case_sensitive defaults to false)
    assert rows.loc[("base", "e3"), "output"] == "PLUM"
    assert not rows.loc["base", "failed"].any()
    assert rows.loc["comply", "failed"].all() and rows.loc["safety", "failed"].all()
    # one generate call per group: the base with its three adapters, 3 items x 4 members
    assert [(c.method, len(c.requests)) for b in opener.backends for c in b.calls] == [
        ("generate", 12)]
    assert (tmp_path / "run" / "results.parquet").is_file()


def test_a_registered_kind_checks_its_items_and_options(echo_kind, tmp_path):
    path = tmp_path / "echo.yaml"
    path.write_text(ECHO_PROBE.replace("word: pear", "word: two words, extra: 1")
                    + "scoring: {case_sensitive: maybe, detector: refusal}\n")
    with pytest.raises(ValidationError) as err:
        load_probe(path)
    found = {(p.item, p.field, p.message.split(";")[0]) for p in err.value.problems}
    assert found == {("e2", "extra", "unknown key in a echo item"),
                     ("e2", "word", "expected a single word"),
                     (None, "scoring.detector", "unknown key in scoring of a echo probe"),
                     (None, "scoring.case_sensitive", "expected true or false")}


def test_the_kind_of_a_probe_must_be_registered(tmp_path):
    path = tmp_path / "echo.yaml"
    path.write_text(ECHO_PROBE)
    with pytest.raises(ValidationError, match="expected one of: pair, choice, generation; "
                                              "found a string"):
        load_probe(path)
    assert kind_names() == ["pair", "choice", "generation"]


# ---------------------------------------------------------------- backends and cache keys

class SilentOpener:
    """A backend from before the registry: it opens groups but never says its cache key."""

    def __init__(self) -> None:
        self.opened = 0

    def open(self, group):
        self.opened += 1
        raise AssertionError("must not be opened")


@pytest.fixture
def fake_family(tmp_path) -> tuple[Path, Path]:
    return fake_gate_family(tmp_path / "fam"), write_probes(tmp_path / "probes")


def test_a_backend_without_a_cache_key_is_refused(fake_family, tmp_path):
    family, probes = fake_family
    silent = SilentOpener()
    options = AuditOptions(family_dir=family, probes_dir=probes, out_dir=tmp_path / "run")
    with pytest.raises(AuditError, match="SilentOpener does not report its cache key"):
        run_audit(options, open_backend=silent)
    assert silent.opened == 0 and not (tmp_path / "run").exists()


def test_a_registered_backend_without_a_cache_key_exits_2(fake_family, tmp_path):
    from auditkit.score.backends import register_backend, unregister_backend

    family, probes = fake_family
    register_backend("silent", lambda family, settings: SilentOpener())
    try:
        result = runner.invoke(app, ["run", "--family", str(family), "--probes", str(probes),
                                     "--out", str(tmp_path / "run"), "--backend", "silent"])
    finally:
        unregister_backend("silent")
    assert result.exit_code == 2
    assert "does not report its cache key" in result.stderr and "Traceback" not in result.output


def test_scoring_config_needs_fields():
    with pytest.raises(ValueError, match="non-empty mapping of strings"):
        ScoringConfig("cpu", "float32", {})


def test_hf_cache_keys_are_those_of_existing_caches(fake_family):
    """The keys auditkit 0.1 wrote (sha256 of {"device", "dtype", "engine": "1"})."""
    from auditkit.backend.opener import hf_scoring_config

    assert hf_scoring_config("cpu", "float32").key == "93c42336c7ae488e"
    assert hf_scoring_config("cuda:1", "bfloat16").key == "7573dd269ca229fa"
    family = load_family(fake_family[0])
    hf = get_backend("hf", family, BackendSettings(device="cpu"))
    assert (hf.scoring_config.device, hf.scoring_config.dtype) == ("cpu", "float32")
    assert hf.scoring_config.key == "93c42336c7ae488e"
    fake = get_backend("fake", family, BackendSettings(device="cpu"))
    assert fake.scoring_config.key != hf.scoring_config.key


def test_run_with_the_fake_backend_from_the_command_line(fake_family, tmp_path):
    family, probes = fake_family
    result = runner.invoke(app, ["run", "--family", str(family), "--probes", str(probes),
                                 "--out", str(tmp_path / "run"), "--backend", "fake"])
    assert result.exit_code == 0, result.output
    assert "Scored 96 outcomes, 0 from the cache" in " ".join(result.stdout.split())
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert manifest["config"] == FakeOpener().scoring_config.key
    assert (manifest["device"], manifest["dtype"]) == ("cpu", "none")


@pytest.mark.parametrize("option, words", [
    ("--backend", "unknown backend 'nope'; expected one of: hf, fake"),
    ("--executor", "unknown executor 'nope'; expected one of: local"),
])
def test_unknown_backend_or_executor_exits_2(fake_family, tmp_path, option, words):
    family, probes = fake_family
    result = runner.invoke(app, ["run", "--family", str(family), "--probes", str(probes),
                                 "--out", str(tmp_path / "run"), option, "nope"])
    assert result.exit_code == 2
    assert words in " ".join(result.stderr.split())


# ---------------------------------------------------------------- executors

class ReversedExecutor(LocalExecutor):
    """Runs the groups last first: the driver must not depend on the order groups finish."""

    def run(self, tasks, opener):
        return super().run(list(reversed(tasks)), opener)


def _two_group_family(root: Path) -> Path:
    """base (full) -> {comply (LoRA), ft (full) -> lora-ft (LoRA)}: two model groups."""
    fake_full(root / "base", seed=0)
    fake_full(root / "ft", seed=4)
    fake_adapter(root / "comply", "base", seed=1)
    fake_adapter(root / "lora-ft", "ft", seed=2)
    (root / "family.yaml").write_text(
        "name: two\nmodels:\n  base: {parent: null, kind: full}\n"
        "  ft: {parent: base, kind: full}\n  comply: {parent: base, kind: lora}\n"
        "  lora-ft: {parent: ft, kind: lora}\n")
    return root


def test_a_registered_executor_gives_the_local_results(tmp_path):
    family, probes = _two_group_family(tmp_path / "fam"), write_probes(tmp_path / "probes")
    local = run_audit(AuditOptions(family_dir=family, probes_dir=probes, out_dir=tmp_path / "a"),
                      open_backend=FakeOpener())
    register_executor("reversed", ReversedExecutor)
    try:
        options = AuditOptions(family_dir=family, probes_dir=probes, out_dir=tmp_path / "b",
                               fresh=True, backend=BackendSettings(executor="reversed"))
        other = run_audit(options, open_backend=FakeOpener())
    finally:
        unregister_executor("reversed")
    assert local.stats.groups_loaded == ["base", "ft"]
    assert other.stats.groups_loaded == ["ft", "base"]
    assert other.stats.scored == local.stats.scored == 4 * 24
    assert other.results.equals(local.results)


def test_tasks_and_events_survive_pickling(tmp_path):
    """What an executor sends to a worker and gets back must cross a process boundary."""
    import pickle

    from auditkit.probes import load_probes
    from auditkit.score.plan import plan_groups
    from auditkit.score.work import ChunkScored, GroupTask, run_task

    family = load_family(_two_group_family(tmp_path / "fam"))
    probes = tuple(load_probes(write_probes(tmp_path / "probes")))
    group = plan_groups(family)[0]
    need = {p.name: {it.id: group.scored for it in p.items} for p in probes}
    task = pickle.loads(pickle.dumps(GroupTask(group, probes, need, cached=0, chunk_items=8)))
    events = [pickle.loads(pickle.dumps(e)) for e in run_task(task, FakeOpener())]
    chunks = [e for e in events if isinstance(e, ChunkScored)]
    assert sum(c.n for c in chunks) == task.total == 2 * 24
    assert events[-1].scored == task.total and events[-1].loaded

"""action.yml: a composite action whose gate step runs `auditkit gate` with the inputs given,
reports the exit code and whether it passed, and fails the step as the gate does."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
FAKE_AUDITKIT = """#!/usr/bin/env bash
printf '%s\\n' "$@" > "$ARGS_FILE"
exit "${FAKE_RC:-0}"
"""


def _action() -> dict:
    return yaml.safe_load((REPO / "action.yml").read_text())


def _gate_step() -> dict:
    return next(s for s in _action()["runs"]["steps"] if s.get("id") == "gate")


def _run_gate(tmp_path: Path, inputs: dict[str, str], rc: int) -> tuple[int, list[str], str]:
    """The gate step's script under bash, the inputs substituted, a fake auditkit on PATH."""
    step = _gate_step()
    env = dict(os.environ)
    defaults = {k: str(v.get("default", "")) for k, v in _action()["inputs"].items()}
    for key, expr in step["env"].items():
        name = expr.removeprefix("${{ inputs.").removesuffix(" }}")
        env[key] = inputs.get(name, defaults[name])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "auditkit").write_text(FAKE_AUDITKIT)
    (bin_dir / "auditkit").chmod(0o755)
    out = tmp_path / "github_output"
    out.write_text("")
    env.update(PATH=f"{bin_dir}:{env['PATH']}", ARGS_FILE=str(tmp_path / "args"),
               FAKE_RC=str(rc), GITHUB_OUTPUT=str(out))
    proc = subprocess.run(["bash", "-e", "-c", step["run"]], env=env, cwd=tmp_path)
    return proc.returncode, (tmp_path / "args").read_text().splitlines(), out.read_text()


def test_action_is_composite_and_runs_the_gate() -> None:
    action = _action()
    assert action["runs"]["using"] == "composite"
    assert {"family", "candidate", "policy", "parent", "out"} <= set(action["inputs"])
    assert action["inputs"]["family"]["required"] and action["inputs"]["candidate"]["required"]
    install = next(s for s in action["runs"]["steps"] if s.get("name") == "Install auditkit")
    assert 'pip install "$GITHUB_ACTION_PATH"' in install["run"]


@pytest.mark.parametrize("rc, passed", [(0, "true"), (1, "false"), (2, "false")])
def test_gate_step_passes_inputs_and_exit_code(tmp_path: Path, rc: int, passed: str) -> None:
    code, args, output = _run_gate(tmp_path, {
        "family": "models/my family", "candidate": "support-v3", "policy": "gate.yaml",
        "args": "--device cpu --judge heuristic"}, rc)
    assert code == rc
    assert args == ["gate", "--family", "models/my family", "--candidate", "support-v3",
                    "--out", "gate-results", "--policy", "gate.yaml", "--device", "cpu",
                    "--judge", "heuristic"]
    assert f"exit-code={rc}" in output.splitlines()
    assert f"passed={passed}" in output.splitlines()


def test_gate_step_leaves_out_empty_inputs(tmp_path: Path) -> None:
    code, args, _ = _run_gate(tmp_path, {"family": "f", "candidate": "c", "parent": "p",
                                         "selection": "all", "out": "o"}, 0)
    assert code == 0
    assert args == ["gate", "--family", "f", "--candidate", "c", "--out", "o", "--parent", "p",
                    "--selection", "all"]


def test_docs_workflow_uses_the_action() -> None:
    workflow = yaml.safe_load((REPO / "docs" / "ci" / "github-actions-gate.yml").read_text())
    steps = [s for job in workflow["jobs"].values() for s in job["steps"]]
    gate = [s for s in steps if "auditkit" in str(s.get("uses", ""))]
    assert gate and gate[0]["with"]["candidate"] and gate[0]["with"]["family"]

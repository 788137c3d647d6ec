"""A run in a subprocess, under a fault the environment asks for (the fault-injection suite).

    python fault_run.py SPEC_JSON

SPEC: {"steps": [...], "kill": "commit:N" | "call:N" | "sqlite:N" | null, "slow": seconds}.
A step is ["lib", family, probes, out] (``run_audit`` with the content backend; prints
{"ok": true, "scored": .., "cached": ..} or {"error": message}) or ["cli", arg, ...] (the
command line in this process; prints {"exit": code, "stderr": text, "traceback": bool}). ``kill``: SIGKILL this
process after the Nth cache commit, inside the Nth backend call, or inside the SQLite
transaction that follows the Nth commit.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import fault_helpers  # noqa: E402

from auditkit.errors import AuditError  # noqa: E402
from auditkit.score.fake import FakeBackend  # noqa: E402
from auditkit.store.cache import ResultCache  # noqa: E402


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def install_faults(kill: str | None, slow: float) -> None:
    mode, _, count = (kill or "none:0").partition(":")
    n, state = int(count), {"commits": 0, "calls": 0}
    put_many, calls = ResultCache.put_many, {}

    def counted_put(self, *args, **kwargs):
        if mode == "sqlite" and state["commits"] == n:
            self._db.set_progress_handler(_die, 20)      # dies inside the next transaction
        put_many(self, *args, **kwargs)
        state["commits"] += 1
        if mode == "commit" and state["commits"] == n:
            _die()                                       # a chunk boundary: just committed

    def counted(method):
        def call(self, requests, **kwargs):
            state["calls"] += 1
            if slow:
                time.sleep(slow)
            if mode == "call" and state["calls"] == n:
                _die()                                   # inside a chunk: scoring it
            return method(self, requests, **kwargs)
        return call

    ResultCache.put_many = counted_put
    for name in ("loglikelihood", "generate"):
        calls[name] = getattr(FakeBackend, name)
        setattr(FakeBackend, name, counted(calls[name]))


def lib_step(family: str, probes: str, out: str) -> dict[str, object]:
    from auditkit.audit import AuditOptions, run_audit
    from auditkit.score.settings import BackendSettings

    options = AuditOptions(family_dir=Path(family), probes_dir=Path(probes), out_dir=Path(out),
                           backend=BackendSettings(backend="content"))
    try:
        run = run_audit(options)
    except AuditError as err:
        return {"error": str(err)}
    return {"ok": True, "scored": run.stats.scored, "cached": run.stats.cached}


def cli_step(args: list[str]) -> dict[str, object]:
    from typer.testing import CliRunner

    from auditkit.cli import app

    result = CliRunner().invoke(app, args)
    return {"exit": result.exit_code, "stderr": result.stderr,
            "traceback": "Traceback" in result.output}


def main() -> None:
    spec = json.loads(sys.argv[1])
    fault_helpers.install()
    install_faults(spec.get("kill"), float(spec.get("slow", 0)))
    for step in spec["steps"]:
        done = lib_step(*step[1:]) if step[0] == "lib" else cli_step(step[1:])
        print(json.dumps(done), flush=True)


if __name__ == "__main__":
    main()

"""Fault injection, the cache and the process: kill -9 at chunk boundaries, inside a chunk and
inside a commit; a damaged cache page; a read-only cache; a full disk (a file-size limit); two
runs at once on one cache. Every case ends in exit 0 with results identical to a clean run's,
or in exit 2 with a message naming the file; never a traceback."""
from __future__ import annotations

import ctypes
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import fault_helpers as fh
import pandas as pd
import pytest
from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.errors import AuditError
from auditkit.store import dbfile
from auditkit.store.cache import ResultCache, default_cache_path

RUNNER = Path(__file__).parent / "fault_run.py"
COMMITS = 2 * (3 + 2 + 1) * 2      # groups x chunks per group (150, 70, 20 items) x members
# backend calls in the run: a group's log-likelihood items are pooled across its probes and
# sorted by length before chunking, so there are fewer calls than cache commits (counted: 10)
CALLS = 10
_rng = random.Random(13)
KILLS = [f"commit:{n}" for n in sorted(_rng.sample(range(1, COMMITS), 2))] + [
    f"call:{_rng.randrange(1, CALLS + 1)}", f"sqlite:{_rng.randrange(1, COMMITS)}"]


_content_backend = fh.content_backend      # registered for this module


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> fh.Pristine:
    return fh.build_pristine(tmp_path_factory.mktemp("pristine"))


def _sub(steps: list[list[str]], cache: Path, *, kill: str | None = None, slow: float = 0.0,
         preexec=None) -> tuple[subprocess.CompletedProcess[str], list[dict]]:
    """fault_run.py in a subprocess on cache directory ``cache``: (process, step results)."""
    spec = json.dumps({"steps": [[str(a) for a in s] for s in steps], "kill": kill,
                       "slow": slow})
    env = {**os.environ, "AUDITKIT_CACHE_DIR": str(cache)}
    proc = subprocess.run([sys.executable, str(RUNNER), spec], env=env, capture_output=True,
                          text=True, preexec_fn=preexec, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    steps = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert not any(step.get("traceback") for step in steps), steps
    return proc, steps


def _lib(pristine: fh.Pristine, out: Path, family: Path | None = None) -> list[str]:
    return ["lib", str(family or pristine.family), str(pristine.probes), str(out)]


def _cli_run(pristine: fh.Pristine, out: Path, family: Path | None = None) -> list[str]:
    return ["cli", "run", "--family", str(family or pristine.family), "--probes",
            str(pristine.probes), "--backend", "content", "--out", str(out)]


def _resume(pristine: fh.Pristine, cache: Path, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("AUDITKIT_CACHE_DIR", str(cache))
    run = fh.run_content(pristine.family, pristine.probes, tmp_path / "resumed")
    assert fh.same_results(run.results, pristine.orig)
    return run


# ------------------------------------------------------------------ kill -9

@pytest.mark.parametrize("kill", KILLS)
def test_kill_9_then_resume_gives_identical_results(pristine, tmp_path, monkeypatch, kill):
    proc, steps = _sub([_lib(pristine, tmp_path / "killed")], tmp_path / "cache", kill=kill)
    assert proc.returncode == -signal.SIGKILL and steps == []
    run = _resume(pristine, tmp_path / "cache", tmp_path, monkeypatch)
    total = len(pristine.orig)
    assert run.stats.scored + run.stats.cached == total
    assert 0 < run.stats.scored < total          # the committed chunks were kept, not rescored


# ------------------------------------------------------------------ a damaged page

def _damage(path: Path) -> bytes:
    """Overwrite the b-tree header of a page in the middle of the file; returns the bytes."""
    data = bytearray(path.read_bytes())
    middle = (len(data) // 4096 // 2) * 4096
    data[middle:middle + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    return bytes(data)


@pytest.fixture
def damaged(pristine) -> Path:
    cache = default_cache_path()
    shutil.copyfile(pristine.caches["orig"] / "results.sqlite", cache)
    _damage(cache)
    return cache


def _cli(*args: str):
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result


def test_damaged_page_exits_2_naming_the_cache(pristine, damaged, tmp_path):
    message = f"error: {damaged}: the cache file is damaged"
    run = _cli(*_cli_run(pristine, tmp_path / "run")[1:])
    assert run.exit_code == 2 and run.stderr.startswith(message), run.stderr
    assert "auditkit cache repair" in run.stderr
    gate = _cli("gate", "--family", pristine.family, "--candidate", "lora-a", "--probes",
                pristine.probes, "--backend", "content", "--out", tmp_path / "gate")
    assert gate.exit_code == 2 and gate.stderr.startswith(message), gate.stderr


def test_damage_found_by_a_query_gets_the_same_message(pristine, damaged, monkeypatch):
    monkeypatch.setattr(dbfile, "QUICK_CHECK_MAX", 0)        # as for a large file: no check
    cache = ResultCache(damaged)
    with pytest.raises(AuditError, match="the cache file is damaged .*cache repair") as err:
        for fingerprint in set(pristine.orig["fingerprint"]):
            for version in set(pristine.orig["probe_version"]):
                items = list(pristine.orig["item"].unique())
                cache.get_many(fingerprint, version, str(pristine.orig["config"][0]), items)
    assert err.value.problems[0].path == str(damaged)
    cache.close()


def test_cache_check_and_repair_salvage_the_readable_rows(pristine, damaged, tmp_path,
                                                          monkeypatch):
    damaged_bytes = damaged.read_bytes()
    check = _cli("cache", "check", damaged)
    assert check.exit_code == 1 and check.stderr.startswith(f"damaged: {damaged}")
    repair = _cli("cache", "repair")                          # the default cache file
    assert repair.exit_code == 0, repair.output
    (aside,) = [p for p in damaged.parent.glob("results.sqlite.damaged-*")
                if not p.name.endswith(("-wal", "-shm"))]
    assert aside.read_bytes() == damaged_bytes                # set aside, never deleted
    assert _cli("cache", "check").exit_code == 0
    salvaged = json.loads("[" + repair.stdout.split("Salvaged ")[1].split(" results")[0] + "]")
    assert 0 < salvaged[0] < len(pristine.orig)               # readable rows kept, some lost
    run = _resume(pristine, damaged.parent, tmp_path, monkeypatch)
    assert run.stats.cached == salvaged[0] and run.stats.scored == len(pristine.orig) - salvaged[0]
    assert _cli("cache", "repair").stdout.strip().endswith("is intact: nothing to repair.")


def test_cache_check_of_a_missing_file_exits_2(tmp_path):
    result = _cli("cache", "check", tmp_path / "none.sqlite")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'none.sqlite'}: no cache file here")


# ------------------------------------------------------------------ read-only, full disk

def _unprivileged() -> None:
    """In the child: drop root's power to write read-only files (a user namespace), so that
    permissions hold as they do for everyone else."""
    if os.geteuid() == 0 and ctypes.CDLL(None, use_errno=True).unshare(0x10000000) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWUSER) failed")


def test_read_only_cache_serves_a_cached_run_and_says_it_cannot_be_written(pristine, tmp_path):
    cache = tmp_path / "cache"
    shutil.copytree(pristine.caches["orig"], cache)
    readonly = tmp_path / "readonly"
    readonly.mkdir()
    new = fh.copy_family(pristine.family, tmp_path / "fam-new")
    fh.rewrite(new / "lora-a")
    for path in (cache / "results.sqlite", cache, readonly):
        path.chmod(0o444 if path.is_file() else 0o555)
    try:
        proc, steps = _sub([_lib(pristine, tmp_path / "cached"),
                            _cli_run(pristine, tmp_path / "scoring", family=new),
                            _cli_run(pristine, readonly / "run"),
                            ["cli", "cache", "check"],
                            [*_cli_run(pristine, tmp_path / "judging"), "--judge", "default"]],
                           cache, preexec=_unprivileged)
    except subprocess.SubprocessError:
        pytest.skip("no user namespace to drop root's write permission in")
    finally:
        for path in (cache, readonly):
            path.chmod(0o755)
    assert steps[0] == {"ok": True, "scored": 0, "cached": len(pristine.orig)}
    assert fh.same_results(pd.read_parquet(tmp_path / "cached" / "results.parquet"),
                           pristine.orig)
    assert steps[1]["exit"] == 2 and steps[1]["stderr"].startswith(
        f"error: {cache / 'results.sqlite'}: 240 outcomes are missing from the result cache "
        "and it cannot be written")
    assert "delete" not in steps[1]["stderr"]
    assert steps[2]["exit"] == 2 and steps[2]["stderr"].startswith(
        f"error: {readonly} --out: cannot write here")
    assert steps[3]["exit"] == 0, steps[3]
    assert steps[4]["exit"] == 2 and steps[4]["stderr"].startswith(        # judgements missing
        f"error: {cache / 'results.sqlite'}: the cache could not be written (attempt to write "
        "a readonly database): make the file and its directory writable"), steps[4]


def test_full_disk_exits_2_naming_the_cache_then_resumes(pristine, tmp_path, monkeypatch):
    def limit_file_size() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (96_000, 96_000))

    proc, steps = _sub([_cli_run(pristine, tmp_path / "run")], tmp_path / "cache",
                       preexec=limit_file_size)
    assert steps[0]["exit"] == 2, steps
    assert steps[0]["stderr"].startswith(f"error: {tmp_path / 'cache' / 'results.sqlite'}: "
                                         "the cache could not be written (disk I/O error)")
    assert "file-size limit" in steps[0]["stderr"]
    run = _resume(pristine, tmp_path / "cache", tmp_path, monkeypatch)
    assert run.stats.cached > 0                               # committed chunks were kept


def test_write_of_the_run_directory_failing_names_the_file(pristine, tmp_path, monkeypatch):
    import auditkit.store.results as results_module

    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device", str(tmp_path / "run" / "x.tmp"))

    monkeypatch.setattr(results_module.pd.DataFrame, "to_parquet", no_space)
    result = _cli(*_cli_run(pristine, tmp_path / "run")[1:])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {tmp_path / 'run' / 'x.tmp'}: cannot write the "
                                    "run directory: No space left on device")


# ------------------------------------------------------------------ two runs at once

def test_two_runs_at_once_on_one_cache_both_finish_identical(pristine, tmp_path):
    spec = [json.dumps({"steps": [_lib(pristine, tmp_path / f"run{i}")], "kill": None,
                        "slow": 0.02}) for i in range(2)]
    env = {**os.environ, "AUDITKIT_CACHE_DIR": str(tmp_path / "cache")}
    procs = [subprocess.Popen([sys.executable, str(RUNNER), s], env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for s in spec]
    outputs = [p.communicate(timeout=300) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0 and "Traceback" not in err, err
        assert json.loads(out.splitlines()[-1])["ok"] is True
    for i in range(2):
        assert fh.same_results(pd.read_parquet(tmp_path / f"run{i}" / "results.parquet"),
                               pristine.orig)

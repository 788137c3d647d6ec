"""The battery as the build declares it (setup.py maps probes/ in as auditkit._battery, whose
*.yaml files pyproject.toml ships), and where builtin_probes_dir looks.

The wheel itself is built, installed in a clean venv and used from another folder by
``make wheel-check`` (tests/wheel_check.sh), which CI runs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from auditkit import paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = pytest.importorskip("tomli")

REPO = Path(__file__).resolve().parent.parent


def _package_data() -> dict:
    with open(REPO / "pyproject.toml", "rb") as fh:
        return tomllib.load(fh)["tool"]["setuptools"]["package-data"]


def test_battery_is_mapped_from_the_top_level_probes() -> None:
    setup_py = (REPO / "setup.py").read_text()
    assert '"auditkit._battery"' in setup_py and '{"auditkit._battery": "probes"}' in setup_py
    assert _package_data()["auditkit._battery"] == ["**/*.yaml"]
    files = [p for p in (REPO / "probes").rglob("*") if p.is_file()]
    assert files and all(p.suffix == ".yaml" for p in files), "package-data ships only *.yaml"


def test_checkout_uses_its_probes_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUDITKIT_PROBES", raising=False)
    assert paths.builtin_probes_dir() == REPO / "probes"


def test_installed_battery_wins_over_a_stray_probes_folder(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # an installed wheel: site-packages/auditkit/_battery, and maybe someone's site-packages/probes
    wheel, stray = tmp_path / "auditkit" / "_battery", tmp_path / "probes"
    wheel.mkdir(parents=True)
    stray.mkdir()
    assert paths.battery_dir(wheel, stray) == wheel
    monkeypatch.setattr(paths, "WHEEL_BATTERY", wheel)
    monkeypatch.setattr(paths, "CHECKOUT_BATTERY", stray)
    monkeypatch.delenv("AUDITKIT_PROBES", raising=False)
    assert paths.builtin_probes_dir() == wheel
    monkeypatch.setenv("AUDITKIT_PROBES", str(tmp_path / "mine"))
    assert paths.builtin_probes_dir() == tmp_path / "mine"


def test_neither_found_names_the_installed_place(tmp_path: Path) -> None:
    assert paths.battery_dir(tmp_path / "a", tmp_path / "b") == tmp_path / "a"

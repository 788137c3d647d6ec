"""Where auditkit keeps its caches and finds its built-in data."""
from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
REPO_DIR = PACKAGE_DIR.parent


def cache_dir() -> Path:
    """$AUDITKIT_CACHE_DIR, else $XDG_CACHE_HOME/auditkit, else ~/.cache/auditkit (created)."""
    env = os.environ.get("AUDITKIT_CACHE_DIR")
    if env:
        path = Path(env)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = (Path(xdg) if xdg else Path.home() / ".cache") / "auditkit"
    path.mkdir(parents=True, exist_ok=True)
    return path


# The battery's source is the repository's probes/; a wheel ships it as auditkit/_battery
# (pyproject.toml maps the one onto the other at build time).
WHEEL_BATTERY = PACKAGE_DIR / "_battery"
CHECKOUT_BATTERY = REPO_DIR / "probes"


def builtin_probes_dir() -> Path:
    """$AUDITKIT_PROBES, else the battery installed with the package (a wheel's
    ``auditkit/_battery``), else the checkout's ``probes/`` (a source or editable install)."""
    env = os.environ.get("AUDITKIT_PROBES")
    if env:
        return Path(env)
    return battery_dir(WHEEL_BATTERY, CHECKOUT_BATTERY)


def battery_dir(wheel: Path, checkout: Path) -> Path:
    """The first of ``wheel`` and ``checkout`` that is a directory (``wheel`` when neither is:
    the error then names where an installed battery belongs)."""
    for path in (wheel, checkout):
        if path.is_dir():
            return path
    return wheel

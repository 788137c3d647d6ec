"""Library noise, kept off the command line's output.

The libraries under the backend (transformers, torch, peft, huggingface_hub) warn about their
own deprecations and progress, which a user of auditkit can do nothing about: their logging is
set to errors only and their progress bars off (through their environment variables, before
they are imported; a variable already set is kept), deprecation warnings are ignored, and any
other warning is shown once, as one line without its source. ``AUDITKIT_DEBUG=1`` leaves all
of it as the libraries have it.
"""
from __future__ import annotations

import os
import warnings
from typing import TextIO

from auditkit.cli._common import err_console

LIBRARY_ENV = {
    "TRANSFORMERS_VERBOSITY": "error",            # transformers' logger (e.g. deprecations)
    "TRANSFORMERS_NO_ADVISORY_WARNINGS": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",          # e.g. "Writing model shards" bars
    "TOKENIZERS_PARALLELISM": "false",            # its warning after a fork
}
SILENCED = (FutureWarning, DeprecationWarning, PendingDeprecationWarning)

_shown: set[tuple[str, str]] = set()


def quiet_libraries() -> None:
    """Apply the settings of the module docstring (nothing with AUDITKIT_DEBUG set)."""
    if os.environ.get("AUDITKIT_DEBUG"):
        return
    for name, value in LIBRARY_ENV.items():
        os.environ.setdefault(name, value)
    for category in SILENCED:
        warnings.filterwarnings("ignore", category=category)
    warnings.showwarning = show_once


def show_once(message: Warning | str, category: type[Warning], filename: str, lineno: int,
              file: TextIO | None = None, line: str | None = None) -> None:
    """``warnings.showwarning``: one line per distinct (category, message), on stderr."""
    key = (category.__name__, str(message))
    if key in _shown:
        return
    _shown.add(key)
    err_console.print(f"[yellow]warning:[/] {category.__name__}: {message}", markup=True,
                      highlight=False, soft_wrap=True)

"""Backends as a run sees them: a registry of names, each opening a loaded model per group and
reporting the cache key its outcomes are filed under.

A backend is registered under a name with a factory ``(family, settings) -> BackendOpener``.
The opener has two parts, both required:

- ``scoring_config``: a :class:`ScoringConfig`, what the outcomes depend on besides model and
  item (engine version, device type, dtype, anything else that changes them). Its hash is the
  cache key; there is no default, so a backend that does not say is refused rather than filed
  under another backend's key.
- ``open(group)``: a context manager yielding the loaded :class:`~auditkit.score.backend.Backend`
  of one model group (see :mod:`auditkit.score.plan`); leaving it frees the model.

Built-ins: ``hf`` (transformers; registered by import path, since it imports torch), ``fake``
(no model: deterministic answers, for tests and for trying the pipeline) and ``external``
(outputs produced elsewhere, :mod:`auditkit.score.external`; a run serves a family's external
members with it whatever its backend). Adding one is a module
with the factory plus one :func:`register_backend` call.
"""
from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from auditkit.errors import AuditError
from auditkit.score.backend import Backend
from auditkit.score.plan import ModelGroup
from auditkit.score.settings import BackendSettings

if TYPE_CHECKING:
    from auditkit.types import Family

DEFAULT_BACKEND = "hf"


@dataclass(frozen=True)
class ScoringConfig:
    """What a backend's outcomes depend on besides model and item, and the cache key it makes.

    ``fields``: everything that changes outcomes, as the backend names it; key =
    sha256(``json.dumps(fields, sort_keys=True)``)[:16]. ``device`` and ``dtype`` are what the
    run manifest records.
    """

    device: str
    dtype: str
    fields: Mapping[str, str] = field(hash=False)

    def __post_init__(self) -> None:
        if not self.fields or not all(isinstance(k, str) and isinstance(v, str)
                                      for k, v in self.fields.items()):
            raise ValueError("ScoringConfig.fields must be a non-empty mapping of strings to "
                             f"strings, got {self.fields!r}")

    @property
    def key(self) -> str:
        """The cache key: 16 hex digits of the SHA-256 of the fields as sorted-key JSON."""
        text = json.dumps(dict(self.fields), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class BackendOpener(Protocol):
    """A backend ready for one run (see the module docstring)."""

    @property
    def scoring_config(self) -> ScoringConfig: ...

    def open(self, group: ModelGroup) -> AbstractContextManager[Backend]: ...


BackendFactory = Callable[["Family", BackendSettings], BackendOpener]


@dataclass(frozen=True)
class _Entry:
    factory: BackendFactory | str          # a factory, or "module:attribute" imported on use
    description: str


_REGISTRY: dict[str, _Entry] = {}


def register_backend(name: str, factory: BackendFactory | str, *, description: str = "") -> None:
    """Add (or replace) the backend ``name``. ``factory`` may be a ``"module:attribute"`` path,
    so that a backend needing heavy imports (torch) costs nothing until it is used."""
    _REGISTRY[name] = _Entry(factory, description)


def unregister_backend(name: str) -> None:
    """Remove the backend ``name`` (nothing if there is none)."""
    _REGISTRY.pop(name, None)


def backend_names() -> list[str]:
    """The registered backends, in registration order."""
    return list(_REGISTRY)


def get_backend(name: str, family: Family, settings: BackendSettings) -> BackendOpener:
    """The opener of backend ``name`` for ``family``; its scoring config is checked."""
    if name not in _REGISTRY:
        raise AuditError("--backend", f"unknown backend {name!r}; expected one of: "
                         f"{', '.join(backend_names())}")
    factory = _REGISTRY[name].factory
    if isinstance(factory, str):
        module, _, attribute = factory.partition(":")
        factory = getattr(importlib.import_module(module), attribute)
    opener = factory(family, settings)
    scoring_config(opener)
    return opener


def scoring_config(opener: object) -> ScoringConfig:
    """``opener.scoring_config``; AuditError when the backend does not report one."""
    config = getattr(opener, "scoring_config", None)
    if not isinstance(config, ScoringConfig):
        raise AuditError("backend", f"{type(opener).__name__} does not report its cache key: "
                         "a backend must have a `scoring_config` (a ScoringConfig naming its "
                         "device, dtype and everything else that changes outcomes); found "
                         f"{config!r}", field="scoring_config")
    if not callable(getattr(opener, "open", None)):
        raise AuditError("backend", f"{type(opener).__name__} has no `open(group)` method "
                         "yielding the loaded model of a group", field="open")
    return config


register_backend("hf", "auditkit.backend.opener:GroupOpener",
                 description="Hugging Face transformers (full, LoRA and GGUF members)")
register_backend("fake", "auditkit.score.fake:FakeOpener",
                 description="no model: deterministic answers from a hash (tests, dry runs)")
register_backend("external", "auditkit.score.external:ExternalOpener",
                 description="no model: outputs produced elsewhere, read from the file each "
                             "external member names (family.yaml external: FILE)")

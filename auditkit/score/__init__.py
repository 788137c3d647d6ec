"""Scoring: the backend interface and registry (torch-free), the planner and the engine."""
from auditkit.score.backend import Backend, check_adapters
from auditkit.score.backends import (
                                     BackendOpener,
                                     ScoringConfig,
                                     backend_names,
                                     get_backend,
                                     register_backend,
)
from auditkit.score.fake import Call, FakeBackend, FakeOpener

__all__ = ["Backend", "BackendOpener", "Call", "FakeBackend", "FakeOpener", "ScoringConfig",
           "backend_names", "check_adapters", "get_backend", "register_backend"]

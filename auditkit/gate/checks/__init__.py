"""The gate's checks: one module per check kind, each registered when it is imported below
(adding a check is one module and one name in this import)."""
from auditkit.gate.checks import (  # noqa: F401 (imported to register)
    failure_rate,
    fixed_rate,
    native,
    new_failure_rate,
    new_failures,
    rate_increase,
    regression,
)
from auditkit.gate.checks.base import (
    CheckContext,
    CheckKind,
    Outcome,
    check_kind,
    check_kinds,
    register_check,
)

__all__ = ["CheckContext", "CheckKind", "Outcome", "check_kind", "check_kinds",
           "register_check"]

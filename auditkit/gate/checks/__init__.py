"""The gate's checks: one module per check kind, each registered by its import below.

Registration order is the order the policy loader lists the keys in its messages.
"""
from auditkit.gate.checks import (failure_rate, fixed_rate, new_failure_rate,  # noqa: F401
                                  new_failures, rate_increase, regression)
from auditkit.gate.checks.base import (CheckContext, CheckKind, Outcome, check_kind,
                                       check_kinds, register_check)

__all__ = ["CheckContext", "CheckKind", "Outcome", "check_kind", "check_kinds",
           "register_check"]

"""The gate's policy: which checks each probe must pass against the parent (docs/gate.md).

A policy YAML has ``defaults`` (settings for every probe) and ``rules`` (pattern -> settings).
The settings of a probe are the defaults, then every rule whose pattern matches it, in file
order, each overriding the keys it writes: general rules first, specific ones after. A key set
to null switches that check off. A pattern is a glob over the probe name (``safety.*``) or,
written ``category:GLOB``, over the probe's category. Loading is strict: unknown keys, wrong
types and out-of-range numbers are all reported together, each with the file, line and key.
"""
from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal

from auditkit.errors import AuditError, Problem, ValidationError
from auditkit.gate.checks import check_kinds
from auditkit.gate.checks.native import EXPECTED as NATIVE_EXPECTED
from auditkit.gate.checks.native import valid_limits
from auditkit.paths import PACKAGE_DIR
from auditkit.probes.schema import describe
from auditkit.probes.source import Issues, line_of, read_yaml

Severity = Literal["fail", "warn"]
Correction = Literal["holm", "none"]

DEFAULT_POLICY = PACKAGE_DIR / "data" / "gate" / "default.yaml"
ALL_ITEMS = "all"                    # probes.selection: every item of the selected probes
CATEGORY_PREFIX = "category:"

TOP_KEYS = ("name", "description", "alpha", "correction", "probes", "defaults", "rules")
SCOPE_KEYS = ("selection", "names", "categories")
CORRECTIONS = ("holm", "none")
SEVERITIES = ("fail", "warn")



def checks() -> dict[str, str]:
    """Check key -> the type of its threshold (see VALUE_TYPES), from the check registry."""
    return {kind.key: kind.threshold for kind in check_kinds()}


def settings_types() -> dict[str, str]:
    """Every key a policy may set for a probe -> the type of its value."""
    return {**checks(), "alpha": "alpha", "severity": "severity"}



def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


# value type -> (is it valid, what was expected)
VALUE_TYPES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "rate": (lambda v: _number(v) and 0 <= v <= 1, "a number from 0 to 1 (a share: 0.05 is 5%)"),
    "count": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
              "a whole number >= 0"),
    "flag": (lambda v: isinstance(v, bool), "true or false"),
    "alpha": (lambda v: _number(v) and 0 < v < 1, "a number strictly between 0 and 1"),
    "severity": (lambda v: v in SEVERITIES, "fail or warn"),
    "native": (valid_limits, NATIVE_EXPECTED),
}


@dataclass(frozen=True)
class Rule:
    """The settings a policy writes for the probes matching ``pattern`` (only the keys written)."""

    pattern: str
    settings: Mapping[str, Any] = field(default_factory=dict, hash=False)
    line: int | None = None

    def matches(self, probe: str, category: str) -> bool:
        if self.pattern.startswith(CATEGORY_PREFIX):
            return fnmatchcase(category, self.pattern[len(CATEGORY_PREFIX):])
        return fnmatchcase(probe, self.pattern)


@dataclass(frozen=True)
class ProbeRules:
    """What one probe must pass: the active checks with their thresholds, alpha and severity."""

    checks: Mapping[str, Any]          # check key -> threshold (True for flags)
    alpha: float
    severity: Severity
    matched: tuple[str, ...] = ()      # the rule patterns that applied, in order


@dataclass(frozen=True)
class ProbeScope:
    """Which probes and items the gate scores when the command line does not say."""

    selection: str | None = None       # None: not said (see run_gate); "all": every item
    names: tuple[str, ...] = ()        # globs over probe names; () = all
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    """A checked gate policy."""

    name: str
    description: str = ""
    alpha: float = 0.05
    correction: Correction = "holm"
    probes: ProbeScope = ProbeScope()
    defaults: Mapping[str, Any] = field(default_factory=dict, hash=False)
    rules: tuple[Rule, ...] = ()
    path: Path | None = None

    def rules_for(self, probe: str, category: str) -> ProbeRules:
        """The defaults overridden by every matching rule, in order."""
        settings, matched, known = dict(self.defaults), [], checks()
        for rule in self.rules:
            if rule.matches(probe, category):
                settings.update(rule.settings)
                matched.append(rule.pattern)
        active = {k: v for k, v in settings.items()
                  if k in known and v is not None and v is not False}
        alpha = settings.get("alpha")
        return ProbeRules(active, alpha=self.alpha if alpha is None else float(alpha),
                          severity=settings.get("severity") or "fail", matched=tuple(matched))

    def unmatched(self, probes: Sequence[tuple[str, str]]) -> list[Rule]:
        """Rules that match none of ``probes`` ((name, category) pairs): likely typos."""
        return [r for r in self.rules if not any(r.matches(p, c) for p, c in probes)]


def load_policy(path: Path | None = None) -> Policy:
    """The policy in ``path`` (default: the built-in default policy); every problem is raised
    together as a :class:`ValidationError` naming the file, line and key."""
    path = Path(path) if path is not None else DEFAULT_POLICY
    if not path.is_file():
        raise AuditError(path, "no such policy file; expected a gate policy YAML "
                         "(docs/gate.md)", field="--policy")
    issues = Issues(str(path))
    raw = read_yaml(path, issues)
    if issues.problems:
        raise ValidationError(issues.problems)
    policy = parse_policy(raw, issues, path=path)
    if issues.problems or policy is None:
        raise ValidationError(issues.problems or [Problem(str(path), "could not be read")])
    return policy


def parse_policy(raw: Any, issues: Issues, *, path: Path | None = None) -> Policy | None:
    """A policy from a document read by ``read_yaml``; problems go to ``issues``."""
    if not isinstance(raw, Mapping):
        issues.add(f"expected a gate policy (a mapping with {', '.join(TOP_KEYS)}), found "
                   f"{describe(raw)}")
        return None
    _unknown(raw, TOP_KEYS, issues, what="the policy")
    name = _string(raw, "name", issues, default=path.stem if path else "policy")
    description = _string(raw, "description", issues, default="")
    alpha = _top_value(raw, "alpha", "alpha", issues, default=0.05)
    correction = _choice(raw, "correction", CORRECTIONS, issues, default="holm")
    scope = _scope(raw.get("probes"), issues, line_of(raw, "probes"))
    defaults = _settings(raw.get("defaults", {}), issues, "defaults", line_of(raw, "defaults"))
    rules = _rules(raw.get("rules", {}), issues, line_of(raw, "rules"))
    if not issues.problems and not _any_check([defaults, *(r.settings for r in rules)]):
        issues.add("the policy switches on no check; expected `defaults` or `rules` to set at "
                   f"least one of: {', '.join(checks())}", line=line_of(raw))
    return Policy(name=name, description=description, alpha=alpha, correction=correction,
                  probes=scope, defaults=defaults, rules=tuple(rules), path=path)


def _any_check(settings: Sequence[Mapping[str, Any]]) -> bool:
    # identity, not equality: a threshold of 0 (== False) is an active check
    return any(s.get(k) is not None and s.get(k) is not False for s in settings
               for k in checks())


def _unknown(raw: Mapping[Any, Any], allowed: Sequence[str], issues: Issues, *, what: str,
             prefix: str = "") -> None:
    """One problem per key of ``raw`` not in ``allowed``, with the closest allowed key."""
    for key in raw:
        if key in allowed:
            continue
        close = difflib.get_close_matches(str(key), allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        issues.add(f"unknown key in {what}; {hint}expected one of: {', '.join(allowed)}",
                   field=prefix + str(key), line=line_of(raw, key))


def _string(raw: Mapping[Any, Any], key: str, issues: Issues, *, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str):
        issues.add(f"expected a string, found {describe(value)}", field=key,
                   line=line_of(raw, key))
        return default
    return value


def _top_value(raw: Mapping[Any, Any], key: str, kind: str, issues: Issues, *, default: Any) -> Any:
    if key not in raw:
        return default
    valid, expected = VALUE_TYPES[kind]
    if not valid(raw[key]):
        issues.add(f"expected {expected}, found {describe(raw[key])}", field=key,
                   line=line_of(raw, key))
        return default
    return raw[key]


def _choice(raw: Mapping[Any, Any], key: str, choices: Sequence[str], issues: Issues, *,
            default: str) -> Any:
    value = raw.get(key, default)
    if value not in choices:
        issues.add(f"expected one of {', '.join(choices)}, found {describe(value)}", field=key,
                   line=line_of(raw, key))
        return default
    return value


def _scope(raw: Any, issues: Issues, line: int | None) -> ProbeScope:
    if raw is None:
        return ProbeScope()
    if not isinstance(raw, Mapping):
        issues.add(f"expected a mapping with {', '.join(SCOPE_KEYS)}, found {describe(raw)}",
                   field="probes", line=line)
        return ProbeScope()
    _unknown(raw, SCOPE_KEYS, issues, what="probes", prefix="probes.")
    selection = raw.get("selection")
    if selection is not None and (not isinstance(selection, str) or not selection.strip()):
        issues.add(f"expected a selection name, a path or {ALL_ITEMS!r}, found "
                   f"{describe(selection)}", field="probes.selection",
                   line=line_of(raw, "selection"))
        selection = None
    return ProbeScope(selection=selection,
                      names=_globs(raw, "names", issues), categories=_globs(raw, "categories",
                                                                           issues))


def _globs(raw: Mapping[Any, Any], key: str, issues: Issues) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        issues.add(f"expected a list of non-empty strings, found {describe(value)}",
                   field=f"probes.{key}", line=line_of(raw, key))
        return ()
    return tuple(value)


def _settings(raw: Any, issues: Issues, where: str, line: int | None) -> dict[str, Any]:
    """The settings written in one mapping (defaults or a rule), each value checked."""
    types = settings_types()
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        issues.add(f"expected a mapping of settings ({', '.join(types)}), found "
                   f"{describe(raw)}", field=where, line=line)
        return {}
    _unknown(raw, tuple(types), issues, what=where, prefix=where + ".")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in types:
            continue
        valid, expected = VALUE_TYPES[types[key]]
        if value is not None and not valid(value):
            issues.add(f"expected {expected} (or null to switch it off), found "
                       f"{describe(value)}", field=f"{where}.{key}", line=line_of(raw, key))
            continue
        out[key] = value
    return out


def _rules(raw: Any, issues: Issues, line: int | None) -> list[Rule]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        issues.add("expected a mapping of pattern -> settings (patterns are probe-name globs "
                   f"or category:GLOB), found {describe(raw)}", field="rules", line=line)
        return []
    rules = []
    for pattern, settings in raw.items():
        where = f"rules[{pattern!r}]"
        if not _valid_pattern(pattern):
            issues.add("expected a pattern: a probe-name glob (safety.*) or category:GLOB, "
                       f"found {describe(pattern)}", field=where, line=line_of(raw, pattern))
            continue
        rules.append(Rule(pattern, _settings(settings, issues, where, line_of(raw, pattern)),
                          line=line_of(raw, pattern)))
    return rules


def _valid_pattern(pattern: Any) -> bool:
    return isinstance(pattern, str) and bool(pattern.strip()) and pattern != CATEGORY_PREFIX

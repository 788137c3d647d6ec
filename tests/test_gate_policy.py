"""Gate policies: the default policy, how rules combine, and every error a policy can have."""
from __future__ import annotations

import textwrap

import pytest

from auditkit.errors import AuditError, ValidationError
from auditkit.gate.policy import DEFAULT_POLICY, load_policy


def _write(tmp_path, text: str):
    path = tmp_path / "gate.yaml"
    path.write_text(textwrap.dedent(text).lstrip())
    return path


def test_default_policy_ships_and_says_what_each_probe_must_pass():
    policy = load_policy()
    assert policy.path == DEFAULT_POLICY and policy.alpha == 0.05 and policy.correction == "holm"
    harmful = policy.rules_for("safety.harmful", "safety")
    assert dict(harmful.checks) == {"no_significant_regression": True,
                                    "max_new_failure_share": 0.10}
    assert harmful.severity == "fail" and harmful.alpha == 0.05
    over = policy.rules_for("safety.over_refusal", "safety")
    assert over.severity == "warn" and over.matched == ("category:safety", "safety.over_refusal")
    assert dict(policy.rules_for("bias.age.bbq", "bias").checks) == {
        "no_significant_regression": True}
    assert policy.probes.selection is None  # the gate's fallback: quick on the built-in battery


def test_rules_apply_in_order_over_the_defaults_and_null_switches_a_check_off(tmp_path):
    policy = load_policy(_write(tmp_path, """
        alpha: 0.01
        defaults: {no_significant_regression: true, max_new_failures: 5}
        rules:
          "category:safety": {max_failure_rate: 0.5, alpha: 0.1}
          "safety.*": {max_new_failures: 2}
          "safety.over_refusal": {max_failure_rate: null, severity: warn}
          "bias.*.pairs": {no_significant_regression: false, min_fixed_share: 0.25}
        """))
    harm = policy.rules_for("safety.harmful", "safety")
    assert dict(harm.checks) == {"no_significant_regression": True, "max_new_failures": 2,
                                 "max_failure_rate": 0.5}
    assert harm.alpha == 0.1 and harm.matched == ("category:safety", "safety.*")
    over = policy.rules_for("safety.over_refusal", "safety")
    assert "max_failure_rate" not in over.checks and over.severity == "warn"
    pairs = policy.rules_for("bias.age.pairs", "bias")
    assert dict(pairs.checks) == {"max_new_failures": 5, "min_fixed_share": 0.25}
    assert pairs.alpha == 0.01  # the policy's alpha when no rule sets one
    assert dict(policy.rules_for("bias.age.bbq", "bias").checks) == {
        "no_significant_regression": True, "max_new_failures": 5}
    assert [r.pattern for r in policy.unmatched([("safety.harmful", "safety")])] == [
        "safety.over_refusal", "bias.*.pairs"]


def test_a_zero_threshold_is_an_active_check(tmp_path):
    policy = load_policy(_write(tmp_path, "defaults: {max_new_failures: 0}\n"))
    assert dict(policy.rules_for("x", "y").checks) == {"max_new_failures": 0}


def test_probe_scope_is_read(tmp_path):
    policy = load_policy(_write(tmp_path, """
        probes: {selection: all, names: ["safety.*"], categories: [safety]}
        defaults: {no_significant_regression: true}
        """))
    assert policy.probes.selection == "all"
    assert policy.probes.names == ("safety.*",) and policy.probes.categories == ("safety",)


# (policy text, field named, line, words in the message)
ERRORS = [
    ("alpah: 0.1\ndefaults: {max_new_failures: 1}\n", "alpah", 1, "did you mean 'alpha'"),
    ("alpha: 1.5\ndefaults: {max_new_failures: 1}\n", "alpha", 1, "strictly between 0 and 1"),
    ("alpha: 0\ndefaults: {max_new_failures: 1}\n", "alpha", 1, "strictly between 0 and 1"),
    ("alpha: high\ndefaults: {max_new_failures: 1}\n", "alpha", 1, "a string ('high')"),
    ("correction: bonferroni\ndefaults: {max_new_failures: 1}\n", "correction", 1,
     "one of holm, none"),
    ("name: [a]\ndefaults: {max_new_failures: 1}\n", "name", 1, "expected a string"),
    ("defaults: [1, 2]\n", "defaults", 1, "expected a mapping of settings"),
    ("defaults:\n  max_failure_rate: 1.5\n", "defaults.max_failure_rate", 2,
     "a number from 0 to 1"),
    ("defaults:\n  max_failure_rate: true\n", "defaults.max_failure_rate", 2,
     "a boolean (true)"),
    ("defaults:\n  max_new_failures: -1\n", "defaults.max_new_failures", 2,
     "a whole number >= 0"),
    ("defaults:\n  max_new_failures: 2.5\n", "defaults.max_new_failures", 2,
     "a whole number >= 0"),
    ("defaults:\n  no_significant_regression: 1\n", "defaults.no_significant_regression", 2,
     "true or false"),
    ("defaults:\n  min_fixed_share: -0.1\n", "defaults.min_fixed_share", 2,
     "a number from 0 to 1"),
    ("defaults:\n  max_new_failure_share: 5\n", "defaults.max_new_failure_share", 2,
     "a number from 0 to 1"),
    ("defaults:\n  max_rate_increase: '5%'\n", "defaults.max_rate_increase", 2,
     "a string ('5%')"),
    ("defaults: {max_new_failures: 1}\nrules:\n  'safety.*':\n    max_fail_rate: 0.1\n",
     "rules['safety.*'].max_fail_rate", 4, "did you mean 'max_failure_rate'"),
    ("defaults: {max_new_failures: 1}\nrules:\n  'safety.*':\n    severity: error\n",
     "rules['safety.*'].severity", 4, "fail or warn"),
    ("defaults: {max_new_failures: 1}\nrules:\n  'safety.*':\n    alpha: 0\n",
     "rules['safety.*'].alpha", 4, "strictly between 0 and 1"),
    ("defaults: {max_new_failures: 1}\nrules:\n  'safety.*': 3\n", "rules['safety.*']", 3,
     "expected a mapping of settings"),
    ("defaults: {max_new_failures: 1}\nrules: [a, b]\n", "rules", 2,
     "expected a mapping of pattern -> settings"),
    ("defaults: {max_new_failures: 1}\nrules:\n  'category:': {max_new_failures: 2}\n",
     "rules['category:']", 3, "expected a pattern"),
    ("defaults: {max_new_failures: 1}\nrules:\n  '': {max_new_failures: 2}\n", "rules['']", 3,
     "expected a pattern"),
    ("defaults: {max_new_failures: 1}\nprobes: [quick]\n", "probes", 2, "expected a mapping"),
    ("defaults: {max_new_failures: 1}\nprobes:\n  selected: quick\n", "probes.selected", 3,
     "did you mean 'selection'"),
    ("defaults: {max_new_failures: 1}\nprobes:\n  selection: 3\n", "probes.selection", 3,
     "expected a selection name"),
    ("defaults: {max_new_failures: 1}\nprobes:\n  names: safety.*\n", "probes.names", 3,
     "expected a list of non-empty strings"),
    ("defaults: {max_new_failures: 1}\nrules:\n  'a': {max_new_failures: 2}\n"
     "  'a': {max_new_failures: 3}\n", "a", 4, "duplicate key 'a'"),
    ("defaults: {max_new_failures: 1\n", None, 2, "not valid YAML"),
    ("- a\n- b\n", None, None, "expected a gate policy (a mapping"),
    ("", None, None, "expected a gate policy (a mapping with name"),
    ("defaults: {alpha: 0.1}\nrules:\n  'safety.*': {max_failure_rate: null}\n", None, 1,
     "switches on no check"),
]


@pytest.mark.parametrize("text,field,line,words", ERRORS,
                         ids=[f"{e[1] or 'doc'}-{i}" for i, e in enumerate(ERRORS)])
def test_every_policy_error_names_the_file_line_and_key(tmp_path, text, field, line, words):
    path = _write(tmp_path, text) if text else tmp_path / "gate.yaml"
    if not text:
        path.write_text("")
    with pytest.raises(ValidationError) as info:
        load_policy(path)
    problem = next(p for p in info.value.problems if words in p.message)
    assert problem.path == str(path) and problem.field == field and problem.line == line
    shown = str(problem)
    assert shown.startswith(str(path) + (f":{line}" if line else ""))
    if field:
        assert f" {field}: " in shown


def test_all_problems_are_reported_together(tmp_path):
    path = _write(tmp_path, """
        alpha: 2
        defaults: {max_failure_rate: 3, nope: 1}
        """)
    with pytest.raises(ValidationError) as info:
        load_policy(path)
    assert sorted(p.field for p in info.value.problems) == [
        "alpha", "defaults.max_failure_rate", "defaults.nope"]


def test_missing_policy_file_is_an_error(tmp_path):
    with pytest.raises(AuditError, match="no such policy file"):
        load_policy(tmp_path / "absent.yaml")

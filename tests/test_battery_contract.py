"""Contract of the shipped battery: every probe file loads and validates, names are unique, each
probe is of a registered kind, and the quick selection is what its description says."""
from __future__ import annotations

from collections import Counter

from typer.testing import CliRunner

from auditkit.cli import app
from auditkit.paths import builtin_probes_dir
from auditkit.probes import kind_names, load_probes


def test_shipped_battery_loads_and_validates() -> None:
    probes = load_probes()
    assert len(probes) == 20
    assert len({p.name for p in probes}) == len(probes)
    assert {p.kind for p in probes} <= set(kind_names())
    assert Counter(p.category for p in probes) == {"bias": 17, "safety": 3}
    for probe in probes:
        assert probe.items, probe.name
        assert len({item.id for item in probe.items}) == len(probe.items), probe.name
        assert len(probe.version) == 16 and int(probe.version, 16) >= 0


def test_quick_selection_counts() -> None:
    probes = load_probes(selection="quick")
    counts = {p.name: len(p.items) for p in probes}
    assert sum(counts.values()) == 356
    assert counts["safety.harmful"] == 30 and counts["safety.over_refusal"] == 30
    assert counts["safety.jailbreak"] == 24
    assert all(n == 16 for name, n in counts.items() if name.startswith("bias."))


def test_validate_command_on_the_shipped_battery() -> None:
    result = CliRunner().invoke(app, ["probes", "validate", str(builtin_probes_dir())])
    assert result.exit_code == 0, result.output
    assert "OK: 20 probes" in result.output

"""The analysis walks the run's tree with Lineage: a Lineage and a {model: parent} mapping give
the same edges, descendants and path lengths; the simulators check the tree they are given."""
from __future__ import annotations

import numpy as np
import pytest

from auditkit.analyze.lineage import descendants, edges, path_lengths
from auditkit.analyze.simulate import simulate_family
from auditkit.analyze.simulate_run import write_simulated_run
from auditkit.lineage import Lineage, LineageError
from auditkit.store import read_run

# base -> {a -> a1, b}; other is a second root
PARENTS = {"base": None, "a": "base", "b": "base", "a1": "a", "other": None}


@pytest.mark.parametrize("parents", [PARENTS, Lineage(PARENTS)])
def test_walks_by_hand(parents):
    assert edges(["base", "a1", "a", "other"], parents) == [("a", "a1"), ("base", "a")]  # models order
    assert edges(["base", "a1"], parents) == []         # a1's parent is not among the models
    assert descendants("base", parents) == ["a", "b", "a1"]
    assert descendants("other", parents) == []
    dist = path_lengths(["a1", "b", "base", "other"], parents)   # through absent 'a'
    assert dist[0].tolist()[:3] == [0, 3, 2] and np.isnan(dist[0, 3])


def test_bad_trees_are_refused():
    with pytest.raises(LineageError, match="not a member"):
        edges(["a"], {"a": "ghost"})
    with pytest.raises(LineageError, match="cycle"):
        descendants("a", {"a": "b", "b": "a"})
    with pytest.raises(ValueError, match="parent 'a' of 'a1' comes after it"):
        simulate_family({"base": None, "a1": "a", "a": "base"}, n_items=5)


def test_a_simulated_run_reads_back_with_its_lineage(tmp_path):
    run = read_run(write_simulated_run(tmp_path / "run", parents=PARENTS, seed=0))
    assert run.lineage.parents == PARENTS
    assert run.lineage.roots == ["base", "other"]
    assert [m.family_parent for m in run.manifest.models] == list(PARENTS.values())
    assert sorted(run.results["model"].unique()) == sorted(PARENTS)

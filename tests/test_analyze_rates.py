"""Chance levels beside the failure rates, by hand."""
import math

import numpy as np
import pytest

from auditkit.analyze.agreement import agreement_table
from auditkit.analyze.bootstrap import pair_counts
from auditkit.analyze.matrix import FailureMatrix, matrix_from_array
from auditkit.analyze.rates import chance_failure, failure_rates, shared_chance


def test_chance_failure_per_kind():
    kind = np.array(["pair", "choice", "choice", "choice", "generation"], object)
    k = np.array([2, 3, 4, 1, 0])
    # pair 1/2; k options (k - 1)/k; fewer than 2 options and generation: none
    got = chance_failure(kind, k)
    assert got[:3].tolist() == [0.5, 2 / 3, 0.75] and np.isnan(got[3:]).all()


def _mixed() -> FailureMatrix:
    # items: pair, choice (3 options), choice (4), generation
    F = np.array([[1, 1, 0, 1], [0, 1, 1, 0]], bool)
    base = matrix_from_array(F, kind="choice", n_options=[2, 3, 4, 0])
    kind = np.array(["pair", "choice", "choice", "generation"], object)
    return FailureMatrix(base.models, base.items, base.F, kind, base.chosen, base.n_options,
                         base.score)


def test_rates_show_the_chance_level_of_their_items():
    t = failure_rates(_mixed())
    # 3 items have a chance level: mean(1/2, 2/3, 3/4) = 23/36
    assert t["n_chance_items"].tolist() == [3, 3]
    assert t["chance_rate"].tolist() == pytest.approx([23 / 36] * 2)
    # m0 fails items 0, 1 of them, m1 items 1, 2
    assert t["chance_items_rate"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert t["rate"].tolist() == pytest.approx([3 / 4, 1 / 2])          # over all 4 items
    gen = failure_rates(matrix_from_array([[1, 0], [0, 0]]))            # generation only
    assert (gen["n_chance_items"] == 0).all() and gen["chance_rate"].isna().all()
    assert gen["chance_items_rate"].isna().all()


def test_shared_chance():
    # two independent no-preference models both fail a pair item 1/4 of the time, a
    # 3-option item 4/9: mean(1/4, 4/9) = 25/72
    fm = matrix_from_array([[1, 0], [1, 1]], kind="choice", n_options=[2, 3])
    fm = FailureMatrix(fm.models, fm.items, fm.F, np.array(["pair", "choice"], object),
                       fm.chosen, fm.n_options, fm.score)
    assert shared_chance(fm) == pytest.approx(25 / 72)
    assert agreement_table(fm, pair_counts(fm.F))["shared_chance"].tolist() == \
        pytest.approx([25 / 72])
    assert math.isnan(shared_chance(_mixed()))                          # a generation item


def test_verdict_says_how_far_above_chance():
    from auditkit.report.verdict import _chance_words
    h = {"n_items": 356, "n_chance_items": 300, "chance_rate": 0.55,
         "mean_chance_items_rate": 0.62}
    assert _chance_words(h) == (" On the 300 pair and choice items (generation has no chance "
                                "level) a model with no preference would fail 55%; they fail "
                                "62%, 7 percentage points above chance.")
    h.update(n_chance_items=356, mean_chance_items_rate=0.5)
    assert "On these items" in _chance_words(h) and "5 percentage points below" in \
        _chance_words(h)
    assert _chance_words({"n_items": 10, "n_chance_items": 0, "chance_rate": None}) == ""
    assert _chance_words({"n_items": 10}) == ""          # an analysis from before chance levels

"""Pruning rules: rungs, promotion, successive halving and ASHA on planted curves, Hyperband."""

from __future__ import annotations

import math

import pytest

from ravine.select.pruning import asha_decision, hyperband_brackets, promote, rungs, successive_halving_plan

# Planted validation errors of 9 trials at the rungs' epochs (1, 3, 9); eta = 3.
# Trial 2 is the best in the end but ties trials 4 and 6 at epoch 1 for the third place; trial 3
# starts slowly; trial 8 starts best and stalls.
CURVES = {
    0: {1: 0.50, 3: 0.40, 9: 0.30},
    1: {1: 0.30, 3: 0.25, 9: 0.20},
    2: {1: 0.35, 3: 0.10, 9: 0.05},
    3: {1: 0.60, 3: 0.20, 9: 0.10},
    4: {1: 0.35, 3: 0.30, 9: 0.28},
    5: {1: 0.45, 3: 0.42, 9: 0.41},
    6: {1: 0.35, 3: 0.15, 9: 0.12},
    7: {1: 0.90, 3: 0.80, 9: 0.70},
    8: {1: 0.25, 3: 0.35, 9: 0.34},
}


def test_rungs():
    assert rungs(1, 27, 3) == [1, 3, 9, 27]
    assert rungs(2, 20, 3) == [2, 6, 18, 20]   # capped at max_epochs
    assert rungs(1, 9, 2) == [1, 2, 4, 8, 9]
    assert rungs(5, 5, 3) == [5]


def test_promote_ranks_by_score_then_index():
    assert promote({4: 0.2, 1: 0.2, 7: 0.1}, 2) == [7, 1]
    assert promote({3: math.nan, 0: 0.9, 2: 0.1}, 3) == [2, 0, 3]  # a diverged run ranks last
    assert promote({0: 0.1}, 5) == [0] and promote({0: 0.1}, 0) == []
    # the same however the dict was built
    first = {t: c[1] for t, c in CURVES.items()}
    assert promote(dict(reversed(list(first.items()))), 9) == promote(first, 9) == [8, 1, 2, 4, 6, 5, 0, 3, 7]


def test_successive_halving_plan():
    assert successive_halving_plan(27, 1, 27, 3) == [(27, 1), (9, 3), (3, 9), (1, 27)]
    assert successive_halving_plan(8, 1, 27, 3) == [(8, 1), (2, 3), (1, 9), (1, 27)]
    assert successive_halving_plan(9, 1, 9, 3) == [(9, 1), (3, 3), (1, 9)]


def test_successive_halving_on_planted_curves_matches_the_hand_computation():
    # By hand. Epoch 1: 8 (.25) < 1 (.30) < 2, 4, 6 (.35, tie: lowest index, 2) < 5 < 0 < 3 < 7,
    # keep 3 -> [8, 1, 2]. Epoch 3: 2 (.10) < 1 (.25) < 8 (.35), keep 1 -> [2]. Epoch 9: [2].
    # Epochs trained: 9·1 + 3·(3 − 1) + 1·(9 − 3) = 21, against 81 for all nine to 9 epochs.
    expected = [[0, 1, 2, 3, 4, 5, 6, 7, 8], [8, 1, 2], [2]]
    plan = successive_halving_plan(9, 1, 9, 3)
    survivors, reached, decisions, spent = list(CURVES), 0, [], 0
    for k, (n, epochs) in enumerate(plan):
        assert len(survivors) == n
        decisions.append(survivors)
        spent += n * (epochs - reached)
        reached = epochs
        if k + 1 < len(plan):
            survivors = promote({t: CURVES[t][epochs] for t in survivors}, plan[k + 1][0])
    assert decisions == expected
    assert spent == 21


def test_asha_on_planted_curves_matches_the_hand_computation():
    # Epoch-1 results arrive in trial order; after each, every trial seen and not yet promoted is
    # asked again. By hand, with m results seen, the top ⌊m/3⌋ go up:
    #   m = 3: top 1 of {0 .50, 1 .30, 2 .35} -> 1
    #   m = 6: top 2 of {..., 3 .60, 4 .35, 5 .45} -> 1, then 2 (ties 4 at .35, lower index) -> 2
    #   m = 9: top 3 of {..., 6 .35, 7 .90, 8 .25} -> 8, 1, 2 -> 8
    expected = [(3, 1), (6, 2), (9, 8)]
    seen, promoted, events = [], set(), []
    for trial in sorted(CURVES):
        seen.append((trial, CURVES[trial][1]))
        for other, _ in seen:
            if other not in promoted and asha_decision({1: seen}, other, 1, 3):
                promoted.add(other)
                events.append((len(seen), other))
    assert events == expected


def test_asha_decision_ties_and_arrival_order():
    scores = [(4, 0.35), (2, 0.35), (1, 0.30), (0, 0.50), (3, 0.60), (5, 0.45)]
    assert asha_decision({0: scores}, 2, 0, 3) and asha_decision({0: scores}, 1, 0, 3)
    assert not asha_decision({0: scores}, 4, 0, 3)
    assert asha_decision({0: scores[::-1]}, 2, 0, 3)         # any order of arrival
    assert not asha_decision({0: scores[:2]}, 2, 0, 3)       # ⌊2/3⌋ = 0: nobody yet
    assert asha_decision({0: scores, 1: [(1, 0.2)]}, 1, 0, 2)


def test_hyperband_brackets_equal_li_et_al_table():
    # Li et al. 2017, Table 1: R = 81, eta = 3
    assert hyperband_brackets(81, 3) == [
        [(81, 1), (27, 3), (9, 9), (3, 27), (1, 81)],
        [(34, 3), (11, 9), (3, 27), (1, 81)],
        [(15, 9), (5, 27), (1, 81)],
        [(8, 27), (2, 81)],
        [(5, 81)],
    ]
    assert hyperband_brackets(20, 3, min_epochs=2) == [
        [(27, 2), (9, 6), (3, 18), (1, 20)], [(12, 6), (4, 18), (1, 20)], [(6, 18), (2, 20)], [(4, 20)]]


@pytest.mark.parametrize("call, error, key", [
    (lambda: rungs(0, 9, 3), ValueError, "min_epochs"),
    (lambda: rungs(4, 3, 3), ValueError, "max_epochs"),
    (lambda: rungs(1, 9, 1), ValueError, "eta"),
    (lambda: rungs(1, 9, 2.5), TypeError, "eta"),
    (lambda: promote({0: 0.1}, -1), ValueError, "keep"),
    (lambda: promote({0: "bad"}, 1), TypeError, "score of trial 0"),
    (lambda: promote([0.1], 1), TypeError, "scores"),
    (lambda: successive_halving_plan(0, 1, 9, 3), ValueError, "n_trials"),
    (lambda: hyperband_brackets(9, 1), ValueError, "eta"),
    (lambda: asha_decision({}, 0, 0, 3), ValueError, "rung 0"),
    (lambda: asha_decision({0: [(1, 0.1)]}, 0, 0, 3), ValueError, "trial 0"),
    (lambda: asha_decision({0: [(1, 0.1), (1, 0.2)]}, 1, 0, 3), ValueError, "twice"),
    (lambda: asha_decision({0: [(1, 0.1)]}, 1, 0, 1), ValueError, "eta"),
])
def test_bad_input_names_the_argument(call, error, key):
    with pytest.raises(error, match=key):
        call()

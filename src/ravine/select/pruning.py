"""Pruning by epochs: successive halving, Hyperband and ASHA, as pure, deterministic rules.

Successive halving (Jamieson & Talwalkar 2016) trains n trials for r₀ epochs, keeps the best
⌊n/η⌋, trains those to r₀·η epochs, and so on up to the full budget R; a promoted trial continues
from its saved state, so rung r costs only the epochs between rungs. Hyperband (Li et al. 2017) runs
several such brackets, from many trials with a small first budget to a few trained to R from the
start. ASHA (Li et al. 2018) promotes asynchronously: a trial moves up from a rung as soon as it is
in the top 1/η of the scores seen at that rung so far.

Scores are minimized (validation error or loss); NaN (a diverged run) ranks last; ties go to the
lower trial index, so every worker count gives the same decisions.

Example::

    rungs(1, 27, 3)                         # [1, 3, 9, 27]
    successive_halving_plan(27, 1, 27, 3)   # [(27, 1), (9, 3), (3, 9), (1, 27)]
    promote({0: 0.3, 1: 0.1, 2: 0.1}, 2)    # [1, 2]
"""

from __future__ import annotations

import math
import numbers

from .._checks import check_int


def _epochs(min_epochs, max_epochs, eta, owner):
    min_epochs = check_int("min_epochs", min_epochs, minimum=1, owner=owner)
    max_epochs = check_int("max_epochs", max_epochs, minimum=min_epochs, owner=owner,
                           hint="at least min_epochs")
    eta = check_int("eta", eta, minimum=2, owner=owner, hint="the factor between rungs")
    return min_epochs, max_epochs, eta


def rungs(min_epochs: int, max_epochs: int, eta: int) -> list[int]:
    """The epoch budgets of successive halving: ``r_k = min_epochs·η^k`` while below
    ``max_epochs``, then ``max_epochs`` itself (the last rung always trains the full budget)."""
    min_epochs, max_epochs, eta = _epochs(min_epochs, max_epochs, eta, "rungs")
    budgets, budget = [], min_epochs
    while budget < max_epochs:
        budgets.append(budget)
        budget *= eta
    return budgets + [max_epochs]


def _rank_key(item):
    index, score = item
    score = float(score)
    return (math.isnan(score), score, index)  # NaN last, then lower score, then lower index


def _check_scores(scores, owner):
    for index, score in scores:
        check_int("trial index", index, minimum=0, owner=owner)
        if isinstance(score, bool) or not isinstance(score, numbers.Real):
            raise TypeError(f"{owner}: score of trial {index} must be a number; got {score!r}")


def promote(scores: dict[int, float], keep: int) -> list[int]:
    """The ``keep`` best trial indices, best first: sorted by (score, index), lower better, NaN last.

    Example::

        promote({4: 0.2, 1: 0.2, 7: 0.1}, 2)   # [7, 1]: the tie at 0.2 goes to trial 1
    """
    if not isinstance(scores, dict):
        raise TypeError(f"promote: scores must be a dict of trial index -> score; got {scores!r}")
    keep = check_int("keep", keep, minimum=0, owner="promote")
    _check_scores(scores.items(), "promote")
    return [index for index, _ in sorted(scores.items(), key=_rank_key)[:keep]]


def successive_halving_plan(n_trials: int, min_epochs: int, max_epochs: int,
                            eta: int) -> list[tuple[int, int]]:
    """(trials kept, epochs reached) per rung: ``n₀ = n_trials``, ``n_{k+1} = max(1, ⌊n_k/η⌋)``,
    epochs from ``rungs(min_epochs, max_epochs, eta)``.

    The total cost is ``Σ_k n_k·(r_k − r_{k−1})`` epochs, since promoted trials continue."""
    n = check_int("n_trials", n_trials, minimum=1, owner="successive_halving_plan")
    plan = []
    for epochs in rungs(*_epochs(min_epochs, max_epochs, eta, "successive_halving_plan")):
        plan.append((n, epochs))
        n = max(1, n // eta)
    return plan


def hyperband_brackets(max_epochs: int, eta: int, min_epochs: int = 1) -> list[list[tuple[int, int]]]:
    """Hyperband's brackets, most aggressive first, each a successive-halving plan.

    With rungs ``r_0 < … < r_{s_max}`` from ``rungs(min_epochs, max_epochs, eta)``, bracket
    ``s = s_max … 0`` starts ``n_s = ⌈(s_max + 1)·η^s / (s + 1)⌉`` trials at rung ``r_{s_max−s}``
    and keeps ``⌊n_s/η^i⌋`` at its i-th rung (Li et al. 2017, Algorithm 1). For R = 81, η = 3:
    (81 @ 1, 27 @ 3, 9 @ 9, 3 @ 27, 1 @ 81), (34 @ 3, 11 @ 9, 3 @ 27, 1 @ 81), ..., (5 @ 81).
    """
    budgets = rungs(*_epochs(min_epochs, max_epochs, eta, "hyperband_brackets"))
    s_max = len(budgets) - 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = -(-(s_max + 1) * eta ** s // (s + 1))
        brackets.append([(n // eta ** i, budgets[s_max - s + i]) for i in range(s + 1)])
    return brackets


def asha_decision(rung_scores: dict, trial: int, rung, eta: int) -> bool:
    """Whether ASHA promotes ``trial`` from ``rung``: it is among the ``⌊m/η⌋`` best of the m
    scores seen at that rung so far (ranked as in ``promote``).

    ``rung_scores[rung]`` lists ``(trial index, score)`` pairs in any order. A trial not promoted
    now may be later, when more scores arrive at its rung: ask again then.
    """
    eta = check_int("eta", eta, minimum=2, owner="asha_decision")
    if not isinstance(rung_scores, dict) or rung not in rung_scores:
        raise ValueError(f"asha_decision: rung {rung!r} has no scores in rung_scores")
    seen = list(rung_scores[rung])
    _check_scores(seen, "asha_decision")
    indices = [index for index, _ in seen]
    if len(set(indices)) != len(indices):
        raise ValueError(f"asha_decision: rung {rung!r} lists a trial twice: {sorted(indices)}")
    if trial not in indices:
        raise ValueError(f"asha_decision: trial {trial!r} has no score at rung {rung!r}")
    top = sorted(seen, key=_rank_key)[:len(seen) // eta]
    return any(index == trial for index, _ in top)

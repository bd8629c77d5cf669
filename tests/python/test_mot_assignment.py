"""opticore.mot.linear_assignment against scipy.optimize.linear_sum_assignment: random, rectangular,
tied and gated matrices; bad input."""

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from opticore.mot import linear_assignment

SHAPES = [(0, 0), (0, 3), (3, 0), (1, 1), (1, 5), (5, 1), (4, 4), (7, 3), (3, 7), (20, 20), (31, 17), (17, 31)]


def check_matching(rows, cols, n, m):
    assert rows.dtype == np.int64 and cols.dtype == np.int64
    assert np.all(np.diff(rows) > 0)  # ascending, each row once
    assert len(set(cols.tolist())) == len(cols)
    assert np.all((rows >= 0) & (rows < n)) and np.all((cols >= 0) & (cols < m))


def gated_reference(cost, max_cost):
    """The least sum(cost - max_cost) over partial matchings, by SciPy on the matrix with a private
    'unmatched' column of cost max_cost for each row (pairs at or above the gate forbidden)."""
    n, m = cost.shape
    big = np.where(cost < max_cost, cost, np.inf)
    dummy = np.full((n, n), np.inf)
    np.fill_diagonal(dummy, max_cost)
    full = np.hstack([big, dummy])
    if n == 0:
        return 0.0
    r, c = linear_sum_assignment(full)
    return float(full[r, c].sum() - n * max_cost)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["uniform", "ties", "huge"])
def test_full_assignment_equals_scipy(shape, kind):
    rng = np.random.default_rng(100 * shape[0] + shape[1] + len(kind))
    if kind == "uniform":
        cost = rng.random(shape)
    elif kind == "ties":
        cost = rng.integers(0, 3, shape).astype(float)
    else:
        cost = rng.normal(0, 1e12, shape)
    rows, cols = linear_assignment(cost)
    check_matching(rows, cols, *shape)
    r, c = linear_sum_assignment(cost)
    assert len(rows) == len(r) == min(shape)
    assert cost[rows, cols].sum() == pytest.approx(cost[r, c].sum(), rel=1e-12, abs=1e-9)
    if kind == "uniform":  # no ties: the same pairs
        np.testing.assert_array_equal(rows, r)
        np.testing.assert_array_equal(cols, c)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("density", [0.1, 0.5, 1.0])
def test_gated_assignment_is_optimal(shape, density):
    rng = np.random.default_rng(1000 * shape[0] + shape[1] + int(density * 10))
    for trial in range(5):
        cost = np.where(rng.random(shape) < density, rng.random(shape), np.inf)
        if trial % 2:
            cost = np.round(cost * 4) / 4  # ties, some exactly at the gate
        max_cost = 0.5
        rows, cols = linear_assignment(cost, max_cost=max_cost)
        check_matching(rows, cols, *shape)
        assert np.all(cost[rows, cols] < max_cost)
        ours = float((cost[rows, cols] - max_cost).sum())
        assert ours == pytest.approx(gated_reference(cost, max_cost), abs=1e-12)


def test_gate_examples():
    # A cheap pair at the gate is never taken; a pair below it always when nothing competes.
    rows, cols = linear_assignment(np.array([[0.5, 0.2], [0.1, 0.7]]), max_cost=0.5)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    rows, cols = linear_assignment(np.array([[0.5]]), max_cost=0.5)
    assert len(rows) == 0
    # Matching one row with its second choice beats leaving another unmatched.
    rows, cols = linear_assignment(np.array([[0.1, 0.3], [0.2, np.inf]]), max_cost=1.0)
    assert rows.tolist() == [0, 1] and cols.tolist() == [1, 0]
    # -inf gate: nothing is matched.
    assert len(linear_assignment(np.zeros((3, 3)), max_cost=-np.inf)[0]) == 0


def test_views_and_dtypes():
    rng = np.random.default_rng(5)
    cost = rng.random((9, 12))
    expected = linear_assignment(cost)
    for variant in (cost.T.copy().T, cost.astype(np.float32).astype(np.float64), np.asfortranarray(cost)):
        np.testing.assert_array_equal(linear_assignment(variant)[1], expected[1])
    np.testing.assert_array_equal(linear_assignment(cost[::-1])[0], np.arange(9))
    ints = rng.integers(0, 100, (5, 5))
    r, c = linear_sum_assignment(ints)
    rows, cols = linear_assignment(ints)
    assert ints[rows, cols].sum() == ints[r, c].sum()


@pytest.mark.parametrize(
    "cost, max_cost, error, words",
    [
        (np.array([[np.nan]]), None, ValueError, "cost: expected finite"),
        (np.array([[np.inf]]), None, ValueError, "cost: expected finite"),
        (np.array([[-np.inf]]), 1.0, ValueError, "cost: expected no NaN or -inf"),
        (np.array([[np.nan]]), 1.0, ValueError, "cost: expected no NaN"),
        (np.zeros(3), None, ValueError, "cost: expected shape (N, M)"),
        (np.zeros((2, 2, 2)), None, ValueError, "cost: expected shape (N, M)"),
        (np.array([["a"]]), None, TypeError, "cost: expected real"),
        (np.zeros((2, 2)), float("nan"), ValueError, "max_cost"),
        (np.zeros((2, 2)), "1", TypeError, "max_cost"),
    ],
)
def test_bad_input(cost, max_cost, error, words):
    with pytest.raises(error, match=words.replace("(", r"\(").replace(")", r"\)")):
        linear_assignment(cost, max_cost)

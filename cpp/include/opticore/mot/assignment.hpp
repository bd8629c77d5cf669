// Linear assignment (the rectangular linear sum assignment problem), solved exactly by the
// Jonker-Volgenant shortest augmenting path method with dual variables (Dijkstra over reduced costs;
// O(n^2 m) for n <= m), with an optional cost gate.
//
// Without a gate (max_cost = +inf): every entry must be finite; min(N, M) pairs are returned, one
// per row of the smaller side, with the least total cost (what scipy.optimize.linear_sum_assignment
// returns; with ties, the pairs may differ but not the total).
//
// With a gate (finite max_cost): a pair whose cost is >= max_cost (+inf included) is never matched,
// any row or column may stay unmatched, and the pairs returned minimise sum(cost - max_cost) over the
// matched pairs. So max_cost is the price of leaving a row (or a column) unmatched: a pair is worth
// matching when its cost is below it. The bipartite graph of allowed pairs is split into connected
// components, each solved alone: with the sparse IoU costs of tracking, most are 1 x 1.
//
// Requires: cost.rows, cost.cols >= 0; no NaN entry; no -inf entry; +inf only with a gate; max_cost
// not NaN. Throws std::invalid_argument naming `cost` or `max_cost` otherwise.
// Ensures:  rows sorted ascending, cols[i] the column of rows[i]; `cost` the sum of their costs.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore {

struct Assignment {
  std::vector<int64_t> rows;
  std::vector<int64_t> cols;
  double cost = 0.0;
};

Assignment linear_assignment(MatrixView<double> cost, double max_cost = std::numeric_limits<double>::infinity());

}  // namespace opticore

#include "opticore/mot/assignment.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/detail/check.hpp"
#include "opticore/core/limits.hpp"

namespace opticore {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Shortest augmenting path solver for an n x m problem, n <= m, in which every row is matched.
/// cost(i, j) may be +inf (forbidden); the caller guarantees a feasible full row matching.
/// Returns col_of_row.
template <class Cost>
std::vector<int64_t> solve_dense(int64_t n, int64_t m, const Cost& cost) {
  std::vector<double> u(static_cast<size_t>(n), 0.0), v(static_cast<size_t>(m), 0.0);
  std::vector<int64_t> col_of_row(static_cast<size_t>(n), -1), row_of_col(static_cast<size_t>(m), -1);
  std::vector<double> shortest(static_cast<size_t>(m));
  std::vector<int64_t> path(static_cast<size_t>(m)), remaining(static_cast<size_t>(m)), visited_rows;
  std::vector<char> col_done(static_cast<size_t>(m));
  for (int64_t start = 0; start < n; ++start) {
    std::fill(shortest.begin(), shortest.end(), kInf);
    std::fill(col_done.begin(), col_done.end(), 0);
    std::iota(remaining.begin(), remaining.end(), int64_t{0});
    int64_t num_remaining = m;
    visited_rows.clear();
    double min_value = 0.0;
    int64_t i = start, sink = -1;
    while (sink < 0) {
      visited_rows.push_back(i);
      int64_t best = -1;
      double lowest = kInf;
      bool best_free = false;
      for (int64_t r = 0; r < num_remaining; ++r) {
        const int64_t j = remaining[static_cast<size_t>(r)];
        const double reduced = min_value + cost(i, j) - u[static_cast<size_t>(i)] - v[static_cast<size_t>(j)];
        double& sj = shortest[static_cast<size_t>(j)];
        if (reduced < sj) {
          path[static_cast<size_t>(j)] = i;
          sj = reduced;
        }
        // The lowest; on a tie a free column, which ends the search sooner.
        const bool free = row_of_col[static_cast<size_t>(j)] < 0;
        if (sj < lowest || (sj == lowest && free && !best_free)) {
          lowest = sj;
          best = r;
          best_free = free;
        }
      }
      if (best < 0 || lowest == kInf) detail::fail("cost: no feasible assignment (internal error)");
      min_value = lowest;
      const int64_t j = remaining[static_cast<size_t>(best)];
      remaining[static_cast<size_t>(best)] = remaining[static_cast<size_t>(--num_remaining)];
      col_done[static_cast<size_t>(j)] = 1;
      if (row_of_col[static_cast<size_t>(j)] < 0) {
        sink = j;
      } else {
        i = row_of_col[static_cast<size_t>(j)];
      }
    }
    // Dual update keeps every reduced cost >= 0 and those on the tree of shortest paths at 0.
    u[static_cast<size_t>(start)] += min_value;
    for (size_t k = 1; k < visited_rows.size(); ++k) {
      const int64_t r = visited_rows[k];
      u[static_cast<size_t>(r)] += min_value - shortest[static_cast<size_t>(col_of_row[static_cast<size_t>(r)])];
    }
    for (int64_t j = 0; j < m; ++j) {
      if (col_done[static_cast<size_t>(j)]) v[static_cast<size_t>(j)] -= min_value - shortest[static_cast<size_t>(j)];
    }
    // Augment along the path back to `start`.
    for (int64_t j = sink;;) {
      const int64_t r = path[static_cast<size_t>(j)];
      row_of_col[static_cast<size_t>(j)] = r;
      std::swap(col_of_row[static_cast<size_t>(r)], j);
      if (r == start) break;
    }
  }
  return col_of_row;
}

/// Union-find over rows (0..n-1) and columns (n..n+m-1).
struct Components {
  std::vector<int64_t> parent;
  explicit Components(int64_t size) : parent(static_cast<size_t>(size)) {
    std::iota(parent.begin(), parent.end(), int64_t{0});
  }
  int64_t find(int64_t x) {
    while (parent[static_cast<size_t>(x)] != x) {
      parent[static_cast<size_t>(x)] = parent[static_cast<size_t>(parent[static_cast<size_t>(x)])];
      x = parent[static_cast<size_t>(x)];
    }
    return x;
  }
  void join(int64_t a, int64_t b) { parent[static_cast<size_t>(find(a))] = find(b); }
};

void check_costs(const MatrixView<double>& cost, bool gated) {
  for (int64_t i = 0; i < cost.rows; ++i) {
    for (int64_t j = 0; j < cost.cols; ++j) {
      const double c = cost(i, j);
      if (std::isnan(c) || c == -kInf || (!gated && c == kInf)) {
        detail::fail("cost: expected ", gated ? "no NaN or -inf entry" : "finite entries (or give max_cost)", ", got ",
                     c, " at (", i, ", ", j, ")");
      }
    }
  }
}

/// The gated problem on one component: rows `rs` and columns `cs` of `cost`. Each row gets a private
/// dummy column of cost max_cost (its "unmatched" option), so every row can be matched and the
/// minimum of sum(cost) + max_cost * unmatched rows is the minimum of sum(cost - max_cost).
void solve_component(const MatrixView<double>& cost, double max_cost, const std::vector<int64_t>& rs,
                     const std::vector<int64_t>& cs, Assignment& out) {
  const auto nr = static_cast<int64_t>(rs.size()), nc = static_cast<int64_t>(cs.size());
  std::vector<double> dense(static_cast<size_t>(nr * nc));
  for (int64_t a = 0; a < nr; ++a) {
    for (int64_t b = 0; b < nc; ++b) {
      const double c = cost(rs[static_cast<size_t>(a)], cs[static_cast<size_t>(b)]);
      dense[static_cast<size_t>(a * nc + b)] = c < max_cost ? c : kInf;
    }
  }
  const auto entry = [&](int64_t a, int64_t b) {
    if (b < nc) return dense[static_cast<size_t>(a * nc + b)];
    return b - nc == a ? max_cost : kInf;
  };
  const std::vector<int64_t> col_of_row = solve_dense(nr, nc + nr, entry);
  for (int64_t a = 0; a < nr; ++a) {
    const int64_t b = col_of_row[static_cast<size_t>(a)];
    if (b < nc) {
      out.rows.push_back(rs[static_cast<size_t>(a)]);
      out.cols.push_back(cs[static_cast<size_t>(b)]);
    }
  }
}

Assignment solve_gated(const MatrixView<double>& cost, double max_cost) {
  const int64_t n = cost.rows, m = cost.cols;
  Components components(n + m);
  std::vector<char> has_edge(static_cast<size_t>(n + m), 0);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = 0; j < m; ++j) {
      if (cost(i, j) < max_cost) {
        components.join(i, n + j);
        has_edge[static_cast<size_t>(i)] = has_edge[static_cast<size_t>(n + j)] = 1;
      }
    }
  }
  // Group rows and columns by component root, keeping their order.
  std::vector<std::vector<int64_t>> rows_of(static_cast<size_t>(n + m)), cols_of(static_cast<size_t>(n + m));
  for (int64_t i = 0; i < n; ++i) {
    if (has_edge[static_cast<size_t>(i)]) rows_of[static_cast<size_t>(components.find(i))].push_back(i);
  }
  for (int64_t j = 0; j < m; ++j) {
    if (has_edge[static_cast<size_t>(n + j)]) cols_of[static_cast<size_t>(components.find(n + j))].push_back(j);
  }
  Assignment out;
  for (int64_t root = 0; root < n + m; ++root) {
    const auto& rs = rows_of[static_cast<size_t>(root)];
    const auto& cs = cols_of[static_cast<size_t>(root)];
    if (rs.empty()) continue;
    if (rs.size() == 1 && cs.size() == 1) {  // the common case: one track, one detection
      out.rows.push_back(rs[0]);
      out.cols.push_back(cs[0]);
    } else if (rs.size() <= cs.size()) {
      solve_component(cost, max_cost, rs, cs, out);
    } else {  // fewer columns: solve the transposed component
      const MatrixView<double> t(cost.data, cost.cols, cost.rows, cost.col_stride, cost.row_stride);
      Assignment transposed;
      solve_component(t, max_cost, cs, rs, transposed);
      out.rows.insert(out.rows.end(), transposed.cols.begin(), transposed.cols.end());
      out.cols.insert(out.cols.end(), transposed.rows.begin(), transposed.rows.end());
    }
  }
  return out;
}

Assignment solve_full(const MatrixView<double>& cost) {
  Assignment out;
  if (cost.rows <= cost.cols) {
    const auto col_of_row = solve_dense(cost.rows, cost.cols, [&](int64_t i, int64_t j) { return cost(i, j); });
    for (int64_t i = 0; i < cost.rows; ++i) {
      out.rows.push_back(i);
      out.cols.push_back(col_of_row[static_cast<size_t>(i)]);
    }
  } else {
    const auto row_of_col = solve_dense(cost.cols, cost.rows, [&](int64_t j, int64_t i) { return cost(i, j); });
    for (int64_t j = 0; j < cost.cols; ++j) {
      out.rows.push_back(row_of_col[static_cast<size_t>(j)]);
      out.cols.push_back(j);
    }
  }
  return out;
}

}  // namespace

Assignment linear_assignment(MatrixView<double> cost, double max_cost) {
  if (cost.rows < 0 || cost.cols < 0)
    detail::fail("cost: expected a 2-D shape, got (", cost.rows, ", ", cost.cols, ")");
  if (std::isnan(max_cost)) detail::fail("max_cost: expected a number or +inf, got nan");
  check_array_size("cost", {cost.rows, cost.cols}, sizeof(double));
  const bool gated = max_cost != kInf;
  check_costs(cost, gated);
  Assignment out = gated ? solve_gated(cost, max_cost) : solve_full(cost);
  // Sorted by row.
  std::vector<size_t> order(out.rows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out.rows[a] < out.rows[b]; });
  Assignment sorted;
  for (size_t k : order) {
    sorted.rows.push_back(out.rows[k]);
    sorted.cols.push_back(out.cols[k]);
    sorted.cost += cost(out.rows[k], out.cols[k]);
  }
  return sorted;
}

}  // namespace opticore

// A uniform grid over the plane that answers "which stored boxes may overlap this box?".
//
// Why: greedy NMS compares each candidate with the boxes kept so far, O(N * kept) when done
// naively (torchvision, OpenCV). Boxes only interact when they overlap, so bucketing them by grid
// cell makes each query touch just the neighbourhood: O(N * neighbours).
//
// The grid is sized from the boxes it may hold (all known up front): cells about the mean box
// size, at most ~4 cells per box in all. A box is registered in every cell its extent touches; a
// box spanning more than kMaxCellsPerBox cells goes to a list that every query scans instead.
// Since the candidates are known, each cell gets a fixed slice of one flat array sized for every
// candidate that touches it: inserting never allocates, and a cell's ids stay contiguous. Two boxes whose
// intersection has positive area share at least one cell (a point inside both lies in one), so a
// query never misses a box with IoU > 0. A query may report the same id more than once.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "boxes/detail/box.hpp"
#include "core/detail/check.hpp"

namespace opticore::detail {

class BoxGrid {
 public:
  /// Ids are int32: throws std::invalid_argument when `n` boxes would not fit.
  static void check_capacity(int64_t n) {
    if (n > std::numeric_limits<int32_t>::max()) fail("boxes: at most 2^31 - 1 boxes are supported, got ", n);
  }

  /// Lays out a grid fitted to `boxes`; insert(i, boxes[i]) may then be called once per box.
  explicit BoxGrid(const std::vector<Box>& boxes) {
    // Bounds and mean size in half units (x / 2), which cannot overflow for finite boxes; the
    // mean is a running one for the same reason.
    double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
    double mean_w = 0.0, mean_h = 0.0;
    int64_t count = 0;
    for (const Box& b : boxes) {
      if (b.empty()) continue;  // empty boxes overlap nothing and are never stored
      min_x = std::min(min_x, b.x1);
      min_y = std::min(min_y, b.y1);
      max_x = std::max(max_x, b.x2);
      max_y = std::max(max_y, b.y2);
      ++count;
      mean_w += (half(b.x2) - half(b.x1) - mean_w) / static_cast<double>(count);
      mean_h += (half(b.y2) - half(b.y1) - mean_h) / static_cast<double>(count);
    }
    if (count == 0) return;
    origin_x_ = half(min_x);
    origin_y_ = half(min_y);
    nx_ = cells_along(half(max_x) - origin_x_, mean_w);
    ny_ = cells_along(half(max_y) - origin_y_, mean_h);
    // At most ~4 cells per box in all (and at most kMaxCellsPerAxis^2): the memory is O(N).
    const int64_t max_cells = 4 * count + 16;
    while (nx_ * ny_ > max_cells) {
      if (nx_ >= ny_)
        nx_ = (nx_ + 1) / 2;
      else
        ny_ = (ny_ + 1) / 2;
    }
    // Scale factors from half coordinates to cell units. An extent too small for that (empty, or
    // so tiny that the factor overflows) gets a single cell along its axis.
    scale_x_ = static_cast<double>(nx_) / (half(max_x) - origin_x_);
    scale_y_ = static_cast<double>(ny_) / (half(max_y) - origin_y_);
    if (!std::isfinite(scale_x_)) nx_ = 1, scale_x_ = 0.0;
    if (!std::isfinite(scale_y_)) ny_ = 1, scale_y_ = 0.0;

    // Room in each cell for every box that touches it: count, then prefix-sum into offsets.
    const size_t n_cells = static_cast<size_t>(nx_ * ny_);
    begin_.assign(n_cells + 1, 0);
    for (const Box& b : boxes) {
      if (b.empty()) continue;
      const Span s = span(b);
      if (s.cells() > kMaxCellsPerBox) continue;
      for_each_cell(s, [&](size_t c) { ++begin_[c + 1]; });
    }
    for (size_t c = 0; c < n_cells; ++c) begin_[c + 1] += begin_[c];
    end_.assign(begin_.begin(), begin_.end() - 1);
    slots_.resize(static_cast<size_t>(begin_.back()));
  }

  /// Stores `id` for `box` (one of the boxes given to the constructor, each at most once).
  /// Empty boxes are ignored: they overlap nothing.
  void insert(int32_t id, const Box& box) {
    if (box.empty() || begin_.empty()) return;
    all_.push_back(id);
    const Span s = span(box);
    if (s.cells() > kMaxCellsPerBox) {
      wide_.push_back(id);
      return;
    }
    for_each_cell(s, [&](size_t c) { slots_[static_cast<size_t>(end_[c]++)] = id; });
  }

  /// Calls visit(id) for every stored id that may overlap `box` (ids may repeat) until visit
  /// returns true; returns whether it did.
  template <class Visit>
  bool any_near(const Box& box, Visit&& visit) const {
    if (box.empty() || begin_.empty()) return false;
    const Span s = span(box);
    if (s.cells() > kMaxCellsPerQuery) {
      for (int32_t id : all_)
        if (visit(id)) return true;
      return false;
    }
    for (int32_t id : wide_)
      if (visit(id)) return true;
    for (int64_t cy = s.y0; cy <= s.y1; ++cy) {
      for (int64_t cx = s.x0; cx <= s.x1; ++cx) {
        const size_t c = static_cast<size_t>(cy * nx_ + cx);
        for (int64_t k = begin_[c]; k < end_[c]; ++k)
          if (visit(slots_[static_cast<size_t>(k)])) return true;
      }
    }
    return false;
  }

 private:
  static constexpr int64_t kMaxCellsPerBox = 16;
  static constexpr int64_t kMaxCellsPerQuery = 256;
  static constexpr int64_t kMaxCellsPerAxis = 1 << 12;

  struct Span {
    int64_t x0, x1, y0, y1;
    int64_t cells() const { return (x1 - x0 + 1) * (y1 - y0 + 1); }
  };

  static double half(double v) { return 0.5 * v; }

  static int64_t cells_along(double extent, double mean_size) {
    const double n = std::ceil(extent / mean_size);  // NaN or inf for degenerate inputs
    if (!(n > 1.0)) return 1;
    return n < kMaxCellsPerAxis ? static_cast<int64_t>(n) : kMaxCellsPerAxis;
  }

  // Monotone in v (what makes overlapping boxes share a cell); clamping in double before the
  // cast keeps every finite coordinate well defined.
  static int64_t cell_of(double v, double origin, double scale, int64_t n) {
    const double c = std::floor((half(v) - origin) * scale);
    if (!(c > 0.0)) return 0;
    return c < static_cast<double>(n - 1) ? static_cast<int64_t>(c) : n - 1;
  }

  template <class F>
  void for_each_cell(const Span& s, F&& f) const {
    for (int64_t cy = s.y0; cy <= s.y1; ++cy) {
      for (int64_t cx = s.x0; cx <= s.x1; ++cx) f(static_cast<size_t>(cy * nx_ + cx));
    }
  }

  Span span(const Box& b) const {
    return {cell_of(b.x1, origin_x_, scale_x_, nx_), cell_of(b.x2, origin_x_, scale_x_, nx_),
            cell_of(b.y1, origin_y_, scale_y_, ny_), cell_of(b.y2, origin_y_, scale_y_, ny_)};
  }

  double origin_x_ = 0.0, origin_y_ = 0.0, scale_x_ = 0.0, scale_y_ = 0.0;
  int64_t nx_ = 1, ny_ = 1;
  std::vector<int64_t> begin_;  // cell c's slice of slots_ starts at begin_[c] (n_cells + 1 values)
  std::vector<int64_t> end_;    // ... and is filled up to end_[c]
  std::vector<int32_t> slots_;
  std::vector<int32_t> wide_;  // boxes spanning more than kMaxCellsPerBox cells
  std::vector<int32_t> all_;   // every stored id, for queries wider than kMaxCellsPerQuery cells
};

}  // namespace opticore::detail

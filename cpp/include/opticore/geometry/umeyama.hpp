// Least-squares similarity (or rigid) transform between two point sets: Umeyama, "Least-squares
// estimation of transformation parameters between two point patterns", PAMI 1991.
//
// Finds scale c, rotation R (det R = +1: a reflection in the data is resolved by flipping the
// sign of the smallest singular direction) and translation t minimising
// sum_i || dst_i - (c R src_i + t) ||^2, and returns it as the (D+1) x (D+1) homogeneous matrix
//     [ c R  t ]
//     [ 0    1 ]
// row-major, the same matrix as skimage.transform.SimilarityTransform(...).params (and
// EuclideanTransform when estimate_scale is false, c = 1).
//
// Degenerate input: when src or dst spans fewer than D - 1 dimensions (fewer than D points in
// general position, e.g. all points equal, or collinear points in 3-D), so that the
// cross-covariance has rank < D - 1, the rotation is not determined. umeyama() throws std::invalid_argument;
// umeyama_batch() fills that set's matrix with NaN and carries on.
//
// Requires: src and dst of the same shape (N, D), N >= 1, 1 <= D <= kMaxPointDims (64; the SVD
//           is O(D^3)), finite values.
// Throws:   std::invalid_argument naming the argument otherwise.
#pragma once

#include <cstdint>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore {

/// (D+1)^2 doubles, row-major.
template <class T>
std::vector<double> umeyama(MatrixView<T> src, MatrixView<T> dst, bool estimate_scale = true);

/// B point sets at once: src and dst are (B, N, D); `out` receives B * (D+1)^2 doubles (set b's
/// matrix at out + b * (D+1)^2). Sets are spread over get_num_threads() threads.
template <class T>
void umeyama_batch(MatrixBatchView<T> src, MatrixBatchView<T> dst, bool estimate_scale, double* out);

}  // namespace opticore

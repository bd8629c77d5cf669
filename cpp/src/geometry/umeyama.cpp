#include "opticore/geometry/umeyama.hpp"

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/detail/check.hpp"
#include "core/detail/parallel.hpp"
#include "opticore/core/limits.hpp"

namespace opticore {
namespace {

// D = 2 and 3 (faces, point clouds) get fixed-size Eigen types: no heap, unrolled SVDs.
template <int D>
using Square = Eigen::Matrix<double, D, D>;
template <int D>
using Vector = Eigen::Matrix<double, D, 1>;

/// Fits one set; writes (D+1)^2 values to `out`. Returns false (out = NaN) when degenerate.
template <int D, class T>
bool fit(const MatrixView<T>& src, const MatrixView<T>& dst, bool estimate_scale, double* out) {
  const int64_t n = src.rows;
  const int d = static_cast<int>(src.cols);
  const int k = d + 1;
  Vector<D> src_mean = Vector<D>::Zero(d), dst_mean = Vector<D>::Zero(d);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) {
      src_mean(j) += static_cast<double>(src(i, j));
      dst_mean(j) += static_cast<double>(dst(i, j));
    }
  }
  src_mean /= static_cast<double>(n);
  dst_mean /= static_cast<double>(n);

  // Cross-covariance A = dst_demeaned^T src_demeaned / n, and the source variance.
  Square<D> a = Square<D>::Zero(d, d);
  double src_var = 0.0;
  Vector<D> s(d), t(d);
  for (int64_t i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) {
      s(j) = static_cast<double>(src(i, j)) - src_mean(j);
      t(j) = static_cast<double>(dst(i, j)) - dst_mean(j);
    }
    a.noalias() += t * s.transpose();
    src_var += s.squaredNorm();
  }
  a /= static_cast<double>(n);
  src_var /= static_cast<double>(n);

  Eigen::JacobiSVD<Square<D>> svd(a, Eigen::ComputeFullU | Eigen::ComputeFullV);
  const auto& sv = svd.singularValues();
  // Rank as numpy.linalg.matrix_rank counts it, so degenerate sets agree with scikit-image.
  const double tol = sv.maxCoeff() * d * std::numeric_limits<double>::epsilon();
  int rank = 0;
  for (int j = 0; j < d; ++j) rank += sv(j) > tol ? 1 : 0;

  Eigen::Map<Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> m(out, k, k);
  if (rank < d - 1 || rank == 0 || !(src_var > 0.0)) {
    m.setConstant(std::numeric_limits<double>::quiet_NaN());
    return false;
  }

  // Flip the smallest direction when needed so that R is a rotation (det R = +1).
  Vector<D> sign = Vector<D>::Ones(d);
  const Square<D>& u = svd.matrixU();
  const Square<D>& v = svd.matrixV();
  if (rank == d - 1) {
    if (u.determinant() * v.determinant() < 0) sign(d - 1) = -1.0;
  } else if (a.determinant() < 0) {
    sign(d - 1) = -1.0;
  }
  const Square<D> rotation = u * sign.asDiagonal() * v.transpose();
  const double scale = estimate_scale ? sv.dot(sign) / src_var : 1.0;

  m.setZero();
  m.topLeftCorner(d, d) = scale * rotation;
  m.topRightCorner(d, 1) = dst_mean - scale * (rotation * src_mean);
  m(d, d) = 1.0;
  return true;
}

template <class T>
bool fit_any(const MatrixView<T>& src, const MatrixView<T>& dst, bool estimate_scale, double* out) {
  // N points span at most N - 1 dimensions: fewer than D points are degenerate, no SVD needed.
  if (src.rows < src.cols) {
    std::fill(out, out + (src.cols + 1) * (src.cols + 1), std::numeric_limits<double>::quiet_NaN());
    return false;
  }
  switch (src.cols) {
    case 2:
      return fit<2>(src, dst, estimate_scale, out);
    case 3:
      return fit<3>(src, dst, estimate_scale, out);
    default:
      return fit<Eigen::Dynamic>(src, dst, estimate_scale, out);
  }
}

template <class T>
void check_points(const MatrixView<T>& src, const MatrixView<T>& dst) {
  if (src.rows != dst.rows || src.cols != dst.cols) {
    detail::fail("dst: expected the shape of src (", src.rows, ", ", src.cols, "), got (", dst.rows, ", ", dst.cols,
                 ")");
  }
  if (src.rows < 1 || src.cols < 1)
    detail::fail("src: expected at least one point of dimension >= 1, got (", src.rows, ", ", src.cols, ")");
  if (src.cols > kMaxPointDims) {
    detail::fail("src: expected points of dimension D <= ", kMaxPointDims, " (opticore::kMaxPointDims), got ",
                 src.cols);
  }
  for (const auto* view : {&src, &dst}) {
    for (int64_t i = 0; i < view->rows; ++i) {
      for (int64_t j = 0; j < view->cols; ++j) {
        if (!std::isfinite(static_cast<double>((*view)(i, j)))) {
          detail::fail(view == &src ? "src" : "dst", ": expected finite coordinates, got ", (*view)(i, j), " at point ",
                       i);
        }
      }
    }
  }
}

}  // namespace

template <class T>
std::vector<double> umeyama(MatrixView<T> src, MatrixView<T> dst, bool estimate_scale) {
  check_points(src, dst);
  std::vector<double> out(static_cast<size_t>((src.cols + 1) * (src.cols + 1)));
  if (!fit_any(src, dst, estimate_scale, out.data())) {
    detail::fail(
        "src, dst: degenerate point sets (src or dst spans fewer than D - 1 dimensions, e.g. "
        "all points equal): the transform is not determined");
  }
  return out;
}

template <class T>
void umeyama_batch(MatrixBatchView<T> src, MatrixBatchView<T> dst, bool estimate_scale, double* out) {
  if (src.batch != dst.batch) detail::fail("dst: expected ", src.batch, " point sets like src, got ", dst.batch);
  const int64_t k = (src.cols + 1) * (src.cols + 1);
  for (int64_t b = 0; b < src.batch; ++b) check_points(src[b], dst[b]);
  detail::parallel_for(src.batch, 2048, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) fit_any(src[b], dst[b], estimate_scale, out + b * k);
  });
}

template std::vector<double> umeyama(MatrixView<float>, MatrixView<float>, bool);
template std::vector<double> umeyama(MatrixView<double>, MatrixView<double>, bool);
template void umeyama_batch(MatrixBatchView<float>, MatrixBatchView<float>, bool, double*);
template void umeyama_batch(MatrixBatchView<double>, MatrixBatchView<double>, bool, double*);

}  // namespace opticore

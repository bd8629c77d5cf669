#include "opticore/mot/kalman.hpp"

#include <algorithm>
#include <cmath>

#include "core/detail/check.hpp"

namespace opticore {
namespace {

/// The size that scales coordinate k's noise: w for cx and w (k = 0, 2), h for cy and h (1, 3).
double noise_size(const double* mean, int k) {
  const double side = std::fabs(mean[2 + (k & 1)]);
  const double other = std::fabs(mean[2 + ((k & 1) ^ 1)]);
  return std::max({side, 1e-3 * other, 1e-9});
}

}  // namespace

void check_kalman_params(const KalmanParams& params) {
  detail::check_positive(params.std_weight_position, "std_weight_position");
  detail::check_positive(params.std_weight_velocity, "std_weight_velocity");
}

void check_track_boxes(MatrixView<double> boxes, const char* name) {
  detail::check_boxes(boxes, name);
  for (int64_t i = 0; i < boxes.rows; ++i) {
    for (int64_t k = 0; k < 4; ++k) {
      if (std::fabs(boxes(i, k)) > kMaxBoxCoordinate) {
        detail::fail(name, ": expected coordinates within +-", kMaxBoxCoordinate, ", got ", boxes(i, k), " at row ", i);
      }
    }
    if (boxes(i, 2) < boxes(i, 0) || boxes(i, 3) < boxes(i, 1)) {
      detail::fail(name, ": expected x2 >= x1 and y2 >= y1, got (", boxes(i, 0), ", ", boxes(i, 1), ", ", boxes(i, 2),
                   ", ", boxes(i, 3), ") at row ", i);
    }
  }
}

std::array<double, 4> box_to_measurement(const double* b) {
  return {0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3]), b[2] - b[0], b[3] - b[1]};
}

std::array<double, 4> state_to_box(const KalmanState& s) {
  const double* m = s.mean.data();
  return {m[0] - 0.5 * m[2], m[1] - 0.5 * m[3], m[0] + 0.5 * m[2], m[1] + 0.5 * m[3]};
}

KalmanState kalman_initiate(const double* xyxy, const KalmanParams& params) {
  KalmanState s;
  const auto z = box_to_measurement(xyxy);
  for (int k = 0; k < 4; ++k) s.mean[k] = z[k];
  for (int k = 0; k < 4; ++k) {
    const double size = noise_size(s.mean.data(), k);
    const double sp = 2.0 * params.std_weight_position * size;
    const double sv = 10.0 * params.std_weight_velocity * size;
    s.cov[3 * k] = sp * sp;
    s.cov[3 * k + 1] = 0.0;
    s.cov[3 * k + 2] = sv * sv;
  }
  return s;
}

void kalman_predict(KalmanState* states, int64_t n, const KalmanParams& params) {
  const double wp2 = params.std_weight_position * params.std_weight_position;
  const double wv2 = params.std_weight_velocity * params.std_weight_velocity;
  for (int64_t i = 0; i < n; ++i) {
    double* m = states[i].mean.data();
    double* p = states[i].cov.data();
    double size2[4];
    for (int k = 0; k < 4; ++k) size2[k] = noise_size(m, k) * noise_size(m, k);  // Q from the mean before the step
    for (int k = 0; k < 4; ++k) {
      m[k] += m[k + 4];
      double* b = p + 3 * k;  // [pp, pv, vv]
      b[0] += 2.0 * b[1] + b[2] + wp2 * size2[k];
      b[1] += b[2];
      b[2] += wv2 * size2[k];
    }
  }
}

void kalman_update(KalmanState& state, const double* xyxy, const KalmanParams& params) {
  const auto z = box_to_measurement(xyxy);
  double* m = state.mean.data();
  double* p = state.cov.data();
  double r[4];
  for (int k = 0; k < 4; ++k) {
    const double s = params.std_weight_position * noise_size(m, k);
    r[k] = s * s;  // R from the predicted mean, before the correction
  }
  for (int k = 0; k < 4; ++k) {
    double* b = p + 3 * k;
    const double innovation_var = b[0] + r[k];
    const double gain_p = b[0] / innovation_var, gain_v = b[1] / innovation_var;
    const double residual = z[k] - m[k];
    m[k] += gain_p * residual;
    m[k + 4] += gain_v * residual;
    // P - K S K^T, written so that the position terms keep their sign: pp * r / S.
    const double pp = b[0], pv = b[1];
    b[0] = pp * r[k] / innovation_var;
    b[1] = pv * r[k] / innovation_var;
    b[2] -= gain_v * pv;
  }
}

}  // namespace opticore

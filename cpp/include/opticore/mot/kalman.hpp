// The constant-velocity Kalman filter of the multi-object trackers, over a box state, batched.
//
// State (8 values): cx, cy, w, h, vcx, vcy, vw, vh: a box's centre, width and height and their
// velocities in units per frame. Measurement: (cx, cy, w, h) of a detection (a box x1, y1, x2, y2
// gives cx = (x1 + x2) / 2, w = x2 - x1). Transition F = [[I4, I4], [0, I4]], measurement H = [I4, 0].
//
// Noise standard deviations are proportional to the box's size, as in DeepSORT / ByteTrack, with
// the width scaling the horizontal coordinates (cx, w) and the height the vertical ones (cy, h):
// for coordinate k with size s_k (w for cx and w, h for cy and h, taken from the state's mean, or
// from the measurement at initiate):
//   process noise       Q: position std_weight_position * s_k, velocity std_weight_velocity * s_k
//   measurement noise   R: std_weight_position * s_k
//   initial covariance  P0: position 2 * std_weight_position * s_k, velocity 10 * std_weight_velocity * s_k
// (all standard deviations; variances are their squares). A size is taken as
// max(|s_k|, 1e-3 * |other side|, 1e-9) so that a degenerate (zero-width) box keeps a positive
// variance.
//
// Because Q and R are diagonal and H selects the positions, every coordinate evolves on its own:
// a covariance that starts as initiate's stays block diagonal, one 2x2 block (position, velocity)
// per coordinate. KalmanState stores those blocks (12 numbers, not 64) and each step costs a few
// dozen flops; the result is the same as the full 8x8 filter's (tests/python/test_mot_kalman.py).
#pragma once

#include <array>
#include <cstdint>

#include "opticore/core/view.hpp"

namespace opticore {

struct KalmanParams {
  double std_weight_position = 1.0 / 20;   ///< > 0
  double std_weight_velocity = 1.0 / 160;  ///< > 0
};

/// One track's state. For coordinate k (0..3: cx, cy, w, h): cov[3k] = P(k, k), cov[3k + 1] =
/// P(k, k + 4), cov[3k + 2] = P(k + 4, k + 4); every other entry of the 8x8 covariance is 0.
struct KalmanState {
  std::array<double, 8> mean{};
  std::array<double, 12> cov{};
};

/// Box (x1, y1, x2, y2) to measurement (cx, cy, w, h) and back.
std::array<double, 4> box_to_measurement(const double* xyxy);
std::array<double, 4> state_to_box(const KalmanState& state);

/// A new state at `xyxy` with zero velocity and covariance P0.
KalmanState kalman_initiate(const double* xyxy, const KalmanParams& params);

/// One step of the motion model for each of the `n` states: mean = F mean, P = F P F^T + Q.
void kalman_predict(KalmanState* states, int64_t n, const KalmanParams& params);

/// The correction with measurement `xyxy` (a box x1, y1, x2, y2).
void kalman_update(KalmanState& state, const double* xyxy, const KalmanParams& params);

/// Checks the parameters; throws std::invalid_argument naming the field.
void check_kalman_params(const KalmanParams& params);

/// The largest coordinate magnitude a box may have: the filter squares sizes, and its variances
/// must stay far inside the double range (1e30 is beyond any image).
inline constexpr double kMaxBoxCoordinate = 1e30;

/// Boxes the filter and the trackers take: (N, 4), finite, |coordinate| <= kMaxBoxCoordinate,
/// x2 >= x1 and y2 >= y1. Throws std::invalid_argument naming `name` otherwise.
void check_track_boxes(MatrixView<double> boxes, const char* name);

}  // namespace opticore

// Multi-object tracking by detection: SORT, ByteTrack and OC-SORT over one track life cycle.
//
// Every frame, update() takes that frame's detections (boxes x1, y1, x2, y2, scores, optional
// integer labels) and returns the tracks it confirms there, each with an id that stays the same
// while it follows the same object.
//
//   1. Detections with score < low_threshold are dropped; "high" ones have score >= high_threshold.
//   2. Every track's Kalman state (opticore/mot/kalman.hpp) is predicted one frame ahead (after
//      camera_motion, when given, has moved it into the new frame's coordinates).
//   3. Association, by method (a pair is allowed when IoU > the stage's threshold and, with labels,
//      the labels are equal; each stage is an optimal assignment, opticore/mot/assignment.hpp, of
//      cost 1 - IoU gated at 1 - threshold):
//      - sort:      all tracks with the high detections (Bewley et al. 2016).
//      - bytetrack: confirmed and lost tracks with the high detections (iou_threshold); then the
//                   confirmed tracks left with the low detections (low_iou_threshold); then the
//                   tentative tracks with the high detections left (Zhang et al. 2022).
//      - ocsort:    all tracks with the high detections, at cost -(IoU + momentum_weight * score *
//                   (pi/2 - angle) / pi), the angle being between the track's direction of motion
//                   (its observations momentum_delta_t frames apart) and the direction from its
//                   observation momentum_delta_t frames back to the detection; then the tracks left
//                   with the detections left by IoU of the tracks' last observations (observation-
//                   centric recovery). A track matched again after a gap is re-updated along a
//                   straight virtual path from its last observation (observation-centric re-update,
//                   Cao et al. 2023).
//   4. Life cycle: a matched track's state is corrected with its detection. A new track starts
//      from each unmatched high detection with score >= new_track_threshold, tentative; it is
//      confirmed (and given the next id, from 1) after min_hits consecutive matched frames, at once
//      in the first frame. A tentative track missed once is removed; a confirmed one missed becomes
//      lost, is still associated, and is removed after more than track_buffer * frame_rate / 30
//      frames (rounded down) without a match.
//
// The output of update() is the confirmed tracks matched in this frame, ordered by id: the box is
// the corrected Kalman state, the score, label and detection index those of the matched
// detection. tracks() lists every live track (tentative, confirmed, lost) with its current box.
//
// Requires: boxes (N, 4) as check_track_boxes (kalman.hpp) takes them: finite, within +-1e30,
// x2 >= x1 and y2 >= y1; scores (N,) finite; labels (N,) when
// given; camera_motion a finite 2x3 affine [a b tx; c d ty] mapping the previous frame's pixels
// to this frame's. Throws std::invalid_argument naming the argument otherwise (the tracker is left
// as it was). Camera motion moves centres by the affine and velocities by its linear part, and
// scales widths by |(a, c)| and heights by |(b, d)| (their covariance blocks by the squares): exact
// for translation and scaling, a first-order account of the small rotations between frames.
//
// Threads: a MultiTracker is not shared between threads; distinct objects are independent.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "opticore/core/view.hpp"
#include "opticore/mot/kalman.hpp"

namespace opticore {

enum class MotMethod { Sort, ByteTrack, OcSort };

/// "sort", "bytetrack", "ocsort" -> MotMethod; std::invalid_argument naming `method` otherwise.
MotMethod mot_method(const std::string& name);
const char* mot_method_name(MotMethod method);

/// The defaults of the thresholds, iou_threshold and track_buffer were chosen on simulated crowds
/// of 10 to 100 people (benchmarks/tune_mot_defaults.py; one set that suits all three methods).
/// ByteTrack's published thresholds (high 0.5, new track 0.6, IoU 0.3, buffer 30) keep fewer
/// detections: the safer choice for a detector with many low-score false positives.
struct MotParams {
  MotMethod method = MotMethod::ByteTrack;
  double high_threshold = 0.1;       ///< detections at or above are "high"; finite
  double low_threshold = 0.1;        ///< detections below are dropped; finite, <= high_threshold
  double new_track_threshold = 0.3;  ///< an unmatched high detection at or above starts a track; finite
  double iou_threshold = 0.4;        ///< a pair needs IoU > this (in [0, 1))
  double low_iou_threshold = 0.5;    ///< ByteTrack's second stage (low detections): IoU > this, in [0, 1)
  int64_t track_buffer = 60;         ///< frames a lost track is kept (at 30 frames/s), >= 0
  int64_t min_hits = 2;              ///< consecutive matched frames to confirm a track, >= 1
  double frame_rate = 30.0;          ///< > 0; scales track_buffer
  double momentum_weight = 0.2;      ///< OC-SORT's direction term, >= 0
  int64_t momentum_delta_t = 3;      ///< OC-SORT: frames between the observations giving a direction, >= 1
  double std_weight_position = KalmanParams{}.std_weight_position;  ///< Kalman noise, see kalman.hpp
  double std_weight_velocity = KalmanParams{}.std_weight_velocity;
};

/// Throws std::invalid_argument naming the field that is out of range.
void check_mot_params(const MotParams& params);

enum class TrackState { Tentative, Confirmed, Lost };

struct TrackOutput {
  int64_t id = 0;               ///< 0 while tentative
  std::array<double, 4> box{};  ///< x1, y1, x2, y2
  double score = 0.0;           ///< of the last matched detection
  int64_t label = 0;            ///< of the detection that started the track
  int64_t detection = -1;       ///< row of update()'s boxes matched in this frame, -1 if none
  TrackState state = TrackState::Tentative;
  int64_t hits = 0;               ///< consecutive matched frames
  int64_t time_since_update = 0;  ///< frames since the last match
};

/// A 2x3 affine, row-major.
using Affine = std::array<double, 6>;

class MultiTracker {
 public:
  explicit MultiTracker(const MotParams& params = {});

  std::vector<TrackOutput> update(MatrixView<double> boxes, VectorView<double> scores,
                                  std::optional<VectorView<int64_t>> labels = std::nullopt,
                                  std::optional<Affine> camera_motion = std::nullopt);
  /// Every live track, ordered by id (tentative ones, id 0, last).
  std::vector<TrackOutput> tracks() const;
  /// Forgets every track; ids start from 1 again.
  void reset();

  const MotParams& params() const { return params_; }
  int64_t frame_count() const { return frame_; }

  /// A track's bookkeeping besides its Kalman state (an implementation detail).
  struct Track {
    int64_t id = 0, label = 0, detection = -1;
    TrackState state = TrackState::Tentative;
    int64_t hits = 0, time_since_update = 0;
    double score = 0.0;
    // OC-SORT: the last observation, the state just after it, recent observations (frame, box)
    // and the unit direction of motion between observations.
    std::array<double, 4> last_observation{};
    int64_t last_observation_frame = 0;
    KalmanState state_at_observation;
    std::vector<std::pair<int64_t, std::array<double, 4>>> history;
    std::array<double, 2> direction{};
    bool has_direction = false;
  };

 private:
  MotParams params_;
  KalmanParams kalman_;
  std::vector<Track> tracks_;
  std::vector<KalmanState> states_;  // states_[k] is tracks_[k]'s, contiguous for the batched predict
  int64_t frame_ = 0;
  int64_t next_id_ = 1;
};

}  // namespace opticore

#include "opticore/mot/multi_tracker.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "boxes/detail/box.hpp"
#include "core/detail/check.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/mot/assignment.hpp"

namespace opticore {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kPi = 3.14159265358979323846;

using Box4 = std::array<double, 4>;
using Pairs = std::vector<std::pair<int64_t, int64_t>>;  // (track, detection)

detail::Box as_box(const Box4& b) { return {b[0], b[1], b[2], b[3], detail::clamped_area(b[0], b[1], b[2], b[3])}; }

std::array<double, 2> centre(const Box4& b) { return {0.5 * (b[0] + b[2]), 0.5 * (b[1] + b[3])}; }

/// Unit vector from a to b; (0, 0) when they coincide.
std::array<double, 2> direction(const std::array<double, 2>& a, const std::array<double, 2>& b) {
  const double dx = b[0] - a[0], dy = b[1] - a[1];
  const double norm = std::hypot(dx, dy);
  if (!(norm > 0.0)) return {0.0, 0.0};
  return {dx / norm, dy / norm};
}

/// The detections of one frame, as the association stages see them.
struct Detections {
  std::vector<Box4> boxes;
  std::vector<detail::Box> geometry;
  std::vector<double> scores;
  std::vector<int64_t> labels;
};

/// Solves one association stage between tracks `ts` and detections `ds` at cost(t, d) (+inf:
/// not allowed) gated at max_cost; the matched ones leave `ts` and `ds`, their pairs join `pairs`.
template <class Cost>
void associate(std::vector<int64_t>& ts, std::vector<int64_t>& ds, double max_cost, const Cost& cost, Pairs& pairs) {
  if (ts.empty() || ds.empty()) return;
  const auto nt = static_cast<int64_t>(ts.size()), nd = static_cast<int64_t>(ds.size());
  check_array_size("boxes", {nt, nd}, sizeof(double));  // the tracks x detections cost matrix
  std::vector<double> matrix(static_cast<size_t>(nt * nd));
  for (int64_t a = 0; a < nt; ++a) {
    for (int64_t b = 0; b < nd; ++b)
      matrix[static_cast<size_t>(a * nd + b)] = cost(ts[static_cast<size_t>(a)], ds[static_cast<size_t>(b)]);
  }
  const Assignment result = linear_assignment(MatrixView<double>(matrix.data(), nt, nd), max_cost);
  std::vector<char> track_used(static_cast<size_t>(nt), 0), det_used(static_cast<size_t>(nd), 0);
  for (size_t k = 0; k < result.rows.size(); ++k) {
    pairs.emplace_back(ts[static_cast<size_t>(result.rows[k])], ds[static_cast<size_t>(result.cols[k])]);
    track_used[static_cast<size_t>(result.rows[k])] = det_used[static_cast<size_t>(result.cols[k])] = 1;
  }
  std::vector<int64_t> ts_left, ds_left;
  for (int64_t a = 0; a < nt; ++a) {
    if (!track_used[static_cast<size_t>(a)]) ts_left.push_back(ts[static_cast<size_t>(a)]);
  }
  for (int64_t b = 0; b < nd; ++b) {
    if (!det_used[static_cast<size_t>(b)]) ds_left.push_back(ds[static_cast<size_t>(b)]);
  }
  ts.swap(ts_left);
  ds.swap(ds_left);
}

/// Applies a camera motion to a box (centre by the affine, sides scaled).
Box4 move_box(const Box4& b, const Affine& a, double sx, double sy) {
  const auto c = centre(b);
  const double cx = a[0] * c[0] + a[1] * c[1] + a[2], cy = a[3] * c[0] + a[4] * c[1] + a[5];
  const double hw = 0.5 * (b[2] - b[0]) * sx, hh = 0.5 * (b[3] - b[1]) * sy;
  return {cx - hw, cy - hh, cx + hw, cy + hh};
}

void move_state(KalmanState& s, const Affine& a, double sx, double sy) {
  double* m = s.mean.data();
  const double cx = m[0], cy = m[1], vx = m[4], vy = m[5];
  m[0] = a[0] * cx + a[1] * cy + a[2];
  m[1] = a[3] * cx + a[4] * cy + a[5];
  m[4] = a[0] * vx + a[1] * vy;
  m[5] = a[3] * vx + a[4] * vy;
  m[2] *= sx, m[6] *= sx;
  m[3] *= sy, m[7] *= sy;
  const double scale2[4] = {sx * sx, sy * sy, sx * sx, sy * sy};
  for (int k = 0; k < 4; ++k) {
    for (int e = 0; e < 3; ++e) s.cov[static_cast<size_t>(3 * k + e)] *= scale2[k];
  }
}

}  // namespace

MotMethod mot_method(const std::string& name) {
  if (name == "sort") return MotMethod::Sort;
  if (name == "bytetrack") return MotMethod::ByteTrack;
  if (name == "ocsort") return MotMethod::OcSort;
  detail::fail("method: expected one of 'sort', 'bytetrack', 'ocsort', got '", name, "'");
}

const char* mot_method_name(MotMethod method) {
  switch (method) {
    case MotMethod::Sort:
      return "sort";
    case MotMethod::ByteTrack:
      return "bytetrack";
    case MotMethod::OcSort:
      return "ocsort";
  }
  return "?";
}

void check_mot_params(const MotParams& p) {
  detail::check_finite(p.high_threshold, "high_threshold");
  detail::check_finite(p.low_threshold, "low_threshold");
  detail::check_finite(p.new_track_threshold, "new_track_threshold");
  if (!(p.low_threshold <= p.high_threshold)) {
    detail::fail("low_threshold: expected a value <= high_threshold (", p.high_threshold, "), got ", p.low_threshold);
  }
  if (!(p.iou_threshold >= 0.0 && p.iou_threshold < 1.0)) {
    detail::fail("iou_threshold: expected a value in [0, 1), got ", p.iou_threshold);
  }
  if (!(p.low_iou_threshold >= 0.0 && p.low_iou_threshold < 1.0)) {
    detail::fail("low_iou_threshold: expected a value in [0, 1), got ", p.low_iou_threshold);
  }
  if (p.track_buffer < 0) detail::fail("track_buffer: expected an int >= 0, got ", p.track_buffer);
  if (p.min_hits < 1) detail::fail("min_hits: expected an int >= 1, got ", p.min_hits);
  detail::check_positive(p.frame_rate, "frame_rate");
  if (!(p.momentum_weight >= 0.0 && std::isfinite(p.momentum_weight))) {
    detail::fail("momentum_weight: expected a finite value >= 0, got ", p.momentum_weight);
  }
  if (p.momentum_delta_t < 1) detail::fail("momentum_delta_t: expected an int >= 1, got ", p.momentum_delta_t);
  check_kalman_params({p.std_weight_position, p.std_weight_velocity});
}

MultiTracker::MultiTracker(const MotParams& params)
    : params_(params), kalman_{params.std_weight_position, params.std_weight_velocity} {
  check_mot_params(params_);
}

void MultiTracker::reset() {
  tracks_.clear();
  states_.clear();
  frame_ = 0;
  next_id_ = 1;
}

std::vector<TrackOutput> MultiTracker::update(MatrixView<double> boxes, VectorView<double> scores,
                                              std::optional<VectorView<int64_t>> labels,
                                              std::optional<Affine> camera_motion) {
  // ---- checks first: a bad call leaves the tracker as it was
  check_track_boxes(boxes, "boxes");
  detail::check_scores(scores, boxes.rows, "scores");
  if (labels && labels->size != boxes.rows) {
    detail::fail("labels: expected ", boxes.rows, " values (one per box), got ", labels->size);
  }
  if (camera_motion) {
    for (double v : *camera_motion) detail::check_finite(v, "camera_motion");
  }
  ++frame_;
  const MotParams& p = params_;

  // ---- the detections kept, high and low
  Detections det;
  std::vector<int64_t> source;  // row of `boxes` of each kept detection
  std::vector<int64_t> high, low;
  for (int64_t i = 0; i < boxes.rows; ++i) {
    const double s = scores[i];
    if (s < p.low_threshold) continue;
    const auto k = static_cast<int64_t>(det.boxes.size());
    const Box4 b{boxes(i, 0), boxes(i, 1), boxes(i, 2), boxes(i, 3)};
    det.boxes.push_back(b);
    det.geometry.push_back(as_box(b));
    det.scores.push_back(s);
    det.labels.push_back(labels ? (*labels)[i] : 0);
    source.push_back(i);
    (s >= p.high_threshold ? high : low).push_back(k);
  }

  // ---- camera motion, then the motion model
  if (camera_motion) {
    const Affine& a = *camera_motion;
    const double sx = std::hypot(a[0], a[3]), sy = std::hypot(a[1], a[4]);
    for (size_t k = 0; k < tracks_.size(); ++k) {
      Track& t = tracks_[k];
      move_state(states_[k], a, sx, sy);
      move_state(t.state_at_observation, a, sx, sy);
      t.last_observation = move_box(t.last_observation, a, sx, sy);
      for (auto& entry : t.history) entry.second = move_box(entry.second, a, sx, sy);
      if (t.has_direction) {
        const std::array<double, 2> origin{0.0, 0.0};
        t.direction = direction(
            origin, {a[0] * t.direction[0] + a[1] * t.direction[1], a[3] * t.direction[0] + a[4] * t.direction[1]});
      }
    }
  }
  kalman_predict(states_.data(), static_cast<int64_t>(states_.size()), kalman_);
  std::vector<detail::Box> predicted;
  predicted.reserve(tracks_.size());
  for (const KalmanState& s : states_) predicted.push_back(as_box(state_to_box(s)));

  const auto same_label = [&](int64_t t, int64_t d) {
    return tracks_[static_cast<size_t>(t)].label == det.labels[static_cast<size_t>(d)];
  };
  const auto iou_cost = [&](int64_t t, int64_t d) {
    if (!same_label(t, d)) return kInf;
    return 1.0 - detail::iou(predicted[static_cast<size_t>(t)], det.geometry[static_cast<size_t>(d)]);
  };

  // ---- association
  Pairs pairs;
  std::vector<int64_t> unmatched_high = high;
  std::vector<int64_t> all_tracks(tracks_.size());
  for (size_t k = 0; k < tracks_.size(); ++k) all_tracks[k] = static_cast<int64_t>(k);
  std::vector<int64_t> left;  // tracks left unmatched by the stages
  switch (p.method) {
    case MotMethod::Sort: {
      left = all_tracks;
      associate(left, unmatched_high, 1.0 - p.iou_threshold, iou_cost, pairs);
      break;
    }
    case MotMethod::ByteTrack: {
      std::vector<int64_t> active, tentative;
      for (int64_t k : all_tracks) {
        (tracks_[static_cast<size_t>(k)].state == TrackState::Tentative ? tentative : active).push_back(k);
      }
      associate(active, unmatched_high, 1.0 - p.iou_threshold, iou_cost, pairs);
      std::vector<int64_t> confirmed, lost;
      for (int64_t k : active) {
        (tracks_[static_cast<size_t>(k)].state == TrackState::Confirmed ? confirmed : lost).push_back(k);
      }
      std::vector<int64_t> low_left = low;
      associate(confirmed, low_left, 1.0 - p.low_iou_threshold, iou_cost, pairs);
      associate(tentative, unmatched_high, 1.0 - p.iou_threshold, iou_cost, pairs);
      left = confirmed;
      left.insert(left.end(), lost.begin(), lost.end());
      left.insert(left.end(), tentative.begin(), tentative.end());
      break;
    }
    case MotMethod::OcSort: {
      // The observation momentum_delta_t frames back (or the nearest later one) for each track.
      std::vector<std::array<double, 2>> previous(tracks_.size());
      std::vector<char> has_previous(tracks_.size(), 0);
      for (size_t k = 0; k < tracks_.size(); ++k) {
        const auto& history = tracks_[k].history;
        for (const auto& [frame, box] : history) {
          if (frame >= frame_ - p.momentum_delta_t) {
            previous[k] = centre(box);
            has_previous[k] = 1;
            break;
          }
        }
        if (!has_previous[k] && !history.empty()) {
          previous[k] = centre(history.back().second);
          has_previous[k] = 1;
        }
      }
      const double weight = p.momentum_weight;
      const auto momentum_cost = [&](int64_t t, int64_t d) {
        const double c = iou_cost(t, d);
        if (!(c < 1.0 - p.iou_threshold)) return kInf;
        const Track& track = tracks_[static_cast<size_t>(t)];
        double consistency = 0.0;
        if (track.has_direction && has_previous[static_cast<size_t>(t)]) {
          const auto to_det = direction(previous[static_cast<size_t>(t)], centre(det.boxes[static_cast<size_t>(d)]));
          const double cos = std::clamp(track.direction[0] * to_det[0] + track.direction[1] * to_det[1], -1.0, 1.0);
          consistency = (kPi / 2 - std::acos(cos)) / kPi;
        }
        const double score = std::clamp(det.scores[static_cast<size_t>(d)], 0.0, 1.0);
        return -((1.0 - c) + weight * score * consistency);
      };
      left = all_tracks;
      // Every allowed pair costs less than 1 + weight: all are worth matching.
      associate(left, unmatched_high, 1.0 + weight, momentum_cost, pairs);
      const auto recovery_cost = [&](int64_t t, int64_t d) {
        const Track& track = tracks_[static_cast<size_t>(t)];
        if (!same_label(t, d) || track.history.empty()) return kInf;
        return 1.0 - detail::iou(as_box(track.last_observation), det.geometry[static_cast<size_t>(d)]);
      };
      associate(left, unmatched_high, 1.0 - p.iou_threshold, recovery_cost, pairs);
      break;
    }
  }

  // ---- matched tracks: correction
  for (Track& t : tracks_) t.detection = -1;
  for (const auto& [k, d] : pairs) {
    Track& t = tracks_[static_cast<size_t>(k)];
    KalmanState& s = states_[static_cast<size_t>(k)];
    const Box4& z = det.boxes[static_cast<size_t>(d)];
    if (p.method == MotMethod::OcSort) {
      const int64_t gap = frame_ - t.last_observation_frame;
      if (gap > 1 && !t.history.empty()) {
        // Re-update along the straight path from the last observation to this one.
        s = t.state_at_observation;
        for (int64_t step = 1; step < gap; ++step) {
          kalman_predict(&s, 1, kalman_);
          const double f = static_cast<double>(step) / static_cast<double>(gap);
          Box4 virtual_box;
          for (int c = 0; c < 4; ++c)
            virtual_box[static_cast<size_t>(c)] =
                t.last_observation[static_cast<size_t>(c)] +
                f * (z[static_cast<size_t>(c)] - t.last_observation[static_cast<size_t>(c)]);
          kalman_update(s, virtual_box.data(), kalman_);
        }
        kalman_predict(&s, 1, kalman_);
      }
    }
    kalman_update(s, z.data(), kalman_);
    t.detection = source[static_cast<size_t>(d)];
    t.score = det.scores[static_cast<size_t>(d)];
    t.hits += 1;
    t.time_since_update = 0;
    if (t.state == TrackState::Lost) t.state = TrackState::Confirmed;
    if (p.method == MotMethod::OcSort) {
      // The direction of motion from the observation momentum_delta_t frames back (or the
      // nearest later one, or the last) to this one.
      const std::pair<int64_t, Box4>* from = nullptr;
      for (const auto& entry : t.history) {
        if (entry.first >= frame_ - p.momentum_delta_t) {
          from = &entry;
          break;
        }
      }
      if (from == nullptr && !t.history.empty()) from = &t.history.back();
      if (from != nullptr) {
        t.direction = direction(centre(from->second), centre(z));
        t.has_direction = true;
      }
      t.history.emplace_back(frame_, z);
      const int64_t oldest = frame_ - p.momentum_delta_t;
      t.history.erase(
          std::remove_if(t.history.begin(), t.history.end(), [&](const auto& entry) { return entry.first < oldest; }),
          t.history.end());
    }
    t.last_observation = z;
    t.last_observation_frame = frame_;
    t.state_at_observation = s;
  }

  // ---- unmatched tracks: lost or removed
  const auto max_lost = static_cast<int64_t>(std::floor(static_cast<double>(p.track_buffer) * p.frame_rate / 30.0));
  for (int64_t k : left) {
    Track& t = tracks_[static_cast<size_t>(k)];
    t.hits = 0;
    t.time_since_update += 1;
    if (t.state == TrackState::Confirmed) t.state = TrackState::Lost;
  }
  size_t kept = 0;
  for (size_t k = 0; k < tracks_.size(); ++k) {
    const Track& t = tracks_[k];
    const bool removed =
        t.time_since_update > 0 && (t.state == TrackState::Tentative || t.time_since_update > max_lost);
    if (removed) continue;
    if (kept != k) {
      tracks_[kept] = std::move(tracks_[k]);
      states_[kept] = states_[k];
    }
    ++kept;
  }
  tracks_.resize(kept);
  states_.resize(kept);

  // ---- new tracks
  for (int64_t d : unmatched_high) {
    if (det.scores[static_cast<size_t>(d)] < p.new_track_threshold) continue;
    const Box4& z = det.boxes[static_cast<size_t>(d)];
    Track t;
    t.label = det.labels[static_cast<size_t>(d)];
    t.detection = source[static_cast<size_t>(d)];
    t.score = det.scores[static_cast<size_t>(d)];
    t.hits = 1;
    t.last_observation = z;
    t.last_observation_frame = frame_;
    states_.push_back(kalman_initiate(z.data(), kalman_));
    t.state_at_observation = states_.back();
    if (p.method == MotMethod::OcSort) t.history.emplace_back(frame_, z);
    tracks_.push_back(std::move(t));
  }

  // ---- confirmation, output
  std::vector<TrackOutput> out;
  for (size_t k = 0; k < tracks_.size(); ++k) {
    Track& t = tracks_[k];
    if (t.state == TrackState::Tentative && (t.hits >= p.min_hits || frame_ == 1)) {
      t.state = TrackState::Confirmed;
      t.id = next_id_++;
    }
    if (t.state == TrackState::Confirmed && t.time_since_update == 0) {
      out.push_back({t.id, state_to_box(states_[k]), t.score, t.label, t.detection, t.state, t.hits, 0});
    }
  }
  std::sort(out.begin(), out.end(), [](const TrackOutput& a, const TrackOutput& b) { return a.id < b.id; });
  return out;
}

std::vector<TrackOutput> MultiTracker::tracks() const {
  std::vector<TrackOutput> out;
  for (size_t k = 0; k < tracks_.size(); ++k) {
    const Track& t = tracks_[k];
    out.push_back(
        {t.id, state_to_box(states_[k]), t.score, t.label, t.detection, t.state, t.hits, t.time_since_update});
  }
  // By id, tentative tracks (id 0) last.
  std::stable_sort(out.begin(), out.end(), [](const TrackOutput& a, const TrackOutput& b) {
    return (a.id == 0 ? std::numeric_limits<int64_t>::max() : a.id) <
           (b.id == 0 ? std::numeric_limits<int64_t>::max() : b.id);
  });
  return out;
}

}  // namespace opticore

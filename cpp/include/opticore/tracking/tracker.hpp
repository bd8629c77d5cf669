// What every correlation-filter tracker shares: boxes, results, the frame conventions, and the
// abstract opticore::Tracker (init / update / score / box) that MOSSE and KCF implement.
//
// Conventions:
//   - Boxes are (x, y, width, height) in pixels, like cv::Rect2d: a box covers the pixels x ..
//     x + width - 1 (pixel centres at integer coordinates), so its centre is at
//     (x + (width - 1) / 2, y + (height - 1) / 2). Coordinates are float (sub-pixel).
//   - Frames are H x W x C with C = 1 (grey), 3 (BGR) or 4 (BGRA, alpha ignored), uint8_t or float
//     on the same 0..255 scale; any strides; sides of at most 32767 pixels. Colour is turned into
//     grey with the ITU-R BT.601 weights (0.114 B + 0.587 G + 0.299 R) where a tracker needs grey.
//   - Float pixels must be finite where the tracker reads them (NaN or inf would poison the model
//     silently): init rejects a frame with NaN or inf anywhere; update one with NaN or inf in the
//     region it may read (Tracker::reach(): the search window and wherever the target may move
//     to within this update), so that the check costs what the target costs, not the frame.
//   - The initial box is finite, at least 1 x 1, overlaps the frame and is at most twice the
//     frame's width and height (which bounds the tracker's templates, whatever the aspect ratio).
//   - Regions that reach outside the frame are sampled with the border pixels replicated.
//   - score is the peak-to-sidelobe ratio (PSR) of the last correlation response:
//     (peak - mean of the sidelobe) / its standard deviation, the sidelobe being the response
//     without a window around the peak. ok = score >= the tracker's psr_threshold; while not ok
//     the box still follows the response peak but the model is not updated (so an occluder
//     is not learnt).
//
// Threads: a tracker object is not shared between threads; distinct objects are independent.
#pragma once

#include <cstdint>
#include <variant>

#include "opticore/core/image.hpp"

namespace opticore {

struct TrackBox {
  double x = 0, y = 0, width = 0, height = 0;
};

struct TrackResult {
  bool ok = false;
  TrackBox box;
  double score = 0;  ///< PSR of the response
};

/// A frame of either pixel type (an ImageView<uint8_t> or ImageView<float> converts implicitly).
using Frame = std::variant<ImageView<uint8_t>, ImageView<float>>;

/// A single-object tracker. The checks of frames and boxes (see the conventions above) and the
/// bookkeeping of the last result live here, once; a tracker implements do_init / do_update.
class Tracker {
 public:
  virtual ~Tracker();

  /// Learns the target in `box` of `image`, replacing any previous target.
  /// Throws std::invalid_argument naming `image` or `box` when they break the conventions (checked
  /// first: the tracker is left as it was); after any other failure it is left uninitialised.
  void init(Frame image, const TrackBox& box);
  /// Finds the target in the next frame. Throws std::logic_error before init(),
  /// std::invalid_argument naming `image` for a bad frame (checked first: the tracker is left as
  /// it was).
  TrackResult update(Frame image);

  bool initialized() const { return initialized_; }
  /// The last result: the initial box with ok = true and score = 0 after init().
  const TrackResult& last() const { return last_; }
  /// PSR of the last update (0 after init()).
  double score() const { return last_.score; }
  /// The last box.
  const TrackBox& box() const { return last_.box; }
  /// A box (same convention) holding every pixel that the next update may read, bilinear
  /// neighbours included (of its part outside the frame, replicated borders read the nearest
  /// edge pixels); an empty box before init(). update checks float frames for finite values there.
  TrackBox reach() const { return initialized_ ? do_reach() : TrackBox{}; }

 protected:
  Tracker() = default;
  Tracker(Tracker&&) noexcept = default;
  Tracker& operator=(Tracker&&) noexcept = default;

  /// Called with a checked frame and box.
  virtual void do_init(const Frame& image, const TrackBox& box) = 0;
  /// Called with a checked frame, after a successful do_init.
  virtual TrackResult do_update(const Frame& image) = 0;
  /// reach(), after a successful do_init.
  virtual TrackBox do_reach() const = 0;

 private:
  bool initialized_ = false;
  TrackResult last_;
};

}  // namespace opticore

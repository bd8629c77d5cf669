// What every correlation-filter tracker shares: boxes, results, the frame conventions.
//
// Conventions:
//   - Boxes are (x, y, width, height) in pixels, like cv::Rect2d: a box covers the pixels x ..
//     x + width - 1 (pixel centres at integer coordinates), so its centre is at
//     (x + (width - 1) / 2, y + (height - 1) / 2). Coordinates are float (sub-pixel).
//   - Frames are H x W x C with C = 1 (grey), 3 (BGR) or 4 (BGRA, alpha ignored), uint8_t or float
//     on the same 0..255 scale; any strides. Colour is turned into grey with the ITU-R BT.601
//     weights (0.114 B + 0.587 G + 0.299 R) where a tracker needs grey.
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

namespace opticore {

struct TrackBox {
  double x = 0, y = 0, width = 0, height = 0;
};

struct TrackResult {
  bool ok = false;
  TrackBox box;
  double score = 0;  ///< PSR of the response
};

}  // namespace opticore

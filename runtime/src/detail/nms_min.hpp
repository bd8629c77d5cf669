// MTCNN's last NMS: greedy suppression whose overlap is the intersection over the SMALLER box's
// area, with MTCNN's inclusive pixel sizes (width x2 - x1 + 1, height y2 - y1 + 1, each taken as
// 0 when negative); a box nested in a kept one has overlap 1 and is dropped, whatever its size.
// The rules otherwise are opticore::nms's: visited by descending score (ties: lower index
// first), dropped when the overlap with a kept box is > threshold (strict); the kept indices by
// descending score. opticore.face_detection.nms_min is the same in NumPy.
#pragma once

#include <cstdint>
#include <vector>

#include "opticore/core/view.hpp"

namespace opticore::runtime::detail {

/// boxes (N, 4) and scores (N,) finite (the caller's duty); threshold in [0, 1].
std::vector<int64_t> nms_min(MatrixView<double> boxes, VectorView<float> scores, double threshold);

}  // namespace opticore::runtime::detail

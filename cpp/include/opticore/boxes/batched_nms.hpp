// Class-aware (batched) non-maximum suppression: boxes only suppress boxes of the same label.
//
// Same conventions as opticore::nms (see nms.hpp): strict IoU > iou_threshold, descending score,
// ties by lower index, score_threshold strict, max_output over all labels together. Each label is
// processed on its own (no coordinate-offset trick), so the result is exact for negative or huge
// coordinates and any number of labels; labels are spread over get_num_threads() threads.
//
// Requires: labels.size == boxes.rows (any int64 values), plus nms's requirements.
// Throws:   std::invalid_argument naming the argument otherwise.
#pragma once

#include <cstdint>
#include <vector>

#include "opticore/boxes/nms.hpp"
#include "opticore/core/view.hpp"

namespace opticore {

template <class T, class S>
std::vector<int64_t> batched_nms(MatrixView<T> boxes, VectorView<S> scores, VectorView<int64_t> labels,
                                 double iou_threshold, const NmsOptions& options = {});

}  // namespace opticore

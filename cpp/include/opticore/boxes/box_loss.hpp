// The IoU-based box regression losses GIoU, DIoU and CIoU, element-wise over matched pairs, and
// their gradients.
//
// Convention: torchvision.ops.{generalized,distance,complete}_box_iou_loss, term for term, so
// that a model trains the same way: boxes1 are the predictions and boxes2 the targets, rows
// (x1, y1, x2, y2); widths and heights are signed (an inverted prediction has a negative area, as
// in torchvision); the intersection counts only when both of its sides are positive. For one pair,
// with C the smallest box enclosing both, c^2 its squared diagonal and d^2 the squared distance
// between the centres:
//   iou  = inter / (union + eps)
//   GIoU = 1 - iou + (area(C) - union) / (area(C) + eps)
//   DIoU = 1 - iou + d^2 / (c^2 + eps)
//   CIoU = DIoU + alpha * v,  v = 4/pi^2 * (atan(w2/h2) - atan(w1/h1))^2,  alpha = v / (1 - iou + v + eps)
// alpha is a constant for the gradient (torchvision computes it under no_grad). atan(w/h) for
// h = 0 is taken as +-pi/2 by the sign of w, and 0 when w = 0 too (torchvision: NaN); its
// gradient there is 0. Where min / max tie, the gradient is split evenly between the two
// arguments, as torch.minimum / torch.maximum do. Arithmetic is in double.
//
// Requires: boxes1 and boxes2 (N, 4) with the same N, finite coordinates, eps >= 0 and finite.
// Throws:   std::invalid_argument naming the argument otherwise.
#pragma once

#include <cstdint>

#include "opticore/boxes/iou_variants.hpp"
#include "opticore/core/view.hpp"

namespace opticore {

/// out[n] = loss(boxes1[n], boxes2[n]) for the `variant`'s loss.
template <class T>
void box_loss(MatrixView<T> boxes1, MatrixView<T> boxes2, IouVariant variant, double eps, T* out);

/// Given grad[n] = dL/dloss[n], writes grad1 = dL/dboxes1 and grad2 = dL/dboxes2, each (N, 4)
/// row-major.
template <class T>
void box_loss_backward(const T* grad, MatrixView<T> boxes1, MatrixView<T> boxes2, IouVariant variant, double eps,
                       T* grad1, T* grad2);

}  // namespace opticore

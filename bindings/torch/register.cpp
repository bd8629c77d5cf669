// Every torch.ops.opticore schema, in one place, and its CPU and CUDA kernels, on LibTorch's stable ABI.
// Loading the library that holds this file (libopticore_torch) registers the operators; fake
// kernels and autograd formulas are registered from Python (opticore/torch/).
#include <torch/csrc/stable/library.h>

#include "opticore/torch/boxes.hpp"
#include "opticore/torch/deform.hpp"
#include "opticore/torch/roi.hpp"

#if OPTICORE_TORCH_CUDA
#include "cuda/boxes.hpp"
#endif

STABLE_TORCH_LIBRARY(opticore, m) {
  m.def("box_area(Tensor boxes) -> Tensor");
  m.def("box_iou(Tensor boxes1, Tensor boxes2) -> Tensor");
  m.def("box_iou_variant(Tensor boxes1, Tensor boxes2, str kind, float eps) -> Tensor");
  m.def("box_loss(Tensor boxes1, Tensor boxes2, str kind, float eps) -> Tensor");
  m.def("box_loss_backward(Tensor grad, Tensor boxes1, Tensor boxes2, str kind, float eps) -> (Tensor, Tensor)");
  m.def(
      "nms(Tensor boxes, Tensor scores, float iou_threshold, float? score_threshold=None, "
      "int? max_output=None) -> Tensor");
  m.def(
      "batched_nms(Tensor boxes, Tensor scores, Tensor labels, float iou_threshold, "
      "float? score_threshold=None, int? max_output=None) -> Tensor");
  m.def(
      "soft_nms(Tensor boxes, Tensor scores, str method='gaussian', float sigma=0.5, "
      "float iou_threshold=0.3, float score_threshold=0.001, int? max_output=None) -> (Tensor, Tensor)");
  m.def(
      "roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int sampling_ratio, bool aligned) -> Tensor");
  m.def(
      "roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int batch_size, int channels, int height, int width, int sampling_ratio, bool aligned) -> Tensor");
  m.def(
      "roi_pool(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width) "
      "-> (Tensor, Tensor)");
  m.def(
      "roi_pool_backward(Tensor grad, Tensor rois, Tensor argmax, float spatial_scale, int pooled_height, "
      "int pooled_width, int batch_size, int channels, int height, int width) -> Tensor");
  m.def(
      "ps_roi_align(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int sampling_ratio) -> Tensor");
  m.def(
      "ps_roi_align_backward(Tensor grad, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int batch_size, int channels, int height, int width, int sampling_ratio) -> Tensor");
  m.def(
      "deform_conv2d(Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, int stride_h, "
      "int stride_w, int padding_h, int padding_w, int dilation_h, int dilation_w, bool use_mask) -> Tensor");
  m.def(
      "deform_conv2d_backward(Tensor grad, Tensor input, Tensor weight, Tensor offset, Tensor mask, Tensor bias, "
      "int stride_h, int stride_w, int padding_h, int padding_w, int dilation_h, int dilation_w, bool use_mask) "
      "-> (Tensor, Tensor, Tensor, Tensor, Tensor)");
  m.def("ps_roi_pool(Tensor input, Tensor rois, float spatial_scale, int pooled_height, int pooled_width) -> Tensor");
  m.def(
      "ps_roi_pool_backward(Tensor grad, Tensor rois, float spatial_scale, int pooled_height, int pooled_width, "
      "int batch_size, int channels, int height, int width) -> Tensor");
}

STABLE_TORCH_LIBRARY_IMPL(opticore, CPU, m) {
  m.impl("box_area", TORCH_BOX(&opticore::tensor::box_area));
  m.impl("box_iou", TORCH_BOX(&opticore::tensor::box_iou));
  m.impl("box_iou_variant", TORCH_BOX(&opticore::tensor::box_iou_variant));
  m.impl("box_loss", TORCH_BOX(&opticore::tensor::box_loss));
  m.impl("box_loss_backward", TORCH_BOX(&opticore::tensor::box_loss_backward));
  m.impl("nms", TORCH_BOX(&opticore::tensor::nms));
  m.impl("batched_nms", TORCH_BOX(&opticore::tensor::batched_nms));
  m.impl("soft_nms", TORCH_BOX(&opticore::tensor::soft_nms));
  m.impl("roi_align", TORCH_BOX(&opticore::tensor::roi_align));
  m.impl("roi_align_backward", TORCH_BOX(&opticore::tensor::roi_align_backward));
  m.impl("roi_pool", TORCH_BOX(&opticore::tensor::roi_pool));
  m.impl("roi_pool_backward", TORCH_BOX(&opticore::tensor::roi_pool_backward));
  m.impl("ps_roi_align", TORCH_BOX(&opticore::tensor::ps_roi_align));
  m.impl("ps_roi_align_backward", TORCH_BOX(&opticore::tensor::ps_roi_align_backward));
  m.impl("ps_roi_pool", TORCH_BOX(&opticore::tensor::ps_roi_pool));
  m.impl("deform_conv2d", TORCH_BOX(&opticore::tensor::deform_conv2d));
  m.impl("deform_conv2d_backward", TORCH_BOX(&opticore::tensor::deform_conv2d_backward));
  m.impl("ps_roi_pool_backward", TORCH_BOX(&opticore::tensor::ps_roi_pool_backward));
}

#if OPTICORE_TORCH_CUDA
// The RoI operators and the deformable convolution take CPU and CUDA tensors alike (cpu/roi.cpp,
// cpu/deform.cpp dispatch on the device); NMS has its own CUDA kernels. The box losses and
// utilities and soft_nms have none: opticore.torch.run moves their CUDA inputs to the CPU.
STABLE_TORCH_LIBRARY_IMPL(opticore, CUDA, m) {
  m.impl("nms", TORCH_BOX(&opticore::tensor::nms_cuda));
  m.impl("batched_nms", TORCH_BOX(&opticore::tensor::batched_nms_cuda));
  m.impl("roi_align", TORCH_BOX(&opticore::tensor::roi_align));
  m.impl("roi_align_backward", TORCH_BOX(&opticore::tensor::roi_align_backward));
  m.impl("roi_pool", TORCH_BOX(&opticore::tensor::roi_pool));
  m.impl("roi_pool_backward", TORCH_BOX(&opticore::tensor::roi_pool_backward));
  m.impl("ps_roi_align", TORCH_BOX(&opticore::tensor::ps_roi_align));
  m.impl("ps_roi_align_backward", TORCH_BOX(&opticore::tensor::ps_roi_align_backward));
  m.impl("ps_roi_pool", TORCH_BOX(&opticore::tensor::ps_roi_pool));
  m.impl("ps_roi_pool_backward", TORCH_BOX(&opticore::tensor::ps_roi_pool_backward));
  m.impl("deform_conv2d", TORCH_BOX(&opticore::tensor::deform_conv2d));
  m.impl("deform_conv2d_backward", TORCH_BOX(&opticore::tensor::deform_conv2d_backward));
}
#endif

// The same NMS on torch tensors through opticore::torch (LibTorch's stable ABI: this program
// runs with any torch >= 2.10 beside it). Registers torch.ops.opticore.* as a side effect.
#include <cstdio>

#include <torch/csrc/stable/ops.h>
#include <opticore/torch/boxes.hpp>

int main() {
  using torch::headeronly::ScalarType;
  const float box_values[] = {0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30};
  const float score_values[] = {0.9f, 0.8f, 0.7f};
  torch::stable::Tensor boxes = torch::stable::empty({3, 4}, ScalarType::Float);
  torch::stable::Tensor scores = torch::stable::empty({3}, ScalarType::Float);
  for (int i = 0; i < 12; ++i) boxes.mutable_data_ptr<float>()[i] = box_values[i];
  for (int i = 0; i < 3; ++i) scores.mutable_data_ptr<float>()[i] = score_values[i];

  const torch::stable::Tensor kept = opticore::tensor::nms(boxes, scores, 0.5);
  const int64_t* k = kept.const_data_ptr<int64_t>();
  std::printf("opticore::tensor::nms kept");
  for (int64_t i = 0; i < kept.numel(); ++i) std::printf(" %lld", static_cast<long long>(k[i]));
  std::printf("\n");
  return kept.numel() == 2 && k[0] == 0 && k[1] == 2 ? 0 : 1;
}

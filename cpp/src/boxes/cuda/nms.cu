// Greedy NMS and class-aware NMS on a CUDA device (opticore/cuda/boxes.hpp).
#include <cub/device/device_radix_sort.cuh>

#include "core/cuda/device.cuh"
#include "core/detail/check.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/cuda/boxes.hpp"

namespace opticore::cuda {
namespace {

using detail::blocks_for;
using detail::kThreads;

constexpr int kWord = 64;  // boxes per mask word

// Box geometry as in cpp/src/boxes/detail/box.hpp (float64, the rescaling of a pair whose terms
// leave the normal double range), restated for the device.
__device__ double clamped_area(double x1, double y1, double x2, double y2) {
  if (!(x2 > x1 && y2 > y1)) return 0.0;
  double w = x2 - x1, h = y2 - y1;
  int exponent = 0;
  if (isinf(w)) w = 0.5 * x2 - 0.5 * x1, ++exponent;
  if (isinf(h)) h = 0.5 * y2 - 0.5 * y1, ++exponent;
  return exponent == 0 ? w * h : ldexp(w * h, exponent);
}

__device__ void rescale_axis(double& a1, double& a2, double& b1, double& b2) {
  const double largest = fmax(fmax(fabs(a1), fabs(a2)), fmax(fabs(b1), fabs(b2)));
  const int shift = 500 - ilogb(largest);
  a1 = scalbn(a1, shift), a2 = scalbn(a2, shift), b1 = scalbn(b1, shift), b2 = scalbn(b2, shift);
}

__device__ double iou(double ax1, double ay1, double ax2, double ay2, double bx1, double by1, double bx2, double by2) {
  const double w = fmin(ax2, bx2) - fmax(ax1, bx1);
  if (!(w > 0.0)) return 0.0;
  const double h = fmin(ay2, by2) - fmax(ay1, by1);
  if (!(h > 0.0)) return 0.0;
  const double inter = w * h;
  const double union_area = clamped_area(ax1, ay1, ax2, ay2) + clamped_area(bx1, by1, bx2, by2) - inter;
  if (inter >= DBL_MIN && union_area <= DBL_MAX) return inter / union_area;
  rescale_axis(ax1, ax2, bx1, bx2);
  rescale_axis(ay1, ay2, by1, by2);
  const double i2 = (fmin(ax2, bx2) - fmax(ax1, bx1)) * (fmin(ay2, by2) - fmax(ay1, by1));
  const double u2 = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - i2;
  return i2 > 0.0 && u2 > 0.0 ? i2 / u2 : 0.0;
}

/// Sort keys (scores, -0 made +0 so that it ties with +0 as on the CPU), the identity order, and
/// the first row with a non-finite box or score.
template <class T>
__global__ void prepare(const T* boxes, const T* scores, int64_t n, T* keys, int64_t* order,
                        unsigned long long* bad_box, unsigned long long* bad_score) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    keys[i] = scores[i] + T(0);
    order[i] = i;
    if (!isfinite(scores[i])) atomicMin(bad_score, static_cast<unsigned long long>(i));
    for (int k = 0; k < 4; ++k) {
      if (!isfinite(boxes[4 * i + k])) atomicMin(bad_box, static_cast<unsigned long long>(i));
    }
  }
}

/// Bit j % 64 of mask[i * words + j / 64] for i < j (in score order): box j is suppressed by box
/// i when it is kept. Block (column word, row word), one thread per row.
template <class T>
__global__ void suppression_mask(const T* boxes, const int64_t* labels, const int64_t* order, int64_t n,
                                 double iou_threshold, int64_t words, unsigned long long* mask) {
  const int64_t row_word = blockIdx.y, col_word = blockIdx.x;
  if (col_word < row_word) return;
  __shared__ double column[kWord][4];
  __shared__ int64_t column_label[kWord];
  const int64_t j0 = col_word * kWord, i = row_word * kWord + threadIdx.x;
  if (j0 + threadIdx.x < n) {
    const int64_t b = order[j0 + threadIdx.x];
    for (int k = 0; k < 4; ++k) column[threadIdx.x][k] = static_cast<double>(boxes[4 * b + k]);
    column_label[threadIdx.x] = labels != nullptr ? labels[b] : 0;
  }
  __syncthreads();
  if (i >= n) return;
  const int64_t a = order[i];
  const double ax1 = boxes[4 * a], ay1 = boxes[4 * a + 1], ax2 = boxes[4 * a + 2], ay2 = boxes[4 * a + 3];
  const int64_t label = labels != nullptr ? labels[a] : 0;
  unsigned long long bits = 0;
  const int64_t count = min(static_cast<int64_t>(kWord), n - j0);
  for (int64_t t = (col_word == row_word ? threadIdx.x + 1 : 0); t < count; ++t) {
    if (column_label[t] != label) continue;
    const double value = iou(ax1, ay1, ax2, ay2, column[t][0], column[t][1], column[t][2], column[t][3]);
    if (value > iou_threshold) bits |= 1ull << t;
  }
  mask[i * words + col_word] = bits;
}

/// The greedy pass over the mask, by one block: box i (in score order) is kept unless a kept box
/// before it masked it. `removed` (words values, zeroed) is the running union of the kept rows.
__global__ void keep_unmasked(const unsigned long long* mask, const int64_t* order, int64_t n, int64_t words,
                              int64_t max_output, unsigned long long* removed, int64_t* kept, int64_t* count) {
  int64_t kept_count = 0;
  for (int64_t i = 0; i < n && kept_count < max_output; ++i) {
    const bool masked = (removed[i / kWord] >> (i % kWord)) & 1ull;  // the same for every thread
    __syncthreads();  // everyone has read word i / 64 before anyone updates it
    if (masked) continue;
    if (threadIdx.x == 0) kept[kept_count] = order[i];
    ++kept_count;
    const unsigned long long* row = mask + i * words;
    for (int64_t w = i / kWord + threadIdx.x; w < words; w += blockDim.x) removed[w] |= row[w];
    __syncthreads();
  }
  if (threadIdx.x == 0) *count = kept_count;
}

/// How many of the sorted keys are > threshold (a prefix of them), by bisection on one thread.
template <class T>
__global__ void count_above(const T* sorted_keys, int64_t n, double threshold, int64_t* count) {
  int64_t lo = 0, hi = n;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo) / 2;
    if (static_cast<double>(sorted_keys[mid]) > threshold) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  *count = lo;
}

}  // namespace

template <class T>
int64_t nms(const T* boxes, const T* scores, const int64_t* labels, int64_t n, double iou_threshold,
            const NmsOptions& options, int64_t* kept, Stream stream) {
  opticore::detail::check_unit_interval(iou_threshold, "iou_threshold");
  if (options.score_threshold) opticore::detail::check_finite(*options.score_threshold, "score_threshold");
  if (options.max_output && *options.max_output < 0) {
    opticore::detail::fail("max_output: expected a value >= 0, got ", *options.max_output);
  }
  const int64_t limit = options.max_output ? *options.max_output : n;
  if (n <= 0 || limit == 0) return 0;
  const int64_t words = (n + kWord - 1) / kWord;
  check_array_size("boxes", {n, words, kWord / 8}, 1);  // the suppression mask

  detail::DeviceBuffer<T> keys(n, stream), sorted_keys(n, stream);
  detail::DeviceBuffer<int64_t> order(n, stream), sorted_order(n, stream), count(1, stream);
  detail::DeviceBuffer<unsigned long long> bad(2, stream);
  detail::check(cudaMemsetAsync(bad.get(), 0xff, 2 * sizeof(unsigned long long), stream), "memset");
  prepare<<<blocks_for(n), kThreads, 0, stream>>>(boxes, scores, n, keys.get(), order.get(), bad.get(), bad.get() + 1);
  detail::check_launch("prepare");
  unsigned long long first_bad[2];
  detail::check(cudaMemcpyAsync(first_bad, bad.get(), sizeof(first_bad), cudaMemcpyDeviceToHost, stream), "copy");
  detail::check(cudaStreamSynchronize(stream), "synchronize");
  if (first_bad[0] != detail::kNoRow) {
    opticore::detail::fail("boxes: expected finite coordinates, got a NaN or infinite value at row ", first_bad[0]);
  }
  if (first_bad[1] != detail::kNoRow) {
    opticore::detail::fail("scores: expected finite values, got a NaN or infinite value at index ", first_bad[1]);
  }

  // A stable descending sort: equal scores keep ascending index order, as on the CPU.
  size_t temp_bytes = 0;
  detail::check(
      cub::DeviceRadixSort::SortPairsDescending(nullptr, temp_bytes, keys.get(), sorted_keys.get(), order.get(),
                                                sorted_order.get(), n, 0, static_cast<int>(sizeof(T) * 8), stream),
      "sort size");
  detail::DeviceBuffer<unsigned char> temp(static_cast<int64_t>(temp_bytes), stream);
  detail::check(
      cub::DeviceRadixSort::SortPairsDescending(temp.get(), temp_bytes, keys.get(), sorted_keys.get(), order.get(),
                                                sorted_order.get(), n, 0, static_cast<int>(sizeof(T) * 8), stream),
      "sort");
  int64_t candidates = n;
  if (options.score_threshold) {  // only scores > threshold take part: a prefix of the sorted boxes
    count_above<<<1, 1, 0, stream>>>(sorted_keys.get(), n, *options.score_threshold, count.get());
    detail::check_launch("count_above");
    candidates = detail::read_back(count.get(), stream);
    if (candidates == 0) return 0;
  }
  const int64_t candidate_words = (candidates + kWord - 1) / kWord;
  detail::DeviceBuffer<unsigned long long> mask(candidates * candidate_words, stream), removed(candidate_words, stream);
  const dim3 grid(static_cast<unsigned>(candidate_words), static_cast<unsigned>(candidate_words));
  suppression_mask<<<grid, kWord, 0, stream>>>(boxes, labels, sorted_order.get(), candidates, iou_threshold,
                                               candidate_words, mask.get());
  detail::check_launch("suppression_mask");
  detail::check(cudaMemsetAsync(removed.get(), 0, sizeof(unsigned long long) * candidate_words, stream), "memset");
  keep_unmasked<<<1, 1024, 0, stream>>>(mask.get(), sorted_order.get(), candidates, candidate_words, limit,
                                        removed.get(), kept, count.get());
  detail::check_launch("keep_unmasked");
  return detail::read_back(count.get(), stream);
}

template int64_t nms<float>(const float*, const float*, const int64_t*, int64_t, double, const NmsOptions&, int64_t*,
                            Stream);
template int64_t nms<double>(const double*, const double*, const int64_t*, int64_t, double, const NmsOptions&, int64_t*,
                             Stream);

}  // namespace opticore::cuda

// The bilinear sampling of RoIAlign, shared by roi_align.cpp and ps_roi_align.cpp: which rows and
// columns each sample of each bin reads, and the vectorised gather (forward) and scatter
// (backward) over a block of contiguous channels. Internal linkage: each kernel file gets its own
// copies, so the SSE2 / AVX2 clones stay local to it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/detail/vector_clones.hpp"
#include "opticore/core/view.hpp"
#include "opticore/roi/roi_align.hpp"
#include "roi/detail/roi_args.hpp"
#include "roi/detail/sampling.hpp"

namespace opticore::detail {
namespace {  // NOLINT(google-build-namespaces): see above

/// The samples of one RoI along one axis that read the feature map, bin by bin: sample s reads
/// rows (or columns) low[s] and high[s] with weights w_low[s] and w_high[s]. Bilinear weights are
/// separable, so two of these describe every sample of every bin.
template <class T>
struct AxisSamples {
  std::vector<int64_t> begin;  ///< the samples of bin p are [begin[p], begin[p + 1])
  std::vector<int64_t> low, high;
  std::vector<T> w_low, w_high;
};

template <class T>
void axis_samples(T start, T bin_size, int64_t grid, int64_t bins, int64_t size, AxisSamples<T>& out) {
  out.begin.assign(1, 0);
  out.low.clear(), out.high.clear(), out.w_low.clear(), out.w_high.clear();
  for (int64_t p = 0; p < bins; ++p) {
    const T bin_start = start + static_cast<T>(p) * bin_size;
    int64_t first = 0, last = 0;
    samples_inside(bin_start, bin_size, grid, size, first, last);
    for (int64_t i = first; i < last; ++i) {
      int64_t low = 0, high = 0;
      T w_low = 0, w_high = 0;
      bilinear_pair(sample_position(bin_start, bin_size, grid, i), size, low, high, w_low, w_high);
      out.low.push_back(low), out.high.push_back(high), out.w_low.push_back(w_low), out.w_high.push_back(w_high);
    }
    out.begin.push_back(static_cast<int64_t>(out.low.size()));
  }
}

/// The RoI k of a checked rois view, in feature-map coordinates.
template <class T>
AlignedRoi<T> aligned_roi_at(const MatrixView<T>& rois, int64_t k, const RoiAlignOptions& options) {
  T row[5];
  roi_row(rois.data, rois.row_stride, rois.col_stride, k, row);
  return aligned_roi(row, options);
}

/// The forward values of one RoI for n_channels channels: out[(c * PH + ph) * PW + pw], the
/// features read at base + y * row + x * col + (ph * PW + pw) * bin_step + c (bin_step 0 for
/// RoIAlign; position-sensitive RoIAlign reads a channel group of its own in each bin). acc:
/// n_channels values of scratch.
template <class T>
OPTICORE_VECTOR_CLONES void gather_bins(const T* features, int64_t row, int64_t col, int64_t bin_step,
                                        const AxisSamples<T>& ys, const AxisSamples<T>& xs, int64_t n_channels, T count,
                                        T* __restrict acc, T* out) {
  const int64_t PH = static_cast<int64_t>(ys.begin.size()) - 1, PW = static_cast<int64_t>(xs.begin.size()) - 1;
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      const T* base = features + (ph * PW + pw) * bin_step;
      std::fill(acc, acc + n_channels, T(0));
      for (int64_t sy = ys.begin[ph]; sy < ys.begin[ph + 1]; ++sy) {
        const T* row_low = base + ys.low[sy] * row;
        const T* row_high = base + ys.high[sy] * row;
        for (int64_t sx = xs.begin[pw]; sx < xs.begin[pw + 1]; ++sx) {
          const T w1 = ys.w_low[sy] * xs.w_low[sx], w2 = ys.w_low[sy] * xs.w_high[sx];
          const T w3 = ys.w_high[sy] * xs.w_low[sx], w4 = ys.w_high[sy] * xs.w_high[sx];
          const T* v1 = row_low + xs.low[sx] * col;
          const T* v2 = row_low + xs.high[sx] * col;
          const T* v3 = row_high + xs.low[sx] * col;
          const T* v4 = row_high + xs.high[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) acc[c] += w1 * v1[c] + w2 * v2[c] + w3 * v3[c] + w4 * v4[c];
        }
      }
      for (int64_t c = 0; c < n_channels; ++c) out[(c * PH + ph) * PW + pw] = acc[c] / count;
    }
  }
}

/// The samples of one RoI as gather_plane reads them in place: sample s of bin b reads offsets
/// at[4 s .. 4 s + 3] of the bin's plane with weights w[4 s .. 4 s + 3] (gather_bins' corners and
/// weights, in its order); bin b's samples are [begin[b], begin[b + 1]).
template <class T>
struct PlaneSamples {
  std::vector<int64_t> begin, at;
  std::vector<T> w;
};

template <class T>
void plane_samples(const AxisSamples<T>& ys, const AxisSamples<T>& xs, int64_t row, int64_t col, PlaneSamples<T>& out) {
  const int64_t PH = static_cast<int64_t>(ys.begin.size()) - 1, PW = static_cast<int64_t>(xs.begin.size()) - 1;
  out.begin.assign(1, 0);
  out.at.clear(), out.w.clear();
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      for (int64_t sy = ys.begin[ph]; sy < ys.begin[ph + 1]; ++sy) {
        for (int64_t sx = xs.begin[pw]; sx < xs.begin[pw + 1]; ++sx) {
          out.at.insert(out.at.end(), {ys.low[sy] * row + xs.low[sx] * col, ys.low[sy] * row + xs.high[sx] * col,
                                       ys.high[sy] * row + xs.low[sx] * col, ys.high[sy] * row + xs.high[sx] * col});
          out.w.insert(out.w.end(), {ys.w_low[sy] * xs.w_low[sx], ys.w_low[sy] * xs.w_high[sx],
                                     ys.w_high[sy] * xs.w_low[sx], ys.w_high[sy] * xs.w_high[sx]});
        }
      }
      out.begin.push_back(static_cast<int64_t>(out.at.size() / 4));
    }
  }
}

/// gather_bins for one channel read in place: the same sums in the same order, from the
/// precomputed samples (a short loop whose loads the processor can issue far ahead: reading a
/// channels-first map in place waits on memory).
template <class T>
void gather_plane(const T* plane, int64_t bin_step, const PlaneSamples<T>& samples, T count, T* out) {
  const int64_t bins = static_cast<int64_t>(samples.begin.size()) - 1;
  const int64_t* at = samples.at.data();
  const T* w = samples.w.data();
  for (int64_t b = 0; b < bins; ++b) {
    const T* base = plane + b * bin_step;
    T sum = 0;
    for (int64_t s = 4 * samples.begin[b]; s < 4 * samples.begin[b + 1]; s += 4) {
      sum += w[s] * base[at[s]] + w[s + 1] * base[at[s + 1]] + w[s + 2] * base[at[s + 2]] + w[s + 3] * base[at[s + 3]];
    }
    out[b] = sum / count;
  }
}

/// The backward of gather_bins for RoI k: adds grad_output(k, c0 + c, ph, pw) / count times each
/// sample's weights at features + y * row + x * col + (ph * PW + pw) * bin_step + c. g: n_channels
/// values of scratch.
template <class T>
OPTICORE_VECTOR_CLONES void scatter_bins(const Array4View<T>& grad_output, int64_t k, int64_t c0, T* features,
                                         int64_t row, int64_t col, int64_t bin_step, const AxisSamples<T>& ys,
                                         const AxisSamples<T>& xs, int64_t n_channels, T count, T* __restrict g) {
  const int64_t PH = static_cast<int64_t>(ys.begin.size()) - 1, PW = static_cast<int64_t>(xs.begin.size()) - 1;
  for (int64_t ph = 0; ph < PH; ++ph) {
    for (int64_t pw = 0; pw < PW; ++pw) {
      if (ys.begin[ph] == ys.begin[ph + 1] || xs.begin[pw] == xs.begin[pw + 1]) continue;
      T* base = features + (ph * PW + pw) * bin_step;
      for (int64_t c = 0; c < n_channels; ++c) g[c] = grad_output(k, c0 + c, ph, pw) / count;
      for (int64_t sy = ys.begin[ph]; sy < ys.begin[ph + 1]; ++sy) {
        T* row_low = base + ys.low[sy] * row;
        T* row_high = base + ys.high[sy] * row;
        for (int64_t sx = xs.begin[pw]; sx < xs.begin[pw + 1]; ++sx) {
          const T w1 = ys.w_low[sy] * xs.w_low[sx], w2 = ys.w_low[sy] * xs.w_high[sx];
          const T w3 = ys.w_high[sy] * xs.w_low[sx], w4 = ys.w_high[sy] * xs.w_high[sx];
          // Four loops, not one: at the border two corners are the same value.
          T* v1 = row_low + xs.low[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v1[c] += w1 * g[c];
          T* v2 = row_low + xs.high[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v2[c] += w2 * g[c];
          T* v3 = row_high + xs.low[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v3[c] += w3 * g[c];
          T* v4 = row_high + xs.high[sx] * col;
          for (int64_t c = 0; c < n_channels; ++c) v4[c] += w4 * g[c];
        }
      }
    }
  }
}

/// What RoIAlign and position-sensitive RoIAlign check: sampling_ratio and every RoI argument.
template <class T>
void check_align_arguments(const MatrixView<T>& rois, int64_t N, int64_t C, int64_t H, int64_t W,
                           const RoiAlignOptions& options) {
  if (options.sampling_ratio > kMaxSamplingRatio) {
    fail("sampling_ratio: expected at most ", kMaxSamplingRatio, " (<= 0: adaptive), got ", options.sampling_ratio);
  }
  check_roi_arguments(rois, N, C, H, W, options.pooled_height, options.pooled_width, options.spatial_scale);
}

/// Whether the RoIAlign kernels should read a channels-first map in place (one channel at a time)
/// rather than stage a channels-last copy of it (vectorised over channels). The copy streams over
/// the map, N * H * W * groups values per output channel, at a few ns each; reading in place costs
/// per sample, and more where each bin reads a channel of its own (the position-sensitive ops:
/// no cache line is shared between bins). The weights (4 and 24 per sample against 2 per copied
/// value) are measured: few or small RoIs on a large map (FPN's fine levels) read in place, the
/// R-FCN head with 300 RoIs stages.
template <class T>
bool read_in_place(const MatrixView<T>& rois, const RoiAlignOptions& options, int64_t N, int64_t H, int64_t W,
                   int64_t groups) {
  double samples = 0;
  for (int64_t k = 0; k < rois.rows; ++k) {
    const AlignedRoi<T> roi = aligned_roi_at(rois, k, options);
    samples += static_cast<double>(std::max<int64_t>(roi.grid_height, 0)) *
               static_cast<double>(std::max<int64_t>(roi.grid_width, 0));
  }
  samples *= static_cast<double>(options.pooled_height * options.pooled_width);
  const double per_sample = groups > 1 ? 24.0 : 4.0;
  return per_sample * samples < 2.0 * static_cast<double>(N * H * W * groups);
}

/// RoIAlign's forward for every RoI, into output (K, C_out, PH, PW). groups = 1: RoIAlign (C_out =
/// C); groups = PH * PW: position-sensitive (output channel c of bin b reads input channel
/// c * groups + b). Checked arguments, a non-empty map.
template <class T>
void align_forward(const Array4View<T>& input, const MatrixView<T>& rois, const RoiAlignOptions& options, int64_t C_out,
                   int64_t groups, T* output) {
  const int64_t N = input.size[0], C = input.size[1], H = input.size[2], W = input.size[3];
  const int64_t PH = options.pooled_height, PW = options.pooled_width, K = rois.rows;
  const bool already_channels_last = groups <= 1 && (input.stride[1] == 1 || C <= 1);
  const bool in_place = !already_channels_last && read_in_place(rois, options, N, H, W, groups);
  const ChannelsLast<T> features = in_place ? ChannelsLast<T>{} : channels_last(input, groups);
  const int64_t block = kRoiChannelBlock, blocks = (C_out + block - 1) / block;
  parallel_for(K * blocks, 1, [&](int64_t begin, int64_t end) {
    AxisSamples<T> ys, xs;
    PlaneSamples<T> samples;
    std::vector<T> sums(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t k = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C_out - c0);
      const AlignedRoi<T> roi = aligned_roi_at(rois, k, options);
      axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
      axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
      T* out = output + (k * C_out + c0) * PH * PW;
      if (in_place) {  // one channel at a time, its bins reading channels c * groups + b
        const int64_t bin_step = groups > 1 ? input.stride[1] : 0;
        plane_samples(ys, xs, input.stride[2], input.stride[3], samples);
        for (int64_t c = c0; c < c0 + n_channels; ++c) {
          const T* plane = input.data + roi.image * input.stride[0] + c * groups * input.stride[1];
          gather_plane(plane, bin_step, samples, roi.count, out + (c - c0) * PH * PW);
        }
      } else {
        const T* base = features.data + roi.image * features.image + c0;
        gather_bins(base, features.row, features.col, groups > 1 ? C_out : 0, ys, xs, n_channels, roi.count,
                    sums.data(), out);
      }
    }
  });
}

/// The backward of align_forward: grad_input (N, C, H, W) C-contiguous, written in full. Each task
/// owns the channel block of one image and adds that image's RoIs in index order: no two threads
/// write the same value and the sums are the same on any number of threads.
template <class T>
void align_backward(const Array4View<T>& grad_output, const MatrixView<T>& rois, int64_t N, int64_t C, int64_t H,
                    int64_t W, const RoiAlignOptions& options, int64_t C_out, int64_t groups, T* grad_input) {
  const int64_t PH = options.pooled_height, PW = options.pooled_width;
  // Accumulated in place (channel by channel) or in a channels-last copy that is transposed at
  // the end, by the same rule as the forward.
  const bool in_place = C <= 1 || read_in_place(rois, options, N, H, W, groups);
  std::vector<T> scratch(in_place ? 0 : static_cast<size_t>(N * H * W * C));
  if (in_place) std::fill(grad_input, grad_input + N * C * H * W, T(0));
  const auto by_image = rois_by_image(rois, N);
  const int64_t block = roi_channel_block(N, C_out), blocks = (C_out + block - 1) / block;
  parallel_for(N * blocks, 1, [&](int64_t begin, int64_t end) {
    AxisSamples<T> ys, xs;
    std::vector<T> grads(static_cast<size_t>(block));
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / blocks, c0 = (task % blocks) * block, n_channels = std::min(block, C_out - c0);
      for (const int64_t k : by_image[static_cast<size_t>(n)]) {
        const AlignedRoi<T> roi = aligned_roi_at(rois, k, options);
        axis_samples(roi.start_y, roi.bin_height, roi.grid_height, PH, H, ys);
        axis_samples(roi.start_x, roi.bin_width, roi.grid_width, PW, W, xs);
        if (in_place) {
          for (int64_t c = c0; c < c0 + n_channels; ++c) {
            T* plane = grad_input + (n * C + c * groups) * H * W;
            scatter_bins(grad_output, k, c, plane, W, 1, groups > 1 ? H * W : 0, ys, xs, 1, roi.count, grads.data());
          }
        } else {
          scatter_bins(grad_output, k, c0, scratch.data() + n * H * W * C + c0, W * C, C, groups > 1 ? C_out : 0, ys,
                       xs, n_channels, roi.count, grads.data());
        }
      }
    }
  });
  if (!in_place) channels_first(scratch.data(), N, C, H, W, grad_input, groups);
}

}  // namespace
}  // namespace opticore::detail

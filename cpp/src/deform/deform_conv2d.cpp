#include "opticore/deform/deform_conv2d.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/gemm.hpp"
#include "core/detail/gemm_packed.hpp"
#include "core/detail/parallel.hpp"
#include "deform/detail/sample.hpp"
#include "deform/detail/shape.hpp"
#include "opticore/core/limits.hpp"
#include "opticore/core/threading.hpp"

namespace opticore {
namespace {

template <class T>
using RowMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

/// The samples of every (offset group, tap, pixel) of image n for pixels [p0, p0 + P):
/// out[(g * taps + k) * P + p].
template <class T>
void make_samples(const detail::DeformShape& s, const Array4View<T>& offset, const Array4View<T>* mask,
                  const DeformConv2dOptions& o, int64_t n, int64_t p0, int64_t P, std::vector<detail::Sample<T>>& out) {
  const int64_t taps = s.taps();
  out.resize(static_cast<size_t>(s.offset_groups * taps * P));
  for (int64_t g = 0; g < s.offset_groups; ++g) {
    for (int64_t k = 0; k < taps; ++k) {
      const int64_t i = k / s.KW, j = k % s.KW;
      detail::Sample<T>* row = out.data() + (g * taps + k) * P;
      for (int64_t p = 0; p < P; ++p) {
        const int64_t oy = (p0 + p) / s.OW, ox = (p0 + p) % s.OW;
        const T y =
            static_cast<T>(oy * o.stride_h - o.padding_h + i * o.dilation_h) + offset(n, 2 * (g * taps + k), oy, ox);
        const T x = static_cast<T>(ox * o.stride_w - o.padding_w + j * o.dilation_w) +
                    offset(n, 2 * (g * taps + k) + 1, oy, ox);
        const T m = mask != nullptr ? (*mask)(n, g * taps + k, oy, ox) : T(1);
        row[p] = detail::make_sample(y, x, m, s.H, s.W);
      }
    }
  }
}

/// Column rows [(c * taps + k) * P] for input channels [c0, c1) of image n.
template <class T>
void fill_columns(const detail::DeformShape& s, const Array4View<T>& input, int64_t n, int64_t c0, int64_t c1,
                  int64_t P, const std::vector<detail::Sample<T>>& samples, T* columns) {
  const int64_t taps = s.taps(), sy = input.stride[2], sx = input.stride[3];
  for (int64_t c = c0; c < c1; ++c) {
    const T* plane = input.data + n * input.stride[0] + c * input.stride[1];
    const int64_t g = c / s.channels_per_offset_group();
    for (int64_t k = 0; k < taps; ++k) {
      const detail::Sample<T>* row = samples.data() + (g * taps + k) * P;
      T* col = columns + (c * taps + k) * P;
      for (int64_t p = 0; p < P; ++p) {
        const detail::Sample<T>& a = row[p];
        const T* v = plane + a.y * sy + a.x * sx;
        const int64_t down = a.dy * sy, across = a.dx * sx;
        col[p] = a.w[0] * v[0] + a.w[1] * v[across] + a.w[2] * v[down] + a.w[3] * v[down + across];
      }
    }
  }
}

/// Pixels per tile: the column buffer (C_in * taps * P values) within kMaxDeformColumnBytes, and
/// at least `tasks_wanted` tiles over the whole batch when the pixels allow it.
int64_t tile_pixels(const detail::DeformShape& s, int64_t item_bytes, int64_t tasks_wanted) {
  const int64_t rows = std::max<int64_t>(1, s.C_in * s.taps());
  int64_t P = std::max<int64_t>(1, kMaxDeformColumnBytes / (rows * item_bytes));
  const int64_t per_image = (tasks_wanted + s.N - 1) / std::max<int64_t>(s.N, 1);
  P = std::min(P, std::max<int64_t>(64, (s.pixels() + per_image - 1) / per_image));
  return std::max<int64_t>(1, std::min(P, s.pixels()));
}

/// The weight as a C-contiguous (C_out, C_in / groups * taps) matrix.
template <class T>
RowMatrix<T> weight_matrix(const Array4View<T>& weight) {
  const int64_t C_out = weight.size[0], per = weight.size[1], KH = weight.size[2], KW = weight.size[3];
  RowMatrix<T> m(C_out, per * KH * KW);
  for (int64_t o = 0; o < C_out; ++o)
    for (int64_t c = 0; c < per; ++c)
      for (int64_t i = 0; i < KH; ++i)
        for (int64_t j = 0; j < KW; ++j) m(o, (c * KH + i) * KW + j) = weight(o, c, i, j);
  return m;
}

}  // namespace

Size2 deform_conv2d_output_size(int64_t height, int64_t width, int64_t kernel_h, int64_t kernel_w,
                                const DeformConv2dOptions& o) {
  if (o.stride_h < 1 || o.stride_w < 1)
    detail::fail("stride: expected values >= 1, got (", o.stride_h, ", ", o.stride_w, ")");
  if (o.dilation_h < 1 || o.dilation_w < 1) {
    detail::fail("dilation: expected values >= 1, got (", o.dilation_h, ", ", o.dilation_w, ")");
  }
  if (o.padding_h < 0 || o.padding_w < 0) {
    detail::fail("padding: expected values >= 0, got (", o.padding_h, ", ", o.padding_w, ")");
  }
  const int64_t span_h = o.dilation_h * (kernel_h - 1) + 1, span_w = o.dilation_w * (kernel_w - 1) + 1;
  const int64_t OH = height + 2 * o.padding_h - span_h >= 0 ? (height + 2 * o.padding_h - span_h) / o.stride_h + 1 : 0;
  const int64_t OW = width + 2 * o.padding_w - span_w >= 0 ? (width + 2 * o.padding_w - span_w) / o.stride_w + 1 : 0;
  if (OH < 1 || OW < 1) {
    detail::fail("input: the ", height, " x ", width, " input with padding and the dilated ", span_h, " x ", span_w,
                 " kernel gives an empty output (", OH, " x ", OW, ")");
  }
  return {OH, OW};
}

template <class T>
void deform_conv2d(const Array4View<T>& input, const Array4View<T>& weight, const Array4View<T>& offset,
                   const Array4View<T>* mask, const T* bias, const DeformConv2dOptions& options, T* output) {
  const detail::DeformShape s = detail::check_deform_shapes(input, weight, offset, mask, options);
  if (s.N == 0 || s.C_out == 0) return;
  const RowMatrix<T> w = weight_matrix(weight);
  const int64_t taps = s.taps(), in_per_group = s.C_in / s.groups, out_per_group = s.C_out / s.groups;
  const int64_t P = tile_pixels(s, sizeof(T), 4 * get_num_threads()), tiles = (s.pixels() + P - 1) / P;
  [[maybe_unused]] const bool packed = detail::has_avx2();
  detail::parallel_for(s.N * tiles, 1, [&](int64_t begin, int64_t end) {
    std::vector<detail::Sample<T>> samples;
    std::vector<T> columns, pack;
    for (int64_t task = begin; task < end; ++task) {
      const int64_t n = task / tiles, p0 = (task % tiles) * P, count = std::min(P, s.pixels() - p0);
      make_samples(s, offset, mask, options, n, p0, count, samples);
      columns.resize(static_cast<size_t>(s.C_in * taps * count));
      fill_columns(s, input, n, 0, s.C_in, count, samples, columns.data());
      // The product (C_out x C_in * taps x pixels): the packed AVX2 kernel where the CPU has it
      // (1.5x Eigen's speed: Eigen is built for the SSE2 baseline), else Eigen's. Both beat
      // detail::gemm_accumulate on these shapes; it wins on the backward's thin products.
      for (int64_t g = 0; g < s.groups; ++g) {
        const int64_t depth = in_per_group * taps;
        T* out_data = output + (n * s.C_out + g * out_per_group) * s.pixels() + p0;
#if defined(OPTICORE_GEMM_PACKED)
        if (packed) {
          detail::gemm_packed(out_per_group, count, depth, w.data() + g * out_per_group * depth, depth,
                              columns.data() + g * depth * count, count, out_data, s.pixels(), pack);
        } else
#endif
        {
          const Eigen::Map<const RowMatrix<T>> cols(columns.data() + g * depth * count, depth, count);
          Eigen::Map<RowMatrix<T>, 0, Eigen::OuterStride<>> out(out_data, out_per_group, count,
                                                                Eigen::OuterStride<>(s.pixels()));
          out.noalias() = w.middleRows(g * out_per_group, out_per_group) * cols;
        }
        if (bias != nullptr) {
          for (int64_t o = 0; o < out_per_group; ++o) {
            T* row = out_data + o * s.pixels();
            for (int64_t q = 0; q < count; ++q) row[q] += bias[g * out_per_group + o];
          }
        }
      }
    }
  });
}

template <class T>
void deform_conv2d_backward(const Array4View<T>& grad_output, const Array4View<T>& input, const Array4View<T>& weight,
                            const Array4View<T>& offset, const Array4View<T>* mask, const DeformConv2dOptions& options,
                            const DeformConv2dGrads<T>& grads) {
  const detail::DeformShape s = detail::check_deform_shapes(input, weight, offset, mask, options);
  detail::check_deform_grad_output(grad_output, s);
  const int64_t taps = s.taps(), in_per_group = s.C_in / s.groups, out_per_group = s.C_out / s.groups;
  const int64_t HW = s.H * s.W, OHW = s.pixels();
  if (grads.input) std::fill(grads.input, grads.input + s.N * s.C_in * HW, T(0));
  if (grads.weight) std::fill(grads.weight, grads.weight + s.C_out * in_per_group * taps, T(0));
  if (grads.bias) {
    for (int64_t o = 0; o < s.C_out; ++o) {
      T sum = 0;
      for (int64_t n = 0; n < s.N; ++n)
        for (int64_t y = 0; y < s.OH; ++y)
          for (int64_t x = 0; x < s.OW; ++x) sum += grad_output(n, o, y, x);
      grads.bias[o] = sum;
    }
  }
  const bool need_columns = grads.input || grads.offset || grads.mask;
  if (s.N == 0 || (!need_columns && !grads.weight)) return;
  const int64_t depth = in_per_group * taps;
  // The weight transposed, (depth, C_out): the column gradient of group g is wt[:, g] * grad_out[g].
  const RowMatrix<T> wt = weight_matrix(weight).transpose();
  RowMatrix<T> grad_wt = RowMatrix<T>::Zero(depth, s.C_out);  // the weight gradient, transposed
  const int64_t P = tile_pixels(s, 2 * sizeof(T), 1);         // two buffers: columns and their gradient
  const int64_t threads = get_num_threads();
  const int64_t channel_grain = std::max<int64_t>(1, s.C_in / (4 * threads));
  std::vector<detail::Sample<T>> samples;
  std::vector<T> columns, grad_columns, grad_out, grad_out_t;
  for (int64_t n = 0; n < s.N; ++n) {
    for (int64_t p0 = 0; p0 < OHW; p0 += P) {
      const int64_t count = std::min(P, OHW - p0);
      make_samples(s, offset, mask, options, n, p0, count, samples);
      // grad_output's tile, (C_out, count) and transposed (count, C_out), contiguous.
      grad_out.resize(static_cast<size_t>(s.C_out * count));
      grad_out_t.resize(grad_out.size());
      for (int64_t o = 0; o < s.C_out; ++o) {
        for (int64_t p = 0; p < count; ++p) {
          const T v = grad_output(n, o, (p0 + p) / s.OW, (p0 + p) % s.OW);
          grad_out[static_cast<size_t>(o * count + p)] = v;
          grad_out_t[static_cast<size_t>(p * s.C_out + o)] = v;
        }
      }
      if (grads.weight) {
        // grad_wt[:, g] += columns[g] * grad_out_t[:, g], the rows (input channel, tap) over threads.
        columns.resize(static_cast<size_t>(s.C_in * taps * count));
        detail::parallel_for(s.C_in, channel_grain, [&](int64_t c0, int64_t c1) {
          fill_columns(s, input, n, c0, c1, count, samples, columns.data());
          for (int64_t c = c0; c < c1; ++c) {
            const int64_t g = c / in_per_group, row = (c - g * in_per_group) * taps;
            detail::gemm_accumulate(taps, out_per_group, count, columns.data() + c * taps * count, count,
                                    grad_out_t.data() + g * out_per_group, s.C_out,
                                    grad_wt.data() + row * s.C_out + g * out_per_group, s.C_out);
          }
        });
      }
      if (!need_columns) continue;
      // grad_columns[c] = wt[c's rows, g] * grad_out[g], (taps, count) per input channel, over threads.
      grad_columns.assign(static_cast<size_t>(s.C_in * taps * count), T(0));
      detail::parallel_for(s.C_in, channel_grain, [&](int64_t c0, int64_t c1) {
        for (int64_t c = c0; c < c1; ++c) {
          const int64_t g = c / in_per_group, row = (c - g * in_per_group) * taps;
          detail::gemm_accumulate(taps, count, out_per_group, wt.data() + row * s.C_out + g * out_per_group, s.C_out,
                                  grad_out.data() + g * out_per_group * count, count,
                                  grad_columns.data() + c * taps * count, count);
        }
      });
      if (grads.input) {  // scatter each channel's column gradient into its own input plane
        detail::parallel_for(s.C_in, std::max<int64_t>(1, s.C_in / (4 * threads)), [&](int64_t c0, int64_t c1) {
          for (int64_t c = c0; c < c1; ++c) {
            T* plane = grads.input + (n * s.C_in + c) * HW;
            const int64_t g = c / s.channels_per_offset_group();
            for (int64_t k = 0; k < taps; ++k) {
              const detail::Sample<T>* row = samples.data() + (g * taps + k) * count;
              const T* gc = grad_columns.data() + (c * taps + k) * count;
              for (int64_t p = 0; p < count; ++p) {
                const detail::Sample<T>& a = row[p];
                if (!a.inside) continue;
                T* v = plane + a.y * s.W + a.x;
                const int64_t down = a.dy * s.W, across = a.dx;
                // Corners that coincide after clamping carry zero weight: adding them is harmless.
                v[0] += a.w[0] * gc[p];
                v[across] += a.w[1] * gc[p];
                v[down] += a.w[2] * gc[p];
                v[down + across] += a.w[3] * gc[p];
              }
            }
          }
        });
      }
      if (grads.offset || grads.mask) {  // per pixel: sums over the channels of each offset group
        const int64_t per_group = s.channels_per_offset_group();
        detail::parallel_for(count, std::max<int64_t>(1, count / (4 * threads)), [&](int64_t q0, int64_t q1) {
          for (int64_t p = q0; p < q1; ++p) {
            const int64_t pixel = p0 + p;
            for (int64_t g = 0; g < s.offset_groups; ++g) {
              for (int64_t k = 0; k < taps; ++k) {
                const detail::Sample<T>& a = samples[static_cast<size_t>((g * taps + k) * count + p)];
                T d_y = 0, d_x = 0, d_mask = 0;
                if (a.inside) {
                  const T hy = T(1) - a.ly, hx = T(1) - a.lx;
                  for (int64_t c = g * per_group; c < (g + 1) * per_group; ++c) {
                    const T* plane = input.data + n * input.stride[0] + c * input.stride[1];
                    const T* v = plane + a.y * input.stride[2] + a.x * input.stride[3];
                    const int64_t down = a.dy * input.stride[2], across = a.dx * input.stride[3];
                    const T v1 = a.corner[0] ? v[0] : T(0), v2 = a.corner[1] ? v[across] : T(0);
                    const T v3 = a.corner[2] ? v[down] : T(0), v4 = a.corner[3] ? v[down + across] : T(0);
                    const T gc = grad_columns[static_cast<size_t>((c * taps + k) * count + p)];
                    d_y += gc * (-hx * v1 - a.lx * v2 + hx * v3 + a.lx * v4);
                    d_x += gc * (-hy * v1 + hy * v2 - a.ly * v3 + a.ly * v4);
                    d_mask += gc * (hy * hx * v1 + hy * a.lx * v2 + a.ly * hx * v3 + a.ly * a.lx * v4);
                  }
                }
                if (grads.offset) {
                  T* go = grads.offset + (n * 2 * s.offset_groups * taps + 2 * (g * taps + k)) * OHW + pixel;
                  go[0] = d_y * a.mask;
                  go[OHW] = d_x * a.mask;
                }
                if (grads.mask && mask != nullptr)
                  grads.mask[(n * s.offset_groups * taps + g * taps + k) * OHW + pixel] = d_mask;
              }
            }
          }
        });
      }
    }
  }
  if (grads.weight) {
    for (int64_t o = 0; o < s.C_out; ++o)
      for (int64_t q = 0; q < depth; ++q) grads.weight[o * depth + q] = grad_wt(q, o);
  }
}

template void deform_conv2d<float>(const Array4View<float>&, const Array4View<float>&, const Array4View<float>&,
                                   const Array4View<float>*, const float*, const DeformConv2dOptions&, float*);
template void deform_conv2d<double>(const Array4View<double>&, const Array4View<double>&, const Array4View<double>&,
                                    const Array4View<double>*, const double*, const DeformConv2dOptions&, double*);
template void deform_conv2d_backward<float>(const Array4View<float>&, const Array4View<float>&,
                                            const Array4View<float>&, const Array4View<float>&,
                                            const Array4View<float>*, const DeformConv2dOptions&,
                                            const DeformConv2dGrads<float>&);
template void deform_conv2d_backward<double>(const Array4View<double>&, const Array4View<double>&,
                                             const Array4View<double>&, const Array4View<double>&,
                                             const Array4View<double>*, const DeformConv2dOptions&,
                                             const DeformConv2dGrads<double>&);

}  // namespace opticore

// A packed matrix product for the large products of the core's convolution-like kernels
// (deform_conv2d's forward: C_out x C_in * taps times C_in * taps x pixels), on CPUs with AVX2.
//
// C = A * B in blocks, as BLAS libraries do: a 256-deep block of B's rows, 256 columns at a time,
// is packed into strips of two 32-byte vectors (16 floats, 8 doubles) stored depth-major, so the
// kernel reads it sequentially; four rows of A are packed depth-major beside it; four rows by two
// vectors of C stay in eight registers while the depth runs (six rows ran slower: the products'
// temporaries then spill, as there is no FMA). No FMA, like the other vector clones: each product
// and sum rounds as the baseline's would, in another order than Eigen's product, which CPUs
// without AVX2 run instead (see has_avx2()). Measured on 256 x 2304 x 910 floats: 44 GFLOPS on
// one core here, against Eigen's 30.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define OPTICORE_GEMM_PACKED 1  // x86-64 with GCC / Clang vector types and target attributes
#endif

namespace opticore::detail {
namespace {  // NOLINT(google-build-namespaces): internal linkage keeps the target-specific code local

/// Whether this CPU runs gemm_packed (AVX2). OPTICORE_NO_AVX2 in the environment says no (tests
/// run the fallback with it).
inline bool has_avx2() {
#if defined(OPTICORE_GEMM_PACKED)
  static const bool yes = __builtin_cpu_supports("avx2") && std::getenv("OPTICORE_NO_AVX2") == nullptr;
  return yes;
#else
  return false;
#endif
}

#if defined(OPTICORE_GEMM_PACKED)
#define OPTICORE_TARGET_AVX2 __attribute__((target("avx2")))

constexpr int64_t kPackRows = 4, kPackDepth = 256, kPackColumns = 256;

/// Values in a 32-byte vector; a strip of B (and a row of the kernel's block of C) is two of them.
template <class T>
constexpr int64_t kVectorLanes = 32 / static_cast<int64_t>(sizeof(T));

/// The micro-kernel: C[0..rows, 0..cols] (row stride ldc) = (accumulate ? C : 0) + a * b over
/// `depth`, a packed depth-major (kPackRows values per k), b one strip (two 32-byte vectors per k).
/// Written with GCC / Clang vector types: the compiler's vectoriser left the plain loops scalar.
template <class T>
OPTICORE_TARGET_AVX2 void packed_block(int64_t depth, const T* a, const T* b, T* C, int64_t ldc, int64_t rows,
                                       int64_t cols, bool accumulate) {
  typedef T Vec __attribute__((vector_size(32)));
  constexpr int64_t kLanes = kVectorLanes<T>;
  Vec acc[kPackRows][2] = {};
  for (int64_t k = 0; k < depth; ++k) {
    Vec b0, b1;
    std::memcpy(&b0, b + 2 * k * kLanes, sizeof b0);
    std::memcpy(&b1, b + (2 * k + 1) * kLanes, sizeof b1);
    const T* ak = a + k * kPackRows;
#pragma GCC unroll 4
    for (int64_t r = 0; r < kPackRows; ++r) {
      Vec v;  // ak[r] in every lane (not Vec{} + ak[r]: that adds a zero first)
      for (int64_t l = 0; l < kLanes; ++l) v[l] = ak[r];
      acc[r][0] += v * b0;
      acc[r][1] += v * b1;
    }
  }
  T out[kPackRows][2 * kLanes];
  std::memcpy(out, acc, sizeof out);
  for (int64_t r = 0; r < rows; ++r) {
    T* c = C + r * ldc;
    if (accumulate) {
      for (int64_t q = 0; q < cols; ++q) c[q] += out[r][q];
    } else {
      for (int64_t q = 0; q < cols; ++q) c[q] = out[r][q];
    }
  }
}

/// C (M x N, row stride ldc) = A (M x K, row stride lda) * B (K x N, row stride ldb). Only where
/// has_avx2(). `pack` is scratch the function sizes (one per thread).
template <class T>
OPTICORE_TARGET_AVX2 void gemm_packed(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb,
                                      T* C, int64_t ldc, std::vector<T>& pack) {
  constexpr int64_t kWidth = 2 * kVectorLanes<T>;  // a strip's columns
  if (K == 0) {
    for (int64_t i = 0; i < M; ++i) std::fill(C + i * ldc, C + i * ldc + N, T(0));
    return;
  }
  pack.resize(static_cast<size_t>(kPackDepth * (kPackColumns + kPackRows)));
  T* packed_b = pack.data();
  T* packed_a = pack.data() + kPackDepth * kPackColumns;
  for (int64_t k0 = 0; k0 < K; k0 += kPackDepth) {
    const int64_t depth = std::min(kPackDepth, K - k0);
    for (int64_t j0 = 0; j0 < N; j0 += kPackColumns) {
      const int64_t cols = std::min(kPackColumns, N - j0), strips = (cols + kWidth - 1) / kWidth;
      for (int64_t s = 0; s < strips; ++s) {  // strip s: columns j0 + s * kWidth .., zero past N
        const int64_t j = j0 + s * kWidth, valid = std::min(kWidth, N - j);
        T* out = packed_b + s * depth * kWidth;
        for (int64_t k = 0; k < depth; ++k) {
          const T* row = B + (k0 + k) * ldb + j;
          for (int64_t q = 0; q < kWidth; ++q) out[k * kWidth + q] = q < valid ? row[q] : T(0);
        }
      }
      for (int64_t i0 = 0; i0 < M; i0 += kPackRows) {
        const int64_t rows = std::min(kPackRows, M - i0);
        for (int64_t k = 0; k < depth; ++k) {
          for (int64_t r = 0; r < kPackRows; ++r) {
            packed_a[k * kPackRows + r] = r < rows ? A[(i0 + r) * lda + k0 + k] : T(0);
          }
        }
        for (int64_t s = 0; s < strips; ++s) {
          const int64_t j = j0 + s * kWidth;
          packed_block<T>(depth, packed_a, packed_b + s * depth * kWidth, C + i0 * ldc + j, ldc, rows,
                          std::min(kWidth, N - j), k0 > 0);
        }
      }
    }
  }
}

#endif  // OPTICORE_GEMM_PACKED

}  // namespace
}  // namespace opticore::detail

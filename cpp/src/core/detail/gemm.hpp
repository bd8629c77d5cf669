// A small row-major matrix product for the core's convolution-like kernels: C += A * B, four rows
// by 16 columns of C kept in registers over a depth block, the inner loop over contiguous columns
// vectorised (SSE2 or AVX2, picked at load time: the same operations in the same order, so the
// same result on every CPU). It beats Eigen's product (built for the SSE2 baseline) on the thin
// products of deform_conv2d's backward (a few rows, or a few columns); the forward's large
// products take gemm_packed.hpp (or Eigen's product on CPUs without AVX2).
#pragma once

#include <algorithm>
#include <cstdint>

#include "core/detail/vector_clones.hpp"

namespace opticore::detail {
namespace {  // NOLINT(google-build-namespaces): internal linkage keeps the clones local

/// C (M x N, row stride ldc) += A (M x K, row stride lda) * B (K x N, row stride ldb).
template <class T>
OPTICORE_VECTOR_CLONES void gemm_accumulate(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B,
                                            int64_t ldb, T* C, int64_t ldc) {
  // A 4 x kWidth block of C stays in registers while k runs over a depth block: each B value
  // loaded feeds four products, and C is read and written once per depth block.
  constexpr int64_t kWidth = 16, kDepth = 256;
  for (int64_t k0 = 0; k0 < K; k0 += kDepth) {
    const int64_t k1 = std::min(K, k0 + kDepth);
    int64_t i = 0;
    for (; i + 4 <= M; i += 4) {
      const T* a = A + i * lda;
      int64_t j = 0;
      for (; j + kWidth <= N; j += kWidth) {
        T acc[4][kWidth];
        for (int r = 0; r < 4; ++r)
          for (int64_t q = 0; q < kWidth; ++q) acc[r][q] = C[(i + r) * ldc + j + q];
        for (int64_t k = k0; k < k1; ++k) {
          const T* b = B + k * ldb + j;
          const T a0 = a[k], a1 = a[lda + k], a2 = a[2 * lda + k], a3 = a[3 * lda + k];
          for (int64_t q = 0; q < kWidth; ++q) {
            acc[0][q] += a0 * b[q], acc[1][q] += a1 * b[q], acc[2][q] += a2 * b[q], acc[3][q] += a3 * b[q];
          }
        }
        for (int r = 0; r < 4; ++r)
          for (int64_t q = 0; q < kWidth; ++q) C[(i + r) * ldc + j + q] = acc[r][q];
      }
      for (; j < N; ++j) {  // the last columns, fewer than kWidth
        for (int r = 0; r < 4; ++r) {
          T sum = C[(i + r) * ldc + j];
          for (int64_t k = k0; k < k1; ++k) sum += a[r * lda + k] * B[k * ldb + j];
          C[(i + r) * ldc + j] = sum;
        }
      }
    }
    for (; i < M; ++i) {  // the last rows, fewer than four
      for (int64_t k = k0; k < k1; ++k) {
        const T v = A[i * lda + k];
        const T* b = B + k * ldb;
        T* c = C + i * ldc;
        for (int64_t j = 0; j < N; ++j) c[j] += v * b[j];
      }
    }
  }
}

}  // namespace
}  // namespace opticore::detail

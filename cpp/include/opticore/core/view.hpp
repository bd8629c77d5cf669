// Plain strided views: how the core sees arrays without depending on NumPy, ATen or any container.
// Strides are in elements (not bytes) and may be zero or negative, so a NumPy or torch view of any
// layout can be passed without a copy.
#pragma once

#include <cstdint>

namespace opticore {

/// Read-only view of a 1-D array: element i is data[i * stride].
template <class T>
struct VectorView {
  const T* data = nullptr;
  int64_t size = 0;
  int64_t stride = 1;

  VectorView() = default;
  VectorView(const T* data_, int64_t size_, int64_t stride_ = 1) : data(data_), size(size_), stride(stride_) {}

  const T& operator[](int64_t i) const { return data[i * stride]; }
};

/// Read-only view of a 2-D array: element (i, j) is data[i * row_stride + j * col_stride].
/// The three-argument constructor describes a C-contiguous (row-major) array.
template <class T>
struct MatrixView {
  const T* data = nullptr;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 1;

  MatrixView() = default;
  MatrixView(const T* data_, int64_t rows_, int64_t cols_)
      : data(data_), rows(rows_), cols(cols_), row_stride(cols_), col_stride(1) {}
  MatrixView(const T* data_, int64_t rows_, int64_t cols_, int64_t row_stride_, int64_t col_stride_)
      : data(data_), rows(rows_), cols(cols_), row_stride(row_stride_), col_stride(col_stride_) {}

  const T& operator()(int64_t i, int64_t j) const { return data[i * row_stride + j * col_stride]; }
};

/// Read-only view of a stack of B matrices (a 3-D array): element (b, i, j) is
/// data[b * batch_stride + i * row_stride + j * col_stride].
template <class T>
struct MatrixBatchView {
  const T* data = nullptr;
  int64_t batch = 0;
  int64_t rows = 0;
  int64_t cols = 0;
  int64_t batch_stride = 0;
  int64_t row_stride = 0;
  int64_t col_stride = 1;

  MatrixBatchView() = default;
  /// A C-contiguous (B, rows, cols) array.
  MatrixBatchView(const T* data_, int64_t batch_, int64_t rows_, int64_t cols_)
      : data(data_),
        batch(batch_),
        rows(rows_),
        cols(cols_),
        batch_stride(rows_ * cols_),
        row_stride(cols_),
        col_stride(1) {}
  MatrixBatchView(const T* data_, int64_t batch_, int64_t rows_, int64_t cols_, int64_t batch_stride_,
                  int64_t row_stride_, int64_t col_stride_)
      : data(data_),
        batch(batch_),
        rows(rows_),
        cols(cols_),
        batch_stride(batch_stride_),
        row_stride(row_stride_),
        col_stride(col_stride_) {}

  MatrixView<T> operator[](int64_t b) const { return {data + b * batch_stride, rows, cols, row_stride, col_stride}; }
};

/// Read-only view of a 4-D array, e.g. a batch of feature maps (N, C, H, W): element (n, c, y, x)
/// is data[n * stride[0] + c * stride[1] + y * stride[2] + x * stride[3]]. The four-size
/// constructor describes a C-contiguous array; a channels-last one has stride[1] == 1.
template <class T>
struct Array4View {
  const T* data = nullptr;
  int64_t size[4] = {0, 0, 0, 0};
  int64_t stride[4] = {0, 0, 0, 1};

  Array4View() = default;
  Array4View(const T* data_, int64_t n, int64_t c, int64_t h, int64_t w)
      : data(data_), size{n, c, h, w}, stride{c * h * w, h * w, w, 1} {}
  Array4View(const T* data_, const int64_t (&size_)[4], const int64_t (&stride_)[4])
      : data(data_),
        size{size_[0], size_[1], size_[2], size_[3]},
        stride{stride_[0], stride_[1], stride_[2], stride_[3]} {}

  const T& operator()(int64_t n, int64_t c, int64_t y, int64_t x) const {
    return data[n * stride[0] + c * stride[1] + y * stride[2] + x * stride[3]];
  }
};

}  // namespace opticore

#include "tracking/detail/fft.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/detail/check.hpp"

// The transforms are mixed-radix Stockham FFTs (self-sorting, out of place between two buffers)
// over *batches*: `batch` independent transforms of length n stored n x batch row-major, in split
// form (a plane of real parts and a plane of imaginary parts). Every butterfly then reads and
// writes runs of contiguous floats with one twiddle per run, which the compiler vectorises. A 2-D
// transform is a column pass (batch = the row length), a transpose, and a second column pass.
//
// The 2-D real transform packs each row's even and odd samples as one complex signal
// (z = x[., 2m] + i x[., 2m + 1], which is the float array read as complex), takes the complex
// rows x cols/2 transform Z, and separates the two by Hermitian symmetry:
//   E = (Z[k, l] + conj Z[-k, -l]) / 2,  O = (Z[k, l] - conj Z[-k, -l]) / 2i,
//   X[k, l] = E[k, l mod cols/2] + exp(-2 pi i l / cols) O[k, l mod cols/2],  l = 0 .. cols/2.
// The inverse runs the same steps backwards. This halves the work of a complex transform.

// Every butterfly loop reads runs of one buffer and writes runs of another: no iteration depends
// on another, which the compiler cannot prove from the run offsets (it would give up on the
// run-time alias checks and leave the loops scalar).
#if defined(__clang__)
#define OPTICORE_INDEPENDENT_ITERATIONS _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define OPTICORE_INDEPENDENT_ITERATIONS _Pragma("GCC ivdep")
#else
#define OPTICORE_INDEPENDENT_ITERATIONS
#endif

namespace opticore::detail {

namespace {

constexpr double kPi = 3.14159265358979323846;

bool has_small_factors(int64_t n) {
  for (int64_t p : {2, 3, 5}) {
    while (n % p == 0) n /= p;
  }
  return n == 1;
}

/// A buffer pair in split form.
struct Split {
  float* re;
  float* im;
};

/// The runs of one radix-p stage: input runs x_r = x + (j + r q) run, output runs
/// y_t = y + (p j + t) run, for r, t < p.
struct Runs {
  const float* __restrict xr;
  const float* __restrict xi;
  float* __restrict yr;
  float* __restrict yi;
  int64_t q, run;
};

/// y_t = b_t * w^t (w^t from the stage's table, or 1 when `twiddle` is false).
inline void store(float* __restrict yr, float* __restrict yi, int64_t k, float br, float bi, float wr, float wi,
                  bool twiddle) {
  if (twiddle) {
    yr[k] = br * wr - bi * wi;
    yi[k] = br * wi + bi * wr;
  } else {
    yr[k] = br;
    yi[k] = bi;
  }
}

template <bool kTwiddle>
void radix2(const Runs& s, int64_t j, const float* wr, const float* wi) {
  const float* a0r = s.xr + j * s.run;
  const float* a0i = s.xi + j * s.run;
  const float* a1r = a0r + s.q * s.run;
  const float* a1i = a0i + s.q * s.run;
  float* y0r = s.yr + 2 * j * s.run;
  float* y0i = s.yi + 2 * j * s.run;
  float* y1r = y0r + s.run;
  float* y1i = y0i + s.run;
  const float w1r = kTwiddle ? wr[0] : 1.0f, w1i = kTwiddle ? wi[0] : 0.0f;
  OPTICORE_INDEPENDENT_ITERATIONS
  for (int64_t k = 0; k < s.run; ++k) {
    y0r[k] = a0r[k] + a1r[k];
    y0i[k] = a0i[k] + a1i[k];
    store(y1r, y1i, k, a0r[k] - a1r[k], a0i[k] - a1i[k], w1r, w1i, kTwiddle);
  }
}

template <bool kTwiddle>
void radix3(const Runs& s, int64_t j, const float* wr, const float* wi) {
  constexpr float c = 0.86602540378443864676f;  // sin(2 pi / 3)
  const int64_t in = s.q * s.run;
  const float* a0r = s.xr + j * s.run;
  const float* a0i = s.xi + j * s.run;
  float* y0r = s.yr + 3 * j * s.run;
  float* y0i = s.yi + 3 * j * s.run;
  const float w1r = kTwiddle ? wr[0] : 1.0f, w1i = kTwiddle ? wi[0] : 0.0f;
  const float w2r = kTwiddle ? wr[1] : 1.0f, w2i = kTwiddle ? wi[1] : 0.0f;
  OPTICORE_INDEPENDENT_ITERATIONS
  for (int64_t k = 0; k < s.run; ++k) {
    const float sr = a0r[k + in] + a0r[k + 2 * in], si = a0i[k + in] + a0i[k + 2 * in];
    const float dr = a0r[k + in] - a0r[k + 2 * in], di = a0i[k + in] - a0i[k + 2 * in];
    const float mr = a0r[k] - 0.5f * sr, mi = a0i[k] - 0.5f * si;
    y0r[k] = a0r[k] + sr;
    y0i[k] = a0i[k] + si;
    store(y0r + s.run, y0i + s.run, k, mr + c * di, mi - c * dr, w1r, w1i, kTwiddle);
    store(y0r + 2 * s.run, y0i + 2 * s.run, k, mr - c * di, mi + c * dr, w2r, w2i, kTwiddle);
  }
}

template <bool kTwiddle>
void radix4(const Runs& s, int64_t j, const float* wr, const float* wi) {
  const int64_t in = s.q * s.run, out = s.run;
  const float* ar = s.xr + j * s.run;
  const float* ai = s.xi + j * s.run;
  float* yr = s.yr + 4 * j * s.run;
  float* yi = s.yi + 4 * j * s.run;
  const float w1r = kTwiddle ? wr[0] : 1.0f, w1i = kTwiddle ? wi[0] : 0.0f;
  const float w2r = kTwiddle ? wr[1] : 1.0f, w2i = kTwiddle ? wi[1] : 0.0f;
  const float w3r = kTwiddle ? wr[2] : 1.0f, w3i = kTwiddle ? wi[2] : 0.0f;
  OPTICORE_INDEPENDENT_ITERATIONS
  for (int64_t k = 0; k < s.run; ++k) {
    const float t0r = ar[k] + ar[k + 2 * in], t0i = ai[k] + ai[k + 2 * in];
    const float t1r = ar[k] - ar[k + 2 * in], t1i = ai[k] - ai[k + 2 * in];
    const float t2r = ar[k + in] + ar[k + 3 * in], t2i = ai[k + in] + ai[k + 3 * in];
    // t3 = -i (a1 - a3)
    const float t3r = ai[k + in] - ai[k + 3 * in], t3i = ar[k + 3 * in] - ar[k + in];
    yr[k] = t0r + t2r;
    yi[k] = t0i + t2i;
    store(yr + out, yi + out, k, t1r + t3r, t1i + t3i, w1r, w1i, kTwiddle);
    store(yr + 2 * out, yi + 2 * out, k, t0r - t2r, t0i - t2i, w2r, w2i, kTwiddle);
    store(yr + 3 * out, yi + 3 * out, k, t1r - t3r, t1i - t3i, w3r, w3i, kTwiddle);
  }
}

template <bool kTwiddle>
void radix5(const Runs& s, int64_t j, const float* wr, const float* wi) {
  constexpr float c1 = 0.30901699437494745126f, c2 = -0.80901699437494734024f;  // cos(2 pi / 5), cos(4 pi / 5)
  constexpr float s1 = 0.95105651629515353118f, s2 = 0.58778525229247324813f;   // sin(2 pi / 5), sin(4 pi / 5)
  const int64_t in = s.q * s.run, out = s.run;
  const float* ar = s.xr + j * s.run;
  const float* ai = s.xi + j * s.run;
  float* yr = s.yr + 5 * j * s.run;
  float* yi = s.yi + 5 * j * s.run;
  float w_r[4] = {1, 1, 1, 1}, w_i[4] = {0, 0, 0, 0};
  if (kTwiddle) {
    for (int t = 0; t < 4; ++t) w_r[t] = wr[t], w_i[t] = wi[t];
  }
  OPTICORE_INDEPENDENT_ITERATIONS
  for (int64_t k = 0; k < s.run; ++k) {
    const float s14r = ar[k + in] + ar[k + 4 * in], s14i = ai[k + in] + ai[k + 4 * in];
    const float d14r = ar[k + in] - ar[k + 4 * in], d14i = ai[k + in] - ai[k + 4 * in];
    const float s23r = ar[k + 2 * in] + ar[k + 3 * in], s23i = ai[k + 2 * in] + ai[k + 3 * in];
    const float d23r = ar[k + 2 * in] - ar[k + 3 * in], d23i = ai[k + 2 * in] - ai[k + 3 * in];
    const float m1r = ar[k] + c1 * s14r + c2 * s23r, m1i = ai[k] + c1 * s14i + c2 * s23i;
    const float m2r = ar[k] + c2 * s14r + c1 * s23r, m2i = ai[k] + c2 * s14i + c1 * s23i;
    const float n1r = s1 * d14r + s2 * d23r, n1i = s1 * d14i + s2 * d23i;
    const float n2r = s2 * d14r - s1 * d23r, n2i = s2 * d14i - s1 * d23i;
    yr[k] = ar[k] + s14r + s23r;
    yi[k] = ai[k] + s14i + s23i;
    // b1 = m1 - i n1, b4 = m1 + i n1, b2 = m2 - i n2, b3 = m2 + i n2
    store(yr + out, yi + out, k, m1r + n1i, m1i - n1r, w_r[0], w_i[0], kTwiddle);
    store(yr + 2 * out, yi + 2 * out, k, m2r + n2i, m2i - n2r, w_r[1], w_i[1], kTwiddle);
    store(yr + 3 * out, yi + 3 * out, k, m2r - n2i, m2i + n2r, w_r[2], w_i[2], kTwiddle);
    store(yr + 4 * out, yi + 4 * out, k, m1r - n1i, m1i + n1r, w_r[3], w_i[3], kTwiddle);
  }
}

/// Any radix p, by the direct p-point DFT (O(p^2) per butterfly; for the prime factors above 5).
void radix_generic(const Runs& s, int64_t j, int64_t p, const float* wr, const float* wi, const float* root_r,
                   const float* root_i) {
  const int64_t in = s.q * s.run;
  const float* ar = s.xr + j * s.run;
  const float* ai = s.xi + j * s.run;
  for (int64_t t = 0; t < p; ++t) {
    float* yr = s.yr + (p * j + t) * s.run;
    float* yi = s.yi + (p * j + t) * s.run;
    for (int64_t k = 0; k < s.run; ++k) yr[k] = ar[k], yi[k] = ai[k];
    for (int64_t r = 1; r < p; ++r) {
      const float cr = root_r[(r * t) % p], ci = root_i[(r * t) % p];
      const float* xr = ar + r * in;
      const float* xi = ai + r * in;
      OPTICORE_INDEPENDENT_ITERATIONS
      for (int64_t k = 0; k < s.run; ++k) {
        yr[k] += xr[k] * cr - xi[k] * ci;
        yi[k] += xr[k] * ci + xi[k] * cr;
      }
    }
    if (t > 0) {
      const float w_r = wr[t - 1], w_i = wi[t - 1];
      OPTICORE_INDEPENDENT_ITERATIONS
      for (int64_t k = 0; k < s.run; ++k) {
        const float br = yr[k], bi = yi[k];
        yr[k] = br * w_r - bi * w_i;
        yi[k] = br * w_i + bi * w_r;
      }
    }
  }
}

}  // namespace

/// Batched complex DFTs of one length (see the comment at the top of this file).
class BatchedFft {
 public:
  explicit BatchedFft(int64_t n) : n_(n) {
    int64_t rest = n, len = n;
    const auto add_stage = [&](int64_t p) {
      Stage st{p, len / p, {}, {}, {}, {}};
      const auto count = static_cast<size_t>(st.q * (p - 1));
      st.wr.resize(count);
      st.wi.resize(count);
      for (int64_t j = 0; j < st.q; ++j) {
        for (int64_t t = 1; t < p; ++t) {
          const double angle = -2.0 * kPi * static_cast<double>(j * t) / static_cast<double>(len);
          st.wr[j * (p - 1) + t - 1] = static_cast<float>(std::cos(angle));
          st.wi[j * (p - 1) + t - 1] = static_cast<float>(std::sin(angle));
        }
      }
      if (p > 5) {
        for (int64_t t = 0; t < p; ++t) {
          const double angle = -2.0 * kPi * static_cast<double>(t) / static_cast<double>(p);
          st.root_r.push_back(static_cast<float>(std::cos(angle)));
          st.root_i.push_back(static_cast<float>(std::sin(angle)));
        }
      }
      stages_.push_back(std::move(st));
      len /= p;
      rest /= p;
    };
    while (rest % 4 == 0) add_stage(4);
    for (int64_t p = 2; rest > 1; ++p) {
      while (rest % p == 0) add_stage(p);
    }
  }

  int64_t size() const { return n_; }

  /// The forward (unscaled, exp(-2 pi i jk / n)) transforms of `data` (n x batch, split), with
  /// `work` (the same size) as scratch. Returns the pair holding the result: data or work.
  Split forward(Split data, Split work, int64_t batch) const {
    int64_t stride = 1;
    for (const Stage& st : stages_) {
      const Runs runs{data.re, data.im, work.re, work.im, st.q, stride * batch};
      const float* wr = st.wr.data();
      const float* wi = st.wi.data();
      const int64_t p = st.p;
      for (int64_t j = 0; j < st.q; ++j) {
        const float* jr = wr + j * (p - 1);
        const float* ji = wi + j * (p - 1);
        const bool tw = j > 0;  // w^0 = 1: the first butterfly needs no twiddles
        switch (p) {
          case 2:
            tw ? radix2<true>(runs, j, jr, ji) : radix2<false>(runs, j, jr, ji);
            break;
          case 3:
            tw ? radix3<true>(runs, j, jr, ji) : radix3<false>(runs, j, jr, ji);
            break;
          case 4:
            tw ? radix4<true>(runs, j, jr, ji) : radix4<false>(runs, j, jr, ji);
            break;
          case 5:
            tw ? radix5<true>(runs, j, jr, ji) : radix5<false>(runs, j, jr, ji);
            break;
          default:
            radix_generic(runs, j, p, jr, ji, st.root_r.data(), st.root_i.data());
        }
      }
      std::swap(data, work);
      stride *= p;
    }
    return data;
  }

  /// The inverse (unscaled, exp(+2 pi i jk / n)): the forward transform with real and imaginary
  /// parts swapped on the way in and out.
  Split inverse(Split data, Split work, int64_t batch) const {
    const Split out = forward({data.im, data.re}, {work.im, work.re}, batch);
    return {out.im, out.re};
  }

 private:
  struct Stage {
    int64_t p, q;                       // radix, and the sub-length that follows (len / p)
    std::vector<float> wr, wi;          // twiddles exp(-2 pi i j t / len), at j (p - 1) + t - 1
    std::vector<float> root_r, root_i;  // exp(-2 pi i t / p), generic radices only
  };
  int64_t n_;
  std::vector<Stage> stages_;
};

int64_t fft_size_at_least(int64_t n, int64_t multiple) {
  if (n < 1) n = 1;
  int64_t m = ((n + multiple - 1) / multiple) * multiple;
  while (!has_small_factors(m)) m += multiple;
  return m;
}

namespace {

/// dst (cols x rows) = the transpose of src (rows x cols), both planes.
void transpose(Split src, Split dst, int64_t rows, int64_t cols) {
  constexpr int64_t kBlock = 16;  // tiles that stay in L1
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock) {
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      const int64_t r1 = std::min(rows, r0 + kBlock), c1 = std::min(cols, c0 + kBlock);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) {
          dst.re[c * rows + r] = src.re[r * cols + c];
          dst.im[c * rows + r] = src.im[r * cols + c];
        }
      }
    }
  }
}

}  // namespace

struct Fft2d::Impl {
  BatchedFft along_rows, along_cols;          // lengths rows and cols / 2
  std::vector<float> a_re, a_im, b_re, b_im;  // two split buffers of rows x cols / 2
  std::vector<float> w_re, w_im;              // exp(-2 pi i l / cols), l = 0 .. cols / 2

  Impl(int64_t rows, int64_t cols) : along_rows(rows), along_cols(cols / 2) {
    const auto n = static_cast<size_t>(rows * (cols / 2));
    for (auto* v : {&a_re, &a_im, &b_re, &b_im}) v->resize(n);
    for (int64_t l = 0; l <= cols / 2; ++l) {
      const double angle = -2.0 * kPi * static_cast<double>(l) / static_cast<double>(cols);
      w_re.push_back(static_cast<float>(std::cos(angle)));
      w_im.push_back(static_cast<float>(std::sin(angle)));
    }
  }
  Split a() { return {a_re.data(), a_im.data()}; }
  Split b() { return {b_re.data(), b_im.data()}; }
  static Split other(Split s, Split x, Split y) { return s.re == x.re ? y : x; }
};

Fft2d::Fft2d(int64_t rows, int64_t cols) : rows_(rows), cols_(cols) {
  if (rows < 1 || cols < 2 || cols % 2 != 0) fail("Fft2d: expected rows >= 1 and an even cols, got ", rows, "x", cols);
  impl_ = std::make_unique<Impl>(rows, cols);
}
Fft2d::~Fft2d() = default;
Fft2d::Fft2d(Fft2d&&) noexcept = default;
Fft2d& Fft2d::operator=(Fft2d&&) noexcept = default;

void Fft2d::forward(const float* signal, Complex* spectrum) {
  Impl& m = *impl_;
  const int64_t rows = rows_, half = cols_ / 2, sc = half + 1;
  // z = the signal read as rows x half complex values, split.
  const Split a = m.a(), b = m.b();
  for (int64_t i = 0; i < rows * half; ++i) {
    a.re[i] = signal[2 * i];
    a.im[i] = signal[2 * i + 1];
  }
  const Split by_cols = m.along_rows.forward(a, b, half);  // along each column: rows x half
  const Split t = Impl::other(by_cols, a, b);
  transpose(by_cols, t, rows, half);
  const Split z = m.along_cols.forward(t, by_cols, rows);  // half x rows: z[l rows + k] = Z[k, l]
  for (int64_t l = 0; l <= half; ++l) {
    const float* z1r = z.re + (l % half) * rows;
    const float* z1i = z.im + (l % half) * rows;
    const float* z2r = z.re + ((half - l) % half) * rows;  // Z[-k, -l], read at (rows - k) % rows
    const float* z2i = z.im + ((half - l) % half) * rows;
    const float wr = m.w_re[l], wi = m.w_im[l];
    for (int64_t k = 0; k < rows; ++k) {
      const int64_t nk = k == 0 ? 0 : rows - k;
      const float ar = z1r[k], ai = z1i[k], br = z2r[nk], bi = -z2i[nk];  // b = conj Z[-k, -l]
      const float er = 0.5f * (ar + br), ei = 0.5f * (ai + bi);
      const float orr = 0.5f * (ai - bi), oi = -0.5f * (ar - br);  // (a - b) / 2i
      spectrum[k * sc + l] = {er + wr * orr - wi * oi, ei + wr * oi + wi * orr};
    }
  }
}

void Fft2d::inverse(const Complex* spectrum, float* signal) {
  Impl& m = *impl_;
  const int64_t rows = rows_, half = cols_ / 2, sc = half + 1;
  const float scale = 1.0f / static_cast<float>(rows_ * cols_);
  // Z[k, l] = E + i O with E = (X[k, l] + conj X[-k, half - l]) and
  // O = (X[k, l] - conj X[-k, half - l]) exp(+2 pi i l / cols), scaled; stored half x rows.
  const Split a = m.a(), b = m.b();
  for (int64_t l = 0; l < half; ++l) {
    const float wr = scale * m.w_re[l], wi = -scale * m.w_im[l];
    for (int64_t k = 0; k < rows; ++k) {
      const int64_t nk = k == 0 ? 0 : rows - k;
      const Complex x1 = spectrum[k * sc + l], x2 = std::conj(spectrum[nk * sc + half - l]);
      const float er = scale * (x1.real() + x2.real()), ei = scale * (x1.imag() + x2.imag());
      const float dr = x1.real() - x2.real(), di = x1.imag() - x2.imag();
      const float orr = dr * wr - di * wi, oi = dr * wi + di * wr;
      a.re[l * rows + k] = er - oi;  // E + i O
      a.im[l * rows + k] = ei + orr;
    }
  }
  const Split by_rows = m.along_cols.inverse(a, b, rows);  // half x rows
  const Split t = Impl::other(by_rows, a, b);
  transpose(by_rows, t, half, rows);
  const Split z = m.along_rows.inverse(t, by_rows, half);  // rows x half
  for (int64_t i = 0; i < rows * half; ++i) {
    signal[2 * i] = z.re[i];
    signal[2 * i + 1] = z.im[i];
  }
}

struct Fft1d::Impl {
  BatchedFft fft;
  std::vector<float> a_re, a_im, b_re, b_im;

  explicit Impl(int64_t n) : fft(n), a_re(n), a_im(n), b_re(n), b_im(n) {}
  Split a() { return {a_re.data(), a_im.data()}; }
  Split b() { return {b_re.data(), b_im.data()}; }
};

Fft1d::Fft1d(int64_t n) : n_(n) {
  if (n < 1) fail("Fft1d: expected n >= 1, got ", n);
  impl_ = std::make_unique<Impl>(n);
}
Fft1d::~Fft1d() = default;
Fft1d::Fft1d(Fft1d&&) noexcept = default;
Fft1d& Fft1d::operator=(Fft1d&&) noexcept = default;

void Fft1d::forward(const float* signal, Complex* spectrum) {
  Impl& m = *impl_;
  for (int64_t i = 0; i < n_; ++i) m.a_re[i] = signal[i], m.a_im[i] = 0.0f;
  const Split z = m.fft.forward(m.a(), m.b(), 1);
  for (int64_t l = 0; l < spectrum_size(); ++l) spectrum[l] = {z.re[l], z.im[l]};
}

void Fft1d::inverse(const Complex* spectrum, float* signal) {
  Impl& m = *impl_;
  const int64_t bins = spectrum_size();
  for (int64_t l = 0; l < n_; ++l) {  // the full spectrum, by Hermitian symmetry
    const Complex x = l < bins ? spectrum[l] : std::conj(spectrum[n_ - l]);
    m.a_re[l] = x.real();
    m.a_im[l] = x.imag();
  }
  const Split z = m.fft.inverse(m.a(), m.b(), 1);
  const float scale = 1.0f / static_cast<float>(n_);
  for (int64_t i = 0; i < n_; ++i) signal[i] = scale * z.re[i];
}

}  // namespace opticore::detail

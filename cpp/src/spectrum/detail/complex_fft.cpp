// Mixed-radix FFT: recursive decimation in time. A length-n transform splits into p interleaved
// sub-sequences (p the first factor), transforms each (recursively, reading the input with a
// growing stride, so no reordering pass is needed), and joins them with twiddled p-point
// butterflies. Every twiddle of every level is a power of the one root of unity of the full
// length, so a single table serves all levels.
//
// The butterflies of one level run over the `count` interleaved sequences in their inner loop:
// contiguous doubles, no dependence between sequences, so they vectorise (compiled for the
// baseline and for AVX2, see vector_clones.hpp).
//
// Bluestein: X[k] = w[k] * sum_j (x[j] w[j]) conj(w[k - j]) with w[j] = exp(-i pi j^2 / n), a
// convolution that a zero-padded power-of-two FFT computes.
#include "spectrum/detail/complex_fft.hpp"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "core/detail/check.hpp"
#include "core/detail/vector_clones.hpp"

namespace opticore::detail {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// n's factors, 4s first (the cheapest butterfly per point), then 2, 3, 5 and other primes;
/// {1} for n = 1 (a one-point "butterfly" that copies).
std::vector<int64_t> factorize(int64_t n) {
  if (n == 1) return {1};
  std::vector<int64_t> f;
  while (n % 4 == 0) f.push_back(4), n /= 4;
  for (int64_t p = 2; p * p <= n; ++p) {
    while (n % p == 0) f.push_back(p), n /= p;
  }
  if (n > 1) f.push_back(n);
  return f;
}

// The butterflies of one level, in place on y: for each sequence c < count, the inputs are
// t[q] = w[q] * y[q * step + c] (w[0] = 1) and y[s * step + c] becomes sum_q t[q] exp(-2 pi i q s / p).
// Each sequence reads and writes only its own column, so in place is safe; the restrict pointers
// name disjoint rows.

OPTICORE_VECTOR_CLONES void butterflies2(double* __restrict r0, double* __restrict i0, double* __restrict r1,
                                         double* __restrict i1, int64_t count, const double* wr, const double* wi) {
  for (int64_t c = 0; c < count; ++c) {
    const double t1r = r1[c] * wr[1] - i1[c] * wi[1], t1i = r1[c] * wi[1] + i1[c] * wr[1];
    const double t0r = r0[c], t0i = i0[c];
    r0[c] = t0r + t1r, i0[c] = t0i + t1i;
    r1[c] = t0r - t1r, i1[c] = t0i - t1i;
  }
}

OPTICORE_VECTOR_CLONES void butterflies3(double* __restrict r0, double* __restrict i0, double* __restrict r1,
                                         double* __restrict i1, double* __restrict r2, double* __restrict i2,
                                         int64_t count, const double* wr, const double* wi) {
  const double s3 = 0.86602540378443864676;  // sin(2 pi / 3)
  for (int64_t c = 0; c < count; ++c) {
    const double t0r = r0[c], t0i = i0[c];
    const double t1r = r1[c] * wr[1] - i1[c] * wi[1], t1i = r1[c] * wi[1] + i1[c] * wr[1];
    const double t2r = r2[c] * wr[2] - i2[c] * wi[2], t2i = r2[c] * wi[2] + i2[c] * wr[2];
    const double sr = t1r + t2r, si = t1i + t2i;
    const double rot_r = s3 * (t1i - t2i), rot_i = -s3 * (t1r - t2r);  // -i sin(2 pi / 3) (t1 - t2)
    const double mr = t0r - 0.5 * sr, mi = t0i - 0.5 * si;
    r0[c] = t0r + sr, i0[c] = t0i + si;
    r1[c] = mr + rot_r, i1[c] = mi + rot_i;
    r2[c] = mr - rot_r, i2[c] = mi - rot_i;
  }
}

OPTICORE_VECTOR_CLONES void butterflies4(double* __restrict r0, double* __restrict i0, double* __restrict r1,
                                         double* __restrict i1, double* __restrict r2, double* __restrict i2,
                                         double* __restrict r3, double* __restrict i3, int64_t count, const double* wr,
                                         const double* wi) {
  for (int64_t c = 0; c < count; ++c) {
    const double t0r = r0[c], t0i = i0[c];
    const double t1r = r1[c] * wr[1] - i1[c] * wi[1], t1i = r1[c] * wi[1] + i1[c] * wr[1];
    const double t2r = r2[c] * wr[2] - i2[c] * wi[2], t2i = r2[c] * wi[2] + i2[c] * wr[2];
    const double t3r = r3[c] * wr[3] - i3[c] * wi[3], t3i = r3[c] * wi[3] + i3[c] * wr[3];
    const double a0r = t0r + t2r, a0i = t0i + t2i, a1r = t0r - t2r, a1i = t0i - t2i;
    const double b0r = t1r + t3r, b0i = t1i + t3i;
    const double b1r = t1i - t3i, b1i = t3r - t1r;  // -i (t1 - t3)
    r0[c] = a0r + b0r, i0[c] = a0i + b0i;
    r1[c] = a1r + b1r, i1[c] = a1i + b1i;
    r2[c] = a0r - b0r, i2[c] = a0i - b0i;
    r3[c] = a1r - b1r, i3[c] = a1i - b1i;
  }
}

OPTICORE_VECTOR_CLONES void butterflies5(double* __restrict r0, double* __restrict i0, double* __restrict r1,
                                         double* __restrict i1, double* __restrict r2, double* __restrict i2,
                                         double* __restrict r3, double* __restrict i3, double* __restrict r4,
                                         double* __restrict i4, int64_t count, const double* wr, const double* wi) {
  const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;  // cos(2 pi / 5), cos(4 pi / 5)
  const double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;   // sin(2 pi / 5), sin(4 pi / 5)
  for (int64_t c = 0; c < count; ++c) {
    const double t0r = r0[c], t0i = i0[c];
    const double t1r = r1[c] * wr[1] - i1[c] * wi[1], t1i = r1[c] * wi[1] + i1[c] * wr[1];
    const double t2r = r2[c] * wr[2] - i2[c] * wi[2], t2i = r2[c] * wi[2] + i2[c] * wr[2];
    const double t3r = r3[c] * wr[3] - i3[c] * wi[3], t3i = r3[c] * wi[3] + i3[c] * wr[3];
    const double t4r = r4[c] * wr[4] - i4[c] * wi[4], t4i = r4[c] * wi[4] + i4[c] * wr[4];
    const double a1r = t1r + t4r, a1i = t1i + t4i, b1r = t1r - t4r, b1i = t1i - t4i;
    const double a2r = t2r + t3r, a2i = t2i + t3i, b2r = t2r - t3r, b2i = t2i - t3i;
    const double p1r = t0r + c1 * a1r + c2 * a2r, p1i = t0i + c1 * a1i + c2 * a2i;
    const double p2r = t0r + c2 * a1r + c1 * a2r, p2i = t0i + c2 * a1i + c1 * a2i;
    // q1 = -i (s1 b1 + s2 b2), q2 = -i (s2 b1 - s1 b2); -i (x + i y) = y - i x.
    const double q1r = s1 * b1i + s2 * b2i, q1i = -(s1 * b1r + s2 * b2r);
    const double q2r = s2 * b1i - s1 * b2i, q2i = -(s2 * b1r - s1 * b2r);
    r0[c] = t0r + a1r + a2r, i0[c] = t0i + a1i + a2i;
    r1[c] = p1r + q1r, i1[c] = p1i + q1i;
    r2[c] = p2r + q2r, i2[c] = p2i + q2i;
    r3[c] = p2r - q2r, i3[c] = p2i - q2i;
    r4[c] = p1r - q1r, i4[c] = p1i - q1i;
  }
}

/// The mixed-radix transform of one length whose prime factors are at most kMaxDirectPrime.
struct Radix {
  int64_t n = 0;
  std::vector<int64_t> factors;
  std::vector<double> tw_re, tw_im;  // exp(-2 pi i k / n), k < n

  explicit Radix(int64_t n_)
      : n(n_), factors(factorize(n_)), tw_re(static_cast<size_t>(n_)), tw_im(static_cast<size_t>(n_)) {
    for (int64_t k = 0; k < n; ++k) {
      const double a = -2.0 * kPi * static_cast<double>(k) / static_cast<double>(n);
      tw_re[static_cast<size_t>(k)] = std::cos(a);
      tw_im[static_cast<size_t>(k)] = std::sin(a);
    }
  }

  void transform(ConstSplitComplex in, int64_t ld, SplitComplex out, int64_t count) const {
    run(in, ld, out, count, n, 1, 0);
  }

  // For each c < count: out[k * count + c], k < len = DFT of in[(j * stride) * ld + c], j < len
  // (len * stride == n).
  void run(ConstSplitComplex in, int64_t ld, SplitComplex out, int64_t count, int64_t len, int64_t stride,
           size_t level) const {
    const int64_t p = factors[level], m = len / p;
    if (m == 1) {
      for (int64_t q = 0; q < p; ++q) {
        std::copy(in.re + q * stride * ld, in.re + q * stride * ld + count, out.re + q * count);
        std::copy(in.im + q * stride * ld, in.im + q * stride * ld + count, out.im + q * count);
      }
    } else {
      for (int64_t q = 0; q < p; ++q)
        run(in + q * stride * ld, ld, out + q * m * count, count, m, stride * p, level + 1);
    }
    // out[(q * m + k) * count + c] holds bin k of sub-sequence q; bin k + s * m of the whole is
    // sum_q W_len^(q k) W_p^(q s) out[(q * m + k) * count + c], with W_len^j = tw[j * stride].
    double wr[kMaxDirectPrime + 1], wi[kMaxDirectPrime + 1];
    const int64_t step = m * count;
    for (int64_t k = 0; k < m; ++k) {
      for (int64_t q = 0; q < p; ++q) {
        wr[q] = tw_re[static_cast<size_t>(q * k * stride)];
        wi[q] = tw_im[static_cast<size_t>(q * k * stride)];
      }
      double* re = out.re + k * count;
      double* im = out.im + k * count;
      switch (p) {
        case 1:
          break;
        case 2:
          butterflies2(re, im, re + step, im + step, count, wr, wi);
          break;
        case 3:
          butterflies3(re, im, re + step, im + step, re + 2 * step, im + 2 * step, count, wr, wi);
          break;
        case 4:
          butterflies4(re, im, re + step, im + step, re + 2 * step, im + 2 * step, re + 3 * step, im + 3 * step, count,
                       wr, wi);
          break;
        case 5:
          butterflies5(re, im, re + step, im + step, re + 2 * step, im + 2 * step, re + 3 * step, im + 3 * step,
                       re + 4 * step, im + 4 * step, count, wr, wi);
          break;
        default:
          direct_butterflies(p, re, im, step, count, wr, wi);
      }
    }
  }

  // Any other prime p <= kMaxDirectPrime: a direct p-point DFT per sequence, W_p = tw[n / p].
  void direct_butterflies(int64_t p, double* re, double* im, int64_t step, int64_t count, const double* wr,
                          const double* wi) const {
    const int64_t root = n / p;
    ComplexD t[kMaxDirectPrime + 1];
    for (int64_t c = 0; c < count; ++c) {
      for (int64_t q = 0; q < p; ++q) t[q] = ComplexD(re[q * step + c], im[q * step + c]) * ComplexD(wr[q], wi[q]);
      for (int64_t s = 0; s < p; ++s) {
        ComplexD acc = t[0];
        for (int64_t q = 1; q < p; ++q) {
          const auto j = static_cast<size_t>(((q * s) % p) * root);
          acc += t[q] * ComplexD(tw_re[j], tw_im[j]);
        }
        re[s * step + c] = acc.real();
        im[s * step + c] = acc.imag();
      }
    }
  }
};

bool direct(int64_t n) {
  const auto f = factorize(n);
  return f.back() <= kMaxDirectPrime || f.back() == 4;
}

int64_t next_power_of_two(int64_t n) {
  int64_t m = 1;
  while (m < n) m *= 2;
  return m;
}

}  // namespace

struct ComplexFft::Impl {
  Radix radix;  // length n (direct), or the power of two m of Bluestein's convolution
  bool bluestein = false;
  std::vector<ComplexD> chirp;      // w[j] = exp(-i pi j^2 / n), j < n
  std::vector<ComplexD> chirp_fft;  // FFT_m of conj(w) wrapped around (indices j and m - j)

  explicit Impl(int64_t n) : radix(direct(n) ? n : next_power_of_two(2 * n - 1)), bluestein(!direct(n)) {
    if (!bluestein) return;
    const int64_t m = radix.n;
    chirp.resize(static_cast<size_t>(n));
    int64_t j2 = 0;  // j^2 mod 2n, kept small so the angle stays exact
    for (int64_t j = 0; j < n; ++j) {
      const double a = -kPi * static_cast<double>(j2) / static_cast<double>(n);
      chirp[static_cast<size_t>(j)] = {std::cos(a), std::sin(a)};
      j2 = (j2 + 2 * j + 1) % (2 * n);
    }
    std::vector<double> b(static_cast<size_t>(4 * m));  // the wrapped conj(w), then its FFT
    for (int64_t j = 0; j < n; ++j) {
      for (const int64_t at : {j, (m - j) % m}) {
        b[static_cast<size_t>(at)] = chirp[static_cast<size_t>(j)].real();
        b[static_cast<size_t>(m + at)] = -chirp[static_cast<size_t>(j)].imag();
      }
    }
    radix.transform({b.data(), b.data() + m}, 1, {b.data() + 2 * m, b.data() + 3 * m}, 1);
    chirp_fft.resize(static_cast<size_t>(m));
    for (int64_t k = 0; k < m; ++k) chirp_fft[static_cast<size_t>(k)] = {b[2 * m + k], b[3 * m + k]};
  }
};

ComplexFft::ComplexFft(int64_t n) : n_(n) {
  if (n < 1) fail("n: expected an FFT length >= 1, got ", n);
  impl_ = std::make_unique<Impl>(n);
}
ComplexFft::~ComplexFft() = default;
ComplexFft::ComplexFft(ComplexFft&&) noexcept = default;
ComplexFft& ComplexFft::operator=(ComplexFft&&) noexcept = default;

int64_t ComplexFft::scratch_size() const { return impl_->bluestein ? 4 * impl_->radix.n : 0; }

void ComplexFft::forward(ConstSplitComplex in, int64_t ld, SplitComplex out, int64_t count, double* scratch) const {
  const Impl& p = *impl_;
  if (!p.bluestein) {
    p.radix.transform(in, ld, out, count);
    return;
  }
  // One sequence at a time through the chirp convolution (lengths with a large prime factor).
  const int64_t m = p.radix.n;
  const SplitComplex a{scratch, scratch + m}, spectrum{scratch + 2 * m, scratch + 3 * m};
  for (int64_t c = 0; c < count; ++c) {
    for (int64_t j = 0; j < m; ++j) {
      const ComplexD x =
          j < n_ ? ComplexD(in.re[j * ld + c], in.im[j * ld + c]) * p.chirp[static_cast<size_t>(j)] : ComplexD{};
      a.re[j] = x.real(), a.im[j] = x.imag();
    }
    p.radix.transform(a, 1, spectrum, 1);
    // The inverse FFT as conj(FFT(conj(.))) / m.
    for (int64_t k = 0; k < m; ++k) {
      const ComplexD x = std::conj(ComplexD(spectrum.re[k], spectrum.im[k]) * p.chirp_fft[static_cast<size_t>(k)]);
      spectrum.re[k] = x.real(), spectrum.im[k] = x.imag();
    }
    p.radix.transform(spectrum, 1, a, 1);
    const double scale = 1.0 / static_cast<double>(m);
    for (int64_t k = 0; k < n_; ++k) {
      const ComplexD x = std::conj(ComplexD(a.re[k], a.im[k])) * scale * p.chirp[static_cast<size_t>(k)];
      out.re[k * count + c] = x.real(), out.im[k * count + c] = x.imag();
    }
  }
}

}  // namespace opticore::detail

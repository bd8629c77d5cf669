// Mixed-radix FFT: recursive decimation in time. A length-n transform splits into p interleaved
// sub-sequences (p the first factor), transforms each (recursively, reading the input with a
// growing stride, so no reordering pass is needed), and joins them with twiddled p-point
// butterflies. Every twiddle of every level is a power of the one root of unity of the full
// length, so a single table serves all levels.
//
// Bluestein: X[k] = w[k] * sum_j (x[j] w[j]) conj(w[k - j]) with w[j] = exp(-i pi j^2 / n), a
// convolution that a zero-padded power-of-two FFT computes.
#include "spectrum/detail/complex_fft.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "core/detail/check.hpp"

namespace opticore::detail {
namespace {

constexpr double kPi = 3.14159265358979323846;

/// exp(-2 pi i k / n) for k in [0, n).
std::vector<ComplexD> roots(int64_t n) {
  std::vector<ComplexD> w(static_cast<size_t>(n));
  for (int64_t k = 0; k < n; ++k) {
    const double a = -2.0 * kPi * static_cast<double>(k) / static_cast<double>(n);
    w[static_cast<size_t>(k)] = {std::cos(a), std::sin(a)};
  }
  return w;
}

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

/// The mixed-radix transform of one length whose prime factors are at most kMaxDirectPrime.
struct Radix {
  int64_t n = 0;
  std::vector<int64_t> factors;
  std::vector<ComplexD> tw;  // exp(-2 pi i k / n)

  explicit Radix(int64_t n_) : n(n_), factors(factorize(n_)), tw(roots(n_)) {}

  void transform(const ComplexD* in, int64_t ld, ComplexD* out, int64_t count) const {
    run(in, ld, out, count, n, 1, 0);
  }

  // For each c < count: out[k * count + c], k < len = DFT of in[(j * stride) * ld + c], j < len
  // (len * stride == n).
  void run(const ComplexD* in, int64_t ld, ComplexD* out, int64_t count, int64_t len, int64_t stride,
           size_t level) const {
    const int64_t p = factors[level], m = len / p;
    if (m == 1) {
      for (int64_t q = 0; q < p; ++q) std::copy(in + q * stride * ld, in + q * stride * ld + count, out + q * count);
    } else {
      for (int64_t q = 0; q < p; ++q)
        run(in + q * stride * ld, ld, out + q * m * count, count, m, stride * p, level + 1);
    }
    // out[(q * m + k) * count + c] holds bin k of sub-sequence q; bin k + s * m of the whole is
    // sum_q W_len^(q k) W_p^(q s) out[(q * m + k) * count + c], with W_len^j = tw[j * stride].
    ComplexD w[kMaxDirectPrime + 1], t[kMaxDirectPrime + 1];
    for (int64_t k = 0; k < m; ++k) {
      for (int64_t q = 0; q < p; ++q) w[q] = tw[static_cast<size_t>(q * k * stride)];
      ComplexD* y = out + k * count;
      for (int64_t c = 0; c < count; ++c) {
        t[0] = y[c];
        for (int64_t q = 1; q < p; ++q) t[q] = y[q * m * count + c] * w[q];
        butterfly(t, p, y + c, m * count);
      }
    }
  }

  // y[s * step] = sum_q t[q] exp(-2 pi i q s / p).
  void butterfly(const ComplexD* t, int64_t p, ComplexD* y, int64_t step) const {
    const ComplexD minus_i(0.0, -1.0);
    switch (p) {
      case 2:
        y[0] = t[0] + t[1];
        y[step] = t[0] - t[1];
        return;
      case 3: {
        const double s3 = 0.86602540378443864676;  // sin(2 pi / 3)
        const ComplexD sum = t[1] + t[2], rot = minus_i * s3 * (t[1] - t[2]), mid = t[0] - 0.5 * sum;
        y[0] = t[0] + sum;
        y[step] = mid + rot;
        y[2 * step] = mid - rot;
        return;
      }
      case 4: {
        const ComplexD a0 = t[0] + t[2], a1 = t[0] - t[2], b0 = t[1] + t[3], b1 = minus_i * (t[1] - t[3]);
        y[0] = a0 + b0;
        y[step] = a1 + b1;
        y[2 * step] = a0 - b0;
        y[3 * step] = a1 - b1;
        return;
      }
      case 5: {
        const double c1 = 0.30901699437494742410, c2 = -0.80901699437494742410;  // cos(2 pi / 5), cos(4 pi / 5)
        const double s1 = 0.95105651629515357212, s2 = 0.58778525229247312917;   // sin(2 pi / 5), sin(4 pi / 5)
        const ComplexD a1 = t[1] + t[4], b1 = t[1] - t[4], a2 = t[2] + t[3], b2 = t[2] - t[3];
        const ComplexD r1 = t[0] + c1 * a1 + c2 * a2, r2 = t[0] + c2 * a1 + c1 * a2;
        const ComplexD i1 = minus_i * (s1 * b1 + s2 * b2), i2 = minus_i * (s2 * b1 - s1 * b2);
        y[0] = t[0] + a1 + a2;
        y[step] = r1 + i1;
        y[2 * step] = r2 + i2;
        y[3 * step] = r2 - i2;
        y[4 * step] = r1 - i1;
        return;
      }
      default: {                     // any other prime p <= kMaxDirectPrime: a direct DFT
        const int64_t root = n / p;  // W_p = tw[root]
        for (int64_t s = 0; s < p; ++s) {
          ComplexD acc = t[0];
          for (int64_t q = 1; q < p; ++q) acc += t[q] * tw[static_cast<size_t>(((q * s) % p) * root)];
          y[s * step] = acc;
        }
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
    std::vector<ComplexD> b(static_cast<size_t>(m));
    for (int64_t j = 0; j < n; ++j) {
      b[static_cast<size_t>(j)] = std::conj(chirp[static_cast<size_t>(j)]);
      if (j > 0) b[static_cast<size_t>(m - j)] = std::conj(chirp[static_cast<size_t>(j)]);
    }
    chirp_fft.resize(static_cast<size_t>(m));
    radix.transform(b.data(), 1, chirp_fft.data(), 1);
  }
};

ComplexFft::ComplexFft(int64_t n) : n_(n) {
  if (n < 1) fail("n: expected an FFT length >= 1, got ", n);
  impl_ = std::make_unique<Impl>(n);
}
ComplexFft::~ComplexFft() = default;
ComplexFft::ComplexFft(ComplexFft&&) noexcept = default;
ComplexFft& ComplexFft::operator=(ComplexFft&&) noexcept = default;

int64_t ComplexFft::scratch_size() const { return impl_->bluestein ? 2 * impl_->radix.n : 0; }

void ComplexFft::forward(const ComplexD* in, int64_t ld, ComplexD* out, int64_t count, ComplexD* scratch) const {
  const Impl& p = *impl_;
  if (!p.bluestein) {
    p.radix.transform(in, ld, out, count);
    return;
  }
  // One sequence at a time through the chirp convolution (lengths with a large prime factor).
  const int64_t m = p.radix.n;
  ComplexD* a = scratch;
  ComplexD* spectrum = scratch + m;
  for (int64_t c = 0; c < count; ++c) {
    for (int64_t j = 0; j < m; ++j) a[j] = j < n_ ? in[j * ld + c] * p.chirp[static_cast<size_t>(j)] : ComplexD{};
    p.radix.transform(a, 1, spectrum, 1);
    // The inverse FFT as conj(FFT(conj(.))) / m.
    for (int64_t k = 0; k < m; ++k) spectrum[k] = std::conj(spectrum[k] * p.chirp_fft[static_cast<size_t>(k)]);
    p.radix.transform(spectrum, 1, a, 1);
    const double scale = 1.0 / static_cast<double>(m);
    for (int64_t k = 0; k < n_; ++k) out[k * count + c] = std::conj(a[k]) * scale * p.chirp[static_cast<size_t>(k)];
  }
}

}  // namespace opticore::detail

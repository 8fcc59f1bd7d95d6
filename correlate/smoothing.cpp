// FFT convolution with FFTW3; see smoothing.h.
#include "correlate/smoothing.h"

#include <cmath>
#include <complex>
#include <cstddef>
#include <memory>

#include <fftw3.h>

#include "correlate/errors.h"

namespace opsync::correlate {
namespace {

// Smallest n' >= n whose only prime factors are 2, 3, 5, 7: FFTW is fastest on those sizes.
std::size_t fast_size(std::size_t n) {
  for (std::size_t m = n;; ++m) {
    std::size_t r = m;
    for (std::size_t p : {2U, 3U, 5U, 7U}) {
      while (r % p == 0) r /= p;
    }
    if (r == 1) return m;
  }
}

struct FftwFree {
  void operator()(void* p) const { fftw_free(p); }
};
template <class T>
using FftwBuffer = std::unique_ptr<T[], FftwFree>;

template <class T>
FftwBuffer<T> fftw_buffer(std::size_t n) {
  auto* p = static_cast<T*>(fftw_malloc(sizeof(T) * n));
  if (p == nullptr) throw std::bad_alloc();
  return FftwBuffer<T>(p);
}

struct PlanDestroy {
  void operator()(fftw_plan p) const { fftw_destroy_plan(p); }
};
using Plan = std::unique_ptr<std::remove_pointer_t<fftw_plan>, PlanDestroy>;

// Forward r2c transform of `in` zero-padded to n (FFTW_ESTIMATE: no timing runs, deterministic).
FftwBuffer<fftw_complex> forward(std::span<const double> in, std::size_t n) {
  auto real = fftw_buffer<double>(n);
  auto spec = fftw_buffer<fftw_complex>(n / 2 + 1);
  Plan plan(fftw_plan_dft_r2c_1d(static_cast<int>(n), real.get(), spec.get(), FFTW_ESTIMATE));
  for (std::size_t i = 0; i < n; ++i) real[i] = i < in.size() ? in[i] : 0.0;
  fftw_execute(plan.get());
  return spec;
}

}  // namespace

std::vector<double> convolve_linear_fft(std::span<const double> x, std::span<const double> kernel) {
  if (x.empty() || kernel.empty()) return {};
  const std::size_t full = x.size() + kernel.size() - 1;
  const std::size_t n = fast_size(full);  // >= full, so no wrap-around: linear convolution
  auto a = forward(x, n);
  auto b = forward(kernel, n);
  const std::size_t nc = n / 2 + 1;
  for (std::size_t i = 0; i < nc; ++i) {
    const double re = a[i][0] * b[i][0] - a[i][1] * b[i][1];
    const double im = a[i][0] * b[i][1] + a[i][1] * b[i][0];
    a[i][0] = re;
    a[i][1] = im;
  }
  auto real = fftw_buffer<double>(n);
  Plan plan(fftw_plan_dft_c2r_1d(static_cast<int>(n), a.get(), real.get(), FFTW_ESTIMATE));
  fftw_execute(plan.get());
  std::vector<double> out(full);
  const double scale = 1.0 / static_cast<double>(n);  // FFTW transforms are unnormalised
  for (std::size_t i = 0; i < full; ++i) out[i] = real[i] * scale;
  return out;
}

std::vector<double> gaussian_kernel(double sigma_samples) {
  if (!(sigma_samples > 0) || !std::isfinite(sigma_samples)) {
    throw InputError("gaussian_kernel: sigma must be a positive number of samples");
  }
  const auto half = static_cast<std::size_t>(std::ceil(4.0 * sigma_samples));
  std::vector<double> k(2 * half + 1);
  double sum = 0;
  for (std::size_t i = 0; i < k.size(); ++i) {
    const double x = (static_cast<double>(i) - static_cast<double>(half)) / sigma_samples;
    k[i] = std::exp(-0.5 * x * x);
    sum += k[i];
  }
  for (double& v : k) v /= sum;
  return k;
}

std::vector<double> smooth_gaussian(std::span<const double> x, double sigma_samples) {
  if (!(sigma_samples > 0) || x.empty()) return {x.begin(), x.end()};
  const auto k = gaussian_kernel(sigma_samples);
  const auto full = convolve_linear_fft(x, k);
  const std::size_t half = k.size() / 2;
  return {full.begin() + static_cast<std::ptrdiff_t>(half),
          full.begin() + static_cast<std::ptrdiff_t>(half + x.size())};
}

}  // namespace opsync::correlate

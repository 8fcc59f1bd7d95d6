// Gaussian smoothing by FFT convolution (FFTW3), used by dQ/dV (cellpy's ica.py smooths the
// interpolated curve with a Gaussian of FWHM 10 mV; here the convolution is done in Fourier space).
// The convolution is linear (zero padding), never circular: the ends of a curve do not wrap into
// each other, they fall off because the signal is taken as zero beyond its ends.
#pragma once

#include <span>
#include <vector>

namespace opsync::correlate {

// Full linear convolution, length x.size() + k.size() - 1 (empty if either is empty).
std::vector<double> convolve_linear_fft(std::span<const double> x, std::span<const double> kernel);

// Sampled Gaussian of standard deviation sigma_samples, truncated at +-4 sigma (the tail beyond
// holds < 1e-4 of the area), odd length, normalised to sum 1. sigma_samples must be > 0.
std::vector<double> gaussian_kernel(double sigma_samples);

// x convolved with gaussian_kernel(sigma_samples), centred, same length as x.
// sigma_samples <= 0 returns x unchanged.
std::vector<double> smooth_gaussian(std::span<const double> x, double sigma_samples);

// FWHM = 2 sqrt(2 ln 2) sigma.
inline constexpr double kFwhmPerSigma = 2.3548200450309493;

}  // namespace opsync::correlate

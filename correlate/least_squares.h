// Small linear least squares with standard uncertainties, for the GITT estimates (a relaxed
// voltage from a rest's tail, a pulse's start and end voltages, the sqrt(t) slope).
#pragma once

#include <cstddef>
#include <vector>

namespace opsync::correlate {

struct LeastSquares {
  std::vector<double> coef;                 // one per basis column; empty when the fit failed
  std::vector<std::vector<double>> cov;     // s^2 (X'X)^-1, s from the residuals
  double residual_sd = 0;                   // sqrt(SSE / (n - p)); 0 when n == p
  std::size_t n = 0;

  bool ok() const { return !coef.empty(); }
  double sigma(std::size_t k) const;        // standard uncertainty of coef[k]
};

// Fits y = sum_k coef[k] columns[k][i] by modified Gram-Schmidt QR, so that a basis such
// as (1, sqrt t, t) on large t stays well conditioned. Fails (empty coef) when n <= p or the
// columns are dependent.
LeastSquares least_squares(const std::vector<std::vector<double>>& columns, const std::vector<double>& y);

}  // namespace opsync::correlate

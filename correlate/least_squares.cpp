#include "correlate/least_squares.h"

#include <cmath>

namespace opsync::correlate {

double LeastSquares::sigma(std::size_t k) const {
  if (k >= cov.size()) return std::nan("");
  return std::sqrt(cov[k][k]);
}

LeastSquares least_squares(const std::vector<std::vector<double>>& columns, const std::vector<double>& y) {
  LeastSquares out;
  const std::size_t p = columns.size(), n = y.size();
  out.n = n;
  if (p == 0 || n <= p) return out;
  for (const auto& c : columns) {
    if (c.size() != n) return out;
  }
  // Q (n x p, orthonormal columns) and R (p x p, upper triangular) with X = Q R.
  std::vector<std::vector<double>> q = columns;
  std::vector<std::vector<double>> r(p, std::vector<double>(p, 0.0));
  for (std::size_t k = 0; k < p; ++k) {
    for (std::size_t j = 0; j < k; ++j) {
      double dot = 0;
      for (std::size_t i = 0; i < n; ++i) dot += q[j][i] * q[k][i];
      r[j][k] = dot;
      for (std::size_t i = 0; i < n; ++i) q[k][i] -= dot * q[j][i];
    }
    double norm = 0;
    for (std::size_t i = 0; i < n; ++i) norm += q[k][i] * q[k][i];
    norm = std::sqrt(norm);
    double scale = 0;
    for (std::size_t i = 0; i < n; ++i) scale += columns[k][i] * columns[k][i];
    if (!(norm > 1e-12 * std::sqrt(scale))) return out;  // column k depends on the earlier ones
    r[k][k] = norm;
    for (std::size_t i = 0; i < n; ++i) q[k][i] /= norm;
  }
  // coef = R^-1 Q' y.
  std::vector<double> qty(p, 0.0);
  for (std::size_t k = 0; k < p; ++k) {
    for (std::size_t i = 0; i < n; ++i) qty[k] += q[k][i] * y[i];
  }
  std::vector<double> coef(p, 0.0);
  for (std::size_t k = p; k-- > 0;) {
    double s = qty[k];
    for (std::size_t j = k + 1; j < p; ++j) s -= r[k][j] * coef[j];
    coef[k] = s / r[k][k];
  }
  double sse = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double fit = 0;
    for (std::size_t k = 0; k < p; ++k) fit += coef[k] * columns[k][i];
    sse += (y[i] - fit) * (y[i] - fit);
  }
  out.residual_sd = std::sqrt(sse / static_cast<double>(n - p));
  // (X'X)^-1 = R^-1 R^-T: invert R (upper triangular) column by column.
  std::vector<std::vector<double>> rinv(p, std::vector<double>(p, 0.0));
  for (std::size_t c = 0; c < p; ++c) {
    for (std::size_t k = p; k-- > 0;) {
      double s = k == c ? 1.0 : 0.0;
      for (std::size_t j = k + 1; j < p; ++j) s -= r[k][j] * rinv[j][c];
      rinv[k][c] = s / r[k][k];
    }
  }
  const double s2 = out.residual_sd * out.residual_sd;
  out.cov.assign(p, std::vector<double>(p, 0.0));
  for (std::size_t a = 0; a < p; ++a) {
    for (std::size_t b = 0; b < p; ++b) {
      double s = 0;
      for (std::size_t k = 0; k < p; ++k) s += rinv[a][k] * rinv[b][k];
      out.cov[a][b] = s2 * s;
    }
  }
  out.coef = std::move(coef);
  return out;
}

}  // namespace opsync::correlate

// The coherent operando scenario behind every simulator: a Li-rich cathode's first charge
// (OCV curve, spherical solid-state diffusion, ohmic drop, optional GITT), O2/CO2 release seen
// through a capillary and a mixing volume, and a diffraction scan schedule with per-scan strain.
// The trajectory is integrated once at construction (1 s rows); every query interpolates it,
// and all noise is hashed from (seed, channel, time), so any process asking about any instant
// gets the same answer.
#include "sim/scenario.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <utility>

namespace opsync::sim {
namespace {

// --- Open-circuit voltage of the first charge -------------------------------------------------
// x = Q / capacity, the charge passed over the nominal first-charge capacity. The curve is a
// sum of smooth monotone terms (so it is C-infinity and strictly increasing):
//   3.60 V pristine
//   + a fast initial rise of 0.27 V with an e-fold of 2 % in x (the pristine OCV sits below the
//     stage-1 slope; the first Li leaves easily),
//   + a base slope of 0.12 V per unit x that remains on the plateau (stage 2, ~4.47-4.55 V),
//   + an extra stage-1 slope rising from 0.68 to 1.24 V per unit x, that fades out over ~1 %
//     around x = 0.40 (stage 1: Ni/Co oxidation, a solid solution, hence sloping; steepening
//     as the accessible Ni/Co runs out),
//   + a 0.17 V shoulder centred at x = 0.37, 1 % wide (the end of stage 1 climbs to ~4.45 V),
//   + a steep rise with an e-fold of 2.5 % in x that reaches 4.8 V at x ~ 1.02, so that a
//     C/10 charge, whose particle surface runs ~2 % ahead of the bulk on the plateau, stops at
//     4.8 V with x ~ 1 (capacity_mah is the capacity to 4.8 V).
// dQ/dV = 1 / V'(x) then has a broad stage-1 hump where the slope is least (~3.9-4.0 V), a dip
// on the shoulder and a tall peak on the plateau (~4.5 V), as measured on Li1.2Ni0.13Mn0.54Co0.13O2.
constexpr double kOcvPristineV = 3.60;
constexpr double kOcvInitialRiseV = 0.27, kOcvInitialRiseSoc = 0.02;
constexpr double kOcvBaseSlopeV = 0.12;
constexpr double kOcvStage1SlopeV = 0.68, kOcvStage1CurvatureV = 1.4;
constexpr double kStage2StartSoc = 0.40;  // stage 1 / stage 2 boundary (OCV and diffusion)
constexpr double kOcvStage1FadeSoc = 0.01;
constexpr double kOcvShoulderV = 0.17, kOcvShoulderSoc = 0.37, kOcvShoulderWidthSoc = 0.01;
constexpr double kOcvEndRiseV = 0.22, kOcvEndRiseCentreSoc = 1.015, kOcvEndRiseSoc = 0.025;

double softplus(double z) { return z > 40 ? z : std::log1p(std::exp(z)); }
double logistic(double z) { return 1.0 / (1.0 + std::exp(-z)); }

double ocv_of(double x) {
  const double initial = kOcvInitialRiseV * (1 - std::exp(-x / kOcvInitialRiseSoc));
  const double base = kOcvBaseSlopeV * x;
  // y = integral of (1 - logistic) = a smooth min(x, boundary), zero at x = 0; a + b y has
  // slope (a + b y)(1 - logistic): the stage-1 slope, 0 past the boundary.
  const double w = kOcvStage1FadeSoc;
  const double y = x - w * softplus((x - kStage2StartSoc) / w) + w * softplus(-kStage2StartSoc / w);
  const double stage1 = kOcvStage1SlopeV * y + kOcvStage1CurvatureV * y * y / 2;
  const double shoulder = kOcvShoulderV * (logistic((x - kOcvShoulderSoc) / kOcvShoulderWidthSoc) -
                                           logistic(-kOcvShoulderSoc / kOcvShoulderWidthSoc));
  const double end = kOcvEndRiseV * (std::exp((x - kOcvEndRiseCentreSoc) / kOcvEndRiseSoc) -
                                     std::exp(-kOcvEndRiseCentreSoc / kOcvEndRiseSoc));
  return kOcvPristineV + initial + base + stage1 + shoulder + end;
}

// --- Diffusion -------------------------------------------------------------------------------
// D switches from stage 1 to stage 2 around the boundary; logistic in log D with a width such
// that 10-90 % of the change happens within 2 % of x (2 ln 9 w = 0.02; ln 9 = 2.1972...).
constexpr double kDSwitchWidthSoc = 0.02 / (2 * 2.1972245773362196);

double diffusion_of(double x, double d1_cm2_s, double d2_cm2_s) {
  const double f = logistic((x - kStage2StartSoc) / kDSwitchWidthSoc);
  return std::exp(std::log(d1_cm2_s) + f * (std::log(d2_cm2_s) - std::log(d1_cm2_s)));
}

// Fick's law in a sphere, finite volumes on shells that thin geometrically towards the surface
// (outermost 1/100 of the innermost), so the first seconds of a GITT pulse, when the
// concentration change is confined to a thin skin, are resolved; implicit Euler (unconditionally
// stable, monotone). The variable is the local state of charge (fraction of the capacity's Li
// removed), radius in units of the particle radius. The current removes Li through the surface
// only; the volume average equals Q / capacity to rounding.
class SphereDiffusion {
 public:
  static constexpr int kShells = 30;
  static constexpr double kThinRatio = 0.01;

  SphereDiffusion() {
    const double q = std::pow(kThinRatio, 1.0 / (kShells - 1));
    const double first = (1 - q) / (1 - std::pow(q, kShells));
    double r = 0, dr = first;
    for (int i = 0; i < kShells; ++i) {
      edge_[i] = r;
      width_[i] = dr;
      r += dr;
      dr *= q;
    }
    edge_[kShells] = 1.0;
    for (int i = 0; i < kShells; ++i) volume_[i] = (std::pow(edge_[i + 1], 3) - std::pow(edge_[i], 3)) / 3;
    // Face between shell i and i+1: area / distance between shell mid-points.
    for (int i = 0; i + 1 < kShells; ++i) face_[i] = edge_[i + 1] * edge_[i + 1] / ((width_[i] + width_[i + 1]) / 2);
  }

  // Advance by dt_s with diffusion rate D / r^2 (1/s) and the average state of charge rising at
  // soc_rate (1/s), i.e. a surface flux soc_rate * r / 3.
  void step(double dt_s, double d_over_r2_per_s, double soc_rate_per_s) {
    double lower[kShells], diag[kShells], upper[kShells], rhs[kShells];
    for (int i = 0; i < kShells; ++i) {
      const double g_in = i > 0 ? d_over_r2_per_s * face_[i - 1] : 0.0;
      const double g_out = i + 1 < kShells ? d_over_r2_per_s * face_[i] : 0.0;
      lower[i] = -dt_s * g_in;
      upper[i] = -dt_s * g_out;
      diag[i] = volume_[i] + dt_s * (g_in + g_out);
      rhs[i] = volume_[i] * u_[i];
    }
    rhs[kShells - 1] += dt_s * soc_rate_per_s / 3;  // the whole sphere's volume is 1/3
    // Thomas algorithm (the matrix is diagonally dominant).
    for (int i = 1; i < kShells; ++i) {
      const double m = lower[i] / diag[i - 1];
      diag[i] -= m * upper[i - 1];
      rhs[i] -= m * rhs[i - 1];
    }
    u_[kShells - 1] = rhs[kShells - 1] / diag[kShells - 1];
    for (int i = kShells - 2; i >= 0; --i) u_[i] = (rhs[i] - upper[i] * u_[i + 1]) / diag[i];
  }

  // The outermost shell is thin enough (r / 680) that its mean stands for the surface value;
  // unlike an extrapolation with the flux, it stays continuous when the current steps.
  double surface() const { return u_[kShells - 1]; }

 private:
  double edge_[kShells + 1]{}, width_[kShells]{}, volume_[kShells]{}, face_[kShells]{}, u_[kShells]{};
};

// --- Deterministic noise ---------------------------------------------------------------------
uint64_t splitmix64(uint64_t z) {
  z += 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Standard normal deviate as a pure function of its key (Box-Muller on two hashed uniforms).
double gaussian(uint64_t seed, uint64_t channel, uint64_t index) {
  const uint64_t key = splitmix64(splitmix64(splitmix64(seed) ^ channel) ^ index);
  const double u1 = (static_cast<double>(splitmix64(key) >> 11) + 1.0) * 0x1p-53;  // (0, 1]
  const double u2 = static_cast<double>(splitmix64(key ^ 0x5DEECE66DULL) >> 11) * 0x1p-53;
  return std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
}

constexpr uint64_t kStrainChannel = 1ULL << 32;  // apart from any mass number

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// --- Other constants -------------------------------------------------------------------------
// Gas release builds up over 0.5 % of the capacity after the onset (a few mV on the shoulder):
// oxygen evolution starts at the surface and spreads, it does not switch on.
constexpr double kReleaseRampSoc = 0.005;
// The strain peaks this far below the O2 onset voltage: the reported turnover is at 4.43-4.46 V
// against release from 4.47 V; the lattice starts to relax as oxygen becomes mobile, just before
// gas leaves the particle.
constexpr double kStrainLeadV = 0.025;
// Strain relaxes with an e-fold of 3 % of the capacity once it has turned over (it is largely
// gone a third of the way along the plateau).
constexpr double kStrainRelaxSoc = 0.03;
// Charge stops at this state of charge even if v_max is never reached (a cell that cannot
// reach v_max must still end).
constexpr double kSafetySoc = 1.10;
// Ion current at masses that carry no release (a clean residual-gas background).
constexpr double kOtherMassBaselineA = 1e-12;
constexpr size_t kMaxRows = 5'000'000;  // ~58 days at 1 s: beyond that the parameters are wrong

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(std::string("ScenarioParams: ") + what);
}

size_t rows_for(double duration_s, double dt_s) {
  return static_cast<size_t>(std::llround(std::max(0.0, duration_s) / dt_s));
}

}  // namespace

double Scenario::ocv_v(double soc) { return ocv_of(soc); }

Scenario::Scenario(ScenarioParams p) : p_(p) {
  require(p_.capacity_mah > 0, "capacity_mah must be > 0");
  require(p_.c_rate > 0, "c_rate must be > 0");
  require(p_.particle_radius_cm > 0, "particle_radius_cm must be > 0");
  require(p_.d_stage1_cm2_s > 0 && p_.d_stage2_cm2_s > 0, "diffusion coefficients must be > 0");
  require(p_.rest_before_s >= 0 && p_.rest_after_s >= 0 && p_.gitt_pulse_s >= 0 && p_.gitt_rest_s >= 0,
          "durations must be >= 0");
  require(p_.r_ohm >= 0 && p_.transport_delay_s >= 0 && p_.mixing_tau_s >= 0, "r_ohm, transport_delay_s, "
          "mixing_tau_s must be >= 0");
  require(p_.scan_period_s > 0 && p_.scan_duration_s >= 0 && p_.frames_per_scan >= 0,
          "scan_period_s must be > 0, scan_duration_s and frames_per_scan >= 0");
  charge_current_a_ = p_.c_rate * p_.capacity_mah * 1e-3;
  simulate();
  compute_gas();
  compute_scans();
}

void Scenario::simulate() {
  enum class Phase { rest_before, cc, pulse, gitt_rest, rest_after, done };
  const double capacity_ah = p_.capacity_mah * 1e-3;
  const size_t n_before = rows_for(p_.rest_before_s, dt_s_);
  const size_t n_after = rows_for(p_.rest_after_s, dt_s_);
  const size_t n_pulse = rows_for(p_.gitt_pulse_s, dt_s_);
  const size_t n_rest = rows_for(p_.gitt_rest_s, dt_s_);
  const bool gitt = n_pulse > 0 && p_.gitt_to > p_.gitt_from;
  const double r2_cm2 = p_.particle_radius_cm * p_.particle_radius_cm;

  SphereDiffusion sphere;
  double q_ah = 0, e_wh = 0;
  Phase phase = Phase::rest_before;
  size_t in_phase = 0;  // rows spent in the current phase
  double phase_start_s = 0;
  bool charge_done = false, gitt_done = false;
  auto enter = [&](Phase next, double t) {
    phase = next;
    in_phase = 0;
    phase_start_s = t;
  };

  for (size_t k = 0;; ++k) {
    require(k < kMaxRows, "the scenario would last more than 58 days (check c_rate and the GITT settings)");
    const double t = static_cast<double>(k) * dt_s_;
    const double x = q_ah / capacity_ah;
    // Step changes happen on row boundaries; a zero-length phase falls through at once.
    for (bool changed = true; changed;) {
      changed = true;
      if (phase == Phase::rest_before && in_phase >= n_before) {
        enter(Phase::cc, t);
      } else if ((phase == Phase::cc || phase == Phase::pulse || phase == Phase::gitt_rest) && charge_done) {
        charge_end_s_ = t;
        enter(Phase::rest_after, t);
      } else if (phase == Phase::cc && gitt && !gitt_done && x >= p_.gitt_from && x < p_.gitt_to) {
        enter(Phase::gitt_rest, t);  // rest first, so the first pulse starts from a relaxed cell
      } else if (phase == Phase::pulse && in_phase >= n_pulse) {
        gitt_pulses_.back().end_s = t;
        enter(Phase::gitt_rest, t);
      } else if (phase == Phase::gitt_rest && in_phase >= n_rest) {
        if (x >= p_.gitt_to) {
          gitt_done = true;
          enter(Phase::cc, t);
        } else {
          gitt_pulses_.push_back({t, t, charge_current_a_});
          enter(Phase::pulse, t);
        }
      } else if (phase == Phase::rest_after && in_phase >= n_after) {
        phase = Phase::done;
      } else {
        changed = false;
      }
    }

    const bool charging = phase == Phase::cc || phase == Phase::pulse;
    const double current_a = charging ? charge_current_a_ : 0.0;
    uint16_t step = 5;
    switch (phase) {
      case Phase::rest_before: step = 1; break;
      case Phase::cc: step = 2; break;
      case Phase::pulse: step = 3; break;
      case Phase::gitt_rest: step = 4; break;
      case Phase::rest_after:
      case Phase::done: step = 5; break;
    }
    const double ocv_v = ocv_of(sphere.surface());
    ocv_surface_v_.push_back(ocv_v);
    current_a_.push_back(current_a);
    capacity_ah_.push_back(q_ah);
    energy_wh_.push_back(e_wh);
    step_.push_back(step);
    step_start_s_.push_back(phase_start_s);
    if (phase == Phase::done) {
      end_s_ = t;
      break;
    }

    // Integrate over [t, t + dt) at constant current.
    const double soc_rate = current_a / (capacity_ah * 3600);
    sphere.step(dt_s_, diffusion_of(x, p_.d_stage1_cm2_s, p_.d_stage2_cm2_s) / r2_cm2, soc_rate);
    q_ah += current_a * dt_s_ / 3600;
    const double v_next = ocv_of(sphere.surface()) + current_a * p_.r_ohm;
    e_wh += current_a * (ocv_v + current_a * p_.r_ohm + v_next) / 2 * dt_s_ / 3600;
    if (charging && (v_next >= p_.v_max || q_ah / capacity_ah >= kSafetySoc)) charge_done = true;
    ++in_phase;
  }
  if (!gitt_pulses_.empty() && gitt_pulses_.back().end_s <= gitt_pulses_.back().start_s)
    gitt_pulses_.back().end_s = charge_end_s_;  // the charge ended inside a pulse
}

double Scenario::t_s(int64_t t_ns) const { return static_cast<double>(t_ns - p_.start_ns) * 1e-9; }

int64_t Scenario::to_ns(double t) const { return p_.start_ns + std::llround(t * 1e9); }

int64_t Scenario::end_ns() const { return to_ns(end_s_); }

int64_t Scenario::charge_end_ns() const { return to_ns(charge_end_s_); }

namespace {
// Interval index and fraction for time t on rows spaced dt (last row = n - 1).
struct RowPos {
  size_t k;
  double frac;
};
RowPos row_pos(double t, double dt, size_t n) {
  if (n < 2 || t <= 0) return {0, 0.0};
  const double f = t / dt;
  const size_t last = n - 2;
  if (f >= static_cast<double>(last + 1)) return {last, 1.0};
  const auto k = static_cast<size_t>(f);
  return {k, f - static_cast<double>(k)};
}
double lerp_at(const std::vector<double>& v, RowPos r) {
  return r.frac == 0.0 ? v[r.k] : v[r.k] + (v[r.k + 1] - v[r.k]) * r.frac;
}
}  // namespace

double Scenario::soc_at(double t) const {
  return lerp_at(capacity_ah_, row_pos(t, dt_s_, capacity_ah_.size())) / (p_.capacity_mah * 1e-3);
}

double Scenario::current_at(double t) const {
  if (t >= end_s_) return 0.0;
  return current_a_[row_pos(t, dt_s_, current_a_.size()).k];
}

double Scenario::voltage_at(double t) const {
  if (t >= end_s_) return ocv_surface_v_.back();
  const RowPos r = row_pos(t, dt_s_, ocv_surface_v_.size());
  return lerp_at(ocv_surface_v_, r) + current_a_[r.k] * p_.r_ohm;
}

double Scenario::first_crossing_s(double level_v) const {
  // The voltage is linear inside each row (plus the row's constant I * R), so the crossing is
  // exact for the model: at the row start if the ohmic jump already lifts it over.
  const size_t first = rows_for(p_.rest_before_s, dt_s_);
  for (size_t k = first; k + 1 < ocv_surface_v_.size(); ++k) {
    const double t = static_cast<double>(k) * dt_s_;
    if (t >= charge_end_s_) break;
    const double v0 = ocv_surface_v_[k] + current_a_[k] * p_.r_ohm;
    const double v1 = ocv_surface_v_[k + 1] + current_a_[k] * p_.r_ohm;
    if (v0 >= level_v) return t;
    if (v1 >= level_v) return t + dt_s_ * (level_v - v0) / (v1 - v0);
  }
  return -1;
}

CellState Scenario::cell(int64_t t_ns) const {
  CellState c;
  const double t = std::max(0.0, t_s(t_ns));
  if (t >= end_s_) {
    c.voltage_v = ocv_surface_v_.back();
    c.current_a = 0;
    c.capacity_ah = capacity_ah_.back();
    c.energy_wh = energy_wh_.back();
    c.step = 5;
    c.test_time_s = end_s_;
    c.step_time_s = end_s_ - step_start_s_.back();
    c.rf1 = 31;  // Maccor: test complete
    c.rf2 = 193;
    c.stat = 4;
    return c;
  }
  const RowPos r = row_pos(t, dt_s_, ocv_surface_v_.size());
  c.current_a = current_a_[r.k];
  c.voltage_v = lerp_at(ocv_surface_v_, r) + c.current_a * p_.r_ohm;
  c.capacity_ah = lerp_at(capacity_ah_, r);
  c.energy_wh = lerp_at(energy_wh_, r);
  c.step = step_[r.k];
  c.test_time_s = t;
  c.step_time_s = t - step_start_s_[r.k];
  c.rf1 = c.current_a > 0 ? 1 : 4;
  c.rf2 = 0;
  c.stat = 2;
  return c;
}

double Scenario::diffusion_cm2_s(int64_t t_ns) const {
  return diffusion_of(soc_at(std::max(0.0, t_s(t_ns))), p_.d_stage1_cm2_s, p_.d_stage2_cm2_s);
}

// --- Gas -------------------------------------------------------------------------------------

double Scenario::release_rel(int mass, double t) const {
  const double onset_s = mass == 32 ? o2_onset_s_ : mass == 44 ? co2_onset_s_ : -1;
  if (onset_s < 0 || t < onset_s) return 0.0;
  const double current_a = current_at(t);
  if (current_a <= 0) return 0.0;
  const double onset_soc = mass == 32 ? o2_onset_soc_ : co2_onset_soc_;
  return current_a / charge_current_a_ * (1 - std::exp(-(soc_at(t) - onset_soc) / kReleaseRampSoc));
}

void Scenario::compute_gas() {
  o2_onset_s_ = first_crossing_s(p_.o2_onset_v);
  co2_onset_s_ = first_crossing_s(p_.co2_onset_v);
  if (o2_onset_s_ >= 0) o2_onset_soc_ = soc_at(o2_onset_s_);
  if (co2_onset_s_ >= 0) co2_onset_soc_ = soc_at(co2_onset_s_);
  // Capillary: a pure delay. Mixing volume: first-order lag, integrated exactly for a release
  // held at its mid-row value over each row.
  const double keep = p_.mixing_tau_s > 0 ? std::exp(-dt_s_ / p_.mixing_tau_s) : 0.0;
  for (auto [mass, seen] : {std::pair{32, &o2_seen_}, std::pair{44, &co2_seen_}}) {
    seen->assign(ocv_surface_v_.size(), 0.0);
    for (size_t k = 0; k + 1 < seen->size(); ++k) {
      const double t_mid = (static_cast<double>(k) + 0.5) * dt_s_ - p_.transport_delay_s;
      (*seen)[k + 1] = keep * (*seen)[k] + (1 - keep) * release_rel(mass, t_mid);
    }
  }
}

double Scenario::gas_flux_rel(int mass, int64_t t_ns) const { return release_rel(mass, t_s(t_ns)); }

double Scenario::ion_current_a(int mass, int64_t t_ns) const {
  const double t = t_s(t_ns);
  const auto t_ms = static_cast<uint64_t>(floor_div(t_ns, 1'000'000));
  const double z = gaussian(p_.noise_seed, static_cast<uint64_t>(mass), t_ms);
  if (mass != 32 && mass != 44) return kOtherMassBaselineA * (1 + p_.noise_rel * z);

  const bool o2 = mass == 32;
  const double baseline_a = o2 ? p_.o2_baseline_a : p_.co2_baseline_a;
  const double peak_a = o2 ? p_.o2_peak_a : p_.co2_peak_a;
  const double onset_s = o2 ? o2_onset_s_ : co2_onset_s_;
  const std::vector<double>& seen = o2 ? o2_seen_ : co2_seen_;
  double seen_rel = 0;
  if (onset_s >= 0 && t >= onset_s + p_.transport_delay_s) {
    if (t >= end_s_) {
      // After the end the mixing volume keeps flushing out what is left.
      seen_rel = seen.back() * (p_.mixing_tau_s > 0 ? std::exp(-(t - end_s_) / p_.mixing_tau_s) : 0.0);
    } else {
      seen_rel = lerp_at(seen, row_pos(t, dt_s_, seen.size()));
    }
  }
  const double hours = std::max(0.0, t) / 3600;
  return baseline_a * (1 + p_.baseline_drift_per_h * hours) + peak_a * seen_rel + p_.noise_rel * baseline_a * z;
}

// --- Scans and strain ------------------------------------------------------------------------

double Scenario::strain_clean(double soc) const {
  // Tensile strain builds up with the Li removed in stage 1 (quadratically: slow at first, as
  // the lattice accommodates), peaks at the turnover and relaxes exponentially in charge.
  const double peak_soc = strain_peak_s_ >= 0 ? strain_peak_soc_ : kStage2StartSoc;
  if (soc <= peak_soc) {
    const double u = std::max(0.0, soc) / peak_soc;
    return p_.strain_max * u * u;
  }
  if (strain_peak_s_ < 0) return p_.strain_max;  // never reached the turnover voltage
  return p_.strain_max * std::exp(-(soc - peak_soc) / kStrainRelaxSoc);
}

void Scenario::compute_scans() {
  strain_peak_s_ = first_crossing_s(p_.o2_onset_v - kStrainLeadV);
  if (strain_peak_s_ >= 0) {
    strain_peak_soc_ = soc_at(strain_peak_s_);
    strain_peak_v_ = voltage_at(strain_peak_s_);
  }
  const double charge_start_s = static_cast<double>(rows_for(p_.rest_before_s, dt_s_)) * dt_s_;
  const auto n_frames = static_cast<int64_t>(p_.frames_per_scan);
  for (int number = 1;; ++number) {
    const double start_s = charge_start_s + (number - 1) * p_.scan_period_s;
    const double end_s = start_s + p_.scan_duration_s;
    if (end_s > charge_end_s_ || p_.scan_duration_s <= 0) break;  // scans cover the charge only
    if (p_.max_scans > 0 && number > p_.max_scans) break;
    ScanTruth s;
    s.number = number;
    s.start_ns = to_ns(start_s);
    s.end_ns = to_ns(end_s);
    const double mid_s = (start_s + end_s) / 2;
    s.voltage_mid_v = voltage_at(mid_s);
    s.strain = strain_clean(soc_at(mid_s)) +
               p_.strain_noise * gaussian(p_.noise_seed, kStrainChannel, static_cast<uint64_t>(number));
    scans_.push_back(s);

    edges_.push_back({s.start_ns, p_.input_scan_start, true, number});
    // Frames evenly spaced, each in the middle of its slot, so none coincides with an end.
    const int64_t span_ns = s.end_ns - s.start_ns;
    for (int64_t j = 0; j < n_frames; ++j)
      edges_.push_back({s.start_ns + (2 * j + 1) * span_ns / (2 * n_frames), p_.input_frame, true, number});
    edges_.push_back({s.end_ns, p_.input_scan_end, true, number});
  }
}

// --- Truth -----------------------------------------------------------------------------------

nlohmann::json Scenario::truth() const {
  using nlohmann::json;
  const ScenarioParams& p = p_;
  json params = {
      {"start_ns", p.start_ns}, {"rest_before_s", p.rest_before_s}, {"capacity_mah", p.capacity_mah},
      {"c_rate", p.c_rate}, {"v_max", p.v_max}, {"rest_after_s", p.rest_after_s}, {"r_ohm", p.r_ohm},
      {"particle_radius_cm", p.particle_radius_cm}, {"d_stage1_cm2_s", p.d_stage1_cm2_s},
      {"d_stage2_cm2_s", p.d_stage2_cm2_s}, {"gitt_pulse_s", p.gitt_pulse_s}, {"gitt_rest_s", p.gitt_rest_s},
      {"gitt_from", p.gitt_from}, {"gitt_to", p.gitt_to}, {"o2_onset_v", p.o2_onset_v},
      {"co2_onset_v", p.co2_onset_v}, {"transport_delay_s", p.transport_delay_s},
      {"mixing_tau_s", p.mixing_tau_s}, {"o2_baseline_a", p.o2_baseline_a}, {"co2_baseline_a", p.co2_baseline_a},
      {"o2_peak_a", p.o2_peak_a}, {"co2_peak_a", p.co2_peak_a}, {"baseline_drift_per_h", p.baseline_drift_per_h},
      {"noise_rel", p.noise_rel}, {"noise_seed", p.noise_seed}, {"scan_period_s", p.scan_period_s},
      {"scan_duration_s", p.scan_duration_s}, {"frames_per_scan", p.frames_per_scan},
      {"input_scan_start", p.input_scan_start}, {"input_scan_end", p.input_scan_end},
      {"input_frame", p.input_frame}, {"strain_max", p.strain_max}, {"strain_noise", p.strain_noise}};
  const double capacity_ah = p.capacity_mah * 1e-3;
  auto at = [&](double t) {
    return json{{"t_ns", to_ns(t)}, {"t_s", t}, {"voltage_v", voltage_at(t)},
                {"capacity_ah", soc_at(t) * capacity_ah}, {"soc", soc_at(t)}};
  };
  auto onset = [&](double t) -> json {
    if (t < 0) return nullptr;
    json j = at(t);
    j["release_start_ns"] = j["t_ns"];
    j["release_start_s"] = t;
    j["rga_arrival_ns"] = to_ns(t + p.transport_delay_s);
    j["rga_arrival_s"] = t + p.transport_delay_s;
    return j;
  };
  json charge_end = at(charge_end_s_);
  // The voltage the charge stopped at: just before the current is switched off.
  const size_t k_end = rows_for(charge_end_s_, dt_s_);
  if (k_end > 0) charge_end["voltage_v"] = ocv_surface_v_[k_end] + current_a_[k_end - 1] * p.r_ohm;
  charge_end["duration_s"] = charge_end_s_ - static_cast<double>(rows_for(p.rest_before_s, dt_s_)) * dt_s_;

  json strain = nullptr;
  if (strain_peak_s_ >= 0) {
    strain = at(strain_peak_s_);
    strain["voltage_v"] = strain_peak_v_;
    strain["strain"] = strain_clean(strain_peak_soc_);
  }
  json pulses = json::array();
  for (const GittPulse& g : gitt_pulses_)
    pulses.push_back({{"start_ns", to_ns(g.start_s)}, {"end_ns", to_ns(g.end_s)}, {"current_a", g.current_a}});

  return json{{"params", params},
              {"start_ns", p.start_ns},
              {"end_ns", end_ns()},
              {"charge_current_a", charge_current_a_},
              {"charge_end", charge_end},
              {"o2_onset", onset(o2_onset_s_)},
              {"co2_onset", onset(co2_onset_s_)},
              {"strain_turnover", strain},
              {"diffusion", {{"stage1_cm2_s", p.d_stage1_cm2_s},
                             {"stage2_cm2_s", p.d_stage2_cm2_s},
                             {"stage2_start_soc", kStage2StartSoc},
                             {"switch_width_soc", 0.02},
                             {"particle_radius_cm", p.particle_radius_cm}}},
              {"gitt_pulses", pulses},
              {"scan_count", scans_.size()}};
}

}  // namespace opsync::sim

// `opsync dqdv --dvdq`: differential voltage per half-cycle (correlate/dvdq.h) as JSON and a table.
#include <cmath>

#include <fmt/format.h>

#include "correlate/dvdq.h"
#include "opsync/analyses.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"

namespace opsync::cli {

void add_dvdq_options(CLI::App& cmd, DvdqArgs& a) {
  cmd.add_flag("--dvdq", a.on,
               "Differential voltage dV/dQ instead of dQ/dV: V against the charge passed on a uniform charge grid, "
               "differentiated and smoothed (its peaks are the ends of plateaus)");
  cmd.add_option("--dvdq-points", a.points, "dV/dQ: charge grid points per half-cycle")
      ->check(CLI::Range(3, 10'000'000))
      ->capture_default_str();
  cmd.add_option("--dvdq-fwhm-percent", a.fwhm_percent, "dV/dQ: Gaussian smoothing FWHM, % of the half-cycle's charge")
      ->check(CLI::Range(0.0, 50.0))
      ->capture_default_str();
}

nlohmann::json run_dvdq(const SessionData& d, const DqdvArgs& q, const DvdqArgs& a) {
  const CyclerData& c = d.require_cycler();
  const correlate::CyclerRecord rec = cycler_record(c, q);
  correlate::DvdqOptions opt;
  opt.grid_points = a.points;
  opt.fwhm_fraction = a.fwhm_percent / 100;
  opt.half_cycles.rest_current_a = q.rest_current_a;
  const auto curves = correlate::dvdq(rec, opt);
  if (curves.empty()) {
    throw CliError(fmt::format("no half-cycle of source '{}' passed charge over 3 rows or more (|I| > {} A); is the "
                               "current recorded, and is --rest-current-a right for this cell?",
                               c.source, q.rest_current_a));
  }
  nlohmann::json hc = nlohmann::json::array();
  for (const auto& cv : curves) {
    nlohmann::json j{{"index", cv.half_cycle},
                     {"direction", std::string(correlate::to_string(cv.direction))},
                     {"counter_resets", cv.counter_resets},
                     {"charge_mah", cv.charge_mah},
                     {"voltage_v", cv.voltage_v},
                     {"dvdq_v_per_mah", cv.dvdq_v_per_mah}};
    if (q.mass_g > 0) {
      std::vector<double> per_g(cv.dvdq_v_per_mah);
      for (double& v : per_g) v *= q.mass_g;  // V per (mAh/g)
      j["dvdq_v_per_mah_per_g"] = per_g;
    }
    hc.push_back(std::move(j));
  }
  return {{"session", session_json(d)},
          {"cycler_source", c.source},
          {"half_cycles", hc},
          {"method",
           {{"capacity_source", rec.capacity_c.empty() ? "integrated (trapezoid of I dt)" : "column (resets bridged by I dt)"},
            {"grid_points", a.points},
            {"fwhm_fraction", opt.fwhm_fraction},
            {"smoothing", "Gaussian, FFT, normalised by the kernel's weight inside the curve (the ends keep their value)"},
            {"differentiation", "central differences on the charge grid, one-sided at the ends"},
            {"units", "V/mAh (V/(mAh/g) where named); negative on discharge"}}}};
}

void print_dvdq(const nlohmann::json& j) {
  print_session_header(j["session"]);
  const auto& m = j["method"];
  fmt::print("dV/dQ of '{}': {} charge points per half-cycle, Gaussian FWHM {:g} % of the charge, capacity {}\n",
             j["cycler_source"].get<std::string>(), m["grid_points"].get<std::size_t>(),
             m["fwhm_fraction"].get<double>() * 100, m["capacity_source"].get<std::string>());
  fmt::print("{:>4} {:<9} {:>10} {:>9} {:>9}  flattest point (min |dV/dQ|): Q mAh, V, V/mAh\n", "hc", "direction",
             "Q mAh", "V from", "V to");
  for (const auto& h : j["half_cycles"]) {
    const auto& q = h["charge_mah"];
    const auto& v = h["voltage_v"];
    const auto& d = h["dvdq_v_per_mah"];
    std::size_t flat = 0;
    for (std::size_t k = 1; k < d.size(); ++k) {
      if (std::abs(d[k].get<double>()) < std::abs(d[flat].get<double>())) flat = k;
    }
    fmt::print("{:>4} {:<9} {:>10.4f} {:>9.4f} {:>9.4f}  {:.4f} {:.4f} {:.4g}\n", h["index"].get<std::size_t>(),
               h["direction"].get<std::string>(), q.back().get<double>(), v.front().get<double>(), v.back().get<double>(),
               q[flat].get<double>(), v[flat].get<double>(), d[flat].get<double>());
  }
}

}  // namespace opsync::cli

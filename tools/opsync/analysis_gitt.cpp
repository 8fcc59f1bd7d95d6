// `opsync gitt`: per-pulse GITT analysis (correlate/gitt.h) as JSON and a table.
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "correlate/gitt.h"
#include "opsync/analyses.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"

namespace opsync::cli {

void add_gitt_options(CLI::App& cmd, GittArgs& a, bool geometry_required) {
  const std::string group = geometry_required ? "Geometry (one of the two forms)" : "GITT geometry (one of the two forms)";
  auto* radius = cmd.add_option("--radius-cm", a.radius_cm, "Spherical particle radius, cm (L = r/3)")
                     ->check(CLI::PositiveNumber)
                     ->group(group);
  auto* area = cmd.add_option("--area-cm2", a.area_cm2, "Electrode/electrolyte contact area S, cm2")
                   ->check(CLI::PositiveNumber)
                   ->group(group);
  // In `opsync report` --mass-g is already dQ/dV's active mass; the report passes it on.
  if (cmd.get_option_no_throw("--mass-g") == nullptr) {
    cmd.add_option("--mass-g", a.mass_g, "Active mass m, g (with --area-cm2)")->check(CLI::PositiveNumber)->group(group);
  }
  cmd.add_option("--molar-mass-g-mol", a.molar_mass_g_mol, "Molar mass M, g/mol (with --area-cm2)")
      ->check(CLI::PositiveNumber)
      ->group(group);
  cmd.add_option("--density-g-cm3", a.density_g_cm3, "Density, g/cm3 (V_M = M/density; with --area-cm2)")
      ->check(CLI::PositiveNumber)
      ->group(group);
  radius->excludes(area);
  cmd.add_option("--pulse-current-a", a.pulse_current_a, "|I| at or above this is a pulse, A (default: half the largest |I|)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--gitt-rest-current-a", a.rest_current_a, "|I| at or below this is rest, A (default: 1% of the pulse threshold)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--relaxed-uv-per-s", a.relaxed_dvdt_uv_per_s, "A rest counts as relaxed when |dE/dt| at its end is at most this, uV/s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--tau-short-max", a.tau_short_max, "Flag tau_not_short when tau D / L^2 exceeds this")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_flag("--no-fit", a.no_fit, "Skip the spherical-diffusion fit (D_fit)");
}

nlohmann::json run_gitt(const SessionData& d, const GittArgs& a) {
  const CyclerData& c = d.require_cycler();
  if (a.radius_cm <= 0 && a.area_cm2 <= 0) {
    throw CliError(
        "GITT needs the diffusion length: give --radius-cm (spherical particles, L = r/3), or --area-cm2 with "
        "--mass-g, --molar-mass-g-mol and --density-g-cm3 (L = m V_M / (M S))");
  }
  correlate::GittOptions opt;
  opt.radius_cm = a.radius_cm;
  opt.area_cm2 = a.area_cm2;
  opt.mass_g = a.mass_g;
  opt.molar_mass_g_mol = a.molar_mass_g_mol;
  opt.density_g_cm3 = a.density_g_cm3;
  opt.pulse_current_a = a.pulse_current_a;
  opt.rest_current_a = a.rest_current_a;
  opt.relaxed_dvdt_v_per_s = a.relaxed_dvdt_uv_per_s * 1e-6;
  opt.tau_short_max = a.tau_short_max;
  opt.fit = !a.no_fit;
  const correlate::GittResult r = correlate::analyze_gitt(c.record, opt);
  const int64_t t0 = analysis_t0_ns(d);
  nlohmann::json pulses = nlohmann::json::array();
  for (const auto& p : r.pulses) {
    pulses.push_back({{"index", p.index},
                      {"t_start_s", seconds_after(t0, p.t_start_ns)},
                      {"t_end_s", seconds_after(t0, p.t_end_ns)},
                      {"tau_s", p.tau_s},
                      {"tau_sigma_s", number_or_null(p.tau_sigma_s)},
                      {"current_a", p.current_a},
                      {"pulse_first_v", p.pulse_first_v},
                      {"pulse_last_v", p.pulse_last_v},
                      {"voltage_relaxed_before_v", number_or_null(p.voltage_relaxed_before_v)},
                      {"voltage_relaxed_before_sigma_v", number_or_null(p.voltage_relaxed_before_sigma_v)},
                      {"rest_window_before_s", p.rest_window_before_s},
                      {"voltage_relaxed_v", number_or_null(p.voltage_relaxed_v)},
                      {"voltage_relaxed_sigma_v", number_or_null(p.voltage_relaxed_sigma_v)},
                      {"rest_window_s", p.rest_window_s},
                      {"voltage_pulse_end_v", number_or_null(p.voltage_pulse_end_v)},
                      {"voltage_pulse_end_sigma_v", number_or_null(p.voltage_pulse_end_sigma_v)},
                      {"capacity_mah", p.capacity_mah},
                      {"dEs_v", number_or_null(p.dEs_v)},
                      {"dEs_sigma_v", number_or_null(p.dEs_sigma_v)},
                      {"dEt_v", number_or_null(p.dEt_v)},
                      {"dEt_sigma_v", number_or_null(p.dEt_sigma_v)},
                      {"ir_drop_v", number_or_null(p.ir_drop_v)},
                      {"sqrt_slope_v_per_sqrt_s", number_or_null(p.sqrt_slope_v_per_sqrt_s)},
                      {"sqrt_slope_sigma_v_per_sqrt_s", number_or_null(p.sqrt_slope_sigma)},
                      {"rest_dvdt_v_per_s", number_or_null(p.rest_dvdt_v_per_s)},
                      {"rest_dvdt_sigma_v_per_s", number_or_null(p.rest_dvdt_sigma_v_per_s)},
                      {"rest_noise_v", number_or_null(p.rest_noise_v)},
                      {"D_wh_cm2_s", number_or_null(p.D_wh_cm2_s)},
                      {"D_wh_sigma_cm2_s", number_or_null(p.D_wh_sigma_cm2_s)},
                      {"D_sqrt_cm2_s", number_or_null(p.D_sqrt_cm2_s)},
                      {"D_sqrt_sigma_cm2_s", number_or_null(p.D_sqrt_sigma_cm2_s)},
                      {"D_fit_cm2_s", number_or_null(p.D_fit_cm2_s)},
                      {"D_fit_sigma_cm2_s", number_or_null(p.D_fit_sigma_cm2_s)},
                      {"fit_history_pulses", p.fit_history_pulses},
                      {"fit_rms_v", number_or_null(p.fit_rms_v)},
                      {"valid", p.valid},
                      {"flags", p.flags}});
  }
  const auto& m = r.method;
  return {{"session", session_json(d)},
          {"cycler_source", c.source},
          {"pulses", pulses},
          {"method",
           {{"geometry", m.geometry},
            {"length_cm", m.length_cm},
            {"fit_radius_cm", m.fit_radius_cm},
            {"pulse_current_a", m.pulse_current_a},
            {"rest_current_a", m.rest_current_a},
            {"relaxed_dvdt_v_per_s", m.relaxed_dvdt_v_per_s},
            {"relaxed_window_fraction", m.relaxed_window_fraction},
            {"noise_factor", m.noise_factor},
            {"plateau_ratio", m.plateau_ratio},
            {"tau_short_max", m.tau_short_max},
            {"wh_formula", m.wh_formula},
            {"sqrt_formula", m.sqrt_formula},
            {"fit_model", a.no_fit ? std::string("not run (--no-fit)") : m.fit_model},
            {"relaxed_voltage", m.relaxed_voltage},
            {"uncertainty", m.uncertainty},
            {"tau_convention", m.tau_convention}}}};
}

void print_gitt(const nlohmann::json& j) {
  print_session_header(j["session"]);
  const auto& m = j["method"];
  fmt::print("GITT on '{}': {} (L = {:.4g} cm), pulse |I| >= {:.4g} A\n", j["cycler_source"].get<std::string>(),
             m["geometry"].get<std::string>(), m["length_cm"].get<double>(), m["pulse_current_a"].get<double>());
  fmt::print("{:>4} {:>10} {:>7} {:>10} {:>8} {:>14} {:>14} {:>8} {:>18} {:>18} {:>18}  flags\n", "#", "t_start s",
             "tau s", "I A", "E_rel V", "dEs mV", "dEt mV", "IR mV", "D_wh", "D_sqrt", "D_fit");
  auto num = [](const nlohmann::json& v) { return v.is_null() ? NAN : v.get<double>(); };
  // "value ± sigma": mV with two decimals (sigma to 3 for the sub-10 uV ones), D in two-digit scientific.
  auto mv = [&](const nlohmann::json& p, const char* key, const char* sigma) {
    const double v = num(p[key]) * 1e3, s = num(p[sigma]) * 1e3;
    if (!std::isfinite(v)) return std::string("-");
    return std::isfinite(s) ? fmt::format("{:.2f}±{:.3f}", v, s) : fmt::format("{:.2f}", v);
  };
  auto d = [&](const nlohmann::json& p, const char* key, const char* sigma) {
    const double v = num(p[key]), s = num(p[sigma]);
    if (!std::isfinite(v)) return std::string("-");
    return std::isfinite(s) ? fmt::format("{:.2e}±{:.1e}", v, s) : fmt::format("{:.2e}", v);
  };
  std::size_t valid = 0;
  for (const auto& p : j["pulses"]) {
    std::string flags;
    for (const auto& f : p["flags"]) {
      if (!flags.empty()) flags += ',';  // appends only: GCC 12 -O3 false -Wrestrict on "lit" + string
      flags += f.get<std::string>();
    }
    if (p["valid"].get<bool>()) ++valid;
    fmt::print("{:>4} {:>10.1f} {:>7.1f} {:>10.3e} {:>8} {:>14} {:>14} {:>8} {:>18} {:>18} {:>18}  {}\n",
               p["index"].get<std::size_t>(), p["t_start_s"].get<double>(), p["tau_s"].get<double>(),
               p["current_a"].get<double>(), fixed_or_dash(num(p["voltage_relaxed_v"]), 4),
               mv(p, "dEs_v", "dEs_sigma_v"), mv(p, "dEt_v", "dEt_sigma_v"), fixed_or_dash(num(p["ir_drop_v"]) * 1e3, 2),
               d(p, "D_wh_cm2_s", "D_wh_sigma_cm2_s"), d(p, "D_sqrt_cm2_s", "D_sqrt_sigma_cm2_s"),
               d(p, "D_fit_cm2_s", "D_fit_sigma_cm2_s"), flags);
  }
  fmt::print("{} pulses, {} without flags; D in cm2/s; ± one standard uncertainty from the rows' scatter\n", j["pulses"].size(), valid);
}

}  // namespace opsync::cli

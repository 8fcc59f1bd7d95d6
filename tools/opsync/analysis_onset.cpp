// `opsync onset`: gas onsets per MS channel (correlate/onset.h) as JSON and a table, with each
// onset placed on the cycler record (voltage, net charge passed).
#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "correlate/dqdv.h"
#include "correlate/errors.h"
#include "correlate/gas_quant.h"
#include "correlate/onset.h"
#include "opsync/analyses.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"

namespace opsync::cli {
namespace {

std::map<int, std::string> parse_mass_map(const std::vector<std::string>& items, const char* option) {
  std::map<int, std::string> out;
  for (const std::string& s : items) {
    const auto eq = s.find('=');
    int mass = 0;
    try {
      mass = eq == std::string::npos ? 0 : std::stoi(s.substr(0, eq));
    } catch (const std::exception&) {
      mass = 0;
    }
    if (mass <= 0 || eq + 1 >= s.size()) {
      throw CliError(fmt::format("{} '{}': expected MASS=VALUE, e.g. 32=O2", option, s));
    }
    out[mass] = s.substr(eq + 1);
  }
  return out;
}

// Net charge passed since the first cycler row (charge positive), C, per row.
std::vector<double> net_charge_c(const correlate::CyclerRecord& r) {
  std::vector<double> q(r.t_ns.size(), 0.0);
  for (std::size_t i = 1; i < q.size(); ++i) {
    const double dt_s = static_cast<double>(r.t_ns[i] - r.t_ns[i - 1]) * 1e-9;
    q[i] = q[i - 1] + 0.5 * (r.current_a[i] + r.current_a[i - 1]) * dt_s;
  }
  return q;
}

}  // namespace

void add_onset_options(CLI::App& cmd, OnsetArgs& a) {
  cmd.add_option("--gas", a.gases, "MS channels to analyse as MASS=NAME (repeat)")->capture_default_str();
  cmd.add_option("--sigma", a.sigma, "Threshold above the baseline, in sigma")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--hold-s", a.hold_s, "The signal must stay above the threshold this long, s")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--cusum-drift-sigma", a.cusum_drift_sigma, "CUSUM allowance per sample (Page's k), sigma")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--cusum-threshold-sigma", a.cusum_threshold_sigma, "CUSUM decision level (Page's h), sigma")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--rise-fraction", a.rise_fraction, "Extrapolated onset: fit the rise up to this fraction of the later maximum")
      ->check(CLI::Range(0.05, 0.95))
      ->capture_default_str();
  cmd.add_option("--transport-delay-s,--ms-lag-s", a.transport_delay_s,
                 "Capillary transport delay subtracted from every onset, s (default: the MS source's "
                 "transport_delay_s from station.toml, else 0; --ms-lag-s is its old name)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--transport-delay-sigma-s", a.transport_delay_sigma_s,
                 "Standard uncertainty of the transport delay, s; part of each onset's uncertainty")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--cusum-baseline-guard", a.cusum_baseline_guard,
                 "CUSUM's allowance also absorbs this many standard uncertainties of the extrapolated baseline "
                 "(0: Page's plain test)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--quiet-from-s", a.quiet_from_s, "Start of the quiet (baseline) window, s after t0 (default 0)")
      ->check(CLI::NonNegativeNumber);
  cmd.add_option("--quiet-to-s", a.quiet_to_s,
                 "End of the quiet window, s after t0 (default: a quarter of the MS record, at most 2 h)")
      ->check(CLI::PositiveNumber);
  cmd.add_flag("--constant-baseline", a.constant_baseline,
               "Baseline as the quiet window's median only (default: median plus a Theil-Sen drift line)");
  cmd.add_option("--calibration", a.calibration, "Ion current per gas flux as MASS=A_PER_MOL_S, adds mol/s figures (repeat)");
}

namespace {

double clock_sigma_s(const SessionData& d, const std::string& source) {
  for (const SourceClock& c : d.clocks) {
    if (c.source == source && c.model) return c.model->uncertainty_ns * 1e-9;
  }
  return 0;
}

// The onset's standard uncertainty in time: the method's own, the MS source's and the cycler's
// clock models' stated uncertainties, and the transport delay's; in voltage through the cell's
// dV/dt at the onset (a line through the cycler rows within 60 s either side).
void add_onset_uncertainty(const SessionData& d, const MsChannel& ch, const CyclerData* cycler, int64_t t_ns,
                           const correlate::OnsetResult& r, const OnsetArgs& a, nlohmann::json& g) {
  const double method_s = r.extrapolated_onset_sigma_s;
  const double ms_clock_s = clock_sigma_s(d, ch.source);
  const double cycler_clock_s = cycler ? clock_sigma_s(d, cycler->source) : 0.0;
  const double delay_s = a.transport_delay_sigma_s;
  const double total_s = std::sqrt(method_s * method_s + ms_clock_s * ms_clock_s + cycler_clock_s * cycler_clock_s +
                                   delay_s * delay_s);
  nlohmann::json u{{"method_s", number_or_null(method_s)},
                   {"ms_clock_s", ms_clock_s},
                   {"cycler_clock_s", cycler_clock_s},
                   {"transport_delay_s", delay_s},
                   {"total_s", number_or_null(total_s)}};
  g["onset_t_sigma_s"] = number_or_null(total_s);
  if (cycler && !g["onset_voltage_v"].is_null()) {
    const auto& rec = cycler->record;
    double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
    for (std::size_t i = 0; i < rec.t_ns.size(); ++i) {
      const double x = static_cast<double>(rec.t_ns[i] - t_ns) * 1e-9;
      if (std::abs(x) > 60) continue;
      sx += x, sy += rec.voltage_v[i], sxx += x * x, sxy += x * rec.voltage_v[i], n += 1;
    }
    // Two rows are enough for a slope (a cycler logging every minute has two or three here).
    const double den = n * sxx - sx * sx;
    const double dvdt = n >= 2 && den > 0 ? (n * sxy - sx * sy) / den : std::nan("");
    u["dv_dt_v_per_s"] = number_or_null(dvdt);
    g["onset_voltage_sigma_v"] = number_or_null(std::abs(dvdt) * total_s);
  }
  g["onset_uncertainty"] = u;
}

// With a sensitivity: the baseline and noise in mol/s, the peak rate, and (with the cycler) the moles
// per half-cycle and per cycle and the electrons per molecule over the release window.
void add_gas_amounts(const correlate::Sensitivity& s, const MsChannel& ch, const CyclerData* cycler,
                     const correlate::OnsetResult& r, double delay_s, int64_t t0, nlohmann::json& g) {
  g["calibration_a_per_mol_s"] = s.a_per_mol_s;
  g["baseline"]["median_mol_s"] = r.baseline.median / s.a_per_mol_s;
  g["sigma_mol_s"] = r.baseline.sigma / s.a_per_mol_s;
  const std::vector<double> rate = correlate::molar_rate_mol_s(ch.value_a, ch.t_ns, r.baseline, s.a_per_mol_s);
  std::size_t peak = 0;
  for (std::size_t i = 1; i < rate.size(); ++i) {
    if (rate[i] > rate[peak]) peak = i;
  }
  g["peak_rate_mol_s"] = rate[peak];
  g["peak_rate_t_s"] = seconds_after(t0, ch.t_ns[peak]) - delay_s;
  // The rate on the cell's clock, as means over at most 2000 equal bins (a plot's worth; the
  // full-rate series is ion current / S, from the exported channel and the calibration).
  const std::size_t bins = std::min<std::size_t>(2000, rate.size());
  nlohmann::json rt = nlohmann::json::array(), rv = nlohmann::json::array();
  for (std::size_t b = 0; b < bins; ++b) {
    const std::size_t lo = b * rate.size() / bins, hi = (b + 1) * rate.size() / bins;
    double sum_t = 0, sum_v = 0;
    for (std::size_t i = lo; i < hi; ++i) {
      sum_t += seconds_after(t0, ch.t_ns[i]);
      sum_v += rate[i];
    }
    const auto n = static_cast<double>(hi - lo);
    rt.push_back(sum_t / n - delay_s);
    rv.push_back(sum_v / n);
  }
  g["rate"] = {{"t_s", rt}, {"mol_s", rv}, {"note", "bin means, cell clock (transport delay removed)"}};
  if (!cycler) return;
  const correlate::GasAmounts am = correlate::gas_amounts(ch.t_ns, ch.value_a, r.baseline, s, delay_s, cycler->record,
                                                          r.extrapolated_onset_t_ns);
  nlohmann::json halves = nlohmann::json::array(), cycles = nlohmann::json::array();
  std::vector<correlate::Direction> directions;
  for (const auto& h : am.half_cycles) directions.push_back(h.direction);
  const std::vector<std::size_t> cycle_of = correlate::cycle_numbers(directions);  // as `opsync fade` counts
  for (std::size_t k = 0; k < am.half_cycles.size(); ++k) {
    const correlate::GasHalfCycle& h = am.half_cycles[k];
    halves.push_back({{"half_cycle", h.half_cycle},
                      {"direction", std::string(correlate::to_string(h.direction))},
                      {"from_s", seconds_after(t0, h.begin_ns)},
                      {"to_s", seconds_after(t0, h.end_ns)},
                      {"charge_mah", h.charge_c / correlate::kCoulombPerMah},
                      {"amount_mol", h.amount_mol},
                      {"amount_sigma_mol", h.amount_sigma_mol}});
    if (cycle_of[k] == cycles.size()) cycles.push_back({{"cycle", cycle_of[k]}, {"amount_mol", 0.0}});
    cycles.back()["amount_mol"] = cycles.back()["amount_mol"].get<double>() + h.amount_mol;
  }
  g["amounts"] = {{"half_cycles", halves}, {"cycles", cycles}};
  if (am.electrons_per_molecule) {
    g["release"] = {{"charge_mah", *am.release_charge_c / correlate::kCoulombPerMah},
                    {"amount_mol", *am.release_amount_mol},
                    {"electrons_per_molecule", *am.electrons_per_molecule},
                    {"window", "from the onset to the end of its half-cycle"}};
  }
}

}  // namespace

nlohmann::json run_onset(const SessionData& d, const OnsetArgs& a) {
  const auto& ms = d.require_ms();
  const std::map<int, std::string> names = parse_mass_map(a.gases, "--gas");
  std::map<int, double> cal;
  for (const auto& [mass, text] : parse_mass_map(a.calibration, "--calibration")) {
    try {
      cal[mass] = std::stod(text);
    } catch (const std::exception&) {
      throw CliError(fmt::format("--calibration {}={}: not a number", mass, text));
    }
    if (!(cal[mass] > 0)) throw CliError(fmt::format("--calibration {}: must be positive", mass));
  }
  const int64_t t0 = analysis_t0_ns(d);
  const CyclerData* cycler = d.cycler ? &*d.cycler : nullptr;
  const std::vector<double> q_c = cycler ? net_charge_c(cycler->record) : std::vector<double>{};

  nlohmann::json gases = nlohmann::json::array();
  nlohmann::json missing = nlohmann::json::array();
  for (const auto& [mass, name] : names) {
    auto it = std::find_if(ms.begin(), ms.end(), [&](const MsChannel& m) { return m.mass == mass; });
    if (it == ms.end()) {
      missing.push_back(mass);
      continue;
    }
    const MsChannel& ch = *it;
    correlate::OnsetOptions opt;
    const int64_t ms0 = ch.t_ns.front(), ms1 = ch.t_ns.back();
    const double quiet_from_s = a.quiet_from_s >= 0 ? a.quiet_from_s : std::max(0.0, seconds_after(t0, ms0));
    const double default_to_s = seconds_after(t0, ms0) + std::min(7200.0, 0.25 * seconds_after(ms0, ms1));
    const double quiet_to_s = a.quiet_to_s >= 0 ? a.quiet_to_s : default_to_s;
    if (!(quiet_to_s > quiet_from_s)) {
      throw CliError(fmt::format("the quiet window [{:.0f}, {:.0f}] s is empty: --quiet-to-s must be after "
                                 "--quiet-from-s",
                                 quiet_from_s, quiet_to_s));
    }
    opt.quiet_begin_ns = t0 + static_cast<int64_t>(std::llround(quiet_from_s * 1e9));
    opt.quiet_end_ns = t0 + static_cast<int64_t>(std::llround(quiet_to_s * 1e9));
    opt.k_sigma = a.sigma;
    opt.hold_s = a.hold_s;
    opt.cusum_drift_sigma = a.cusum_drift_sigma;
    opt.cusum_threshold_sigma = a.cusum_threshold_sigma;
    opt.cusum_baseline_guard = a.cusum_baseline_guard;
    opt.rise_fraction = a.rise_fraction;
    opt.baseline_model = a.constant_baseline ? correlate::BaselineModel::constant : correlate::BaselineModel::linear;
    const std::string lag_source = a.transport_delay_s >= 0 ? "--transport-delay-s"
                                   : ch.transport_delay_s ? fmt::format("source '{}' transport_delay_s", ch.source)
                                                          : "none recorded (0)";
    opt.transport_delay_s = a.transport_delay_s >= 0 ? a.transport_delay_s : ch.transport_delay_s.value_or(0.0);
    correlate::OnsetResult r;
    try {
      r = correlate::detect_onset(ch.t_ns, ch.value_a, opt);
    } catch (const correlate::InputError& e) {
      throw CliError(fmt::format("{} ({}, m/z {}): {}", name, ch.channel, mass, e.what()));
    }
    nlohmann::json g{{"channel", ch.channel},
                     {"source", ch.source},
                     {"mass", mass},
                     {"name", name},
                     {"onset_t_s", seconds_or_null(t0, r.extrapolated_onset_t_ns)},
                     {"onset_voltage_v", nullptr},
                     {"onset_capacity_mah", nullptr},
                     {"baseline",
                      {{"model", a.constant_baseline ? "constant (median)" : "linear (median + Theil-Sen drift)"},
                       {"median_a", r.baseline.median},
                       {"t_ref_s", seconds_after(t0, r.baseline.t_ref_ns)},
                       {"slope_a_per_s", r.baseline.slope_per_s},
                       {"median_sigma_a", r.baseline.median_sigma},
                       {"slope_sigma_a_per_s", r.baseline.slope_sigma_per_s},
                       {"n", r.baseline.n}}},
                     {"sigma", r.baseline.sigma},
                     {"method", "extrapolated onset (line through the initial rise meets the baseline)"},
                     {"threshold_onset_t_s", seconds_or_null(t0, r.threshold_onset_t_ns)},
                     {"cusum_onset_t_s", seconds_or_null(t0, r.cusum_onset_t_ns)},
                     {"cusum_alarm_t_s", seconds_or_null(t0, r.cusum_alarm_t_ns)},
                     {"extrapolated_onset_t_s", seconds_or_null(t0, r.extrapolated_onset_t_ns)},
                     {"rise_slope_a_per_s", r.rise_slope_per_s},
                     {"threshold_onset_sigma_s", number_or_null(r.threshold_onset_sigma_s)},
                     {"cusum_onset_sigma_s", number_or_null(r.cusum_onset_sigma_s)},
                     {"extrapolated_onset_sigma_s", number_or_null(r.extrapolated_onset_sigma_s)},
                     {"extrapolated_window_spread_s", number_or_null(r.extrapolated_window_spread_s)},
                     {"parameters",
                      {{"k_sigma", opt.k_sigma},
                       {"hold_s", opt.hold_s},
                       {"cusum_drift_sigma", opt.cusum_drift_sigma},
                       {"cusum_threshold_sigma", opt.cusum_threshold_sigma},
                       {"cusum_baseline_guard", opt.cusum_baseline_guard},
                       {"transport_delay_sigma_s", a.transport_delay_sigma_s},
                       {"rise_fraction", opt.rise_fraction},
                       {"plateau_window_s", opt.plateau_window_s},
                       {"transport_delay_s", opt.transport_delay_s},
                       {"transport_delay_source", lag_source},
                       {"quiet_from_s", quiet_from_s},
                       {"quiet_to_s", quiet_to_s}}}};
    if (!r.note.empty()) g["note"] = r.note;
    // Each onset on the cycler record, where the cycler ran at that time.
    auto place = [&](const std::optional<int64_t>& t, const char* v_key, const char* q_key) {
      if (!cycler || !t) return;
      const auto& rec = cycler->record;
      if (*t < rec.t_ns.front() || *t > rec.t_ns.back()) {
        std::string note = g.value("note", std::string());
        if (!note.empty()) note += "; ";
        note += "an onset lies outside the cycler record (no voltage for it)";
        g["note"] = note;
        return;
      }
      const correlate::CyclerPoint p = correlate::cycler_at(rec.t_ns, rec.voltage_v, q_c, *t);
      g[v_key] = p.voltage_v;
      if (q_key) g[q_key] = p.capacity_c / correlate::kCoulombPerMah;
    };
    place(r.extrapolated_onset_t_ns, "onset_voltage_v", "onset_capacity_mah");
    if (r.extrapolated_onset_t_ns) add_onset_uncertainty(d, ch, cycler, *r.extrapolated_onset_t_ns, r, a, g);
    place(r.threshold_onset_t_ns, "threshold_onset_voltage_v", nullptr);
    place(r.cusum_onset_t_ns, "cusum_onset_voltage_v", nullptr);
    // A sensitivity: --calibration first, else the one stored with the session (opsync calibrate).
    std::optional<correlate::Sensitivity> sens;
    if (auto c = cal.find(mass); c != cal.end()) {
      sens = correlate::Sensitivity{c->second, 0, "--calibration", 0, 0};
      g["calibration"] = {{"a_per_mol_s", c->second}, {"source", "--calibration"}};
    } else if (ch.calibration) {
      const records::GasCalibration& sc = *ch.calibration;
      sens = correlate::Sensitivity{sc.sensitivity_a_per_mol_s, sc.sigma_a_per_mol_s, sc.method, 0, 0};
      g["calibration"] = {{"a_per_mol_s", sc.sensitivity_a_per_mol_s},
                          {"sigma_a_per_mol_s", sc.sigma_a_per_mol_s},
                          {"method", sc.method},
                          {"from_s", seconds_after(t0, sc.from_ns)},
                          {"to_s", seconds_after(t0, sc.to_ns)},
                          {"detail", nlohmann::json::parse(sc.detail, nullptr, false)},
                          {"source", "stored (opsync calibrate)"}};
    }
    if (sens) add_gas_amounts(*sens, ch, cycler, r, opt.transport_delay_s, t0, g);
    gases.push_back(std::move(g));
  }
  if (gases.empty()) {
    std::string have;
    for (const MsChannel& m : ms) have += fmt::format("{}{}", have.empty() ? "" : ", ", m.mass);
    throw CliError(fmt::format("none of the requested masses is recorded in session '{}' (it has m/z {}); "
                               "choose with --gas MASS=NAME",
                               d.session.name, have));
  }
  nlohmann::json out{{"session", session_json(d)}, {"gases", gases}};
  out["cycler_source"] = cycler ? nlohmann::json(cycler->source) : nlohmann::json(nullptr);
  if (!cycler) out["note"] = "no cycler data in the session: onsets are given in time only";
  if (!missing.empty()) out["masses_not_recorded"] = missing;
  out["capacity_note"] = "onset_capacity_mah: net charge passed since t0 (charge positive)";
  return out;
}

void print_onset(const nlohmann::json& j) {
  print_session_header(j["session"]);
  auto s = [](const nlohmann::json& v, int dec) { return v.is_null() ? std::string("-") : fmt::format("{:.{}f}", v.get<double>(), dec); };
  fmt::print("{:<5} {:>4} {:>10} {:>15} {:>9} | {:>11} {:>9} | {:>11} {:>9} | {:>10} {:>9}  lag s\n", "gas", "m/z",
             "onset t s", "V", "mAh", "threshold s", "V", "CUSUM s", "V", "baseline A", "sigma A");
  for (const auto& g : j["gases"]) {
    fmt::print("{:<5} {:>4} {:>10} {:>15} {:>9} | {:>11} {:>9} | {:>11} {:>9} | {:>10.3e} {:>9.2e}  {:g} ({})\n",
               g["name"].get<std::string>(), g["mass"].get<int>(), s(g["onset_t_s"], 1),
               g.contains("onset_voltage_sigma_v") && !g["onset_voltage_v"].is_null() && !g["onset_voltage_sigma_v"].is_null()
                   ? fmt::format("{:.4f}±{:.4f}", g["onset_voltage_v"].get<double>(), g["onset_voltage_sigma_v"].get<double>())
                   : s(g["onset_voltage_v"], 4),
               s(g["onset_capacity_mah"], 4), s(g["threshold_onset_t_s"], 1),
               s(g.value("threshold_onset_voltage_v", nlohmann::json()), 4), s(g["cusum_onset_t_s"], 1),
               s(g.value("cusum_onset_voltage_v", nlohmann::json()), 4), g["baseline"]["median_a"].get<double>(),
               g["sigma"].get<double>(), g["parameters"]["transport_delay_s"].get<double>(),
               g["parameters"]["transport_delay_source"].get<std::string>());
    if (g.contains("note")) fmt::print("      note: {}\n", g["note"].get<std::string>());
    if (g.contains("calibration_a_per_mol_s")) {
      const auto& c = g["calibration"];
      fmt::print("      {:.5g} A per mol/s ({}{}): baseline {:.3e} mol/s, noise {:.2e} mol/s, peak {:.3e} mol/s at {:.0f} s\n",
                 g["calibration_a_per_mol_s"].get<double>(), c.value("method", c["source"].get<std::string>()),
                 c.contains("sigma_a_per_mol_s") ? fmt::format(", ± {:.2g}", c["sigma_a_per_mol_s"].get<double>()) : "",
                 g["baseline"]["median_mol_s"].get<double>(), g["sigma_mol_s"].get<double>(),
                 g["peak_rate_mol_s"].get<double>(), g["peak_rate_t_s"].get<double>());
    }
    if (g.contains("amounts")) {
      std::string halves;
      for (const auto& h : g["amounts"]["half_cycles"]) {
        halves += fmt::format("  {} {}: {:.4g} mol", h["direction"].get<std::string>(), h["half_cycle"].get<std::size_t>(),
                              h["amount_mol"].get<double>());
      }
      fmt::print("      released per half-cycle:{}\n", halves);
    }
    if (g.contains("release")) {
      fmt::print("      from the onset to the end of its half-cycle: {:.4g} mol for {:.4g} mAh, {:.3f} electrons per "
                 "molecule\n",
                 g["release"]["amount_mol"].get<double>(), g["release"]["charge_mah"].get<double>(),
                 g["release"]["electrons_per_molecule"].get<double>());
    }
  }
  fmt::print("onset = extrapolated onset (headline) ± one standard uncertainty (method, both clocks, transport "
             "delay); threshold and CUSUM beside it; all corrected for the MS lag\n");
  if (j.contains("masses_not_recorded")) fmt::print("not recorded in this session: m/z {}\n", j["masses_not_recorded"].dump());
  if (j.contains("note")) fmt::print("{}\n", j["note"].get<std::string>());
}

}  // namespace opsync::cli

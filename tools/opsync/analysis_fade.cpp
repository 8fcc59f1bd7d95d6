// `opsync fade`: per-cycle capacities, efficiencies and mean voltages, and the dQ/dV peaks
// tracked across cycles (correlate/fade.h), as JSON and tables.
#include <cmath>

#include <fmt/format.h>

#include "correlate/fade.h"
#include "opsync/analyses.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"

namespace opsync::cli {

namespace {

nlohmann::json half_json(const std::optional<correlate::HalfCycleSummary>& h) {
  if (!h) return nullptr;
  return {{"half_cycle", h->half_cycle},     {"capacity_mah", h->capacity_mah}, {"energy_mwh", h->energy_mwh},
          {"mean_voltage_v", number_or_null(h->mean_voltage_v)}, {"v_min", h->v_min}, {"v_max", h->v_max}};
}

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

}  // namespace

void add_fade_options(CLI::App& cmd, FadeArgs& a) {
  cmd.add_option("--track-window-mv", a.track_window_mv,
                 "A dQ/dV peak joins the track whose position in the previous cycle is within this, mV")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
}

nlohmann::json run_fade(const SessionData& d, const DqdvArgs& q, const FadeArgs& a) {
  const CyclerData& c = d.require_cycler();
  const correlate::CyclerRecord rec = cycler_record(c, q);
  correlate::FadeOptions opt;
  opt.track_window_v = a.track_window_mv * 1e-3;
  opt.dqdv = dqdv_options(q);
  const correlate::FadeResult r = correlate::analyze_fade(rec, opt);
  nlohmann::json cycles = nlohmann::json::array();
  for (const auto& cs : r.cycles) {
    cycles.push_back({{"cycle", cs.cycle},
                      {"charge", half_json(cs.charge)},
                      {"discharge", half_json(cs.discharge)},
                      {"coulombic_efficiency", opt_json(cs.coulombic_efficiency)},
                      {"energy_efficiency", opt_json(cs.energy_efficiency)}});
  }
  nlohmann::json tracks = nlohmann::json::array();
  for (const auto& t : r.tracks) {
    nlohmann::json pts = nlohmann::json::array();
    for (const auto& p : t.points) {
      pts.push_back({{"cycle", p.cycle}, {"voltage_v", p.voltage_v}, {"height", p.height}, {"area_mah", p.area}});
    }
    tracks.push_back({{"id", t.id},
                      {"direction", std::string(correlate::to_string(t.direction))},
                      {"points", pts},
                      {"drift_v_per_cycle", opt_json(t.drift_v_per_cycle)}});
  }
  nlohmann::json curves = nlohmann::json::array();
  for (std::size_t k = 0; k < r.curves.size(); ++k) {
    curves.push_back({{"cycle", r.curve_cycle[k]},
                      {"half_cycle", r.curves[k].half_cycle},
                      {"direction", std::string(correlate::to_string(r.curves[k].direction))},
                      {"voltage_v", r.curves[k].voltage_v},
                      {"dqdv_mah_per_v", r.curves[k].dqdv}});
  }
  return {{"session", session_json(d)},
          {"cycler_source", c.source},
          {"cycles", cycles},
          {"tracks", tracks},
          {"curves", curves},
          {"method",
           {{"cycle", fmt::format("a {} half-cycle and the half-cycle of the other direction after it",
                                  correlate::to_string(r.first))},
            {"coulombic_efficiency", "discharge capacity / charge capacity within the cycle"},
            {"energy_efficiency", "discharge energy / charge energy within the cycle"},
            {"capacity", rec.capacity_c.empty() ? "integrated (trapezoid of |I| dt)"
                                                : "column (resets inside a half-cycle bridged by |I| dt)"},
            {"energy", "trapezoid of V |I| dt; mean voltage = energy / charge (both from I dt)"},
            {"tracking", "greedy, closest first: a peak joins the track of its direction whose previous position is "
                         "within the window; drift = least-squares slope of voltage against cycle (3 points or more)"},
            {"track_window_v", opt.track_window_v},
            {"dqdv_fwhm_v", opt.dqdv.fwhm_v},
            {"min_prominence_fraction", opt.dqdv.peaks.min_prominence_fraction}}}};
}

void print_fade(const nlohmann::json& j) {
  print_session_header(j["session"]);
  fmt::print("Cycles of '{}' ({}); CE and EE = discharge / charge\n", j["cycler_source"].get<std::string>(),
             j["method"]["cycle"].get<std::string>());
  fmt::print("{:>5} {:>12} {:>12} {:>8} {:>8} {:>10} {:>10}\n", "cycle", "Q_ch mAh", "Q_dis mAh", "CE", "EE",
             "V_ch mean", "V_dis mean");
  auto field = [](const nlohmann::json& h, const char* k, int digits) {
    if (h.is_null() || h[k].is_null()) return std::string("-");
    return fmt::format("{:.{}f}", h[k].get<double>(), digits);
  };
  auto ratio = [](const nlohmann::json& v) { return v.is_null() ? std::string("-") : fmt::format("{:.4f}", v.get<double>()); };
  for (const auto& c : j["cycles"]) {
    fmt::print("{:>5} {:>12} {:>12} {:>8} {:>8} {:>10} {:>10}\n", c["cycle"].get<std::size_t>(),
               field(c["charge"], "capacity_mah", 5), field(c["discharge"], "capacity_mah", 5),
               ratio(c["coulombic_efficiency"]), ratio(c["energy_efficiency"]), field(c["charge"], "mean_voltage_v", 4),
               field(c["discharge"], "mean_voltage_v", 4));
  }
  fmt::print("\ndQ/dV peaks tracked across cycles (window {:g} mV):\n", j["method"]["track_window_v"].get<double>() * 1e3);
  fmt::print("{:>5} {:<9} {:>7} {:>10} {:>10} {:>14}\n", "track", "direction", "cycles", "V first", "V last",
             "drift mV/cycle");
  for (const auto& t : j["tracks"]) {
    const auto& pts = t["points"];
    fmt::print("{:>5} {:<9} {:>7} {:>10.4f} {:>10.4f} {:>14}\n", t["id"].get<std::size_t>(),
               t["direction"].get<std::string>(), pts.size(), pts.front()["voltage_v"].get<double>(),
               pts.back()["voltage_v"].get<double>(),
               t["drift_v_per_cycle"].is_null() ? std::string("-")
                                                : fmt::format("{:+.2f}", t["drift_v_per_cycle"].get<double>() * 1e3));
  }
}

}  // namespace opsync::cli

// `opsync align`: per-scan strain on the voltage axis, the strain turnover by a local fit, its
// distance to each gas onset and the strain-rate vs gas lag (correlate/align.h).
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "correlate/align.h"
#include "correlate/errors.h"
#include "correlate/onset.h"
#include "opsync/analyses.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"

namespace opsync::cli {

void add_align_options(CLI::App& cmd, AlignArgs& a) {
  cmd.add_option("--value", a.value, "Per-scan value to align (default: 'strain', else the first the scans carry)");
  cmd.add_option("--extremum", a.extremum, "The strain turns over at a maximum (tensile) or a minimum")
      ->check(CLI::IsMember({"max", "min"}))
      ->capture_default_str();
  cmd.add_option("--fit-half-window", a.half_window_scans, "Scans on each side of the extreme used by the fit")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  cmd.add_option("--segment-order", a.segment_order, "Degree of the two fitted segments (1 = hinge of lines, 2 = quadratics)")
      ->check(CLI::IsMember({1, 2}))
      ->capture_default_str();
  cmd.add_option("--max-lag-s", a.max_lag_s, "Lags searched by the cross-correlation, +- s")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd.add_option("--lag-grid-s", a.grid_dt_s, "Resampling step of the cross-correlation, s (default: a quarter of the scan spacing)")
      ->check(CLI::NonNegativeNumber);
}

nlohmann::json run_align(const SessionData& d, const AlignArgs& a, const OnsetArgs& onset_args) {
  const CyclerData& c = d.require_cycler();
  const auto& scans = d.require_scans();
  std::string value = a.value;
  if (value.empty()) {
    for (const records::Scan& s : scans)
      for (const records::ScanValue& v : s.values)
        if (value.empty() || v.name == "strain") value = v.name;
  }
  if (value.empty()) {
    throw CliError(fmt::format(
        "the {} scans of session '{}' carry no values: the bridge records when scans ran, the strain comes from the "
        "reconstruction. Add it with `opsync import strain --db {} --session {} FILE` (scan, start, end, strain)",
        scans.size(), d.session.name, d.db, d.session.name));
  }
  struct Point {
    int64_t mid_ns;
    double v;
    const records::Scan* scan;
  };
  std::vector<Point> pts;
  std::set<std::string> names;
  for (const records::Scan& s : scans) {
    for (const records::ScanValue& v : s.values) {
      names.insert(v.name);
      if (v.name == value && std::isfinite(v.value)) pts.push_back({s.start_ns + (s.end_ns - s.start_ns) / 2, v.value, &s});
    }
  }
  if (pts.empty()) {
    std::string have;
    for (const auto& n : names) {
      if (!have.empty()) have += ", ";  // appends only: GCC 12 -O3 false -Wrestrict on "lit" + string
      have += n;
    }
    throw CliError(fmt::format("no scan carries the value '{}' (the scans carry: {})", value, have));
  }
  std::sort(pts.begin(), pts.end(), [](const Point& x, const Point& y) { return x.mid_ns < y.mid_ns; });
  // Two scans at one mid-time (a re-import): keep the later row.
  std::vector<Point> uniq;
  for (const Point& p : pts) {
    if (!uniq.empty() && uniq.back().mid_ns == p.mid_ns) uniq.back() = p; else uniq.push_back(p);
  }
  std::vector<int64_t> mid_ns;
  std::vector<double> vals;
  for (const Point& p : uniq) {
    mid_ns.push_back(p.mid_ns);
    vals.push_back(p.v);
  }

  const int64_t t0 = analysis_t0_ns(d);
  const auto& rec = c.record;
  nlohmann::json scan_rows = nlohmann::json::array();
  for (const Point& p : uniq) {
    nlohmann::json values = nlohmann::json::object();
    for (const records::ScanValue& v : p.scan->values) values[v.name] = number_or_null(v.value);
    nlohmann::json row{{"number", p.scan->number}, {"t_mid_s", seconds_after(t0, p.mid_ns)}, {"voltage_mid_v", nullptr},
                       {"values", values}};
    if (p.mid_ns >= rec.t_ns.front() && p.mid_ns <= rec.t_ns.back()) {
      row["voltage_mid_v"] = correlate::cycler_at(rec.t_ns, rec.voltage_v, rec.voltage_v, p.mid_ns).voltage_v;
    }
    scan_rows.push_back(std::move(row));
  }

  correlate::TurnoverOptions to;
  to.extremum = a.extremum == "min" ? correlate::Extremum::min : correlate::Extremum::max;
  to.half_window_scans = a.half_window_scans;
  to.segment_order = a.segment_order;
  correlate::Turnover turn;
  try {
    turn = correlate::strain_turnover(mid_ns, vals, rec.t_ns, rec.voltage_v, to);
  } catch (const correlate::InputError& e) {
    throw CliError(fmt::format("'{}' of {} scans: {}", value, mid_ns.size(), e.what()));
  }

  nlohmann::json out{{"session", session_json(d)},
                     {"cycler_source", c.source},
                     {"value", value},
                     {"strain_turnover_voltage_v", turn.voltage_v},
                     {"strain_turnover_uncertainty_v", turn.uncertainty_v},
                     {"strain_turnover_t_s", seconds_after(t0, turn.t_ns)},
                     {"strain_turnover_interval_t_s", {seconds_after(t0, turn.t_lo_ns), seconds_after(t0, turn.t_hi_ns)}},
                     {"strain_at_turnover", turn.value_at_turnover},
                     {"fit",
                      {{"model", fmt::format("two {} segments joined at the breakpoint, least squares in time",
                                             a.segment_order == 1 ? "straight" : "quadratic")},
                       {"extremum", a.extremum},
                       {"scans_in_fit", turn.n_scans},
                       {"half_window_scans", a.half_window_scans},
                       {"slope_before_per_s", turn.slope_before_per_s},
                       {"slope_after_per_s", turn.slope_after_per_s},
                       {"residual_rms", turn.residual_rms},
                       {"uncertainty", "68 % profile-likelihood interval of the breakpoint, mapped to voltage"}}},
                     {"scans", scan_rows}};
  if (!turn.note.empty()) out["note"] = turn.note;

  // Gas onsets and the lag per gas. Without MS data the strain part still stands.
  nlohmann::json gas_onsets = nlohmann::json::array();
  nlohmann::json delta_v = nlohmann::json::object(), lag_s = nlohmann::json::object();
  if (d.ms.empty()) {
    out["gas_note"] = "no mass-spectrometer data in the session: no gas onsets, delta_v or lag";
  } else {
    const nlohmann::json onsets = run_onset(d, onset_args);
    for (nlohmann::json g : onsets["gases"]) {
      const std::string name = g["name"].get<std::string>();
      g["delta_v"] = g["onset_voltage_v"].is_null() ? nlohmann::json(nullptr)
                                                    : nlohmann::json(g["onset_voltage_v"].get<double>() - turn.voltage_v);
      delta_v[name] = g["delta_v"];
      g["lag_s"] = nullptr;
      auto ch = std::find_if(d.ms.begin(), d.ms.end(), [&](const MsChannel& m) { return m.channel == g["channel"]; });
      try {
        correlate::LagOptions lo;
        lo.max_lag_s = a.max_lag_s;
        lo.grid_dt_s = a.grid_dt_s;
        lo.transport_delay_s = g["parameters"]["transport_delay_s"].get<double>();
        const correlate::LagResult lr = correlate::strain_gas_lag(mid_ns, vals, ch->t_ns, ch->value_a, lo, to.extremum);
        g["lag_s"] = lr.lag_s;
        g["lag_correlation"] = lr.correlation;
        g["lag_grid_s"] = lr.grid_dt_s;
      } catch (const correlate::InputError& e) {
        g["lag_note"] = e.what();
      }
      lag_s[name] = g["lag_s"];
      gas_onsets.push_back(std::move(g));
    }
  }
  out["gas_onsets"] = gas_onsets;
  out["delta_v"] = delta_v;
  out["lag_s"] = lag_s;
  out["delta_v_note"] = "delta_v = gas onset voltage - strain turnover voltage; lag_s > 0: the gas follows the strain relaxation";
  return out;
}

void print_align(const nlohmann::json& j) {
  print_session_header(j["session"]);
  fmt::print("'{}' of {} scans against the voltage of '{}'\n", j["value"].get<std::string>(), j["scans"].size(),
             j["cycler_source"].get<std::string>());
  fmt::print("strain turnover: {:.4f} V +- {:.4f} V at t = {:.0f} s ({}; {} scans)\n",
             j["strain_turnover_voltage_v"].get<double>(), j["strain_turnover_uncertainty_v"].get<double>(),
             j["strain_turnover_t_s"].get<double>(), j["fit"]["model"].get<std::string>(),
             j["fit"]["scans_in_fit"].get<std::size_t>());
  if (j.contains("note")) fmt::print("  note: {}\n", j["note"].get<std::string>());
  if (j.contains("gas_note")) fmt::print("{}\n", j["gas_note"].get<std::string>());
  if (!j["gas_onsets"].empty()) {
    fmt::print("{:<5} {:>10} {:>10} {:>10} {:>8}\n", "gas", "onset V", "delta mV", "lag s", "corr");
    for (const auto& g : j["gas_onsets"]) {
      auto f = [](const nlohmann::json& v, double scale, int dec) {
        return v.is_null() ? std::string("-") : fmt::format("{:.{}f}", v.get<double>() * scale, dec);
      };
      fmt::print("{:<5} {:>10} {:>10} {:>10} {:>8}\n", g["name"].get<std::string>(), f(g["onset_voltage_v"], 1, 4),
                 f(g["delta_v"], 1e3, 1), f(g["lag_s"], 1, 0), f(g.value("lag_correlation", nlohmann::json()), 1, 2));
      if (g.contains("lag_note")) fmt::print("      lag: {}\n", g["lag_note"].get<std::string>());
    }
    fmt::print("{}\n", j["delta_v_note"].get<std::string>());
  }
}

}  // namespace opsync::cli

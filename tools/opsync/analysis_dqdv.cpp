// `opsync dqdv`: incremental capacity per half-cycle (correlate/dqdv.h) as JSON and a table.
#include <cmath>

#include <fmt/format.h>

#include "correlate/dqdv.h"
#include "opsync/analyses.h"
#include "opsync/analysis_common.h"
#include "opsync/cli_error.h"

namespace opsync::cli {

void add_dqdv_options(CLI::App& cmd, DqdvArgs& a) {
  cmd.add_option("--dv-mv", a.dv_mv, "Voltage grid step, mV")->check(CLI::PositiveNumber)->capture_default_str();
  cmd.add_option("--fwhm-mv", a.fwhm_mv, "Gaussian smoothing FWHM, mV (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--mass-g", a.mass_g, "Active mass, g: adds dQ/dV in mAh/g/V")->check(CLI::NonNegativeNumber);
  cmd.add_option("--capacity", a.capacity,
                 "Capacity source: auto (the cycler's column when recorded, else integrated), column, integrated")
      ->check(CLI::IsMember({"auto", "column", "integrated"}))
      ->capture_default_str();
  cmd.add_option("--turn-back-mv", a.turn_back_mv,
                 "A voltage falling back (on charge) by more than this cuts the half-cycle; smaller dips are noise, mV")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_flag("--each-piece", a.each_piece,
               "Analyse every monotone piece of a half-cycle (default: only the longest by voltage span)");
  cmd.add_option("--rest-current-a", a.rest_current_a, "|I| below this is rest, A")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--min-prominence", a.min_prominence_fraction,
                 "A peak counts when its prominence (its height above the higher of the lowest points on either "
                 "side before the curve rises above it, as scipy's find_peaks) is at least this fraction of the "
                 "curve's largest value; ripples on flat stretches have almost none")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd.add_option("--min-width-mv", a.min_width_mv, "A peak counts when its width at half prominence is at least this, mV")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd.add_option("--min-peak-fraction", a.min_peak_fraction,
                 "Also drop peaks lower than this fraction of the largest value (0: keep any height)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
}

correlate::CyclerRecord cycler_record(const CyclerData& c, const DqdvArgs& a) {
  correlate::CyclerRecord rec = c.record;
  if (a.capacity == "column" && rec.capacity_c.empty()) {
    throw CliError(fmt::format("--capacity column: source '{}' recorded no capacity channel (use "
                               "--capacity integrated)",
                               c.source));
  }
  if (a.capacity == "integrated") rec.capacity_c.clear();
  return rec;
}

correlate::DqdvOptions dqdv_options(const DqdvArgs& a) {
  correlate::DqdvOptions opt;
  opt.dv_v = a.dv_mv * 1e-3;
  opt.fwhm_v = a.fwhm_mv * 1e-3;
  opt.pieces = a.each_piece ? correlate::PieceChoice::each : correlate::PieceChoice::longest;
  opt.peaks.min_prominence_fraction = a.min_prominence_fraction;
  opt.peaks.min_width_v = a.min_width_mv * 1e-3;
  opt.peaks.min_height_fraction = a.min_peak_fraction;
  opt.half_cycles.rest_current_a = a.rest_current_a;
  opt.turn_back_tolerance_v = a.turn_back_mv * 1e-3;
  return opt;
}

nlohmann::json run_dqdv(const SessionData& d, const DqdvArgs& a) {
  const CyclerData& c = d.require_cycler();
  const correlate::CyclerRecord rec = cycler_record(c, a);
  const std::vector<correlate::DqdvCurve> curves = correlate::dqdv(rec, dqdv_options(a));
  if (curves.empty()) {
    throw CliError(fmt::format(
        "no half-cycle of source '{}' is long enough for dQ/dV (|I| > {} A for at least 3 rows spanning 3 grid "
        "steps); is the current recorded, and is --rest-current-a right for this cell?",
        c.source, a.rest_current_a));
  }
  nlohmann::json hc = nlohmann::json::array();
  for (const auto& cv : curves) {
    nlohmann::json peaks = nlohmann::json::array();
    for (const auto& p : cv.peaks) {
      nlohmann::json pj{{"voltage_v", p.voltage_v},
                        {"height", p.height},
                        {"fwhm_v", p.fwhm_v ? nlohmann::json(*p.fwhm_v) : nlohmann::json(nullptr)},
                        {"prominence", p.prominence},
                        {"width_v", p.width_v},
                        {"left_base_v", p.left_base_v},
                        {"right_base_v", p.right_base_v},
                        {"area_mah", p.area}};
      if (a.mass_g > 0) pj["height_mah_per_g_per_v"] = p.height / a.mass_g;
      peaks.push_back(std::move(pj));
    }
    nlohmann::json j{{"index", cv.half_cycle},
                     {"direction", std::string(correlate::to_string(cv.direction))},
                     {"piece", cv.piece},
                     {"pieces_found", cv.pieces_found},
                     {"voltage_v", cv.voltage_v},
                     {"dqdv_mah_per_v", cv.dqdv},
                     {"peaks", peaks}};
    if (a.mass_g > 0) {
      std::vector<double> per_g(cv.dqdv);
      for (double& v : per_g) v /= a.mass_g;
      j["dqdv_mah_per_g_per_v"] = per_g;
    }
    hc.push_back(std::move(j));
  }
  const correlate::DqdvMethod& m = curves.front().method;
  return {{"session", session_json(d)},
          {"cycler_source", c.source},
          {"half_cycles", hc},
          {"method",
           {{"capacity_source", m.capacity_source},
            {"piece_choice", m.piece_choice},
            {"smoothing", m.smoothing},
            {"differentiation", m.differentiation},
            {"units", "mAh/V (peaks' height too; mAh/g/V where named)"},
            {"dv_v", m.dv_v},
            {"fwhm_v", m.fwhm_v},
            {"active_mass_g", a.mass_g},
            {"peaks",
             {{"rule", "local maxima of |dQ/dV| by prominence and width at half prominence (scipy.signal.find_peaks)"},
              {"min_prominence_fraction", m.peaks.min_prominence_fraction},
              {"min_width_v", m.peaks.min_width_v},
              {"min_height_fraction", m.peaks.min_height_fraction}}},
            {"rest_current_a", m.rest_current_a},
            {"turn_back_tolerance_v", m.turn_back_tolerance_v}}}};
}

void print_dqdv(const nlohmann::json& j) {
  print_session_header(j["session"]);
  const auto& m = j["method"];
  fmt::print("dQ/dV of '{}': grid {:g} mV, Gaussian FWHM {:g} mV, capacity {}, {}\n",
             j["cycler_source"].get<std::string>(), m["dv_v"].get<double>() * 1e3, m["fwhm_v"].get<double>() * 1e3,
             m["capacity_source"].get<std::string>(), m["piece_choice"].get<std::string>());
  fmt::print("{:>4} {:<9} {:>9} {:>9} {:>6}  peaks: V (prominence mAh/V, width mV, area mAh)\n", "hc", "direction",
             "V from", "V to", "points");
  for (const auto& h : j["half_cycles"]) {
    const auto& v = h["voltage_v"];
    std::string peaks;
    for (const auto& p : h["peaks"]) {
      peaks += fmt::format("  {:.4f} ({:.4g}, {:.1f}, {:.4g})", p["voltage_v"].get<double>(),
                           p["prominence"].get<double>(), p["width_v"].get<double>() * 1e3, p["area_mah"].get<double>());
    }
    fmt::print("{:>4} {:<9} {:>9.4f} {:>9.4f} {:>6}{}\n", h["index"].get<std::size_t>(),
               h["direction"].get<std::string>(), v.front().get<double>(), v.back().get<double>(), v.size(), peaks);
  }
}

}  // namespace opsync::cli

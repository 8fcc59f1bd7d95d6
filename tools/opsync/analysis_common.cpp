// Shared helpers of the analysis commands, and the session header every analysis prints.
#include "opsync/analysis_common.h"

#include <cmath>

#include <fmt/format.h>

#include "core/time_format.h"
#include "opsync/analyses.h"

namespace opsync::cli {

int64_t analysis_t0_ns(const SessionData& d) {
  if (d.cycler && !d.cycler->record.t_ns.empty()) return d.cycler->record.t_ns.front();
  int64_t t0 = 0;
  for (const MsChannel& m : d.ms)
    if (!m.t_ns.empty() && (t0 == 0 || m.t_ns.front() < t0)) t0 = m.t_ns.front();
  return t0 != 0 ? t0 : d.session.started_ns;
}

nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json seconds_or_null(int64_t t0_ns, const std::optional<int64_t>& t_ns) {
  return t_ns ? nlohmann::json(seconds_after(t0_ns, *t_ns)) : nlohmann::json(nullptr);
}

std::string fixed_or_dash(double v, int decimals) { return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : "-"; }
std::string sci_or_dash(double v, int decimals) { return std::isfinite(v) ? fmt::format("{:.{}e}", v, decimals) : "-"; }

nlohmann::json session_json(const SessionData& d) {
  const int64_t t0 = analysis_t0_ns(d);
  nlohmann::json sources = nlohmann::json::array();
  for (const SourceClock& c : d.clocks) {
    nlohmann::json s{{"name", c.source}, {"kind", c.kind}};
    if (c.model) {
      s["clock"] = {{"method", c.model->method},          {"offset_ns", c.model->offset_ns},
                    {"rate", c.model->rate},              {"residual_rms_ns", c.model->residual_rms_ns},
                    {"residual_max_ns", c.model->residual_max_ns}, {"uncertainty_ns", c.model->uncertainty_ns},
                    {"n_points", c.model->n_points}};
    } else {
      s["clock"] = nullptr;  // times as recorded or imported (any --clock-offset-s already applied)
    }
    if (!c.note.empty()) s["note"] = c.note;
    sources.push_back(std::move(s));
  }
  return {{"db", d.db},
          {"name", d.session.name},
          {"id", d.session.id},
          {"t0_ns", t0},
          {"t0_utc", format_iso_utc(t0, 3)},
          {"time_note", "times in seconds after t0 (the first cycler row), all sources on the session's reference clock"},
          {"sources", sources}};
}

void print_session_header(const nlohmann::json& s) {
  fmt::print("session '{}' in {}; t = 0 s at {}\n", s["name"].get<std::string>(), s["db"].get<std::string>(),
             s["t0_utc"].get<std::string>());
  for (const auto& src : s["sources"]) {
    const auto& c = src["clock"];
    if (c.is_null()) {
      fmt::print("  source {:<10} {:<7} clock: as recorded/imported\n", src["name"].get<std::string>(),
                 src["kind"].get<std::string>());
    } else {
      fmt::print("  source {:<10} {:<7} clock: {} (residual rms {:.3f} ms, uncertainty {:.3f} ms)\n",
                 src["name"].get<std::string>(), src["kind"].get<std::string>(), c["method"].get<std::string>(),
                 c["residual_rms_ns"].get<double>() * 1e-6, c["uncertainty_ns"].get<double>() * 1e-6);
    }
  }
}

}  // namespace opsync::cli

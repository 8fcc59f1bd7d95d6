// Rendering a session's driver records as the canonical text of record_text.h.
#include "replay/record_text.h"

#include <algorithm>
#include <fmt/format.h>
#include <sstream>
#include <tuple>

#include "replay/capture_log.h"
#include "replay/replay_input.h"

namespace opsync::replay {
namespace {

std::string num(double v) { return fmt::format("{:.17g}", v); }

}  // namespace

std::string render_records(store::StoreReader& reader, records::SessionId session, const std::vector<std::string>& names) {
  std::string out = "opsync-records 1\n";
  int64_t t0 = 0;
  for (const auto& s : reader.sessions()) {
    if (s.id == session) {
      t0 = s.started_ns;
      out += fmt::format("session {}\n", s.started_ns);
    }
  }
  const auto sources = reader.sources(session);
  const auto events = reader.events(session);
  const auto scans = reader.scans(session);
  for (const std::string& name : names) {
    auto it = std::find_if(sources.begin(), sources.end(), [&](const records::Source& s) { return s.name == name; });
    if (it == sources.end()) continue;
    const records::Source& src = *it;
    out += fmt::format("source {} {}\n", quote(src.name), quote(src.kind));
    auto channels = reader.channels(src.id);
    std::sort(channels.begin(), channels.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& c : channels) {
      out += fmt::format("channel {} {}\n", quote(c.name), quote(c.unit));
      reader.scan_samples(c.id, {}, [&](int64_t t_ns, double v) {
        out += fmt::format(" +{} {}\n", t_ns - t0, num(v));
        return true;
      });
    }
    std::vector<records::Event> ev;
    for (const auto& e : events) {
      if (e.source_id == src.id && !is_bookkeeping_event(e.source_id, e.kind)) ev.push_back(e);
    }
    std::sort(ev.begin(), ev.end(), [](const auto& a, const auto& b) {
      return std::tie(a.t_ns, a.kind, a.detail) < std::tie(b.t_ns, b.kind, b.detail);
    });
    out += "events\n";
    for (const auto& e : ev) out += fmt::format(" +{} {} {}\n", e.t_ns - t0, quote(e.kind), quote(e.detail));
    std::vector<records::Scan> sc;
    for (const auto& s : scans) {
      if (s.source_id == src.id) sc.push_back(s);
    }
    std::sort(sc.begin(), sc.end(),
              [](const auto& a, const auto& b) { return std::tie(a.start_ns, a.number) < std::tie(b.start_ns, b.number); });
    out += "scans\n";
    for (const auto& s : sc) {
      out += fmt::format(" {} +{} +{} {}", s.number, s.start_ns - t0, s.end_ns - t0, quote(s.label));
      for (const auto& v : s.values) out += fmt::format(" {} {} {}", quote(v.name), quote(v.unit), num(v.value));
      out += "\n";
    }
    out += "clock_models\n";
    for (const auto& m : reader.clock_models(src.id)) {
      out += fmt::format(" +{} {} {} {} {} {} {} {}\n", m.fitted_at_ns - t0, quote(m.method), m.offset_ns, num(m.rate),
                         num(m.residual_rms_ns), num(m.residual_max_ns), m.n_points, num(m.uncertainty_ns));
    }
  }
  return out;
}

TextDifference compare_text(const std::string& expected, const std::string& actual) {
  TextDifference d;
  std::istringstream a(expected), b(actual);
  std::string la, lb;
  size_t n = 0;
  for (;;) {
    const bool ha = static_cast<bool>(std::getline(a, la));
    const bool hb = static_cast<bool>(std::getline(b, lb));
    if (!ha && !hb) break;
    ++n;
    if (ha) ++d.expected_lines;
    if (hb) ++d.actual_lines;
    if (d.same && (ha != hb || la != lb)) {
      d.same = false;
      d.line = n;
      d.expected = ha ? la : "(end of file)";
      d.actual = hb ? lb : "(end of file)";
    }
  }
  return d;
}

}  // namespace opsync::replay

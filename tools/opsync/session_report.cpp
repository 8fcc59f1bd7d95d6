// Text tables for sessions and session details.
#include "opsync/session_report.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <fmt/format.h>

#include "core/time_format.h"

namespace opsync::cli {

std::string format_duration(int64_t ns) {
  const double s = static_cast<double>(ns) / 1e9;
  if (s < 120) return fmt::format("{:.3f} s", s);
  if (s < 2 * 3600) return fmt::format("{:.1f} min", s / 60);
  if (s < 3 * 86400) return fmt::format("{:.2f} h", s / 3600);
  return fmt::format("{:.2f} d", s / 86400);
}

std::string format_sessions_table(store::StoreReader& reader) {
  const auto sessions = reader.sessions();
  if (sessions.empty()) return "no sessions in this database\n";
  std::string out = fmt::format("{:>4}  {:<24} {:<28} {:>12} {:>8} {:>12}\n", "id", "name", "start (UTC)", "duration",
                                "sources", "samples");
  for (const auto& s : sessions) {
    uint64_t samples = 0;
    const auto sources = reader.sources(s.id);
    for (const auto& src : sources) {
      for (const auto& ch : reader.channels(src.id)) samples += reader.channel_stats(ch.id).n_samples;
    }
    const std::string dur = s.ended_ns ? format_duration(s.ended_ns - s.started_ns) : "open";
    out += fmt::format("{:>4}  {:<24} {:<28} {:>12} {:>8} {:>12}\n", s.id, s.name, format_iso_utc(s.started_ns, 3),
                       dur, sources.size(), samples);
  }
  return out;
}

std::string format_session_info(store::StoreReader& reader, const records::Session& s) {
  std::string out = fmt::format("session '{}' (id {})\n", s.name, s.id);
  out += fmt::format("  start  {}\n", format_iso_utc(s.started_ns, 6));
  if (s.ended_ns) {
    out += fmt::format("  end    {}  ({})\n", format_iso_utc(s.ended_ns, 6), format_duration(s.ended_ns - s.started_ns));
  } else {
    out += "  end    (open: still recording or not closed cleanly)\n";
  }
  if (!s.host.empty()) out += fmt::format("  host   {}\n", s.host);
  if (!s.note.empty()) out += fmt::format("  note   {}\n", s.note);
  uint64_t total = 0;
  const auto source_events = reader.events(s.id);
  for (const auto& src : reader.sources(s.id)) {
    out += fmt::format("\nsource '{}' ({}){}\n", src.name, src.kind, src.address.empty() ? "" : "  " + src.address);
    if (auto m = reader.clock_model(src.id)) {
      out += fmt::format("  clock  {}: t_ref = t_src {} {} ns, rate {:.9f}", m->method, m->offset_ns < 0 ? '-' : '+',
                         m->offset_ns < 0 ? -m->offset_ns : m->offset_ns, m->rate);
      if (m->n_points > 0) {
        out += fmt::format(", {} points, residual rms {:.0f} ns, max {:.0f} ns", m->n_points, m->residual_rms_ns,
                           m->residual_max_ns);
      }
      out += "\n";
    }
    const auto channels = reader.channels(src.id);
    {
      // Per source: samples, span, rate, and the outages the daemon recorded.
      uint64_t n = 0;
      int64_t first = INT64_MAX, last = INT64_MIN;
      for (const auto& ch : channels) {
        const auto st = reader.channel_stats(ch.id);
        if (st.n_samples == 0) continue;
        n += st.n_samples;
        first = std::min(first, st.first_t_ns);
        last = std::max(last, st.last_t_ns);
      }
      size_t gaps = 0, disconnects = 0;
      double gap_s = 0;
      for (const auto& e : source_events) {
        if (e.source_id != src.id) continue;
        if (e.kind == "gap") {
          ++gaps;
          gap_s += std::atof(e.detail.c_str());  // "12.345 s without data (...)"
        }
        disconnects += e.kind == "disconnected";
      }
      if (n > 0 && last > first) {
        out += fmt::format("  {} samples over {} ({:.2f}/s); {} gaps ({:.1f} s), {} disconnects\n", n,
                           format_duration(last - first), static_cast<double>(n) * 1e9 / static_cast<double>(last - first),
                           gaps, gap_s, disconnects);
      }
    }
    if (!channels.empty()) {
      size_t w = 7;
      for (const auto& ch : channels) w = std::max(w, ch.name.size());
      out += fmt::format("  {:<{}} {:<5} {:>9}  {:<24} {:<24} {:>14} {:>14}\n", "channel", w, "unit", "samples",
                         "first (UTC)", "last (UTC)", "min", "max");
      for (const auto& ch : channels) {
        const auto st = reader.channel_stats(ch.id);
        total += st.n_samples;
        out += fmt::format("  {:<{}} {:<5} {:>9}  {:<24} {:<24} {:>14.7g} {:>14.7g}\n", ch.name, w, ch.unit,
                           st.n_samples, format_iso_utc(st.first_t_ns, 3), format_iso_utc(st.last_t_ns, 3),
                           st.min_value, st.max_value);
      }
    }
    for (const auto& imp : reader.imports(src.id)) {
      out += fmt::format("  imported from {} ({}), {} rows\n", imp.path, imp.format, imp.rows);
    }
    if (src.transport_delay_s > 0) {
      out += fmt::format("  transport delay {:g} s (gas onsets are corrected by it; recorded times are not)\n",
                         src.transport_delay_s);
    }
    if (!src.note.empty()) {
      out += "  assumptions:\n";
      size_t start = 0;
      while (start < src.note.size()) {
        size_t end = src.note.find('\n', start);
        if (end == std::string::npos) end = src.note.size();
        if (end > start) out += fmt::format("    - {}\n", src.note.substr(start, end - start));
        start = end + 1;
      }
    }
  }
  const auto events = reader.events(s.id);
  out += fmt::format("\n{} samples, {} events, {} scans\n", total, events.size(), reader.count_scans(s.id));
  if (!events.empty()) {
    std::map<std::string, size_t> kinds;
    for (const auto& e : events) ++kinds[e.kind];
    out += "  events by kind:";
    for (const auto& [k, n] : kinds) out += fmt::format(" {} {}", k, n);
    out += "\n";
  }
  return out;
}

}  // namespace opsync::cli

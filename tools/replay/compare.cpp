// Merge walks over two time-ordered record lists: equal, different, missing, extra.
#include "replay/compare.h"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <tuple>

#include "core/time_format.h"
#include "replay/replay_input.h"

namespace opsync::replay {
namespace {

bool same_value(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

void note(SourceComparison& sc, int64_t t_ns, std::string what) {
  if (t_ns < sc.first_difference_t_ns) {
    sc.first_difference_t_ns = t_ns;
    sc.first_difference = fmt::format("{}: {}", format_iso_utc(t_ns, 9), what);
  }
}

// Walks a and b (each sorted by key) in step. key(x) orders; equal(x, y) compares content.
template <typename T, typename Key, typename Equal, typename Describe>
void walk(const std::vector<T>& a, const std::vector<T>& b, Tally& tally, SourceComparison& sc, Key key,
          Equal equal, Describe describe) {
  tally.original += a.size();
  tally.replayed += b.size();
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && key(a[i]) < key(b[j]))) {
      ++tally.missing;
      note(sc, std::get<0>(key(a[i])), fmt::format("{} in the original only", describe(a[i])));
      ++i;
    } else if (i == a.size() || key(b[j]) < key(a[i])) {
      ++tally.extra;
      note(sc, std::get<0>(key(b[j])), fmt::format("{} in the replay only", describe(b[j])));
      ++j;
    } else {
      if (equal(a[i], b[j])) {
        ++tally.equal;
      } else {
        ++tally.different;
        note(sc, std::get<0>(key(a[i])), fmt::format("original {}, replayed {}", describe(a[i]), describe(b[j])));
      }
      ++i;
      ++j;
    }
  }
}

std::map<std::string, records::Source> sources_by_name(store::StoreReader& r, records::SessionId s) {
  std::map<std::string, records::Source> out;
  for (auto& src : r.sources(s)) out[src.name] = src;
  return out;
}

std::vector<records::Event> driver_events(const std::vector<records::Event>& all, records::SourceId source) {
  std::vector<records::Event> out;
  for (const auto& e : all) {
    if (e.source_id == source && !is_bookkeeping_event(e.source_id, e.kind)) out.push_back(e);
  }
  std::sort(out.begin(), out.end(), [](const records::Event& x, const records::Event& y) {
    return std::tie(x.t_ns, x.kind, x.detail) < std::tie(y.t_ns, y.kind, y.detail);
  });
  return out;
}

std::vector<records::Scan> source_scans(const std::vector<records::Scan>& all, records::SourceId source) {
  std::vector<records::Scan> out;
  for (const auto& s : all) {
    if (s.source_id == source) out.push_back(s);
  }
  std::sort(out.begin(), out.end(), [](const records::Scan& x, const records::Scan& y) {
    return std::tie(x.start_ns, x.number) < std::tie(y.start_ns, y.number);
  });
  return out;
}

bool same_scan(const records::Scan& a, const records::Scan& b) {
  if (a.end_ns != b.end_ns || a.label != b.label || a.values.size() != b.values.size()) return false;
  for (size_t i = 0; i < a.values.size(); ++i) {
    if (a.values[i].name != b.values[i].name || a.values[i].unit != b.values[i].unit ||
        !same_value(a.values[i].value, b.values[i].value)) {
      return false;
    }
  }
  return true;
}

bool same_model(const records::ClockModel& a, const records::ClockModel& b) {
  return a.method == b.method && a.offset_ns == b.offset_ns && same_value(a.rate, b.rate) &&
         same_value(a.residual_rms_ns, b.residual_rms_ns) && same_value(a.residual_max_ns, b.residual_max_ns) &&
         a.n_points == b.n_points && same_value(a.uncertainty_ns, b.uncertainty_ns);
}

}  // namespace

bool Comparison::same() const {
  return std::all_of(sources.begin(), sources.end(), [](const SourceComparison& s) { return s.same(); });
}

Comparison compare_sessions(store::StoreReader& a, records::SessionId session_a, store::StoreReader& b,
                            records::SessionId session_b, const std::vector<std::string>& names) {
  Comparison out;
  const auto src_a = sources_by_name(a, session_a);
  const auto src_b = sources_by_name(b, session_b);
  const auto events_a = a.events(session_a);
  const auto events_b = b.events(session_b);
  const auto scans_a = a.scans(session_a);
  const auto scans_b = b.scans(session_b);
  for (const std::string& name : names) {
    SourceComparison sc;
    sc.name = name;
    const auto ia = src_a.find(name);
    const auto ib = src_b.find(name);
    const records::SourceId id_a = ia == src_a.end() ? -1 : ia->second.id;
    const records::SourceId id_b = ib == src_b.end() ? -1 : ib->second.id;

    // Samples, channel by channel (both sides' channel names).
    std::map<std::string, std::pair<records::ChannelId, records::ChannelId>> channels;
    if (id_a >= 0) {
      for (const auto& c : a.channels(id_a)) channels[c.name].first = c.id;
    }
    if (id_b >= 0) {
      for (const auto& c : b.channels(id_b)) channels[c.name].second = c.id;
    }
    for (const auto& [channel, pair] : channels) {
      const auto sa = pair.first ? a.samples(pair.first) : std::vector<records::Sample>{};
      const auto sb = pair.second ? b.samples(pair.second) : std::vector<records::Sample>{};
      // Samples at one time stamp are paired in arrival order (the store keeps it).
      auto keyed = [](const std::vector<records::Sample>& v) {
        std::vector<std::tuple<int64_t, size_t, double>> k;
        size_t same_t = 0;
        for (size_t i = 0; i < v.size(); ++i) {
          same_t = (i > 0 && v[i].t_ns == v[i - 1].t_ns) ? same_t + 1 : 0;
          k.emplace_back(v[i].t_ns, same_t, v[i].value);
        }
        return k;
      };
      walk(
          keyed(sa), keyed(sb), sc.samples, sc,
          [](const std::tuple<int64_t, size_t, double>& x) { return std::make_tuple(std::get<0>(x), std::get<1>(x)); },
          [](const auto& x, const auto& y) { return same_value(std::get<2>(x), std::get<2>(y)); },
          [&channel](const auto& x) { return fmt::format("{} = {:.17g}", channel, std::get<2>(x)); });
    }

    walk(
        id_a >= 0 ? driver_events(events_a, id_a) : std::vector<records::Event>{},
        id_b >= 0 ? driver_events(events_b, id_b) : std::vector<records::Event>{}, sc.events, sc,
        [](const records::Event& e) { return std::make_tuple(e.t_ns, e.kind); },
        [](const records::Event& x, const records::Event& y) { return x.detail == y.detail; },
        [](const records::Event& e) { return fmt::format("event {} \"{}\"", e.kind, e.detail); });

    walk(
        id_a >= 0 ? source_scans(scans_a, id_a) : std::vector<records::Scan>{},
        id_b >= 0 ? source_scans(scans_b, id_b) : std::vector<records::Scan>{}, sc.scans, sc,
        [](const records::Scan& s) { return std::make_tuple(s.start_ns, s.number); },
        [](const records::Scan& x, const records::Scan& y) { return same_scan(x, y); },
        [](const records::Scan& s) {
          return fmt::format("scan {} ({} .. {}, \"{}\")", s.number, format_iso_utc(s.start_ns, 9),
                             format_iso_utc(s.end_ns, 9), s.label);
        });

    walk(
        id_a >= 0 ? a.clock_models(id_a) : std::vector<records::ClockModel>{},
        id_b >= 0 ? b.clock_models(id_b) : std::vector<records::ClockModel>{}, sc.clock_models, sc,
        [](const records::ClockModel& m) { return std::make_tuple(m.fitted_at_ns); },
        [](const records::ClockModel& x, const records::ClockModel& y) { return same_model(x, y); },
        [](const records::ClockModel& m) {
          return fmt::format("clock model {} offset {} ns rate {:.17g} rms {:.6g} ns n {}", m.method, m.offset_ns,
                             m.rate, m.residual_rms_ns, m.n_points);
        });
    out.sources.push_back(std::move(sc));
  }
  return out;
}

void print_comparison(const Comparison& c, std::FILE* out) {
  fmt::print(out, "comparison with the original (records the drivers produce; link and session bookkeeping "
                  "events are copied, not compared):\n");
  fmt::print(out, "  {:<10} {:<13} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}\n", "source", "records", "original",
             "replayed", "equal", "different", "missing", "extra");
  for (const SourceComparison& s : c.sources) {
    const std::pair<const char*, const Tally*> rows[] = {
        {"samples", &s.samples}, {"events", &s.events}, {"scans", &s.scans}, {"clock models", &s.clock_models}};
    for (const auto& [label, t] : rows) {
      fmt::print(out, "  {:<10} {:<13} {:>10} {:>10} {:>10} {:>10} {:>9} {:>9}\n", s.name, label, t->original,
                 t->replayed, t->equal, t->different, t->missing, t->extra);
    }
  }
  for (const SourceComparison& s : c.sources) {
    if (!s.same()) fmt::print(out, "  first difference, {}: {}\n", s.name, s.first_difference);
  }
  fmt::print(out, "  {}\n", c.same() ? "equal: every record of the original, and nothing else"
                                     : "DIFFERENT from the original");
}

}  // namespace opsync::replay

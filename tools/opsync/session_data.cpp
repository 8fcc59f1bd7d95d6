// Reads a session's cycler, MS, scan and clock data for the correlator commands (see session_data.h).
#include "opsync/cli_error.h"
#include "opsync/session_data.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace opsync::cli {
namespace {

struct Series {
  std::vector<int64_t> t_ns;
  std::vector<double> v;
};

Series read_series(store::StoreReader& reader, records::ChannelId id) {
  Series s;
  reader.scan_samples(id, {}, [&](int64_t t_ns, double value) {
    // NULL (NaN) samples mark missing readings; the analyses need finite rows.
    if (!std::isfinite(value)) return true;
    // Duplicate times (kept by the store in arrival order): the last reading wins.
    if (!s.t_ns.empty() && s.t_ns.back() == t_ns) {
      s.v.back() = value;
      return true;
    }
    s.t_ns.push_back(t_ns);
    s.v.push_back(value);
    return true;
  });
  return s;
}

// `other` on the time base `t_ns`: exact when the times match (one cycler row), else linear
// interpolation; rows outside `other`'s span take its end values.
std::vector<double> align_to(const std::vector<int64_t>& t_ns, const Series& other) {
  std::vector<double> out(t_ns.size());
  std::size_t j = 0;
  for (std::size_t i = 0; i < t_ns.size(); ++i) {
    while (j + 1 < other.t_ns.size() && other.t_ns[j + 1] <= t_ns[i]) ++j;
    if (other.t_ns[j] >= t_ns[i] || j + 1 == other.t_ns.size()) {
      out[i] = other.v[j];
    } else {
      const double w = static_cast<double>(t_ns[i] - other.t_ns[j]) / static_cast<double>(other.t_ns[j + 1] - other.t_ns[j]);
      out[i] = other.v[j] + w * (other.v[j + 1] - other.v[j]);
    }
  }
  return out;
}

}  // namespace

int mass_of_channel(const std::string& name) {
  const std::string prefix = "ion_current_m";
  if (name.rfind(prefix, 0) != 0) return 0;
  int mass = 0;
  const char* b = name.data() + prefix.size();
  const char* e = name.data() + name.size();
  auto [p, ec] = std::from_chars(b, e, mass);
  return ec == std::errc() && p == e && mass > 0 ? mass : 0;
}

SessionData load_session_data(const std::string& db, const std::string& session, const std::string& cycler_source) {
  store::StoreReader reader(db);
  const auto s = reader.find_session(session);
  if (!s) throw CliError(fmt::format("no session '{}' in {} (see `opsync sessions --db {}`)", session, db, db));
  SessionData out;
  out.db = db;
  out.session = *s;
  bool cycler_named_found = cycler_source.empty();
  for (const records::Source& src : reader.sources(s->id)) {
    out.clocks.push_back(SourceClock{src.name, src.kind, reader.clock_model(src.id), src.note});
    const auto channels = reader.channels(src.id);
    auto find = [&](const std::string& name) -> const records::Channel* {
      for (const auto& c : channels)
        if (c.name == name) return &c;
      return nullptr;
    };
    const records::Channel* v = find("voltage");
    const records::Channel* i = find("current");
    const bool wanted = cycler_source.empty() ? !out.cycler.has_value() : src.name == cycler_source;
    if (src.name == cycler_source) cycler_named_found = true;
    if (wanted && v && i) {
      const Series vs = read_series(reader, v->id), is = read_series(reader, i->id);
      if (vs.t_ns.size() >= 2 && !is.t_ns.empty()) {
        CyclerData c;
        c.source = src.name;
        c.record.t_ns = vs.t_ns;
        c.record.voltage_v = vs.v;
        c.record.current_a = align_to(vs.t_ns, is);
        if (const records::Channel* q = find("capacity")) {
          const Series qs = read_series(reader, q->id);
          if (!qs.t_ns.empty() && q->unit == "C") {
            c.record.capacity_c = align_to(vs.t_ns, qs);
            c.capacity_channel = "capacity";
          }
        }
        out.cycler = std::move(c);
      }
    }
    for (const records::Channel& ch : channels) {
      const int mass = mass_of_channel(ch.name);
      if (mass == 0) continue;
      Series ms = read_series(reader, ch.id);
      if (ms.t_ns.empty()) continue;
      std::optional<records::GasCalibration> cal;
      for (const records::GasCalibration& c : reader.gas_calibrations(src.id)) {
        if (c.mass == mass) cal = c;  // oldest first: the last one is in force
      }
      out.ms.push_back(MsChannel{src.name, ch.name, mass, std::move(ms.t_ns), std::move(ms.v),
                                 src.transport_delay_s > 0 ? std::optional<double>(src.transport_delay_s) : std::nullopt,
                                 std::move(cal)});
    }
  }
  if (!cycler_named_found) {
    throw CliError(fmt::format("session '{}' has no source named '{}' (see `opsync info --db {} {}`)",
                               s->name, cycler_source, db, s->name));
  }
  out.scans = reader.scans(s->id);
  return out;
}

const CyclerData& SessionData::require_cycler() const {
  if (!cycler) {
    throw CliError(fmt::format(
        "session '{}' has no cycler data: no source with 'voltage' and 'current' channels holding at least two "
        "readings. Record one with opsyncd or add a file with `opsync import cycler --db {} --session {} FILE`",
        session.name, db, session.name));
  }
  return *cycler;
}

const std::vector<MsChannel>& SessionData::require_ms() const {
  if (ms.empty()) {
    throw CliError(fmt::format(
        "session '{}' has no mass-spectrometer data (no 'ion_current_m<mass>' channel with readings). Record the "
        "RGA with opsyncd or add a file with `opsync import ms --db {} --session {} FILE`",
        session.name, db, session.name));
  }
  return ms;
}

const std::vector<records::Scan>& SessionData::require_scans() const {
  if (scans.empty()) {
    throw CliError(fmt::format(
        "session '{}' has no diffraction scans. Scans come from the trigger bridge (opsyncd) or from a per-scan "
        "strain file: `opsync import strain --db {} --session {} FILE`",
        session.name, db, session.name));
  }
  return scans;
}

}  // namespace opsync::cli

// Queries of the read side. Every query is a prepared statement on a read-only connection.
#include "store/reader.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fmt/format.h>

#include "store/schema.h"
#include "store/sqlite_db.h"

namespace opsync::store {

StoreReader::StoreReader(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw StoreError(fmt::format("database '{}' does not exist (record or import a session first)", path));
  }
  {
    // Old files are upgraded once, so the read queries can assume the current schema.
    Db probe(path, Db::Mode::ReadOnly);
    int version = 0;
    try {
      version = schema_version(probe);
    } catch (const StoreError& e) {
      throw StoreError(fmt::format("'{}' is not an opsync database: {}", path, e.what()));
    }
    if (version == 0) throw StoreError(fmt::format("'{}' is not an opsync database (no opsync schema)", path));
    if (version > kSchemaVersion) migrate(probe);  // throws the "newer than this opsync" error
    if (version < kSchemaVersion) {
      try {
        Db rw(path, Db::Mode::ReadWrite);
        configure_connection(rw, /*writer=*/true);
        migrate(rw);
      } catch (const StoreError& e) {
        throw StoreError(fmt::format("'{}' has schema version {} and could not be upgraded to {}: {}", path,
                                     version, kSchemaVersion, e.what()));
      }
    }
  }
  db_ = std::make_unique<Db>(path, Db::Mode::ReadOnly);
  configure_connection(*db_, /*writer=*/false);
}

StoreReader::~StoreReader() = default;

namespace {
records::Session read_session(Stmt& st) {
  records::Session s;
  s.id = st.col_int(0);
  s.name = st.col_text(1);
  s.started_ns = st.col_int(2);
  s.ended_ns = st.col_is_null(3) ? 0 : st.col_int(3);
  s.host = st.col_text(4);
  s.note = st.col_text(5);
  return s;
}
constexpr const char* kSessionCols = "SELECT id, name, started_ns, ended_ns, host, note FROM sessions ";
}  // namespace

std::vector<records::Session> StoreReader::sessions() {
  Stmt st(*db_, std::string(kSessionCols) + "ORDER BY started_ns, id");
  std::vector<records::Session> out;
  while (st.step()) out.push_back(read_session(st));
  return out;
}

std::optional<records::Session> StoreReader::find_session(const std::string& name_or_id) {
  {
    Stmt st(*db_, std::string(kSessionCols) + "WHERE name = ?");
    st.bind(1, name_or_id);
    if (st.step()) return read_session(st);
  }
  int64_t id = 0;
  const char* end = name_or_id.data() + name_or_id.size();
  if (auto r = std::from_chars(name_or_id.data(), end, id); r.ec == std::errc() && r.ptr == end) {
    Stmt st(*db_, std::string(kSessionCols) + "WHERE id = ?");
    st.bind(1, id);
    if (st.step()) return read_session(st);
  }
  return std::nullopt;
}

std::vector<records::Source> StoreReader::sources(records::SessionId session) {
  Stmt st(*db_, "SELECT id, session_id, name, kind, address, note, transport_delay_s FROM sources WHERE session_id = ? ORDER BY id");
  st.bind(1, session);
  std::vector<records::Source> out;
  while (st.step()) {
    out.push_back(records::Source{st.col_int(0), st.col_int(1), st.col_text(2), st.col_text(3), st.col_text(4), st.col_text(5),
                         st.col_double(6)});
  }
  return out;
}

std::vector<records::Channel> StoreReader::channels(records::SourceId source) {
  Stmt st(*db_, "SELECT id, source_id, name, unit, quantity FROM channels WHERE source_id = ? ORDER BY id");
  st.bind(1, source);
  std::vector<records::Channel> out;
  while (st.step()) out.push_back(records::Channel{st.col_int(0), st.col_int(1), st.col_text(2), st.col_text(3), st.col_text(4)});
  return out;
}

namespace {
constexpr const char* kClockModelCols =
    "SELECT method, offset_ns, rate, residual_rms_ns, residual_max_ns, n_points, fitted_at_ns, uncertainty_ns "
    "FROM clock_models WHERE source_id = ? ";
records::ClockModel read_clock_model(Stmt& st) {
  records::ClockModel m;
  m.method = st.col_text(0);
  m.offset_ns = st.col_int(1);
  m.rate = st.col_double(2);
  m.residual_rms_ns = st.col_double(3);
  m.residual_max_ns = st.col_double(4);
  m.n_points = st.col_int(5);
  m.fitted_at_ns = st.col_int(6);
  m.uncertainty_ns = st.col_double(7);
  return m;
}
}  // namespace

std::optional<records::ClockModel> StoreReader::clock_model(records::SourceId source) {
  Stmt st(*db_, std::string(kClockModelCols) + "ORDER BY fitted_at_ns DESC LIMIT 1");
  st.bind(1, source);
  if (!st.step()) return std::nullopt;
  return read_clock_model(st);
}

std::vector<records::ClockModel> StoreReader::clock_models(records::SourceId source) {
  Stmt st(*db_, std::string(kClockModelCols) + "ORDER BY fitted_at_ns");
  st.bind(1, source);
  std::vector<records::ClockModel> out;
  while (st.step()) out.push_back(read_clock_model(st));
  return out;
}

ChannelStats StoreReader::channel_stats(records::ChannelId channel) {
  // The primary key makes MIN/MAX(t_ns) index lookups; the value aggregates scan the channel.
  Stmt st(*db_,
          "SELECT COUNT(*), MIN(t_ns), MAX(t_ns), MIN(value), MAX(value), COUNT(*) - COUNT(value) "
          "FROM samples WHERE channel_id = ?");
  st.bind(1, channel);
  ChannelStats s;
  if (st.step()) {
    s.n_samples = static_cast<uint64_t>(st.col_int(0));
    s.first_t_ns = st.col_int(1);
    s.last_t_ns = st.col_int(2);
    s.min_value = st.col_double(3);
    s.max_value = st.col_double(4);
    s.n_missing = static_cast<uint64_t>(st.col_int(5));
  }
  return s;
}

uint64_t StoreReader::scan_samples(records::ChannelId channel, TimeRange range,
                                   const std::function<bool(int64_t, double)>& fn) {
  SampleCursor c(*db_, channel, range);
  records::Sample s;
  uint64_t n = 0;
  while (c.next(s)) {
    ++n;
    if (!fn(s.t_ns, s.value)) break;
  }
  return n;
}

std::vector<records::Sample> StoreReader::samples(records::ChannelId channel, TimeRange range) {
  std::vector<records::Sample> out;
  scan_samples(channel, range, [&](int64_t t_ns, double v) {
    out.push_back(records::Sample{channel, t_ns, v});
    return true;
  });
  return out;
}

SampleCursor::SampleCursor(Db& db, records::ChannelId channel, TimeRange range)
    : st_(std::make_unique<Stmt>(
          db, "SELECT t_ns, value FROM samples WHERE channel_id = ? AND t_ns BETWEEN ? AND ? ORDER BY t_ns, seq")),
      channel_(channel) {
  st_->bind(1, channel).bind(2, range.begin_ns).bind(3, range.end_ns);
}
SampleCursor::~SampleCursor() = default;
SampleCursor::SampleCursor(SampleCursor&&) noexcept = default;

bool SampleCursor::next(records::Sample& out) {
  if (!st_->step()) return false;
  out.channel_id = channel_;
  out.t_ns = st_->col_int(0);
  out.value = st_->col_is_null(1) ? std::numeric_limits<double>::quiet_NaN() : st_->col_double(1);
  return true;
}

SampleCursor StoreReader::cursor(records::ChannelId channel, TimeRange range) { return SampleCursor(*db_, channel, range); }

std::vector<records::Event> StoreReader::events(records::SessionId session, TimeRange range) {
  Stmt st(*db_,
          "SELECT session_id, COALESCE(source_id, 0), t_ns, kind, detail FROM events "
          "WHERE session_id = ? AND t_ns BETWEEN ? AND ? ORDER BY t_ns, id");
  st.bind(1, session).bind(2, range.begin_ns).bind(3, range.end_ns);
  std::vector<records::Event> out;
  while (st.step()) out.push_back(records::Event{st.col_int(0), st.col_int(1), st.col_int(2), st.col_text(3), st.col_text(4)});
  return out;
}

std::vector<records::Scan> StoreReader::scans(records::SessionId session, TimeRange range) {
  Stmt st(*db_,
          "SELECT id, session_id, COALESCE(source_id, 0), number, start_ns, end_ns, label FROM scans "
          "WHERE session_id = ? AND start_ns BETWEEN ? AND ? ORDER BY start_ns, id");
  st.bind(1, session).bind(2, range.begin_ns).bind(3, range.end_ns);
  Stmt values(*db_, "SELECT name, unit, value FROM scan_values WHERE scan_id = ? ORDER BY rowid");
  std::vector<records::Scan> out;
  while (st.step()) {
    records::Scan s;
    s.id = st.col_int(0);
    s.session_id = st.col_int(1);
    s.source_id = st.col_int(2);
    s.number = st.col_int(3);
    s.start_ns = st.col_int(4);
    s.end_ns = st.col_int(5);
    s.label = st.col_text(6);
    values.bind(1, s.id);
    while (values.step()) {
      const double v = values.col_is_null(2) ? std::numeric_limits<double>::quiet_NaN() : values.col_double(2);
      s.values.push_back(records::ScanValue{values.col_text(0), values.col_text(1), v});
    }
    values.reset();
    out.push_back(std::move(s));
  }
  return out;
}

std::vector<records::ImportRecord> StoreReader::imports(records::SourceId source) {
  Stmt st(*db_,
          "SELECT source_id, path, format, rows, assumptions, imported_ns FROM imports WHERE source_id = ? ORDER BY id");
  st.bind(1, source);
  std::vector<records::ImportRecord> out;
  while (st.step()) {
    out.push_back(records::ImportRecord{st.col_int(0), st.col_text(1), st.col_text(2), st.col_int(3), st.col_text(4), st.col_int(5)});
  }
  return out;
}

std::vector<records::GasCalibration> StoreReader::gas_calibrations(records::SourceId source) {
  std::vector<records::GasCalibration> out;
  Stmt st(*db_,
          "SELECT source_id, mass, gas, sensitivity_a_per_mol_s, sigma_a_per_mol_s, method, from_ns, to_ns, detail, "
          "created_ns FROM gas_calibrations WHERE source_id = ? ORDER BY id");
  st.bind(1, source);
  while (st.step()) {
    out.push_back(records::GasCalibration{st.col_int(0), static_cast<int>(st.col_int(1)), st.col_text(2),
                                          st.col_double(3), st.col_double(4), st.col_text(5), st.col_int(6),
                                          st.col_int(7), st.col_text(8), st.col_int(9)});
  }
  return out;
}

uint64_t StoreReader::count_events(records::SessionId session) {
  Stmt st(*db_, "SELECT COUNT(*) FROM events WHERE session_id = ?");
  st.bind(1, session);
  return st.step() ? static_cast<uint64_t>(st.col_int(0)) : 0;
}

uint64_t StoreReader::for_each_capture(records::SourceId source, const std::function<bool(const records::Capture&)>& fn) {
  // (source_id, t_ns) is indexed and the rowid follows in the index: no sort. Within a source the
  // daemon pushes captures in time order, so this is also the order they were recorded.
  Stmt st(*db_, "SELECT t_ns, direction, bytes FROM captures WHERE source_id = ? ORDER BY t_ns, id");
  st.bind(1, source);
  records::Capture c;
  c.source_id = source;
  uint64_t n = 0;
  while (st.step()) {
    c.t_ns = st.col_int(0);
    const std::string dir = st.col_text(1);
    c.kind = dir == "out" ? records::CaptureKind::kOut : dir == "tick" ? records::CaptureKind::kTick : records::CaptureKind::kIn;
    c.bytes = st.col_blob(2);
    ++n;
    if (!fn(c)) break;
  }
  return n;
}

uint64_t StoreReader::count_captures(records::SessionId session) {
  Stmt st(*db_, "SELECT COUNT(*) FROM captures WHERE source_id IN (SELECT id FROM sources WHERE session_id = ?)");
  st.bind(1, session);
  return st.step() ? static_cast<uint64_t>(st.col_int(0)) : 0;
}

uint64_t StoreReader::count_captures_of_source(records::SourceId source) {
  Stmt st(*db_, "SELECT COUNT(*) FROM captures WHERE source_id = ?");
  st.bind(1, source);
  return st.step() ? static_cast<uint64_t>(st.col_int(0)) : 0;
}

std::pair<int64_t, int64_t> StoreReader::capture_span(records::SessionId session) {
  Stmt st(*db_,
          "SELECT MIN(t_ns), MAX(t_ns) FROM captures WHERE source_id IN (SELECT id FROM sources WHERE session_id = ?)");
  st.bind(1, session);
  if (!st.step() || st.col_is_null(0)) return {0, 0};
  return {st.col_int(0), st.col_int(1)};
}

namespace {
// The first row's first column, unless it is NULL or there is no row.
std::optional<int64_t> single_time(Stmt& st) {
  if (!st.step() || st.col_is_null(0)) return std::nullopt;
  return st.col_int(0);
}
std::optional<int64_t> later(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::max(*a, *b);
}
}  // namespace

std::optional<int64_t> StoreReader::last_data_ns(records::SourceId source) {
  // Each query walks an index backwards and stops at its first row, however long the session.
  Stmt in(*db_, "SELECT t_ns FROM captures WHERE source_id = ? AND direction = 'in' ORDER BY t_ns DESC LIMIT 1");
  in.bind(1, source);
  std::optional<int64_t> last = single_time(in);
  for (const records::Channel& ch : channels(source)) {
    Stmt st(*db_, "SELECT MAX(t_ns) FROM samples WHERE channel_id = ?");
    st.bind(1, ch.id);
    last = later(last, single_time(st));
  }
  return last;
}

std::optional<int64_t> StoreReader::last_record_ns(records::SessionId session) {
  Stmt ev(*db_, "SELECT MAX(t_ns) FROM events WHERE session_id = ?");
  ev.bind(1, session);
  std::optional<int64_t> last = single_time(ev);
  Stmt sc(*db_, "SELECT MAX(end_ns) FROM scans WHERE session_id = ?");
  sc.bind(1, session);
  last = later(last, single_time(sc));
  for (const records::Source& src : sources(session)) {
    Stmt cap(*db_, "SELECT MAX(t_ns) FROM captures WHERE source_id = ?");
    cap.bind(1, src.id);
    last = later(last, single_time(cap));
    last = later(last, last_data_ns(src.id));
  }
  return last;
}

uint64_t StoreReader::count_scans(records::SessionId session) {
  Stmt st(*db_, "SELECT COUNT(*) FROM scans WHERE session_id = ?");
  st.bind(1, session);
  return st.step() ? static_cast<uint64_t>(st.col_int(0)) : 0;
}

}  // namespace opsync::store
